"""The plumbing that every exercise checker shares: call your function safely, then say what happened.

A checker (``check_linear_forward`` and friends) does four things:

1. It calls your function on small fixed inputs, *on copies*, so that your
   function cannot spoil them, and *quietly*: numpy warnings are silenced and
   whatever your function raises is caught. ``raise NotImplementedError``
   means "not done yet"; any other exception is reported, never re-raised.
2. It checks the shape of what came back: an array? the right shape? a tuple
   of the right length? did the function change its inputs in place?
3. It compares the numbers with the right answer and, when they differ, tries
   the classic mistakes one by one to name yours. That part is the teaching
   content: it lives in each exercise module, not here.
4. It prints a plain-text verdict ("Correct! ...", "Not done yet: ...",
   "Not quite: ...") and never raises, so a notebook's saved output is stable.

This file holds the tools for steps 1, 2 and 4. A checker built with them::

    @checker
    def check_double(double):           # double(x) should return 2 * x
        x = np.arange(3.0)
        try:
            out, modified = call_on_copies(double, x)   # NotDone goes up to @checker
        except Raised as exc:
            print_verdict("Not quite:", [f"your function raised {exc.short()}."])
            return
        if modified:
            print_verdict("Not quite:", ["your function changed x in place."])
            return
        y = as_array(out)
        if y is None:
            print_verdict("Not quite:", [not_an_array(out, "Your function")])
            return
        if not close(y, 2 * x):
            print_verdict("Not quite:", ["the values are wrong: return 2 * x."])
            return
        print("Correct!")
"""
from __future__ import annotations

import functools
import traceback
import warnings
from contextlib import contextmanager
from typing import Callable

import numpy as np

__all__ = [
    "NotDone", "Raised", "quietly", "call", "call_on_copies",
    "as_array", "not_an_array", "close", "shape_text",
    "print_verdict", "checker", "NOT_DONE", "NOT_A_FUNCTION", "CRASHED",
]


# ---------------------------------------------------------------------------- 1. calling your function
class NotDone(Exception):
    """Your function still raises ``NotImplementedError``: the exercise is not done yet."""


class Raised(Exception):
    """Your function raised ``exc`` (kept in ``.exc``). ``str()`` gives ``"ZeroDivisionError: division by zero"``."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.exc = exc

    def short(self, limit: int = 160) -> str:
        """The message, cut to ``limit`` characters (a numpy shape error can be very long)."""
        text = str(self)
        return text if len(text) <= limit else text[:limit - 3] + "..."

    def line(self) -> int | None:
        """The line of *your* code where the exception happened (not numpy's, not the checker's), if any."""
        frames = [fr for fr in traceback.extract_tb(self.exc.__traceback__)
                  if "site-packages" not in fr.filename and "course_lib" not in fr.filename]
        return frames[-1].lineno if frames else None


@contextmanager
def quietly():
    """No warnings and no numpy floating-point messages while the block runs (a NaN is judged, not shouted)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``, quietly.

    Raises ``NotDone`` if ``fn`` raises ``NotImplementedError`` and ``Raised`` for
    any other exception, so a checker only has to handle those two.
    """
    try:
        with quietly():
            return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotDone() from exc
    except Exception as exc:  # the learner's bug is reported, never raised
        raise Raised(exc) from exc


def call_on_copies(fn: Callable, *args, **kwargs):
    """``call`` with a copy of every array argument; returns ``(output, modified)``.

    ``modified`` lists the positions of the array arguments that ``fn`` changed
    in place (empty when it left them alone), e.g. ``[0]`` after ``x -= mean``.
    The checker's own arrays are never touched.
    """
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = call(fn, *copies, **kwargs)
    modified = [i for i, (a, c) in enumerate(zip(args, copies))
                if isinstance(a, np.ndarray) and (a.shape != c.shape or not np.array_equal(a, c))]
    return out, modified


# ---------------------------------------------------------------------------- 2. looking at what came back
def as_array(value, refuse: tuple = (str, bytes)) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is None, one of the types ``refuse``, or not numbers.

    Lists and tuples of numbers become arrays, so ``return [1.0, 2.0]`` is fine.
    """
    if value is None or isinstance(value, refuse):
        return None
    try:
        with quietly():
            return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def not_an_array(out, what: str) -> str:
    """Why ``out`` is no array, e.g. ``Your function returned a str, not an array.`` (``what`` = "Your function")."""
    if out is None:
        return f"{what} returned None (did you forget `return`?)."
    return f"{what} returned a {type(out).__name__}, not an array."


