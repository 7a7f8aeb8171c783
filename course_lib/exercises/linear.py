"""Exercises for notebook 01 (the linear layer), with automatic feedback.

    from course_lib.exercises.linear import check_linear_forward, check_linear_backward
    check_linear_forward(linear_forward)     # prints a verdict
    check_linear_backward(linear_backward)

A checker calls your function on small fixed examples, compares with the
right answer and, when they differ, looks for the classic mistakes and names
the one you made. It prints plain text and never raises, whatever your
function does: an unfinished function (``raise NotImplementedError``) gives
"Not done yet".
"""
from __future__ import annotations

import numpy as np

from ._checking import Raised, as_array, call_on_copies, checker, close, print_verdict, shape_text

__all__ = ["check_linear_forward", "check_linear_backward", "linear_forward_solution", "linear_backward_solution"]

# The checker runs in the same cell as the learner's function, so "run this cell again" is all it takes.
_checker = checker(not_done="Not done yet: {exercise} still raises NotImplementedError. "
                            "Replace that line with your code, then run this cell again.")


# ---------------------------------------------------------------------------- reference solutions
def linear_forward_solution(x, W, b):
    """y = x W^T + b for x of shape (..., in_features)."""
    return x @ W.T + b


def linear_backward_solution(x, W, dy):
    """(dx, dW, db) for y = x W^T + b, x (N, in), W (out, in), dy (N, out)."""
    return dy @ W, dy.T @ x, dy.sum(axis=0)


# ---------------------------------------------------------------------------- test inputs
def _forward_cases():
    rng = np.random.default_rng(101)
    n, d_in, d_out = 5, 4, 3
    W = rng.standard_normal((d_out, d_in))
    b = rng.standard_normal(d_out)
    return {
        "batch": (rng.standard_normal((n, d_in)), W, b),
        "one sample": (rng.standard_normal(d_in), W, b),
        "sequence batch": (rng.standard_normal((2, 6, d_in)), W, b),
        "square": (rng.standard_normal((n, 3)), rng.standard_normal((3, 3)), b),
    }


def _backward_cases():
    rng = np.random.default_rng(202)
    # square W first: the classic mistakes give wrong values there instead of a shape error
    square = (rng.standard_normal((5, 3)), rng.standard_normal((3, 3)), rng.standard_normal((5, 3)))
    rect = (rng.standard_normal((6, 4)), rng.standard_normal((3, 4)), rng.standard_normal((6, 3)))
    return square, rect


# ---------------------------------------------------------------------------- forward
@_checker
def check_linear_forward(linear_forward) -> None:
    """Check ``linear_forward(x, W, b)``: y = x W^T + b for one sample, a batch and (B, T, in) inputs."""
    cases = _forward_cases()
    # The square case first: a W where W.T belongs gives a value there, not a shape error.
    x, W, b = cases["square"]
    try:
        out, _ = call_on_copies(linear_forward, x, W, b)
        y = as_array(out, refuse=())
        if not close(y, x @ W.T + b) and close(y, x @ W + b):
            print_verdict("Not quite:", [
                "you computed x @ W + b. PyTorch stores W as (out_features, in_features), one row per output, "
                "so the product is x @ W.T + b: y[n, j] = sum_i x[n, i] * W[j, i] + b[j]."])
            return
    except Raised:
        pass  # the cases below report it

    problems: list[str] = []
    for name in ("batch", "one sample", "sequence batch"):
        x, W, b = cases[name]
        want = x @ W.T + b
        where = f"For a {name} x of shape {shape_text(x.shape)} and W of shape {shape_text(W.shape)}:"
        try:
            out, modified = call_on_copies(linear_forward, x, W, b)
        except Raised as exc:
            hint = ""
            if isinstance(exc.exc, ValueError) and ("matmul" in str(exc) or "align" in str(exc) or "shape" in str(exc)):
                hint = (" A shape mismatch in a matrix product: x has in_features columns and W has in_features "
                        "columns too, so multiply by the transpose, x @ W.T.")
                if name == "sequence batch":
                    hint = (" Inputs of shape (..., in_features) need no loop: @ treats the leading axes as batch "
                            "axes (or reshape to (-1, in_features) and back).")
            problems.append(f"{where} your function raised {exc.short()}.{hint}")
            break
        y = as_array(out, refuse=())
        if modified:
            problems.append(f"{where} your function changed its input arrays in place; a layer must not modify its inputs.")
        if y is None:
            problems.append(f"{where} your function returned {type(out).__name__}, not an array"
                            + (" (did you forget `return`?)." if out is None else "."))
            break
        if y.shape != want.shape:
            problems.append(f"{where} y should have shape {shape_text(want.shape)}, that is (..., out_features), "
                            f"but it has shape {shape_text(y.shape)}.")
            break
        if close(y, want):
            continue
        if close(y, x @ W.T):
            problems.append(f"{where} you left out the bias: y = x @ W.T + b.")
        elif close(y, x @ W.T - b):
            problems.append(f"{where} you subtracted the bias; add it: y = x @ W.T + b.")
        else:
            err = float(np.max(np.abs(y - want)))
            problems.append(f"{where} the values are wrong (largest difference {err:.4f}). "
                            f"Each output is y[..., j] = sum_i x[..., i] * W[j, i] + b[j].")
        break
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! linear_forward gives x @ W.T + b for one sample (4,) -> (3,), a batch (5, 4) -> (5, 3) "
          "and a sequence batch (2, 6, 4) -> (2, 6, 3).")


