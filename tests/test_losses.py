"""MSELoss, CrossEntropyLoss, softmax / log_softmax: values, gradients, stability, errors."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck
from course_lib.nn import functional as F


@contextlib.contextmanager
def strict():
    """Warnings are errors and overflow/invalid/divide raise; underflow to 0 is allowed."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------- MSE
def test_mse_value_and_gradient(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    crit = nn.MSELoss()
    loss = crit(pred, target)
    assert isinstance(loss, float)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    assert loss == pytest.approx(F.mse_loss(pred, target), rel=1e-14)
    np.testing.assert_allclose(crit.backward(), 2 * (pred - target) / pred.size, rtol=1e-14)
    np.testing.assert_allclose(crit.backward(3.0), 6 * (pred - target) / pred.size, rtol=1e-14)


@pytest.mark.parametrize("shape", [(6,), (4, 1), (2, 3, 2)])
def test_mse_gradcheck(rng, shape):
    assert gradcheck(nn.MSELoss(), rng.standard_normal(shape), rng.standard_normal(shape))


def test_mse_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"MSELoss expects input and target of the same shape, "
                                         r"got input \(4, 1\) and target \(4,\)"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(TypeError, match="MSELoss expects a floating-point input, got dtype int64"):
        nn.MSELoss()(np.zeros(3, dtype=np.int64), np.zeros(3))
    with pytest.raises(RuntimeError, match=r"MSELoss\(\): backward\(\) called before forward\(\)"):
        nn.MSELoss().backward()


# ---------------------------------------------------------------------- softmax family
def test_softmax_and_log_softmax(rng):
    z = rng.standard_normal((4, 6)) * 3
    p = F.softmax(z)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(z), np.log(p), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(F.logsumexp(z), np.log(np.exp(z).sum(axis=1)), rtol=1e-14)
    np.testing.assert_allclose(F.softmax(z, axis=0).sum(axis=0), 1.0, rtol=1e-15)
    assert F.logsumexp(z, keepdims=True).shape == (4, 1)
    np.testing.assert_allclose(F.softmax(z + 1000.0), p, rtol=1e-12)  # shift invariance


@pytest.mark.parametrize("big", [1000.0, 1e4])
def test_softmax_family_stable_for_huge_logits(big):
    z = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, -big]])
    with strict():
        p, logp, lse = F.softmax(z), F.log_softmax(z), F.logsumexp(z)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(logp)) and np.all(np.isfinite(lse))
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-300)
    # log_softmax stays exact where softmax rounds to 0
    np.testing.assert_allclose(logp[0], [0.0, -2 * big, -big], rtol=1e-15)
    np.testing.assert_allclose(lse, [big, -big + np.log(3), big + np.log(2)], rtol=1e-15)


