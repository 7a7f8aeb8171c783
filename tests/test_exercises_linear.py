"""Checkers of notebook 01: accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.linear import (
    check_linear_backward,
    check_linear_forward,
    linear_backward_solution,
    linear_forward_solution,
)


# ---------------------------------------------------------------------------- forward
def test_forward_accepts_solution(capsys):
    out = verdict(check_linear_forward, linear_forward_solution, capsys)
    assert out.startswith("Correct!")


def test_forward_accepts_equivalent_solutions(capsys):
    for fn in (lambda x, W, b: np.dot(x, W.T) + b,
               lambda x, W, b: (W @ x[..., None])[..., 0] + b,
               lambda x, W, b: np.einsum("...i,ji->...j", x, W) + b):
        assert verdict(check_linear_forward, fn, capsys).startswith("Correct!")


def test_forward_stub_is_not_done(capsys):
    def stub(x, W, b):
        # YOUR CODE HERE
        raise NotImplementedError

    out = verdict(check_linear_forward, stub, capsys)
    assert out.startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (lambda x, W, b: x @ W + b, "x @ W.T + b"),                   # W instead of W.T
    (lambda x, W, b: x @ W.T, "left out the bias"),
    (lambda x, W, b: x @ W.T - b, "subtracted the bias"),
    (lambda x, W, b: (x @ W.T + b).T, "should have shape (5, 3)"),
    (lambda x, W, b: None, "forget `return`"),
    (lambda x, W, b: "y", "not an array"),
    (lambda x, W, b: 2 * (x @ W.T) + b, "values are wrong"),
    (lambda x, W, b: (W @ x.T).T + b, "leading axes"),  # right for (in,) and (N, in), not (B, T, in)
])
def test_forward_names_each_mistake(fn, hint, capsys):
    out = verdict(check_linear_forward, fn, capsys)
    assert out.startswith("Not quite")
    assert hint in out


def test_forward_flags_in_place_modification(capsys):
    def sneaky(x, W, b):
        x *= 1.0  # harmless values, but writes into the input ...
        x[...] = x + 0.0
        W[0, 0] += 1.0  # ... and really changes W
        return x @ W.T + b

    out = verdict(check_linear_forward, sneaky, capsys)
    assert "changed its input arrays in place" in out


def test_forward_never_raises(capsys):
    def boom(x, W, b):
        raise ZeroDivisionError("oops")

    out = verdict(check_linear_forward, boom, capsys)
    assert "ZeroDivisionError: oops" in out
    out = verdict(check_linear_forward, "not a function", capsys)
    assert out.startswith("Not quite")


def test_forward_is_deterministic(capsys):
    fn = lambda x, W, b: 2 * (x @ W.T) + b  # noqa: E731
    assert verdict(check_linear_forward, fn, capsys) == verdict(check_linear_forward, fn, capsys)


# ---------------------------------------------------------------------------- backward
def test_backward_accepts_solution(capsys):
    out = verdict(check_linear_backward, linear_backward_solution, capsys)
    assert out.startswith("Correct!")


def test_backward_accepts_loop_solution(capsys):
    def loop(x, W, dy):
        dx = np.zeros_like(x)
        dW = np.zeros_like(W)
        db = np.zeros(W.shape[0])
        for n in range(x.shape[0]):
            dx[n] = dy[n] @ W
            dW += np.outer(dy[n], x[n])
            db += dy[n]
        return dx, dW, db

    assert verdict(check_linear_backward, loop, capsys).startswith("Correct!")


def test_backward_stub_is_not_done(capsys):
    def stub(x, W, dy):
        raise NotImplementedError

    assert verdict(check_linear_backward, stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (lambda x, W, dy: (dy @ W, x.T @ dy, dy.sum(0)), "dW is transposed"),
    (lambda x, W, dy: (dy @ W, dy.T @ x, dy), "db is not summed over the batch"),
    (lambda x, W, dy: (dy @ W, dy.T @ x / len(x), dy.sum(0)), "you divided by the batch size N"),
    (lambda x, W, dy: (dy @ W, dy.T @ x, dy.mean(0)), "you divided by the batch size N"),
    (lambda x, W, dy: (dy @ W.T, dy.T @ x, dy.sum(0)), "dx equals dy @ W.T"),
    (lambda x, W, dy: (dy @ W, dy.T @ x, dy.sum(0, keepdims=True)), "without keepdims"),
    (lambda x, W, dy: (dy @ W, dy.T @ x), "return three arrays"),
    (lambda x, W, dy: None, "forget `return`"),
    (lambda x, W, dy: (dy @ W, 2 * dy.T @ x, dy.sum(0)), "dW has the right shape but wrong values"),
])
def test_backward_names_each_mistake(fn, hint, capsys):
    out = verdict(check_linear_backward, fn, capsys)
    assert out.startswith("Not quite")
    assert hint in out


def test_backward_names_several_mistakes_at_once(capsys):
    out = verdict(check_linear_backward, lambda x, W, dy: (dy @ W.T, x.T @ dy, dy), capsys)
    assert "dx equals dy @ W.T" in out
    assert "dW is transposed" in out
    assert "db is not summed" in out


def test_backward_transposed_and_divided(capsys):
    out = verdict(check_linear_backward, lambda x, W, dy: (dy @ W, x.T @ dy / len(x), dy.sum(0)), capsys)
    assert "dW is transposed" in out and "divided by the batch size" in out


def test_backward_shape_error_is_reported_not_raised(capsys):
    # right on a square W, a matmul shape error on the rectangular one
    def bad(x, W, dy):
        return dy @ W, dy.T @ x, dy.sum(0) + (x @ W).sum(0) * 0.0

    out = verdict(check_linear_backward, bad, capsys)
    assert out.startswith("Not quite") and "shape mismatch" in out


def test_backward_never_raises(capsys):
    def boom(x, W, dy):
        return 1 / 0

    assert "ZeroDivisionError" in verdict(check_linear_backward, boom, capsys)
    assert verdict(check_linear_backward, lambda x, W, dy: ("a", "b", "c"), capsys).startswith("Not quite")
    assert verdict(check_linear_backward, 42, capsys).startswith("Not quite")


def test_backward_flags_in_place_modification(capsys):
    def sneaky(x, W, dy):
        dy *= 1.0
        dy[0, 0] += 1.0
        return linear_backward_solution(x, W, dy)

    out = verdict(check_linear_backward, sneaky, capsys)
    assert "changed its input arrays in place" in out
