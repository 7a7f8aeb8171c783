"""Checkers of notebook 05: accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.normalization import (
    batch_norm_eval_solution,
    batch_norm_train_solution,
    check_batch_norm_eval,
    check_batch_norm_train,
    check_layer_norm_forward,
    layer_norm_forward_solution,
)
from course_lib.nn import BatchNorm1d, LayerNorm


def _stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


# ---------------------------------------------------------------------------- the solutions are course_lib's layers
def test_solutions_match_course_lib_layers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)) * 3 + 1
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)

    ln = LayerNorm(4)
    ln.weight.data[...], ln.bias.data[...] = gamma, beta
    np.testing.assert_allclose(layer_norm_forward_solution(x, gamma, beta), ln(x))
    x3 = rng.standard_normal((2, 5, 4))
    np.testing.assert_allclose(layer_norm_forward_solution(x3, gamma, beta), ln(x3))

    bn = BatchNorm1d(4, momentum=0.3)
    bn.weight.data[...], bn.bias.data[...] = gamma, beta
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    y, new_m, new_v = batch_norm_train_solution(x, gamma, beta, rm, rv, momentum=0.3)
    np.testing.assert_allclose(y, bn(x))
    np.testing.assert_allclose(new_m, bn.running_mean)
    np.testing.assert_allclose(new_v, bn.running_var)
    bn.eval()
    np.testing.assert_allclose(batch_norm_eval_solution(x, new_m, new_v, gamma, beta), bn(x))


# ---------------------------------------------------------------------------- LayerNorm forward
def test_layer_norm_accepts_solution(capsys):
    assert verdict(check_layer_norm_forward, layer_norm_forward_solution, capsys).startswith("Correct!")


def test_layer_norm_accepts_other_correct_ways(capsys):
    def with_std(x, gamma, beta, eps=1e-5):
        mu = np.mean(x, axis=-1, keepdims=True)
        return gamma * (x - mu) / np.sqrt(np.mean((x - mu) ** 2, axis=-1, keepdims=True) + eps) + beta

    def with_layer(x, gamma, beta, eps=1e-5):
        ln = LayerNorm(x.shape[-1], eps=eps)
        ln.weight.data[...], ln.bias.data[...] = gamma, beta
        return ln(x)

    for fn in (with_std, with_layer):
        assert verdict(check_layer_norm_forward, fn, capsys).startswith("Correct!"), fn.__name__


def test_layer_norm_stub_is_not_done(capsys):
    assert verdict(check_layer_norm_forward, _stub, capsys).startswith("Not done yet")


def _ln(mean_axis=-1, ddof=0, eps_where="inside", affine="both", rms=False, keepdims=True):
    def fn(x, gamma, beta, eps=1e-5):
        if mean_axis is None:
            mu, var = x.mean(), x.var(ddof=ddof)
        else:
            mu = x.mean(axis=mean_axis, keepdims=keepdims)
            var = x.var(axis=mean_axis, keepdims=keepdims, ddof=ddof)
        if rms:
            x_hat = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
        elif eps_where == "inside":
            x_hat = (x - mu) / np.sqrt(var + eps)
        elif eps_where == "none":
            x_hat = (x - mu) / np.sqrt(var)
        elif eps_where == "fixed":
            x_hat = (x - mu) / np.sqrt(var + 1e-5)
        elif eps_where == "no-sqrt":
            x_hat = (x - mu) / (var + eps)
        else:  # outside
            x_hat = (x - mu) / (np.sqrt(var) + eps)
        return {"both": x_hat * gamma + beta, "none": x_hat, "gamma": x_hat * gamma, "beta": x_hat + beta,
                "swapped": x_hat * beta + gamma}[affine]
    return fn


@pytest.mark.parametrize("fn, hint", [
    (_ln(mean_axis=0), "you normalized each feature over the batch (axis=0): that is BatchNorm"),
    (_ln(mean_axis=None), "one mean and one variance for the whole array"),
    (_ln(ddof=1), "you used the unbiased variance (ddof=1"),
    (_ln(eps_where="outside"), "you added eps outside the square root"),
    (_ln(eps_where="no-sqrt"), "you divided by the variance itself"),
    (_ln(eps_where="none"), "you forgot eps"),
    (_ln(eps_where="fixed"), "you did not use the eps you were given"),
    (_ln(rms=True), "that is RMSNorm"),
    (_ln(affine="none"), "you forgot the learnable scale and shift"),
    (_ln(affine="gamma"), "you forgot beta"),
    (_ln(affine="beta"), "you forgot gamma"),
    (_ln(affine="swapped"), "you swapped gamma and beta"),
    (_ln(mean_axis=1), "you normalized over axis 1, the time axis T"),
    (_ln(keepdims=False), "keepdims=True"),
    (lambda x, gamma, beta, eps=1e-5: None, "forget `return`"),
    (lambda x, gamma, beta, eps=1e-5: x[:2], "should have the shape of x"),
])
def test_layer_norm_names_each_mistake(fn, hint, capsys):
    out = verdict(check_layer_norm_forward, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_layer_norm_whole_sequence_pooled(capsys):
    def per_sequence(x, gamma, beta, eps=1e-5):
        axes = tuple(range(1, x.ndim))  # (N, C): axis 1; (B, T, C): axes 1 and 2
        mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * gamma + beta

    out = verdict(check_layer_norm_forward, per_sequence, capsys)
    assert "you pooled the whole sequence" in out


def test_layer_norm_in_place_is_flagged(capsys):
    def in_place(x, gamma, beta, eps=1e-5):
        x -= x.mean(axis=-1, keepdims=True)
        x /= np.sqrt(x.var(axis=-1, keepdims=True) + eps)
        return x * gamma + beta

    assert "changed its input in place" in verdict(check_layer_norm_forward, in_place, capsys)


# ---------------------------------------------------------------------------- BatchNorm eval
def test_batch_norm_eval_accepts_solution(capsys):
    assert verdict(check_batch_norm_eval, batch_norm_eval_solution, capsys).startswith("Correct!")


def test_batch_norm_eval_accepts_the_layer(capsys):
    def with_layer(x, running_mean, running_var, gamma, beta, eps=1e-5):
        bn = BatchNorm1d(x.shape[1], eps=eps)
        bn.running_mean[...], bn.running_var[...] = running_mean, running_var
        bn.weight.data[...], bn.bias.data[...] = gamma, beta
        return bn.eval()(x)

    assert verdict(check_batch_norm_eval, with_layer, capsys).startswith("Correct!")


def test_batch_norm_eval_stub_is_not_done(capsys):
    assert verdict(check_batch_norm_eval, _stub, capsys).startswith("Not done yet")


def _bne(kind):
    def fn(x, running_mean, running_var, gamma, beta, eps=1e-5):
        rm, rv = running_mean, running_var
        if kind == "batch":
            return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) * gamma + beta
        if kind == "batch-mean":
            return (x - x.mean(axis=0)) / np.sqrt(rv + eps) * gamma + beta
        if kind == "batch-var":
            return (x - rm) / np.sqrt(x.var(axis=0) + eps) * gamma + beta
        if kind == "no-eps":
            return (x - rm) / np.sqrt(rv) * gamma + beta
        if kind == "outside":
            return (x - rm) / (np.sqrt(rv) + eps) * gamma + beta
        if kind == "no-sqrt":
            return (x - rm) / (rv + eps) * gamma + beta
        if kind == "layer":
            mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
            return (x - mu) / np.sqrt(var + eps) * gamma + beta
        if kind == "fixed-eps":
            return (x - rm) / np.sqrt(rv + 1e-5) * gamma + beta
        if kind == "no-affine":
            return (x - rm) / np.sqrt(rv + eps)
        if kind == "update":  # updates the running statistics in place, then uses them
            running_mean[...] = 0.9 * running_mean + 0.1 * x.mean(axis=0)
            return batch_norm_eval_solution(x, running_mean, running_var, gamma, beta, eps)
        raise AssertionError(kind)
    return fn


@pytest.mark.parametrize("kind, hint", [
    ("batch", "you normalized with the statistics of the batch"),
    ("batch-mean", "you subtracted the batch mean"),
    ("batch-var", "you divided by the batch's standard deviation"),
    ("no-eps", "you forgot eps"),
    ("outside", "you added eps outside the square root"),
    ("no-sqrt", "you divided by the variance itself"),
    ("layer", "that is LayerNorm"),
    ("fixed-eps", "you did not use the eps you were given"),
    ("no-affine", "you forgot the learnable scale and shift"),
    ("update", "At evaluation time the running statistics are only read"),
])
def test_batch_norm_eval_names_each_mistake(kind, hint, capsys):
    out = verdict(check_batch_norm_eval, _bne(kind), capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_batch_norm_eval_with_batch_statistics_is_the_named_mistake(capsys):
    # the mistake: using batch statistics at eval time
    out = verdict(check_batch_norm_eval, _bne("batch"), capsys)
    assert "At evaluation time BatchNorm uses the running statistics" in out


# ---------------------------------------------------------------------------- BatchNorm training step
def test_batch_norm_train_accepts_solution(capsys):
    assert verdict(check_batch_norm_train, batch_norm_train_solution, capsys).startswith("Correct!")


def test_batch_norm_train_accepts_the_layer_and_in_place_updates(capsys):
    def with_layer(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
        bn = BatchNorm1d(x.shape[1], eps=eps, momentum=momentum)
        bn.running_mean[...], bn.running_var[...] = running_mean, running_var
        bn.weight.data[...], bn.bias.data[...] = gamma, beta
        y = bn(x)
        return y, bn.running_mean, bn.running_var

    def in_place(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
        n = x.shape[0]
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * n / (n - 1)
        return (x - mean) / np.sqrt(var + eps) * gamma + beta, running_mean, running_var

    for fn in (with_layer, in_place):
        assert verdict(check_batch_norm_train, fn, capsys).startswith("Correct!"), fn.__name__


def test_batch_norm_train_stub_is_not_done(capsys):
    assert verdict(check_batch_norm_train, _stub, capsys).startswith("Not done yet")


def _bnt(y_kind="ok", mean_kind="ok", var_kind="ok"):
    def fn(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
        n = x.shape[0]
        m = momentum
        mean, var, uvar = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
        new_m = {"ok": (1 - m) * running_mean + m * mean, "reversed": m * running_mean + (1 - m) * mean,
                 "same": running_mean, "fixed": 0.9 * running_mean + 0.1 * mean}[mean_kind]
        new_v = {"ok": (1 - m) * running_var + m * uvar, "biased": (1 - m) * running_var + m * var,
                 "reversed": m * running_var + (1 - m) * uvar, "same": running_var,
                 "std": (1 - m) * running_var + m * np.sqrt(uvar)}[var_kind]
        if y_kind == "ok":
            y = (x - mean) / np.sqrt(var + eps)
        elif y_kind == "unbiased":
            y = (x - mean) / np.sqrt(uvar + eps)
        elif y_kind == "running":
            y = (x - running_mean) / np.sqrt(running_var + eps)
        elif y_kind == "no-eps":
            y = (x - mean) / np.sqrt(var)
        elif y_kind == "layer":
            y = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
        else:
            raise AssertionError(y_kind)
        assert n > 1
        return y * gamma + beta, new_m, new_v
    return fn


@pytest.mark.parametrize("fn, hint", [
    (_bnt(y_kind="unbiased"), "y is normalized with the unbiased variance"),
    (_bnt(y_kind="running"), "y is normalized with the running statistics"),
    (_bnt(y_kind="no-eps"), "you forgot eps"),
    (_bnt(y_kind="layer"), "that is LayerNorm"),
    (_bnt(var_kind="biased"), "PyTorch stores the unbiased estimate"),
    (_bnt(mean_kind="reversed"), "the momentum is the wrong way round"),
    (_bnt(var_kind="reversed"), "the momentum is the wrong way round for the running variance"),
    (_bnt(mean_kind="same", var_kind="same"), "the running mean was not updated"),
    (_bnt(var_kind="std"), "updated with a standard deviation"),
    (_bnt(mean_kind="fixed"), "use the momentum argument"),
    (lambda x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5: x, "return three things"),
    (lambda x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5: None, "forget `return`"),
])
def test_batch_norm_train_names_each_mistake(fn, hint, capsys):
    out = verdict(check_batch_norm_train, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_batch_norm_train_reports_several_mistakes_at_once(capsys):
    out = verdict(check_batch_norm_train, _bnt(y_kind="unbiased", var_kind="biased"), capsys)
    assert "y is normalized with the unbiased variance" in out
    assert "PyTorch stores the unbiased estimate" in out


# ---------------------------------------------------------------------------- never raise
class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")


@pytest.mark.parametrize("checker", [check_layer_norm_forward, check_batch_norm_eval, check_batch_norm_train])
@pytest.mark.parametrize("fn", [
    None,
    42,
    lambda *a, **k: 1 / 0,
    lambda *a, **k: "text",
    lambda *a, **k: _Weird(),
    lambda *a, **k: (None, None, None),
    lambda *a, **k: [np.nan] * 3,
    lambda *a, **k: np.full((5, 4), np.nan),
    lambda *a, **k: np.zeros((6, 3)),
    lambda *a: a[0],  # returns its input
])
def test_checkers_never_raise(checker, fn, capsys):
    checker(fn)
    out = capsys.readouterr().out
    assert out.startswith(("Not quite", "Not done yet", "Correct!")), out
    assert "Please report this" not in out
