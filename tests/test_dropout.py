"""Dropout: statistics of the mask, train vs eval, reproducibility, backward with the same mask, errors.

PyTorch's reprs and error messages come from tests/fixtures/torch_normalization.json
(written by tools/torch_reference/normalization.py); these tests never import torch.
"""
import json
import pathlib

import numpy as np
import pytest

import course_lib
from course_lib.gradcheck import gradcheck
from course_lib.nn import Linear, Sequential
from course_lib.nn.dropout import Dropout

META = json.loads((pathlib.Path(__file__).parent / "fixtures" / "torch_normalization.json").read_text())


@pytest.fixture
def reseed_default_generator():
    """Tests that touch the global default generator leave it freshly seeded."""
    yield
    course_lib.manual_seed(0)


# ---------------------------------------------------------------------- statistics
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_zeroed_is_p_and_the_mean_is_preserved(p):
    n = 400_000
    x = np.full(n, 2.0)
    y = Dropout(p, generator=np.random.default_rng(0))(x)
    zeroed = np.mean(y == 0)
    sigma = np.sqrt(p * (1 - p) / n)  # standard deviation of the zeroed fraction
    assert abs(zeroed - p) < 5 * sigma
    assert abs(y.mean() - 2.0) < 5 * 2.0 * np.sqrt(p / (1 - p) / n)  # E[y] = x
    np.testing.assert_allclose(y[y != 0], 2.0 / (1 - p))  # survivors are rescaled by 1/(1-p)


def test_mean_preserved_for_random_inputs_per_feature():
    x = np.random.default_rng(1).standard_normal((1, 6)) + 3.0
    xs = np.repeat(x, 100_000, axis=0)
    y = Dropout(0.3, generator=np.random.default_rng(2))(xs)
    np.testing.assert_allclose(y.mean(axis=0), x[0], rtol=0.02)


def test_identity_in_eval_mode():
    layer = Dropout(0.5, generator=np.random.default_rng(0)).eval()
    x = np.random.default_rng(3).standard_normal((4, 5))
    assert layer(x) is x  # untouched, as PyTorch returns its input
    g = np.random.default_rng(4).standard_normal((4, 5))
    np.testing.assert_array_equal(layer.backward(g), g)


def test_p_zero_is_the_identity_and_draws_nothing():
    gen = np.random.default_rng(5)
    state = gen.bit_generator.state
    layer = Dropout(0.0, generator=gen)
    x = np.random.default_rng(6).standard_normal((3, 4))
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), np.ones((3, 4)))
    assert gen.bit_generator.state == state


def test_train_eval_switch_through_a_container():
    net = Sequential(Linear(4, 4), Dropout(0.5, generator=np.random.default_rng(0)))
    x = np.ones((8, 4))
    net.eval()
    np.testing.assert_array_equal(net(x), net[0](x))
    net.train()
    assert np.any(net(x) != net[0](x))


def test_a_fresh_mask_every_forward():
    layer = Dropout(0.5, generator=np.random.default_rng(0))
    x = np.ones((10, 10))
    assert np.any(layer(x) != layer(x))


# ---------------------------------------------------------------------- reproducibility
def test_same_generator_seed_same_masks():
    x = np.ones((6, 7))
    a = Dropout(0.4, generator=np.random.default_rng(11))
    b = Dropout(0.4, generator=np.random.default_rng(11))
    for _ in range(3):
        np.testing.assert_array_equal(a(x), b(x))


def test_mask_is_uniform_draw_at_least_p():
    y = Dropout(0.25, generator=np.random.default_rng(7))(np.ones((5, 5)))
    keep = np.random.default_rng(7).random((5, 5)) >= 0.25
    np.testing.assert_array_equal(y, keep / 0.75)


def test_default_generator_follows_manual_seed(reseed_default_generator):
    layer = Dropout(0.5)  # generator=None: the course's default generator, looked up at each call
    x = np.ones((4, 8))
    course_lib.manual_seed(123)
    first = layer(x)
    course_lib.manual_seed(123)
    np.testing.assert_array_equal(layer(x), first)
    course_lib.manual_seed(124)
    assert np.any(layer(x) != first)


