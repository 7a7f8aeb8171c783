"""Exercises of notebook 00 (gradients and backpropagation), with automatic feedback.

    from course_lib.exercises.gradients import check_central_difference, check_multiply_backward
    check_central_difference(central_difference)   # prints a verdict, never raises

Each checker runs the learner's function on small, fixed inputs, compares the
result with the reference solution and, when they differ, tries the usual
mistakes one by one to name the one that was made. Verdicts are plain text and
deterministic, so a notebook's saved output is stable.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._checking import Raised, call, checker, quietly

__all__ = [
    "check_central_difference",
    "check_multiply_backward",
    "reference_central_difference",
    "reference_multiply_backward",
]


# ---------------------------------------------------------------- reference solutions
def reference_central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """dF/dx by central differences: one partial derivative per entry of ``x``."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old  # restore exactly
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def reference_multiply_backward(x: np.ndarray, y: np.ndarray, grad_out: np.ndarray):
    """Backward of z = x * y (element-wise): returns (dL/dx, dL/dy)."""
    dx = grad_out * y  # dz/dx = y
    dy = grad_out * x  # dz/dy = x
    return dx, dy


# ---------------------------------------------------------------- helpers
def _say(name: str, lines: list[str]) -> None:
    print(f"{name}: " + "\n".join(lines))


# This notebook's own wording for the situations every checker meets (see _checking.checker): every
# verdict starts with the exercise's name, and a value that is not a function fails when it is called.
_checker = checker(
    not_done="{exercise}: Not done yet. Replace the `raise NotImplementedError` line with your code, "
             "then run the cell again.",
    crashed="{exercise}: The checker could not interpret your result ({error}).",
    not_a_function=None)


def _call(name: str, fn: Callable, *args):
    """Run the learner's function. Returns (ok, result); prints the verdict on failure.

    ``NotDone`` goes up to the checker, which prints "Not done yet".
    """
    try:
        result = call(fn, *args)
    except Raised as exc:  # the learner's code crashed: show where, gently
        line = exc.line()  # the learner's own line, not numpy's or the checker's
        where = f" (line {line} of your code)" if line is not None else ""
        _say(name, [f"Not quite: your function raised {exc}{where}.",
                    "Hint: read the message, fix that line and run the cell again."])
        return False, None
    if result is None:
        _say(name, ["Not done yet: your function returned None. Did you forget the `return` line?"])
        return False, None
    return True, result


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _as_float_array(value) -> np.ndarray | None:
    """``value`` as a float array (None becomes nan, of shape ()), or None when numpy cannot read it."""
    try:
        with quietly():
            return np.asarray(value, dtype=np.float64)
    except Exception:
        return None


def _shape_hint(name: str, what: str, got, expected: tuple) -> None:
    shape = getattr(got, "shape", None)
    got_desc = f"has shape {shape}" if shape is not None else f"is a {type(got).__name__}"
    _say(name, [f"Not quite: {what} {got_desc}, expected shape {expected}.",
                "Hint: a gradient always has the same shape as the thing it is the gradient of: "
                "one partial derivative per entry."])


# ---------------------------------------------------------------- exercise 1
def _ex1_function(x: np.ndarray) -> float:
    """A scalar function of an array with strong curvature, so forward and central differences differ."""
    return float(np.sum(np.exp(x) * np.sin(3.0 * x)) + x[0, 0] * x[1, 2])


