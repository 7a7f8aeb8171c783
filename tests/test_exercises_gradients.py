"""The checkers of notebook 00 accept the reference solution and name each mistake they claim to catch."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises.gradients import (
    check_central_difference,
    check_multiply_backward,
    reference_central_difference,
    reference_multiply_backward,
)
from course_lib.gradcheck import numerical_gradient


def verdict(capsys, checker, fn) -> str:
    checker(fn)  # must never raise
    out = capsys.readouterr().out
    assert out.strip(), "a checker always prints a verdict"
    return out


# ---------------------------------------------------------------- exercise 1: central_difference
def cd_forward(f, x, eps):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - fx) / eps
        x[i] = old
    return grad


def cd_backward(f, x, eps):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old - eps
        grad[i] = (fx - f(x)) / eps
        x[i] = old
    return grad


def cd_divide_by_eps(f, x, eps):
    return 2 * reference_central_difference(f, x, eps)


def cd_not_restored(f, x, eps):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)  # x[i] is left at old - eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def cd_flattened(f, x, eps):
    return reference_central_difference(f, x, eps).ravel()


def cd_scalar(f, x, eps):
    return float(reference_central_difference(f, x, eps).sum())


def cd_restore_by_arithmetic(f, x, eps):
    """Restores with += / -= instead of saving the old value: allowed (rounding only)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        x[i] += eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def cd_on_copies(f, x, eps):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        grad[i] = (f(xp) - f(xm)) / 2 / eps
    return grad


def cd_ignores_eps(f, x, eps):
    return reference_central_difference(f, x, 1e-5)


def cd_stub(f, x, eps):
    raise NotImplementedError


def cd_returns_none(f, x, eps):
    pass


def cd_crashes(f, x, eps):
    return f(x) / undefined_name  # noqa: F821


def test_central_difference_accepts_reference(capsys):
    out = verdict(capsys, check_central_difference, reference_central_difference)
    assert out.startswith("central_difference: Correct!")


@pytest.mark.parametrize("fn", [cd_restore_by_arithmetic, cd_on_copies])
def test_central_difference_accepts_other_correct_versions(capsys, fn):
    assert "Correct!" in verdict(capsys, check_central_difference, fn)


def test_course_lib_numerical_gradient_passes_the_checker(capsys):
    assert "Correct!" in verdict(capsys, check_central_difference, numerical_gradient)


@pytest.mark.parametrize("fn, hint", [
    (cd_forward, "one-sided (forward) difference"),
    (cd_backward, "one-sided (backward) difference"),
    (cd_divide_by_eps, "divided by eps instead of 2*eps"),
    (cd_not_restored, "you must restore x"),
    (cd_flattened, "has shape (6,), expected shape (2, 3)"),
    (cd_scalar, "has shape (), expected shape (2, 3)"),
    (cd_ignores_eps, "use the eps you were given"),
])
def test_central_difference_names_each_mistake(capsys, fn, hint):
    out = verdict(capsys, check_central_difference, fn)
    assert "Not quite" in out and hint in out, out
    assert "Correct" not in out


def test_forward_difference_hint_mentions_the_error_order(capsys):
    out = verdict(capsys, check_central_difference, cd_forward)
    assert "O(eps)" in out and "O(eps^2)" in out


@pytest.mark.parametrize("fn", [cd_stub, cd_returns_none])
def test_central_difference_stub_is_not_done_yet(capsys, fn):
    out = verdict(capsys, check_central_difference, fn)
    assert "Not done yet" in out


def test_central_difference_crash_is_reported_not_raised(capsys):
    out = verdict(capsys, check_central_difference, cd_crashes)
    assert "raised NameError" in out


# ---------------------------------------------------------------- exercise 2: multiply_backward
def mb_swapped(x, y, grad_out):
    return grad_out * x, grad_out * y


def mb_no_grad_out(x, y, grad_out):
    return y, x


def mb_swapped_no_grad_out(x, y, grad_out):
    return x, y


def mb_one_value(x, y, grad_out):
    return grad_out * y


def mb_in_place(x, y, grad_out):
    grad_out *= 1.0
    x += 0.0
    y *= 2.0
    return grad_out * y / 2.0, grad_out * x


def mb_summed(x, y, grad_out):
    return np.sum(grad_out * y), np.sum(grad_out * x)


def mb_dy_wrong(x, y, grad_out):
    return grad_out * y, grad_out * x + 1.0


def mb_stub(x, y, grad_out):
    raise NotImplementedError


def mb_returns_none(x, y, grad_out):
    return None


def test_multiply_backward_accepts_reference(capsys):
    out = verdict(capsys, check_multiply_backward, reference_multiply_backward)
    assert out.startswith("multiply_backward: Correct!")


def test_multiply_backward_accepts_a_list(capsys):
    out = verdict(capsys, check_multiply_backward, lambda x, y, g: [g * y, g * x])
    assert "Correct!" in out


@pytest.mark.parametrize("fn, hint", [
    (mb_swapped, "gradients are swapped"),
    (mb_swapped_no_grad_out, "gradients are swapped"),
    (mb_no_grad_out, "forgot to multiply by grad_out"),
    (mb_one_value, "return two gradients"),
    (mb_in_place, "changed one of its inputs"),
    (mb_summed, "dx has shape (), expected shape (2, 3)"),
    (mb_dy_wrong, "dy at index (0, 0) is"),
])
def test_multiply_backward_names_each_mistake(capsys, fn, hint):
    out = verdict(capsys, check_multiply_backward, fn)
    assert "Not quite" in out and hint in out, out
    assert "Correct" not in out


@pytest.mark.parametrize("fn", [mb_stub, mb_returns_none])
def test_multiply_backward_stub_is_not_done_yet(capsys, fn):
    out = verdict(capsys, check_multiply_backward, fn)
    assert "Not done yet" in out


def test_checkers_are_deterministic(capsys):
    first = verdict(capsys, check_multiply_backward, mb_dy_wrong)
    assert verdict(capsys, check_multiply_backward, mb_dy_wrong) == first
    first = verdict(capsys, check_central_difference, cd_forward)
    assert verdict(capsys, check_central_difference, cd_forward) == first


def test_checker_survives_an_uninterpretable_result(capsys):
    out = verdict(capsys, check_central_difference, lambda f, x, eps: "not an array")
    assert "Not quite" in out and "is a str" in out
    out = verdict(capsys, check_multiply_backward, lambda x, y, g: (object(), object()))
    assert "Not quite" in out