# ---------------------------------------------------------------------- backward
def test_backward_uses_the_forward_mask():
    rng = np.random.default_rng(8)
    x = rng.uniform(1.0, 2.0, (6, 5)) * rng.choice([-1, 1], (6, 5))  # no zeros: y / x reveals the mask
    layer = Dropout(0.3, generator=np.random.default_rng(9))
    y = layer(x)
    g = rng.standard_normal((6, 5))
    g_copy = g.copy()
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g * (y / x))
    assert np.all(dx[y == 0] == 0) and np.any(y == 0)
    np.testing.assert_array_equal(g, g_copy)  # grad_out not modified
    np.testing.assert_array_equal(layer.backward(g), dx)  # the mask stays until the next forward


class _FixedMask:
    """Dropout whose generator is reseeded before each forward: the same mask every call."""

    def __init__(self, p, seed):
        self.layer, self.seed = Dropout(p), seed

    def forward(self, x):
        self.layer.generator = np.random.default_rng(self.seed)
        return self.layer(x)

    def backward(self, grad_out):
        return self.layer.backward(grad_out)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_gradcheck_with_a_fixed_mask(p):
    x = np.random.default_rng(10).standard_normal((4, 3, 5))
    assert gradcheck(_FixedMask(p, seed=3), x)


def test_gradcheck_inside_a_network():
    class Net(Sequential):
        def forward(self, x):
            self[1].generator = np.random.default_rng(0)
            return super().forward(x)

    rng = np.random.default_rng(1)
    net = Net(Linear(3, 6, generator=rng), Dropout(0.5), Linear(6, 2, generator=rng))
    assert gradcheck(net, rng.standard_normal((5, 3)))


def test_dtype_is_preserved():
    layer = Dropout(0.5, generator=np.random.default_rng(0))
    y = layer(np.ones((3, 3), dtype=np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((3, 3), dtype=np.float32)).dtype == np.float32


# ---------------------------------------------------------------------- printing and errors
@pytest.mark.parametrize("key", sorted(k for k in META["reprs"] if k.startswith("Dropout")))
def test_repr_matches_pytorch(key):
    assert repr(eval(key, {"Dropout": Dropout})) == META["reprs"][key]


@pytest.mark.parametrize("p,torch_key", [(-0.1, "dropout_p_negative"), (1.5, "dropout_p_above_one"),
                                         (1.0, "dropout_p_one"), (float("nan"), None), ("0.5", None),
                                         (True, None), (None, None)])
def test_bad_p(p, torch_key):
    if torch_key is not None and META["errors"][torch_key] is not None:
        assert META["errors"][torch_key]["type"] == "ValueError"  # same exception type as PyTorch
    with pytest.raises(ValueError, match=r"^Dropout: p must be a probability in \[0, 1\), got "):
        Dropout(p)


def test_p_one_is_rejected_with_the_reason():
    assert META["errors"]["dropout_p_one"] is None  # PyTorch accepts p=1 (all zeros); we do not
    with pytest.raises(ValueError) as info:
        Dropout(1.0)
    assert "zero every element" in str(info.value) and "1 / (1 - p)" in str(info.value)


def test_bad_inplace_and_generator():
    with pytest.raises(ValueError, match="inplace must be False"):
        Dropout(0.5, inplace=True)
    with pytest.raises(TypeError, match="pass the generator by keyword"):
        Dropout(0.5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="expected a numpy Generator"):
        Dropout(0.5, generator=np.random.RandomState(0))


def test_input_and_backward_errors():
    layer = Dropout(0.5)
    with pytest.raises(RuntimeError) as info:
        layer.backward(np.ones(3))
    assert str(info.value) == "Dropout(p=0.5, inplace=False): backward() called before forward()"
    with pytest.raises(TypeError, match=r"Dropout\(p=0.5, inplace=False\) expects a floating-point input, got dtype int64"):
        layer(np.ones(3, dtype=np.int64))
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expects grad_out of the output's shape \(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
