"""Activations: values, derivatives (gradcheck), stability at ±1000, erf accuracy, errors."""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck
from course_lib.nn import functional as F

MODULES = {
    "ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
    "GELU": nn.GELU, "GELU_tanh": lambda: nn.GELU(approximate="tanh"),
}


@contextlib.contextmanager
def strict():
    """Warnings become errors; overflow, invalid (NaN) and divide-by-zero raise.
    Underflow to 0 (e.g. exp(-1000)) is the correct answer and stays allowed."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def away_from_kink(rng, shape):
    """Random inputs with |x| >= 0.1, so ReLU's kink at 0 never sits inside a finite difference."""
    x = rng.standard_normal(shape) * 2
    return np.where(np.abs(x) < 0.1, 0.5, x)


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_gradcheck(name, shape):
    assert gradcheck(MODULES[name](), away_from_kink(np.random.default_rng(1), shape))


def test_values_at_known_points():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(nn.ReLU()(x), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(nn.Sigmoid()(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(nn.Tanh()(x), np.tanh(x), rtol=1e-15)
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(nn.GELU()(x), x * phi, rtol=1e-14)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    np.testing.assert_allclose(nn.GELU("tanh")(x), 0.5 * x * (1 + np.tanh(u)), rtol=1e-14)
    # PyTorch's convention: ReLU'(0) = 0
    r = nn.ReLU()
    r(np.array([0.0]))
    assert r.backward(np.array([1.0]))[0] == 0.0


def test_functional_matches_modules():
    x = np.linspace(-5, 5, 41)
    np.testing.assert_array_equal(F.relu(x), nn.ReLU()(x))
    np.testing.assert_array_equal(F.sigmoid(x), nn.Sigmoid()(x))
    np.testing.assert_array_equal(F.tanh(x), nn.Tanh()(x))
    np.testing.assert_array_equal(F.gelu(x), nn.GELU()(x))
    np.testing.assert_array_equal(F.gelu(x, "tanh"), nn.GELU("tanh")(x))


# ---------------------------------------------------------------------- stability
LIMITS = {  # name: (f(-big), f(+big), f'(-big), f'(+big)) for big >= 1000
    "ReLU": (0.0, None, 0.0, 1.0), "Sigmoid": (0.0, 1.0, 0.0, 0.0), "Tanh": (-1.0, 1.0, 0.0, 0.0),
    "GELU": (0.0, None, 0.0, 1.0), "GELU_tanh": (0.0, None, 0.0, 1.0),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("big", [1000.0, 1e4])
@pytest.mark.parametrize("name", MODULES)
def test_stable_at_large_inputs(name, big, dtype):
    x = np.array([-big, -50.0, -1.0, 0.0, 1.0, 50.0, big], dtype=dtype)
    layer = MODULES[name]()
    with strict():
        y = layer(x)
        dy = layer.backward(np.ones_like(x))
    assert y.dtype == dtype and dy.dtype == dtype  # float32 stays float32
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))
    lo, hi, dlo, dhi = LIMITS[name]
    assert y[0] == lo and dy[0] == dlo and dy[-1] == dhi
    assert y[-1] == (big if hi is None else hi)


def test_sigmoid_tails_keep_relative_precision():
    # computed as e / (1 + e) with e = exp(-|x|) for x < 0: tiny values are not rounded to 0
    x = np.array([-30.0, -700.0])
    np.testing.assert_allclose(F.sigmoid(x), np.exp(x) / (1 + np.exp(x)), rtol=1e-14)


# ---------------------------------------------------------------------- erf
def test_erf_matches_math_erf_on_dense_grid():
    x = np.linspace(-8.0, 8.0, 160_001)
    ref = np.array([math.erf(v) for v in x])
    got = F.erf(x)
    nz = ref != 0
    rel = np.abs(got[nz] - ref[nz]) / np.abs(ref[nz])
    assert rel.max() < 1e-14, f"max relative error {rel.max():.2e} at x={x[nz][rel.argmax()]}"
    assert got[~nz].tolist() == [0.0]


def test_erf_tiny_and_special_points():
    tiny = np.logspace(-300, -1, 300)
    np.testing.assert_allclose(F.erf(tiny), [math.erf(v) for v in tiny], rtol=1e-15)
    with strict():
        got = F.erf(np.array([0.0, -0.0, 1.0, -1.0, 8.0, 30.0, 1e300, np.inf, -np.inf]))
    assert got[0] == 0.0 and got[1] == 0.0 and math.copysign(1.0, got[1]) == -1.0
    np.testing.assert_allclose(got[2:4], [math.erf(1.0), -math.erf(1.0)], rtol=1e-15)
    assert got[4:].tolist() == [1.0, 1.0, 1.0, 1.0, -1.0]
    assert F.erf(np.float32(0.5)).dtype == np.float32
    assert F.erf(np.array([1, 2])).dtype == np.float64  # integers are promoted
    assert np.isnan(F.erf(np.array([np.nan])))[0]


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", MODULES)
def test_integer_input_is_a_type_error(name):
    layer = MODULES[name]()
    with pytest.raises(TypeError, match=r"expects a floating-point input, got dtype int64"):
        layer(np.arange(3))


def test_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"^ReLU\(\): backward\(\) called before forward\(\)$"):
        nn.ReLU().backward(np.ones(3))
    g = nn.GELU("tanh")
    g(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"GELU\(approximate='tanh'\)\.backward expects grad_out of the "
                                         r"output's shape \(2, 3\), got \(3,\)"):
        g.backward(np.ones(3))
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(np.ones(2), "erf")


def test_backward_does_not_modify_grad_out():
    g = np.ones(4)
    for make in MODULES.values():
        layer = make()
        layer(np.array([-1.0, 0.5, 2.0, -3.0]))
        layer.backward(g)
        np.testing.assert_array_equal(g, np.ones(4))