def close(got: np.ndarray | None, want, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """``got`` has ``want``'s shape and the same values within ``rtol``/``atol`` (a NaN is never close)."""
    if got is None or np.shape(got) != np.shape(want):
        return False
    with quietly():
        return bool(np.allclose(got, want, rtol=rtol, atol=atol))


def close_and_finite(got, want, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """``close``, and every value of ``got`` finite: a NaN or inf output is wrong even where a mistake gives one too."""
    return close(got, want, rtol=rtol, atol=atol) and bool(np.all(np.isfinite(got)))


def first_match(got, variants) -> str | None:
    """The hint of the first variant ``(make, hint)`` whose ``make()`` equals ``got`` (``close_and_finite``).

    ``variants`` are the learner's likely mistakes, each a zero-argument
    function computing the wrong answer and the hint that explains it. A
    variant that raises or returns None for this input is skipped.
    """
    for make, hint in variants:
        try:
            with quietly():
                value = make()
        except Exception:  # a variant that cannot be computed for this input
            continue
        if value is not None and close_and_finite(got, value):
            return hint
    return None


def shape_text(shape) -> str:
    """A shape as Python writes it: ``(5, 3)``, ``(3,)``, ``()``."""
    return "(" + ", ".join(str(int(n)) for n in shape) + (",)" if len(shape) == 1 else ")")


# ---------------------------------------------------------------------------- 3. saying what happened
def print_verdict(title: str, lines: list[str]) -> None:
    """Print ``title`` and then each line as a bullet::

        Not quite:
          - you left out the bias: y = x @ W.T + b.
    """
    print(title)
    for line in lines:
        print(f"  - {line}")


# The default texts of @checker; {checker} is e.g. "check_linear_forward", {exercise} "linear_forward".
NOT_DONE = ("Not done yet: {exercise} still raises NotImplementedError. "
            "Replace that line with your code, run the cell again, then this check.")
NOT_A_FUNCTION = "Not quite: {checker} expects your function, got {got}."
CRASHED = "The checker could not finish ({error}). Please report this."


def checker(body: Callable | None = None, *, exercise: str | None = None, not_done: str = NOT_DONE,
            not_a_function: str | None = NOT_A_FUNCTION, crashed: str = CRASHED):
    """Decorator: make ``body(fn)`` a checker that prints a verdict and never raises.

    Around the body it handles what is the same for every exercise:

    - ``fn`` is not a function (``check_x(x)`` instead of ``check_x(my_x)``):
      prints ``not_a_function`` (None: no such test, the call itself will fail);
    - ``NotDone`` escapes from the body: prints ``not_done``;
    - any other exception (a bug of the checker itself): prints ``crashed``.

    The texts may use ``{checker}`` (the checker's name), ``{exercise}`` (the
    name of your function: ``exercise``, by default the checker's name
    without ``check_``), ``{got}`` (the type passed instead of a function) and
    ``{error}`` (the checker's own exception). Use it as ``@checker`` or
    ``@checker(exercise="your function")``.
    """
    def wrap(body: Callable) -> Callable:
        name = body.__name__
        learner = exercise if exercise is not None else name.removeprefix("check_")

        @functools.wraps(body)
        def check(fn) -> None:
            try:
                if not_a_function is not None and not callable(fn):
                    print(not_a_function.format(checker=name, exercise=learner, got=type(fn).__name__))
                    return
                body(fn)
            except NotDone:
                print(not_done.format(checker=name, exercise=learner))
            except Exception as exc:  # pragma: no cover - a checker must never raise
                print(crashed.format(checker=name, exercise=learner, error=f"{type(exc).__name__}: {exc}"))
        return check

    return wrap(body) if body is not None else wrap
