"""Checkers of notebook 03: accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.optimizers import (
    adam_step_solution,
    adamw_step_solution,
    check_adam_step,
    check_adamw_step,
    check_momentum_step,
    momentum_step_solution,
)
from course_lib.nn import Parameter
from course_lib.optim import SGD, Adam, AdamW


# ---------------------------------------------------------------------------- the solutions are PyTorch's rules
def test_solutions_match_course_lib_optimizers():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = rng.standard_normal((8, 5))
    for opt_cls, kwargs, step in [
        (SGD, dict(lr=0.1, momentum=0.9), "momentum"),
        (Adam, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6), "adam"),
        (AdamW, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3), "adamw"),
    ]:
        p = Parameter(p0.copy())
        opt = opt_cls([p], **kwargs)
        mine, m, v = p0.copy(), np.zeros(5), np.zeros(5)
        for t, g in enumerate(grads, start=1):
            p.grad = g.copy()
            opt.step()
            if step == "momentum":
                mine, v = momentum_step_solution(mine, g, v, 0.1, 0.9)
            elif step == "adam":
                mine, m, v = adam_step_solution(mine, g, m, v, t, 0.1, 0.8, 0.99, 1e-6)
            else:
                mine, m, v = adamw_step_solution(mine, g, m, v, t, 0.1, 0.8, 0.99, 1e-6, 0.3)
            np.testing.assert_allclose(mine, p.data, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- momentum
def test_momentum_accepts_solution(capsys):
    assert verdict(check_momentum_step, momentum_step_solution, capsys).startswith("Correct!")


def test_momentum_accepts_in_place_solution(capsys):
    def in_place(p, grad, v, lr, momentum):
        v *= momentum
        v += grad
        p -= lr * v
        return p, v

    assert verdict(check_momentum_step, in_place, capsys).startswith("Correct!")


def test_momentum_stub_is_not_done(capsys):
    def stub(p, grad, v, lr, momentum):
        # your code here
        raise NotImplementedError

    assert verdict(check_momentum_step, stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (lambda p, g, v, lr, mu: (p - lr * v, mu * v + g), "order: you moved p with the OLD velocity"),
    (lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g), "sign: you added lr * v to p"),
    (lambda p, g, v, lr, mu: (p + (mu * v - lr * g), mu * v - lr * g), "v = momentum * v - lr * grad, p = p + v"),
    (lambda p, g, v, lr, mu: (p - (mu * v + lr * g), mu * v + lr * g), "you put lr inside the velocity"),
    (lambda p, g, v, lr, mu: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
     "exponential moving average"),
    (lambda p, g, v, lr, mu: (p - lr * g, g), "your v forgets the past"),
    (lambda p, g, v, lr, mu: (p - lr * (v + mu * g), v + mu * g), "momentum multiplies the old velocity"),
    (lambda p, g, v, lr, mu: (p - lr * (g + mu * (mu * v + g)), mu * v + g), "that is Nesterov momentum"),
    (lambda p, g, v, lr, mu: momentum_step_solution(p, g, v, lr, mu)[::-1], "you returned (v, p)"),
    (lambda p, g, v, lr, mu: (p - 2 * lr * (mu * v + g), mu * v + g), "after step 1, p["),
    (lambda p, g, v, lr, mu: None, "forget the `return`"),
    (lambda p, g, v, lr, mu: p - lr * g, "return 2 arrays, `return p, v`"),
    (lambda p, g, v, lr, mu: (p, v, g), "return 2 arrays"),
    (lambda p, g, v, lr, mu: (p[:2], v), "p should have the shape of p, (4,)"),
    (lambda p, g, v, lr, mu: ("p", v), "p is a str, not an array of numbers"),
])
def test_momentum_names_each_mistake(fn, hint, capsys):
    out = verdict(check_momentum_step, fn, capsys)
    assert out.startswith("Not quite")
    assert hint in out


def test_momentum_with_lr_in_the_velocity_is_caught_by_the_schedule(capsys):
    # the classic form u = mu u - lr g, p = p + u, remembering the previous lr so that it reports v in
    # PyTorch's units: identical to PyTorch for a constant lr, different once the lr changes
    previous = {"lr": None}

    def classic(p, g, v, lr, mu):
        u_prev = -(previous["lr"] or lr) * v
        u = mu * u_prev - lr * g
        previous["lr"] = lr
        return p + u, -u / lr

    out = verdict(check_momentum_step, classic, capsys)
    assert out.startswith("Not quite. With a scheduled lr")
    assert "right with a constant lr" in out and "keep it out of the velocity" in out


def test_momentum_never_raises(capsys):
    def boom(p, g, v, lr, mu):
        raise ZeroDivisionError("oops")

    assert "ZeroDivisionError: oops" in verdict(check_momentum_step, boom, capsys)
    assert verdict(check_momentum_step, 42, capsys).startswith("Not quite")
    assert verdict(check_momentum_step, lambda: None, capsys).startswith("Not quite")  # wrong signature
    out = verdict(check_momentum_step, lambda p, g, v, lr, mu: (p / 0.0, v), capsys)  # inf, quietly
    assert out.startswith("Not quite") and "is inf but should be" in out


def test_momentum_is_deterministic(capsys):
    fn = lambda p, g, v, lr, mu: (p - 2 * lr * (mu * v + g), mu * v + g)  # noqa: E731
    assert verdict(check_momentum_step, fn, capsys) == verdict(check_momentum_step, fn, capsys)


# ---------------------------------------------------------------------------- Adam
def _adam(correct_m=True, correct_v=True, power=0, eps_inside=False, no_sqrt=False, no_one_minus=False,
          store_hat=False, multiply=False):
    """Learner-style Adam steps with one mistake each (written independently of the checker's variants)."""
    def step(p, g, m, v, t, lr, b1, b2, eps):
        if no_one_minus:
            m, v = b1 * m + g, b2 * v + g ** 2
        else:
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g ** 2
        c1, c2 = 1 - b1 ** (t + power), 1 - b2 ** (t + power)
        m_hat = m * c1 if multiply else (m / c1 if correct_m else m)
        v_hat = v * c2 if multiply else (v / c2 if correct_v else v)
        if eps_inside:
            p = p - lr * m_hat / np.sqrt(v_hat + eps)
        elif no_sqrt:
            p = p - lr * m_hat / (v_hat + eps)
        else:
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        return (p, m_hat, v_hat) if store_hat else (p, m, v)
    return step


def test_adam_accepts_solution(capsys):
    assert verdict(check_adam_step, adam_step_solution, capsys).startswith("Correct!")


def test_adam_accepts_pytorch_grouping(capsys):
    def torch_style(p, g, m, v, t, lr, b1, b2, eps):
        m = m * b1 + (1 - b1) * g
        v = v * b2 + (1 - b2) * g * g
        step_size = lr / (1 - b1 ** t)
        denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
        return p - step_size * m / denom, m, v

    assert verdict(check_adam_step, torch_style, capsys).startswith("Correct!")


def test_adam_stub_is_not_done(capsys):
    def stub(p, grad, m, v, t, lr, beta1, beta2, eps):
        raise NotImplementedError

    assert verdict(check_adam_step, stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("kwargs, hint", [
    (dict(correct_m=False, correct_v=False), "no bias correction"),
    (dict(correct_m=True, correct_v=False), "only m is bias-corrected"),
    (dict(correct_m=False, correct_v=True), "only v is bias-corrected"),
    (dict(power=1), "you used beta**(t + 1)"),
    (dict(power=-1), "you used beta**(t - 1)"),
    (dict(multiply=True), "you multiplied by (1 - beta**t)"),
    (dict(store_hat=True), "you returned the corrected m_hat and v_hat as the new state"),
    (dict(no_one_minus=True), "miss their (1 - beta) factors"),
    (dict(no_sqrt=True), "the square root is missing"),
    (dict(eps_inside=True), "eps belongs outside the square root"),
])
def test_adam_names_each_mistake(kwargs, hint, capsys):
    out = verdict(check_adam_step, _adam(**kwargs), capsys)
    assert out.startswith("Not quite")
    assert hint in out


def test_adam_other_wrong_values_and_bad_returns(capsys):
    out = verdict(check_adam_step, lambda p, g, m, v, t, lr, b1, b2, eps: adam_step_solution(
        p, g, m, v, t, 2 * lr, b1, b2, eps), capsys)
    assert out.startswith("Not quite") and "after step 1, p[" in out
    out = verdict(check_adam_step, lambda p, g, m, v, t, lr, b1, b2, eps: (p, m), capsys)
    assert "return 3 arrays, `return p, m, v`" in out
    out = verdict(check_adam_step, lambda p, g, m, v, t, lr, b1, b2, eps: (p / 0.0, m, v), capsys)
    assert "inf or NaN" in out


def test_adam_never_raises(capsys):
    def boom(p, g, m, v, t, lr, b1, b2, eps):
        return np.linalg.inv(np.zeros((2, 2)))

    assert "LinAlgError" in verdict(check_adam_step, boom, capsys)
    assert verdict(check_adam_step, None, capsys).startswith("Not quite")


# ---------------------------------------------------------------------------- AdamW
def test_adamw_accepts_solution(capsys):
    assert verdict(check_adamw_step, adamw_step_solution, capsys).startswith("Correct!")


def test_adamw_accepts_the_papers_form(capsys):
    # p - lr * (adam_update + wd * p) is the same rule as p * (1 - lr wd) - lr * adam_update
    def paper(p, g, m, v, t, lr, b1, b2, eps, wd):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        update = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        return p - lr * (update + wd * p), m, v

    assert verdict(check_adamw_step, paper, capsys).startswith("Correct!")


def test_adamw_stub_is_not_done(capsys):
    def stub(p, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
        raise NotImplementedError

    assert verdict(check_adamw_step, stub, capsys).startswith("Not done yet")


def _adamw(kind):
    def step(p, g, m, v, t, lr, b1, b2, eps, wd):
        if kind == "l2":
            g = g + wd * p
        elif kind == "no_lr":
            p = p - wd * p
        elif kind == "sign":
            p = p + lr * wd * p
        elif kind == "both":
            g = g + wd * p
            p = p * (1 - lr * wd)
        elif kind == "decoupled":
            p = p * (1 - lr * wd)
        p, m, v = adam_step_solution(p, g, m, v, t, lr, b1, b2, eps)
        if kind == "after":
            p = p - lr * wd * p
        return p, m, v
    return step


@pytest.mark.parametrize("kind, hint", [
    ("l2", "that is Adam with L2"),
    ("no_lr", "the decay is not multiplied by lr"),
    ("sign", "which makes the weights grow"),
    ("after", "you shrank p after the Adam step"),
    ("both", "you decayed twice"),
    ("none", "the weights are not decayed at all"),
])
def test_adamw_names_each_mistake(kind, hint, capsys):
    out = verdict(check_adamw_step, _adamw(kind), capsys)
    assert out.startswith("Not quite")
    assert hint in out


def test_adamw_blames_the_adam_part_first(capsys):
    def wrong_adam(p, g, m, v, t, lr, b1, b2, eps, wd):
        return _adam(correct_m=False, correct_v=False)(p * (1 - lr * wd), g, m, v, t, lr, b1, b2, eps)

    out = verdict(check_adamw_step, wrong_adam, capsys)
    assert "with weight_decay=0 AdamW is exactly Adam" in out and "check_adam_step" in out


def test_adamw_other_wrong_values(capsys):
    def subtract(p, g, m, v, t, lr, b1, b2, eps, wd):
        return adam_step_solution(p - lr * wd, g, m, v, t, lr, b1, b2, eps)  # subtracts a constant

    out = verdict(check_adamw_step, subtract, capsys)
    assert out.startswith("Not quite. With lr 0.1 and weight_decay 0.5") and "after step 1, p[" in out


def test_adamw_never_raises(capsys):
    def boom(p, g, m, v, t, lr, b1, b2, eps, wd):
        raise KeyError("weight_decay")

    assert "KeyError" in verdict(check_adamw_step, boom, capsys)
    assert verdict(check_adamw_step, "adamw", capsys).startswith("Not quite")
