"""Exercises of notebook 02 (activation functions), with checkers that name the mistake.

    from course_lib.exercises.activations import check_sigmoid_backward
    check_sigmoid_backward(sigmoid_backward)   # prints a verdict, never raises

Each checker calls the learner's function on fixed inputs, compares it with a
reference built from course_lib, and when it differs, tries the usual wrong
answers one by one to say which mistake it is.
"""
from __future__ import annotations

import math

import numpy as np

from ..nn import ReLU, Sigmoid
from ..nn import functional as F
from ..nn import init as nn_init
from ._checking import Raised, as_array, call_on_copies, checker

__all__ = ["check_sigmoid_backward", "check_relu_backward", "check_kaiming_std"]

# This notebook's own wording for the situations every checker meets (see _checking.checker).
_checker = checker(
    not_done="Not done yet: {exercise} still raises NotImplementedError. Write its body, then run this cell again.",
    not_a_function="Not quite: pass the function itself, check_...({exercise}), not {got}.")


def _call(name: str, fn, *args):
    """Call the learner's function on copies of ``args``.

    Returns ``(result, problem)``: ``problem`` is a message when the call could
    not be checked (an exception, inputs modified in place). ``NotDone`` goes up to the checker.
    """
    try:
        out, modified = call_on_copies(fn, *args)
    except Raised as exc:  # the learner's code may raise anything: report it, never re-raise
        return None, f"Not quite: {name} raised {exc}"
    if modified:
        return None, (f"Not quite: {name} modified one of its input arrays in place. A backward "
                      f"function must leave its arguments untouched: build a new array "
                      f"(e.g. grad_out * mask) instead of assigning into grad_out.")
    return out, None


def _as_array(name: str, out, shape):
    """The result as a float array of ``shape``, or a message saying why not."""
    if out is None:
        return None, f"Not quite: {name} returned None. Did you forget the return statement?"
    arr = as_array(out, refuse=())
    if arr is None:
        return None, f"Not quite: {name} should return a numpy array, got {type(out).__name__}."
    if arr.shape != shape:
        return None, (f"Not quite: {name} returned shape {arr.shape}; the gradient with respect to the "
                      f"input has the input's shape {shape}.")
    if not np.all(np.isfinite(arr)):
        return None, f"Not quite: {name} returned NaN or infinite values."
    return arr, None


def _match(got: np.ndarray, want: np.ndarray) -> bool:
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-10)


def _worst(got: np.ndarray, want: np.ndarray) -> str:
    i = np.unravel_index(int(np.argmax(np.abs(got - want))), want.shape)
    return f"at index {tuple(int(k) for k in i)} expected {want[i] + 0.0:.4f}, got {got[i] + 0.0:.4f}"


def _verdict(name: str, got: np.ndarray, want: np.ndarray, mistakes: list[tuple[np.ndarray, str]],
             success: str) -> str:
    if _match(got, want):
        return f"Correct! {success}"
    for wrong, hint in mistakes:
        if _match(got, wrong):
            return f"Not quite: {hint}"
    return f"Not quite: {name} gives different numbers ({_worst(got, want)}). Compare it with the formula above."


# --------------------------------------------------------------------------- 1. sigmoid backward
def _sigmoid_case():
    rng = np.random.default_rng(2)
    z = np.concatenate([np.linspace(-6, 6, 9), rng.normal(0, 3, 11)]).reshape(4, 5)
    grad_out = rng.standard_normal((4, 5))
    return z, grad_out


@_checker
def check_sigmoid_backward(sigmoid_backward) -> None:
    """Check ``sigmoid_backward(s, grad_out)``: dLoss/dz from the forward output ``s`` = sigmoid(z)."""
    name = "sigmoid_backward"
    z, grad_out = _sigmoid_case()
    layer = Sigmoid()  # the reference is course_lib's own layer
    s = layer(z)  # (4, 5), the forward output the learner receives
    want = layer.backward(grad_out)
    out, problem = _call(name, sigmoid_backward, s, grad_out)
    if problem is None:
        got, problem = _as_array(name, out, s.shape)
    if problem is not None:
        print(problem)
        return
    again = F.sigmoid(s)
    mistakes = [
        (s * (1 - s), "you returned s * (1 - s), the local derivative alone. The chain rule multiplies it by "
                      "the gradient arriving from above: grad_out * s * (1 - s)."),
        (grad_out * again * (1 - again),
         "you applied the sigmoid to s again. s is already the output sigmoid(z), so the derivative is "
         "simply s * (1 - s), computed on s itself (no need to know z)."),
        (again * (1 - again), "you applied the sigmoid to s again and forgot grad_out. s is already sigmoid(z): "
                              "use grad_out * s * (1 - s)."),
        (grad_out * (1 - s * s), "you used 1 - s², the derivative of tanh written with its output. For the "
                                 "sigmoid it is s * (1 - s)."),
        (1 - s * s, "you used 1 - s² (tanh's derivative) and forgot grad_out. The sigmoid's is grad_out * s * (1 - s)."),
        (grad_out * s, "you multiplied grad_out by s only: the sigmoid's derivative is s * (1 - s)."),
    ]
    print(_verdict(name, got, want, mistakes,
                   "sigmoid_backward(s, grad_out) = grad_out * s * (1 - s), the same as course_lib's Sigmoid.backward."))


# --------------------------------------------------------------------------- 2. relu backward
def _relu_case():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 6))
    z[np.abs(z) < 1e-3] = 0.5  # no exact zeros: z > 0 and z >= 0 are both accepted
    grad_out = rng.standard_normal((5, 6))
    return z, grad_out