# ---------------------------------------------------------------------------- backward
_HINT_DIVIDED = ("you divided by the batch size N. Don't: dy already carries the 1/N of the mean loss "
                 "(MSELoss.backward and CrossEntropyLoss.backward put it there), so dividing again makes "
                 "the gradient N times too small.")


def _diagnose_dx(dx, x, W, dy) -> str | None:
    n, d_in = x.shape
    want = dy @ W
    if close(dx, want):
        return None
    if dx is None:
        return "dx is not an array."
    if W.shape[0] == W.shape[1] and close(dx, dy @ W.T):
        return ("dx equals dy @ W.T: drop the transpose. dx[n, i] = sum_j dy[n, j] * W[j, i], that is "
                "dx = dy @ W, shapes (N, out) @ (out, in) = (N, in).")
    if close(dx, want / n):
        return "dx equals (dy @ W) / N: " + _HINT_DIVIDED
    if dx.shape != want.shape:
        return f"dx should have the shape of x, (N, in_features) = {shape_text(want.shape)}, got {shape_text(dx.shape)}. Use dx = dy @ W."
    return f"dx has the right shape but wrong values (largest difference {float(np.max(np.abs(dx - want))):.4f}). Use dx = dy @ W."


def _diagnose_dW(dW, x, W, dy) -> str | None:
    n = x.shape[0]
    want = dy.T @ x
    if close(dW, want):
        return None
    if dW is None:
        return "dW is not an array."
    for scale, extra in ((1.0, ""), (1.0 / n, " Also, " + _HINT_DIVIDED)):
        if close(dW, want.T * scale):
            return ("dW is transposed: you computed x.T @ dy, of shape (in_features, out_features). "
                    "The gradient of W has W's shape (out_features, in_features): "
                    f"dW = dy.T @ x, that is dW[j, i] = sum_n dy[n, j] * x[n, i].{extra}")
    if close(dW, want / n):
        return "dW equals (dy.T @ x) / N: " + _HINT_DIVIDED
    if dW.shape != want.shape:
        return (f"dW should have W's shape (out_features, in_features) = {shape_text(want.shape)}, "
                f"got {shape_text(dW.shape)}. Use dW = dy.T @ x.")
    return f"dW has the right shape but wrong values (largest difference {float(np.max(np.abs(dW - want))):.4f}). Use dW = dy.T @ x."


def _diagnose_db(db, x, W, dy) -> str | None:
    n = x.shape[0]
    want = dy.sum(axis=0)
    if close(db, want):
        return None
    if db is None:
        return "db is not an array."
    if close(db, dy):
        return (f"db is not summed over the batch: it has shape (N, out_features) = {shape_text(dy.shape)}. "
                f"The same b is added to every sample, so its gradient adds up their contributions: "
                f"db = dy.sum(axis=0), shape {shape_text(want.shape)}.")
    if close(db, want / n):
        return "db equals dy.mean(axis=0) = dy.sum(axis=0) / N: " + _HINT_DIVIDED
    if db.size == want.size and close(db.reshape(want.shape), want):
        return (f"db has the right values but shape {shape_text(db.shape)}; b has shape {shape_text(want.shape)}: "
                f"use dy.sum(axis=0) without keepdims.")
    if db.shape != want.shape:
        return f"db should have b's shape (out_features,) = {shape_text(want.shape)}, got {shape_text(db.shape)}. Use db = dy.sum(axis=0)."
    return f"db has the right shape but wrong values (largest difference {float(np.max(np.abs(db - want))):.4f}). Use db = dy.sum(axis=0)."


@_checker
def check_linear_backward(linear_backward) -> None:
    """Check ``linear_backward(x, W, dy) -> (dx, dW, db)`` for y = x W^T + b and name the classic mistakes."""
    for x, W, dy in _backward_cases():
        n, d_in = x.shape
        d_out = W.shape[0]
        where = f"For x {shape_text(x.shape)}, W {shape_text(W.shape)}, dy {shape_text(dy.shape)}:"
        try:
            out, modified = call_on_copies(linear_backward, x, W, dy)
        except Raised as exc:
            hint = ""
            if isinstance(exc.exc, ValueError) and ("matmul" in str(exc) or "align" in str(exc) or "shape" in str(exc)):
                hint = (" A shape mismatch in a matrix product: write down the shapes, x (N, in), W (out, in), "
                        "dy (N, out), and pick the product that gives each gradient the shape of its variable.")
            print_verdict("Not quite:", [f"{where} your function raised {exc.short()}.{hint}"])
            return
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            got = "None (did you forget `return`?)" if out is None else (
                f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__)
            print_verdict("Not quite:", [f"return three arrays, `return dx, dW, db`; got {got}."])
            return
        dx, dW, db = (as_array(v, refuse=()) for v in out)
        problems = [p for p in (_diagnose_dx(dx, x, W, dy), _diagnose_dW(dW, x, W, dy), _diagnose_db(db, x, W, dy)) if p]
        if modified:
            problems.append("your function changed its input arrays in place; backward must not modify its inputs.")
        if problems:
            print_verdict(f"Not quite. {where}", problems)
            return
    print("Correct! dx = dy @ W (N, in), dW = dy.T @ x (out, in) and db = dy.sum(axis=0) (out,), "
          "checked on a square and a rectangular W.")