# ---------------------------------------------------------------------- cross-entropy
def test_cross_entropy_value_and_gradient(rng):
    z = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, 1, 2, 0])
    crit = nn.CrossEntropyLoss()
    loss = crit(z, t)
    assert isinstance(loss, float)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), t])), rel=1e-14)
    assert loss == pytest.approx(F.cross_entropy(z, t), rel=1e-14)
    onehot = np.eye(4)[t]
    np.testing.assert_allclose(crit.backward(), (p - onehot) / 6, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(crit.backward(2.0), 2 * (p - onehot) / 6, rtol=1e-13, atol=1e-16)


def test_cross_entropy_uniform_logits_give_log_c():
    assert nn.CrossEntropyLoss()(np.zeros((3, 10)), np.array([1, 5, 9])) == pytest.approx(np.log(10), rel=1e-15)


@pytest.mark.parametrize("dtype_t", [np.int64, np.int32, np.uint8])
def test_cross_entropy_gradcheck(rng, dtype_t):
    z = rng.standard_normal((5, 4))
    assert gradcheck(nn.CrossEntropyLoss(), z, np.array([0, 3, 1, 2, 2], dtype=dtype_t))


def test_cross_entropy_ignore_index(rng):
    z = rng.standard_normal((5, 3))
    t = np.array([2, -100, 0, -100, 1])
    crit = nn.CrossEntropyLoss()
    loss = crit(z, t)
    keep = t != -100
    assert loss == pytest.approx(nn.CrossEntropyLoss()(z[keep], t[keep]), rel=1e-14)
    grad = crit.backward()
    assert np.all(grad[~keep] == 0.0)
    sub = nn.CrossEntropyLoss()
    sub(z[keep], t[keep])
    np.testing.assert_allclose(grad[keep], sub.backward(), rtol=1e-14)  # mean over the kept rows
    assert gradcheck(nn.CrossEntropyLoss(), z, t)
    # a custom ignore_index (e.g. a padding token 0), which is also a valid class id
    pad = nn.CrossEntropyLoss(ignore_index=0)
    t0 = np.array([0, 2, 1, 0, 2])
    assert pad(z, t0) == pytest.approx(nn.CrossEntropyLoss()(z[t0 != 0], t0[t0 != 0]), rel=1e-14)
    assert gradcheck(pad, z, t0)
    assert repr(pad) == "CrossEntropyLoss(ignore_index=0)"


@pytest.mark.parametrize("big", [1000.0, 1e4])
def test_cross_entropy_stable_for_huge_logits(big):
    z = np.array([[big, -big, 0.0], [-big, big, 5.0], [0.0, 0.0, big], [big, big, -big]])
    t = np.array([1, 1, 0, 2])
    crit = nn.CrossEntropyLoss()
    with strict():
        loss = crit(z, t)
        grad = crit.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # row losses: 2 big, ~0, big, 2 big + log 2
    assert loss == pytest.approx((2 * big + 0 + big + 2 * big + np.log(2)) / 4, rel=1e-14)
    np.testing.assert_allclose(grad[0], [0.25, -0.25, 0.0], atol=1e-300)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-16)


def test_cross_entropy_float32(rng):
    z = rng.standard_normal((4, 3)).astype(np.float32)
    crit = nn.CrossEntropyLoss()
    crit(z, np.array([0, 1, 2, 0]))
    assert crit.backward().dtype == np.float32


# ---------------------------------------------------------------------- cross-entropy errors
def test_cross_entropy_target_out_of_range():
    crit = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: target values must be in \[0, 3\] for 4 classes, "
                                         r"got 4 at position 2"):
        crit(np.zeros((3, 4)), np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"must be in \[0, 3\] for 4 classes, got -1 at position 0"):
        crit(np.zeros((3, 4)), np.array([-1, 1, 2]))


def test_cross_entropy_float_targets():
    with pytest.raises(TypeError, match=r"CrossEntropyLoss expects integer class indices as target, "
                                        r"got dtype float64"):
        nn.CrossEntropyLoss()(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype bool"):
        nn.CrossEntropyLoss()(np.zeros((2, 4)), np.array([True, False]))


def test_cross_entropy_wrong_shapes():
    crit = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expects target of shape \(3,\) for logits "
                                         r"\(3, 4\), got \(3, 1\)"):
        crit(np.zeros((3, 4)), np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"expects target of shape \(3,\) for logits \(3, 4\), got \(2,\)"):
        crit(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expects logits of shape \(N, C\), got \(2, 3, 4\) "
                                         r"\(for sequence logits .* use logits\.reshape\(-1, 4\)"):
        crit(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"expects logits of shape \(N, C\), got \(4,\)$"):
        crit(np.zeros(4), np.array([1]))
    with pytest.raises(TypeError, match="CrossEntropyLoss expects floating-point logits, got dtype int64"):
        crit(np.zeros((2, 3), dtype=np.int64), np.array([0, 1]))


def test_cross_entropy_all_ignored_and_backward_first():
    with pytest.raises(ValueError, match="every target equals ignore_index"):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([-100, -100]))
    with pytest.raises(RuntimeError, match=r"^CrossEntropyLoss\(\): backward\(\) called before forward\(\)$"):
        nn.CrossEntropyLoss().backward()
