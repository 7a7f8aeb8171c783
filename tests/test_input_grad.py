"""backward(grad_out, input_grad=False): the same parameter gradients, bit for bit, no input gradient.

Every layer and container takes the keyword. With ``input_grad=False`` a layer
adds exactly what the default call adds into each ``Parameter.grad`` and
returns ``None`` instead of dLoss/dInput (as PyTorch, which does not compute
the gradient of data that does not require one).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib import nn
from course_lib.lm import MLPLanguageModel
from course_lib.word_vectors import CBOW


def _float_input(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _ids(shape, vocab, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, size=shape)


def _cases():
    """(label, layer factory, input): one of every layer kind, a few settings each."""
    g = lambda s=0: np.random.default_rng(s)  # noqa: E731 - a fresh generator per layer
    x2 = _float_input((6, 5))
    return [
        ("Linear", lambda: nn.Linear(5, 3, generator=g()), x2),
        ("Linear float32", lambda: nn.Linear(5, 3, dtype=np.float32, generator=g()), x2.astype(np.float32)),
        ("Linear no bias", lambda: nn.Linear(5, 3, bias=False, generator=g()), x2),
        ("Linear 3-d input", lambda: nn.Linear(5, 3, generator=g()), _float_input((2, 4, 5))),
        ("ReLU", nn.ReLU, x2),
        ("Sigmoid", nn.Sigmoid, x2),
        ("Tanh", nn.Tanh, x2),
        ("GELU", nn.GELU, x2),
        ("GELU tanh", lambda: nn.GELU("tanh"), x2),
        ("Dropout", lambda: nn.Dropout(0.5, generator=g()), x2),
        ("Dropout eval", lambda: nn.Dropout(0.5).eval(), x2),
        ("Identity", nn.Identity, x2),
        ("BatchNorm1d", lambda: nn.BatchNorm1d(5), x2),
        ("BatchNorm1d 3-d", lambda: nn.BatchNorm1d(4), _float_input((3, 4, 2))),
        ("BatchNorm1d eval", lambda: nn.BatchNorm1d(5).eval(), x2),
        ("BatchNorm1d no affine", lambda: nn.BatchNorm1d(5, affine=False), x2),
        ("LayerNorm", lambda: nn.LayerNorm(5), x2),
        ("LayerNorm no bias", lambda: nn.LayerNorm(5, bias=False), x2),
        ("LayerNorm 2 dims", lambda: nn.LayerNorm((2, 5)), _float_input((3, 2, 5))),
        ("RMSNorm", lambda: nn.RMSNorm(5), x2),
        ("Embedding", lambda: nn.Embedding(7, 3, generator=g()), _ids((4, 2), 7)),
        ("Embedding padding_idx", lambda: nn.Embedding(7, 3, padding_idx=0, generator=g()), _ids((4, 2), 7)),
        ("Sequential MLP", lambda: nn.Sequential(nn.Linear(5, 8, generator=g(1)), nn.ReLU(),
                                                 nn.Linear(8, 8, generator=g(2)), nn.ReLU(),
                                                 nn.Linear(8, 3, generator=g(3))), x2),
        ("Sequential MLP float32", lambda: nn.Sequential(nn.Linear(5, 8, dtype=np.float32, generator=g(1)), nn.ReLU(),
                                                         nn.Linear(8, 3, dtype=np.float32, generator=g(2))),
         x2.astype(np.float32)),
        ("Sequential nested, norm, dropout",
         lambda: nn.Sequential(nn.Sequential(nn.Linear(5, 8, generator=g(1)), nn.LayerNorm(8)), nn.GELU(),
                               nn.Dropout(0.3, generator=g(2)), nn.Linear(8, 3, generator=g(3))), x2),
        ("Sequential starting with ReLU", lambda: nn.Sequential(nn.ReLU(), nn.Linear(5, 3, generator=g())), x2),
        ("Sequential empty", nn.Sequential, x2),
        ("Sequential Embedding first", lambda: nn.Sequential(nn.Embedding(7, 3, generator=g(1)),
                                                             nn.Linear(3, 4, generator=g(2))), _ids((4, 2), 7)),
        ("MLPLanguageModel", lambda: MLPLanguageModel(9, 3, 4, 6, generator=g()), _ids((5, 3), 9)),
        ("CBOW", lambda: CBOW(9, 4, generator=g()), _ids((5, 4), 9)),
    ]


CASES = _cases()


@pytest.mark.parametrize("label, make, x", CASES, ids=[c[0] for c in CASES])
def test_parameter_gradients_are_bit_identical_and_nothing_is_returned(label, make, x):
    layer = make()
    out = layer(x)
    upstream = np.random.default_rng(42).standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
    upstream_copy = upstream.copy()

    layer.zero_grad()
    default = layer.backward(upstream)  # the default: dLoss/dInput too
    want = {name: p.grad.copy() for name, p in layer.named_parameters()}

    layer.zero_grad()
    assert layer.backward(upstream, input_grad=False) is None
    for name, p in layer.named_parameters():
        assert p.grad.dtype == want[name].dtype
        assert p.grad.tobytes() == want[name].tobytes(), f"{label}: {name}.grad differs"  # bit for bit
        assert np.array_equal(p.grad, want[name])
    np.testing.assert_array_equal(upstream, upstream_copy)  # backward never modifies its argument

    # the default call is unchanged: an input gradient of the input's shape (None for token ids)
    if np.issubdtype(np.asarray(x).dtype, np.integer):
        assert default is None
    else:
        assert default.shape == np.shape(x)


def test_gradients_accumulate_the_same_way():
    """Two backward calls without zero_grad add up, with input_grad=False as with the default."""
    def run(input_grad):
        net = nn.Sequential(nn.Linear(5, 4, generator=np.random.default_rng(0)), nn.Tanh(),
                            nn.Linear(4, 2, generator=np.random.default_rng(1)))
        x = _float_input((3, 5))
        for seed in (1, 2):
            net(x)
            net.backward(_float_input((3, 2), seed=seed), input_grad=input_grad)
        return [p.grad for p in net.parameters()]

    for a, b in zip(run(True), run(False)):
        assert a.tobytes() == b.tobytes()


class _Spy(nn.Module):
    """A parameter-free layer that records how its backward was called."""

    def __init__(self, log, name):
        super().__init__()
        self.log, self.name = log, name

    def forward(self, x):
        return x

    def backward(self, grad_out, input_grad=True):
        self.log.append((self.name, input_grad))
        return grad_out if input_grad else None


def test_sequential_hands_input_grad_to_its_first_child_only():
    log = []
    seq = nn.Sequential(_Spy(log, "first"), _Spy(log, "second"), _Spy(log, "third"))
    x = np.ones((2, 3))
    seq(x)
    assert seq.backward(x, input_grad=False) is None
    assert log == [("third", True), ("second", True), ("first", False)]
    log.clear()
    np.testing.assert_array_equal(seq.backward(x), x)
    assert log == [("third", True), ("second", True), ("first", True)]


def test_sequential_default_still_works_with_a_module_without_the_keyword():
    class OldStyle(nn.Module):  # written before input_grad existed
        def forward(self, x):
            return 2 * x

        def backward(self, grad_out):
            return 2 * grad_out

    seq = nn.Sequential(OldStyle(), nn.Linear(3, 2, generator=np.random.default_rng(0)))
    x = np.ones((4, 3))
    seq(x)
    assert seq.backward(np.ones((4, 2))).shape == (4, 3)


def test_linear_with_input_grad_false_skips_the_input_product():
    """No (N, out) @ (out, in) product: the weight is not even read (a NaN weight stays out of sight)."""
    layer = nn.Linear(3, 2, generator=np.random.default_rng(0))
    x = _float_input((4, 3))
    layer(x)
    layer.weight.data[...] = np.nan  # dx = g @ W would be all NaN
    assert layer.backward(np.ones((4, 2)), input_grad=False) is None
    assert np.isfinite(layer.weight.grad).all()  # dW = g^T x does not involve W


def test_errors_are_still_reported_with_input_grad_false():
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        nn.Linear(3, 2).backward(np.ones((1, 2)), input_grad=False)
    relu = nn.ReLU()
    relu(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expects grad_out of the output's shape \(2, 3\), got \(3, 2\)"):
        relu.backward(np.ones((3, 2)), input_grad=False)


BAD_VALUES = [1, 0, None, "no", np.True_, 1.0]


@pytest.mark.parametrize("label, make, x", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("bad", BAD_VALUES, ids=[repr(b) for b in BAD_VALUES])
def test_input_grad_must_be_a_bool_and_the_error_names_the_layer(label, make, x, bad):
    layer = make()
    out = layer(x)
    with pytest.raises(TypeError) as info:
        layer.backward(np.zeros(np.shape(out)), input_grad=bad)
    msg = str(info.value)
    assert msg.startswith(f"{layer._name()}.backward expects input_grad to be True or False, got {bad!r}")
    assert re.match(type(layer).__name__, msg)