@_checker
def check_central_difference(central_difference: Callable) -> None:
    """Check ``central_difference(f, x, eps)`` (returns dF/dx with the shape of ``x``). Prints a verdict."""
    name, fn = "central_difference", central_difference
    x0 = np.array([[0.3, -0.8, 1.1], [0.5, -0.2, 0.9]])  # (2, 3)
    eps = 1e-2  # large on purpose: the error of each mistake is then easy to see
    f = _ex1_function
    x = x0.copy()
    ok, got = _call(name, fn, f, x, eps)
    if not ok:
        return

    arr = _as_float_array(got)
    if arr is None or arr.shape != x0.shape:
        _shape_hint(name, "your result", got if arr is None else arr, x0.shape)
        return

    if not np.allclose(x, x0, rtol=0.0, atol=1e-12):  # x + eps - eps may differ by one rounding
        moved = np.abs(x - x0)
        i = np.unravel_index(int(np.argmax(moved)), x0.shape)
        _say(name, [f"Not quite: after your function returned, x had changed "
                    f"(x{tuple(int(k) for k in i)} was {x0[i]:.4f}, now {x[i]:.4f}).",
                    "Hint: you must restore x: save `old = x[i]` before nudging it and put it back "
                    "with `x[i] = old` after the two evaluations. Otherwise every later entry is "
                    "evaluated at a shifted point, and the caller's array (a layer's weights!) is damaged."])
        return

    ref = reference_central_difference(f, x0.copy(), eps)
    if _close(arr, ref):
        _say(name, ["Correct! One central difference per entry, divided by 2*eps, and x is left unchanged.",
                    "This is exactly what course_lib.gradcheck.numerical_gradient does."])
        return

    # name the mistake
    fx = f(x0)
    forward = np.zeros_like(x0)
    backward = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        xp = x0.copy()
        xp[i] += eps
        forward[i] = (f(xp) - fx) / eps
        xm = x0.copy()
        xm[i] -= eps
        backward[i] = (fx - f(xm)) / eps
    if _close(arr, forward) or _close(arr, backward):
        side = "forward" if _close(arr, forward) else "backward"
        _say(name, [f"Not quite: this is the one-sided ({side}) difference, whose error is O(eps).",
                    "Hint: evaluate f on both sides, (f(x + eps) - f(x - eps)) / (2 * eps): "
                    "the errors of the two sides cancel and the error drops to O(eps^2)."])
        return
    if _close(arr, 2 * ref):
        _say(name, ["Not quite: your values are exactly twice the gradient: you divided by eps instead of 2*eps.",
                    "Hint: the two evaluation points x - eps and x + eps are 2*eps apart."])
        return
    if _close(arr, -ref):
        _say(name, ["Not quite: your values have the wrong sign.",
                    "Hint: it is f(x + eps) - f(x - eps), the value on the right minus the value on the left."])
        return
    bad = np.abs(arr - ref)
    i = np.unravel_index(int(np.argmax(bad)), x0.shape)
    idx = tuple(int(k) for k in i)
    _say(name, [f"Not quite: at index {idx} you returned {arr[i]:.6f}, the central difference is {ref[i]:.6f}.",
                "Hint: for each entry i, nudge only x[i] (by +eps, then -eps), evaluate f each time, "
                "and use the eps you were given."])


# ---------------------------------------------------------------- exercise 2
@_checker
def check_multiply_backward(multiply_backward: Callable) -> None:
    """Check ``multiply_backward(x, y, grad_out) -> (dx, dy)`` for z = x * y. Prints a verdict."""
    name, fn = "multiply_backward", multiply_backward
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.0, size=(2, 3)) * np.array([[1, -1, 1], [-1, 1, 1]])  # (2, 3)
    y = rng.uniform(0.5, 2.0, size=(2, 3)) * np.array([[-1, 1, 1], [1, 1, -1]])  # (2, 3), unlike x
    grad_out = rng.uniform(0.5, 2.0, size=(2, 3)) * np.array([[1, 1, -1], [1, -1, 1]])  # not ones
    xs, ys, gs = x.copy(), y.copy(), grad_out.copy()
    ok, got = _call(name, fn, xs, ys, gs)
    if not ok:
        return
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        _say(name, [f"Not quite: return two gradients, `return dx, dy`; you returned {type(got).__name__}"
                    + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "") + ".",
                    "Hint: z = x * y has two inputs, so backward gives one gradient for each."])
        return
    dx, dy = (_as_float_array(g) for g in got)
    for what, g, raw in (("dx", dx, got[0]), ("dy", dy, got[1])):
        if g is None or g.shape != x.shape:
            _shape_hint(name, what, raw if g is None else g, x.shape)
            return
    if not (np.array_equal(xs, x) and np.array_equal(ys, y) and np.array_equal(gs, grad_out)):
        _say(name, ["Not quite: your function changed one of its inputs (x, y or grad_out) in place.",
                    "Hint: a backward never modifies its arguments; build new arrays, e.g. `dx = grad_out * y`."])
        return

    ref_dx, ref_dy = reference_multiply_backward(x, y, grad_out)
    if _close(dx, ref_dx) and _close(dy, ref_dy):
        _say(name, ["Correct! dx = grad_out * y and dy = grad_out * x: each input's gradient is the "
                    "upstream gradient times the *other* input."])
        return
    if (_close(dx, grad_out * x) and _close(dy, grad_out * y)) or (_close(dx, x) and _close(dy, y)):
        _say(name, ["Not quite: your gradients are swapped: dx uses x, but dz/dx = y (and dz/dy = x).",
                    "Hint: nudging x by a little changes z = x * y by y times that little, "
                    "so dx = grad_out * y."])
        return
    if _close(dx, y) and _close(dy, x):
        _say(name, ["Not quite: you returned the local derivatives dz/dx = y and dz/dy = x, "
                    "but forgot to multiply by grad_out.",
                    "Hint: the chain rule: dL/dx = dL/dz * dz/dx = grad_out * y. grad_out carries the "
                    "gradient of everything after this node."])
        return
    for what, g, ref in (("dx", dx, ref_dx), ("dy", dy, ref_dy)):
        if not _close(g, ref):
            bad = np.abs(g - ref)
            i = np.unravel_index(int(np.argmax(bad)), x.shape)
            idx = tuple(int(k) for k in i)
            _say(name, [f"Not quite: {what} at index {idx} is {g[i]:.4f}, expected {ref[i]:.4f}.",
                        "Hint: dL/dx = grad_out * y and dL/dy = grad_out * x, element by element."])
            return
