"""Initialisers (PyTorch's nn.init names and formulas), Linear's default init, seeding."""
from __future__ import annotations

import math

import numpy as np
import pytest

import course_lib
from course_lib import nn
from course_lib.nn import init

SHAPE = (300, 500)  # (out, in): fan_in = 500, fan_out = 300, 150 000 samples
FAN_IN, FAN_OUT = 500, 300
STD_TOL = 0.01  # the sample std of 150 000 draws is within ~0.2 % (1/sqrt(2n)) of the true one


def check_uniform(arr, bound):
    assert np.abs(arr).max() <= bound
    assert np.abs(arr).max() > 0.999 * bound  # the whole range is used
    assert abs(arr.mean()) < 0.01 * bound
    assert arr.std() == pytest.approx(bound / math.sqrt(3), rel=STD_TOL)


def check_normal(arr, std):
    assert abs(arr.mean()) < 0.01 * std
    assert arr.std() == pytest.approx(std, rel=STD_TOL)


def empty(shape=SHAPE, dtype=np.float64):
    return np.empty(shape, dtype=dtype)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3, rel=1e-15)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2), rel=1e-15)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)), rel=1e-15)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3), rel=1e-15)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'gelu'"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope 'x' is not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform(gain):
    arr = empty()
    assert init.xavier_uniform_(arr, gain=gain, generator=np.random.default_rng(0)) is arr
    check_uniform(arr, gain * math.sqrt(6 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2)])
def test_xavier_normal(gain):
    arr = init.xavier_normal_(empty(), gain=gain, generator=np.random.default_rng(1))
    check_normal(arr, gain * math.sqrt(2 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("mode,fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
@pytest.mark.parametrize("nonlinearity,gain", [("relu", math.sqrt(2)), ("tanh", 5 / 3), ("linear", 1.0)])
def test_kaiming_uniform_and_normal(mode, fan, nonlinearity, gain):
    g = np.random.default_rng(2)
    u = init.kaiming_uniform_(empty(), mode=mode, nonlinearity=nonlinearity, generator=g)
    check_uniform(u, gain * math.sqrt(3 / fan))
    n = init.kaiming_normal_(empty(), mode=mode, nonlinearity=nonlinearity, generator=g)
    check_normal(n, gain / math.sqrt(fan))


def test_kaiming_defaults_are_pytorchs():
    # default: a=0, mode='fan_in', nonlinearity='leaky_relu' -> gain sqrt(2)
    check_uniform(init.kaiming_uniform_(empty(), generator=np.random.default_rng(3)), math.sqrt(6 / FAN_IN))
    check_normal(init.kaiming_normal_(empty(), generator=np.random.default_rng(3)), math.sqrt(2 / FAN_IN))


def test_simple_fills_and_parameters():
    p = nn.Parameter(np.empty((3, 4)))
    assert init.constant_(p, 0.5) is p and np.all(p.data == 0.5)
    assert np.all(init.zeros_(p).data == 0) and np.all(init.ones_(p).data == 1)
    init.uniform_(p, -2.0, -1.0, generator=np.random.default_rng(0))
    assert np.all((p.data >= -2.0) & (p.data < -1.0))
    init.normal_(p, mean=10.0, std=0.01, generator=np.random.default_rng(0))
    assert np.all(np.abs(p.data - 10.0) < 0.1)
    f32 = init.xavier_uniform_(empty((4, 4), np.float32))
    assert f32.dtype == np.float32  # filled in place: the dtype is kept


def test_init_errors():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(np.empty(5))
    with pytest.raises(TypeError, match="init expects a Parameter or a floating ndarray, got ndarray"):
        init.normal_(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="got list"):
        init.ones_([1.0, 2.0])
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_normal_(empty((2, 2)), mode="fan_avg")
    with pytest.raises(TypeError, match=r"expected a numpy Generator \(np.random.default_rng\(seed\)\), got int"):
        init.normal_(empty((2, 2)), generator=0)


def test_fans_of_a_conv_like_weight():
    # (out_channels, in_channels, kH, kW): fan_in = in * kH * kW, fan_out = out * kH * kW
    arr = empty((64, 3, 5, 5))
    check_uniform(init.xavier_uniform_(arr, generator=np.random.default_rng(4)),
                  math.sqrt(6 / (3 * 25 + 64 * 25)))


# ---------------------------------------------------------------------- Linear's default init
def test_linear_default_init_bounds():
    layer = nn.Linear(400, 300, generator=np.random.default_rng(0))
    bound = 1 / math.sqrt(400)
    check_uniform(layer.weight.data, bound)
    assert np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.bias.data).max() > 0.9 * bound


def test_generator_reproducibility_and_manual_seed():
    a = nn.Linear(5, 4, generator=np.random.default_rng(7))
    b = nn.Linear(5, 4, generator=np.random.default_rng(7))
    c = nn.Linear(5, 4, generator=np.random.default_rng(8))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)

    g = course_lib.manual_seed(123)
    assert g is course_lib.default_generator()
    first = [nn.Linear(3, 2).weight.data.copy() for _ in range(2)]
    assert not np.array_equal(first[0], first[1])  # the default generator advances
    course_lib.manual_seed(123)
    again = [nn.Linear(3, 2).weight.data.copy() for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    course_lib.manual_seed(0)
    with pytest.raises(TypeError, match="manual_seed expects an int, got float"):
        course_lib.manual_seed(1.5)
    with pytest.raises(TypeError, match="manual_seed expects an int, got bool"):
        course_lib.manual_seed(True)