@_checker
def check_relu_backward(relu_backward) -> None:
    """Check ``relu_backward(z, grad_out)``: dLoss/dz of ReLU at input ``z``."""
    name = "relu_backward"
    z, grad_out = _relu_case()
    out, problem = _call(name, relu_backward, z, grad_out)
    if problem is None:
        got, problem = _as_array(name, out, z.shape)
    if problem is not None:
        print(problem)
        return
    layer = ReLU()
    layer(z)
    want = layer.backward(grad_out)
    mask = (z > 0).astype(np.float64)
    mistakes = [
        (grad_out, "the gradient also flows where z < 0. ReLU's output is constant (0) there, so its "
                   "derivative is 0: multiply grad_out by the mask (z > 0)."),
        (mask, "you returned the mask (z > 0) itself. The chain rule multiplies it by the gradient from "
               "above: grad_out * (z > 0)."),
        (grad_out * (grad_out > 0), "you masked by the sign of grad_out. Which entries pass is decided by the "
                                    "input z (z > 0), whatever the sign of the gradient."),
        (grad_out * (z < 0), "your mask is inverted: the gradient must pass where z > 0 and stop where z < 0."),
        (grad_out * np.maximum(z, 0), "you multiplied grad_out by relu(z). The slope of ReLU is 1 where z > 0 "
                                      "(not z): multiply by the mask (z > 0)."),
        (grad_out * z, "you multiplied grad_out by z. The slope of ReLU is 1 where z > 0 and 0 elsewhere: "
                       "multiply by the mask (z > 0)."),
    ]
    print(_verdict(name, got, want, mistakes,
                   "relu_backward(z, grad_out) = grad_out * (z > 0), the same as course_lib's ReLU.backward. "
                   "(A mask taken from the output, relu(z) > 0, is the same thing.)"))


# --------------------------------------------------------------------------- 3. Kaiming std
_KAIMING_CASES = [(784, 256), (256, 10), (100, 400), (3, 7)]


@_checker
def check_kaiming_std(kaiming_std) -> None:
    """Check ``kaiming_std(fan_in, fan_out)``: the std of He initialisation for a Linear layer before ReLU."""
    name = "kaiming_std"
    got, want = [], []
    for fan_in, fan_out in _KAIMING_CASES:
        out, problem = _call(name, kaiming_std, fan_in, fan_out)
        if problem is not None:
            print(problem)
            return
        if out is None:
            print(f"Not quite: {name} returned None. Did you forget the return statement?")
            return
        try:
            value = float(np.asarray(out, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            print(f"Not quite: {name} should return one number (a float), got {type(out).__name__}.")
            return
        if not math.isfinite(value):
            print(f"Not quite: {name}({fan_in}, {fan_out}) returned {value}, not a finite number.")
            return
        got.append(value)
        # course_lib.nn.init's formula: std = gain / sqrt(fan_in), gain = sqrt(2) for ReLU
        want.append(nn_init.calculate_gain("relu") / math.sqrt(fan_in))
    got_a, want_a = np.array(got), np.array(want)
    fi = np.array([c[0] for c in _KAIMING_CASES], dtype=np.float64)
    fo = np.array([c[1] for c in _KAIMING_CASES], dtype=np.float64)
    mistakes = [
        (np.sqrt(1 / fi), "you returned sqrt(1 / fan_in): the factor 2 is missing. ReLU sets about half of "
                          "its inputs to 0, which halves the variance; Kaiming's 2 puts it back."),
        (np.sqrt(2 / (fi + fo)), "you returned Xavier/Glorot's std sqrt(2 / (fan_in + fan_out)). Kaiming's "
                                 "uses fan_in only and the factor 2 for ReLU: sqrt(2 / fan_in)."),
        (np.sqrt(1 / (fi + fo)), "you returned sqrt(1 / (fan_in + fan_out)), neither Xavier nor Kaiming. "
                                 "Kaiming's std is sqrt(2 / fan_in)."),
        (np.sqrt(2 / fo), "you used fan_out. fan_in is the number of inputs summed into each output "
                          "(in_features, weight.shape[1]): sqrt(2 / fan_in)."),
        (2 / fi, "you returned the variance 2 / fan_in. The standard deviation is its square root."),
        (2 / fo, "you returned 2 / fan_out: that is a variance, and with fan_out instead of fan_in. "
                 "The std is sqrt(2 / fan_in)."),
        (np.sqrt(2) / fi, "you returned sqrt(2) / fan_in: the square root must cover fan_in too, sqrt(2 / fan_in)."),
        (1 / fi, "you returned 1 / fan_in: a variance, and without ReLU's factor 2. The std is sqrt(2 / fan_in)."),
    ]
    if _match(got_a, want_a):
        print("Correct! kaiming_std(fan_in, fan_out) = sqrt(2 / fan_in), the std that "
              "course_lib.nn.init.kaiming_normal_(w, nonlinearity='relu') uses.")
        return
    for wrong, hint in mistakes:
        if _match(got_a, wrong):
            print(f"Not quite: {hint}")
            return
    k = int(np.argmax(np.abs(got_a - want_a)))
    fan_in, fan_out = _KAIMING_CASES[k]
    print(f"Not quite: kaiming_std({fan_in}, {fan_out}) returned {got_a[k]:.4f}, expected {want_a[k]:.4f}.")
