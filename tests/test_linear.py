"""Linear: y = x W^T + b, its backward, shapes, dtypes and error messages."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck

NAME = r"Linear\(in_features=4, out_features=3, bias=True\)"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_weight_shape_is_out_by_in_like_pytorch():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4)
    assert layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float64
    assert nn.Linear(4, 3, bias=False).bias is None
    assert [n for n, _ in nn.Linear(4, 3, bias=False).named_parameters()] == ["weight"]


@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 3, 4), (2, 1, 3, 4)])
def test_forward_matches_formula_for_any_leading_shape(rng, shape):
    layer = nn.Linear(4, 3, generator=rng)
    x = rng.standard_normal(shape)
    y = layer(x)
    assert y.shape == (*shape[:-1], 3)
    np.testing.assert_allclose(y, x @ layer.weight.data.T + layer.bias.data, rtol=1e-13)


def test_backward_btc_matches_hand_formula(rng):
    layer = nn.Linear(4, 3, generator=rng)
    x = rng.standard_normal((2, 5, 4))  # (B, T, C)
    g = rng.standard_normal((2, 5, 3))
    x_before, g_before = x.copy(), g.copy()
    layer(x)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, g @ layer.weight.data, rtol=1e-13)
    np.testing.assert_allclose(layer.weight.grad, np.einsum("bto,bti->oi", g, x), rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=(0, 1)), rtol=1e-13)
    # backward never modifies its arguments
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(g, g_before)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_gradcheck(rng, bias, shape):
    layer = nn.Linear(4, 3, bias=bias, generator=rng)
    assert gradcheck(layer, rng.standard_normal(shape))


def test_float32_layer(rng):
    layer = nn.Linear(4, 3, dtype=np.float32, generator=rng)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32


def test_parameter_count_like_gpt2_projection():
    # GPT-2 small's attention projection: 768 -> 3 * 768 with bias
    assert nn.Linear(768, 3 * 768).num_parameters() == 768 * 2304 + 2304


# ---------------------------------------------------------------------- bad input
def test_wrong_last_dimension_names_layer_expected_and_got():
    with pytest.raises(ValueError, match=NAME + r" expects input of shape \(\.\.\., 4\), got \(8, 5\)"):
        nn.Linear(4, 3)(np.zeros((8, 5)))
    with pytest.raises(ValueError, match=NAME + r" expects input of shape \(\.\.\., 4\), got \(\)"):
        nn.Linear(4, 3)(np.float64(1.0))


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match=NAME + r" expects a floating-point input, got dtype int64"):
        nn.Linear(4, 3)(np.arange(8, dtype=np.int64).reshape(2, 4))


def test_float32_input_to_float64_layer_is_a_type_error():
    with pytest.raises(TypeError, match=NAME + r" has float64 parameters but got float32 input"):
        nn.Linear(4, 3)(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(TypeError, match=r"has float32 parameters but got float64 input"):
        nn.Linear(4, 3, dtype=np.float32)(np.zeros((2, 4)))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match=NAME + r": backward\(\) called before forward\(\)"):
        nn.Linear(4, 3).backward(np.zeros((2, 3)))


def test_grad_out_of_wrong_shape():
    layer = nn.Linear(4, 3)
    layer(np.zeros((8, 4)))
    with pytest.raises(ValueError, match=NAME + r"\.backward expects grad_out of the output's shape "
                                                r"\(8, 3\), got \(8, 4\)"):
        layer.backward(np.zeros((8, 4)))
    with pytest.raises(ValueError, match=r"shape \(8, 3\), got \(3,\)"):
        layer.backward(np.zeros(3))  # broadcasting would hide this bug


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "4"])
def test_invalid_sizes(bad):
    with pytest.raises(ValueError, match=r"Linear: in_features must be a positive int, got"):
        nn.Linear(bad, 3)
    with pytest.raises(ValueError, match=r"Linear: out_features must be a positive int, got"):
        nn.Linear(3, bad)
