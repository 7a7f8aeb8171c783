"""Checkers of notebook 04: accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.regularization import (
    check_dropout_forward,
    check_l2_gradients,
    dropout_forward_solution,
    l2_gradients_solution,
)
from course_lib.nn import Dropout


# ---------------------------------------------------------------------------- dropout
def test_dropout_accepts_solution(capsys):
    out = verdict(check_dropout_forward, dropout_forward_solution, capsys)
    assert out.startswith("Correct!")


def test_dropout_accepts_other_correct_ways_to_draw_the_mask(capsys):
    def binomial(x, p, rng, training=True):
        if not training:
            return x
        return x * rng.binomial(1, 1 - p, size=x.shape) / (1 - p)

    def less_than(x, p, rng, training=True):  # keep where u < 1 - p: another mask, same distribution
        if not training:
            return x.copy()
        return np.where(rng.random(x.shape) < 1 - p, x / (1 - p), 0.0)

    def with_layer(x, p, rng, training=True):  # course_lib's own layer
        layer = Dropout(p, generator=rng) if p > 0 else Dropout(0.0)
        layer.train(training)
        return layer(x)

    for fn in (binomial, less_than, with_layer):
        assert verdict(check_dropout_forward, fn, capsys).startswith("Correct!"), fn.__name__


def test_dropout_stub_is_not_done(capsys):
    def stub(x, p, rng, training=True):
        # your code here
        raise NotImplementedError

    assert verdict(check_dropout_forward, stub, capsys).startswith("Not done yet")


def _drop(scale, keep_prob=lambda p: 1 - p, eval_fn=lambda x, p: x):
    def fn(x, p, rng, training=True):
        if not training:
            return eval_fn(x, p)
        keep = rng.random(x.shape) < keep_prob(p)
        return x * keep * scale(p)
    return fn


@pytest.mark.parametrize("fn, hint", [
    (_drop(lambda p: 1.0), "you did not rescale"),
    (_drop(lambda p: p), "you multiplied the kept entries by p"),
    (_drop(lambda p: 1 / p), "you divided the kept entries by p"),
    (_drop(lambda p: 1 - p), "multiplied the kept entries by (1 - p)"),
    (_drop(lambda p: 1 / (1 - p), keep_prob=lambda p: p), "you kept each entry with probability p"),
    (_drop(lambda p: 1 / (1 - p), eval_fn=lambda x, p: x * (np.arange(x.size).reshape(x.shape) % 5 != 0)),
     "dropout is still on at evaluation time"),
    (_drop(lambda p: 1 / (1 - p), eval_fn=lambda x, p: x * (1 - p)), "at evaluation time (training=False) the output is x times 0.8000"),
    (_drop(lambda p: 1 / (1 - p), keep_prob=lambda p: 0.5), "should be dropped with probability p = 20%"),
    (lambda x, p, rng, training=True: x, "nothing was dropped"),
    (lambda x, p, rng, training=True: None, "forget `return`"),
    (lambda x, p, rng, training=True: x[:10], "should have the shape of x"),
])
def test_dropout_names_each_mistake(fn, hint, capsys):
    out = verdict(check_dropout_forward, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_dropout_left_on_at_eval_time(capsys):
    def always_on(x, p, rng, training=True):  # ignores the training flag
        return x * (rng.random(x.shape) >= p) / (1 - p)

    out = verdict(check_dropout_forward, always_on, capsys)
    assert "dropout is still on at evaluation time" in out


def test_dropout_same_mask_every_call(capsys):
    def fixed_seed(x, p, rng, training=True):
        if not training:
            return x
        own = np.random.default_rng(0)  # a new generator inside: the same mask every call
        return x * (own.random(x.shape) >= p) / (1 - p)

    out = verdict(check_dropout_forward, fixed_seed, capsys)
    assert "dropped the same entries" in out


def test_dropout_flags_in_place_and_p_zero(capsys):
    def in_place(x, p, rng, training=True):
        if training:
            x *= (rng.random(x.shape) >= p) / (1 - p)
        return x

    assert "changed x in place" in verdict(check_dropout_forward, in_place, capsys)

    def p_zero_bug(x, p, rng, training=True):
        if not training:
            return x
        keep = rng.random(x.shape) >= max(p, 0.1)
        return x * keep / (1 - p)

    assert "with p = 0 nothing should be dropped" in verdict(check_dropout_forward, p_zero_bug, capsys)


def test_dropout_never_raises(capsys):
    def boom(x, p, rng, training=True):
        raise ZeroDivisionError("oops")

    assert "ZeroDivisionError: oops" in verdict(check_dropout_forward, boom, capsys)

    def eval_boom(x, p, rng, training=True):
        if not training:
            raise KeyError("eval")
        return dropout_forward_solution(x, p, rng)

    assert "with training=False your function raised KeyError" in verdict(check_dropout_forward, eval_boom, capsys)
    assert verdict(check_dropout_forward, 42, capsys).startswith("Not quite")
    assert verdict(check_dropout_forward, lambda x, p, rng, training=True: "y", capsys).startswith("Not quite")


def test_dropout_is_deterministic(capsys):
    fn = _drop(lambda p: 1.0)
    assert verdict(check_dropout_forward, fn, capsys) == verdict(check_dropout_forward, fn, capsys)
    good = dropout_forward_solution
    assert verdict(check_dropout_forward, good, capsys) == verdict(check_dropout_forward, good, capsys)


# ---------------------------------------------------------------------------- L2 penalty
def test_l2_accepts_solution(capsys):
    assert verdict(check_l2_gradients, l2_gradients_solution, capsys).startswith("Correct!")


def test_l2_accepts_loop_solution(capsys):
    def loop(params, grads, weight_decay):
        out = {}
        for name in params:
            out[name] = grads[name].copy()
            if name.endswith("weight"):
                out[name] += weight_decay * params[name]
        return out

    assert verdict(check_l2_gradients, loop, capsys).startswith("Correct!")


def test_l2_stub_is_not_done(capsys):
    def stub(params, grads, weight_decay):
        raise NotImplementedError

    assert verdict(check_l2_gradients, stub, capsys).startswith("Not done yet")


def _l2(factor, biases=False):
    def fn(params, grads, weight_decay):
        return {k: grads[k] + factor(weight_decay, w) if (w.ndim >= 2 or biases) else grads[k]
                for k, w in params.items()}
    return fn


@pytest.mark.parametrize("fn, hint", [
    (_l2(lambda lam, w: w), "without the factor weight_decay"),
    (_l2(lambda lam, w: 0.5 * lam * w), "(weight_decay / 2) * W"),
    (_l2(lambda lam, w: 2 * lam * w), "2 * weight_decay * W"),
    (_l2(lambda lam, w: -lam * w), "you subtracted weight_decay * W"),
    (_l2(lambda lam, w: lam * w * w), "weight_decay * W**2"),
    (_l2(lambda lam, w: lam * w, biases=True), "applied the penalty to the bias"),
    (_l2(lambda lam, w: 0.0), "is unchanged"),
    (lambda params, grads, lam: {k: lam * w if w.ndim >= 2 else grads[k] for k, w in params.items()},
     "replaced the gradient"),
    (lambda params, grads, lam: {k: grads[k] + lam * w for k, w in params.items() if w.ndim >= 2},
     "no entry for ['0.bias', '2.bias']"),
    (lambda params, grads, lam: None, "forget `return`"),
    (lambda params, grads, lam: [grads[k] for k in grads], "return a dict"),
    (lambda params, grads, lam: {k: grads[k] + (3 * lam * w if w.ndim >= 2 else 0) for k, w in params.items()},
     "has wrong values"),
])
def test_l2_names_each_mistake(fn, hint, capsys):
    out = verdict(check_l2_gradients, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_l2_two_mistakes_at_once(capsys):
    out = verdict(check_l2_gradients, _l2(lambda lam, w: w, biases=True), capsys)
    assert "without the factor" in out and "bias" in out


def test_l2_flags_in_place(capsys):
    def in_place(params, grads, weight_decay):
        for k, w in params.items():
            if w.ndim >= 2:
                grads[k] += weight_decay * w
        return grads

    out = verdict(check_l2_gradients, in_place, capsys)
    assert "changed its inputs in place" in out


def test_l2_never_raises(capsys):
    def boom(params, grads, weight_decay):
        raise ValueError("bad")

    assert "ValueError: bad" in verdict(check_l2_gradients, boom, capsys)
    assert verdict(check_l2_gradients, None, capsys).startswith("Not quite")
    out = verdict(check_l2_gradients, lambda p, g, lam: {k: "x" for k in p}, capsys)
    assert out.startswith("Not quite")
    out = verdict(check_l2_gradients, lambda p, g, lam: {k: np.zeros(7) for k in p}, capsys)
    assert out.startswith("Not quite") and "should have the shape" in out


def test_l2_solution_matches_sgd_weight_decay():
    """The solution's gradient is what SGD(weight_decay=...) uses on the weight group."""
    from course_lib.nn import Parameter
    from course_lib.optim import SGD

    rng = np.random.default_rng(0)
    params = {"0.weight": rng.standard_normal((3, 2)), "0.bias": rng.standard_normal(3)}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    lam, lr = 0.3, 0.1
    ps = {k: Parameter(v) for k, v in params.items()}
    for k in ps:
        ps[k].grad = grads[k].copy()
    SGD([{"params": [ps["0.weight"]], "weight_decay": lam}, {"params": [ps["0.bias"]]}], lr=lr).step()
    g = l2_gradients_solution(params, grads, lam)
    for k in params:
        np.testing.assert_allclose(ps[k].data, params[k] - lr * g[k], rtol=1e-12)
