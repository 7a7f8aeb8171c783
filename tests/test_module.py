"""The Module protocol: registration, traversal, shared parameters, modes, state, dtype, repr."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck


def make_net(seed: int = 0) -> nn.Sequential:
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 8, generator=g),
        nn.Sequential(nn.Tanh(), nn.Linear(8, 4, generator=g)),
        nn.Linear(4, 1, bias=False, generator=g),
    )


class Scale(nn.Module):
    """A tiny layer with one parameter and one buffer, to test the protocol itself."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(np.ones(n))
        self.running_mean = np.zeros(n)
        self._buffer_names = ("running_mean",)
        self._x = None

    def forward(self, x):
        self._x = x
        return x * self.gamma.data

    def backward(self, grad_out):
        x = self._require_cache(self._x)
        self.gamma.grad += (grad_out * x).reshape(-1, x.shape[-1]).sum(axis=0)
        return grad_out * self.gamma.data


# ---------------------------------------------------------------------- registration
def test_named_parameters_dotted_names_in_registration_order():
    net = make_net()
    assert [name for name, _ in net.named_parameters()] == [
        "0.weight", "0.bias", "1.1.weight", "1.1.bias", "2.weight",
    ]
    assert [name for name, _ in net.named_modules()] == ["", "0", "1", "1.0", "1.1", "2"]
    assert len(list(net.parameters())) == 5
    assert net.num_parameters() == 2 * 8 + 8 + 8 * 4 + 4 + 4


def test_registration_follows_assignment_order_and_reassignment():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(np.zeros(2))
            self.a = nn.Parameter(np.zeros(3))
            self.child = nn.Linear(2, 2)
            self.not_a_param = np.zeros(4)  # plain arrays are not registered

    m = Two()
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "child.weight", "child.bias"]
    m.b = np.zeros(2)  # replaced by a plain array: no longer a parameter
    assert [n for n, _ in m.named_parameters()] == ["a", "child.weight", "child.bias"]
    del m.child
    assert [n for n, _ in m.named_parameters()] == ["a"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["a"]


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\)\.__init__\(\) before assigning"):
        Broken()


def test_sequential_rejects_non_modules_and_supports_indexing():
    with pytest.raises(TypeError, match="Sequential expects Module arguments, argument 1 is int"):
        nn.Sequential(nn.ReLU(), 3)
    net = make_net()
    assert len(net) == 3 and isinstance(net[0], nn.Linear) and isinstance(net[-1], nn.Linear)
    assert isinstance(net[1][0], nn.Tanh)
    net.append(nn.Sigmoid())
    assert [n for n, _ in net.named_children()][-1] == "3"


def test_modulelist_registers_members():
    ml = nn.ModuleList([nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)])
    assert len(ml) == 3 and isinstance(ml[2], nn.Linear)
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="ModuleList expects Module items, got str"):
        ml.append("relu")


# ---------------------------------------------------------------------- shared (tied) parameters
def test_shared_parameter_is_yielded_once_and_accumulates_both_gradients():
    rng = np.random.default_rng(1)
    a, b = nn.Linear(3, 3, generator=rng), nn.Linear(3, 3, generator=rng)
    b.weight = a.weight  # tied weights, as a GPT ties its embedding and output head
    net = nn.Sequential(a, b)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert net.num_parameters() == 9 + 3 + 3

    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 3))
    h = a(x)
    net.zero_grad()
    net(x)
    net.backward(g)
    # each use contributes its own outer product
    dh = g @ a.weight.data
    expected = g.T @ h + dh.T @ x
    np.testing.assert_allclose(a.weight.grad, expected, rtol=1e-12)
    assert gradcheck(net, x)


# ---------------------------------------------------------------------- gradients
def test_zero_grad_resets_and_backward_accumulates():
    rng = np.random.default_rng(2)
    net = make_net()
    x, g = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    net(x)
    net.backward(g)
    first = {n: p.grad.copy() for n, p in net.named_parameters()}
    assert all(np.any(v != 0) for v in first.values())
    net(x)
    net.backward(g)  # without zero_grad the gradients add up
    for n, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * first[n], rtol=1e-12)
    net.zero_grad()
    for p in net.parameters():
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype
        assert not np.any(p.grad)


def test_parameter_basics():
    p = nn.Parameter([[1.0, 2.0], [3.0, 4.0]])
    assert p.shape == (2, 2) and p.dtype == np.float64 and p.size == 4 and p.numel() == 4
    assert np.all(p.grad == 0)
    assert repr(p) == "Parameter(shape=(2, 2), dtype=float64)"
    src = np.ones(3)
    q = nn.Parameter(src)
    src[0] = 5.0
    assert q.data[0] == 1.0  # Parameter copies its data
    with pytest.raises(TypeError, match="Parameter expects a floating-point array, got dtype int64"):
        nn.Parameter(np.arange(3))


# ---------------------------------------------------------------------- train / eval
def test_train_eval_recurse_and_return_self():
    net = make_net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net[1].eval()  # only the sub-tree
    assert net.training and not net[1].training and not net[1][1].training and net[2].training
    with pytest.raises(ValueError, match=r"Sequential.train\(\) expects a bool, got 'no'"):
        net.train("no")


# ---------------------------------------------------------------------- state_dict
def test_state_dict_round_trip():
    src, dst = make_net(0), make_net(1)
    x = np.random.default_rng(3).standard_normal((6, 2))
    assert not np.allclose(src(x), dst(x))
    state = src.state_dict()
    assert list(state) == [n for n, _ in src.named_parameters()]
    dst.load_state_dict(state)
    np.testing.assert_array_equal(src(x), dst(x))
    # state_dict holds copies, and loading copies values (no aliasing)
    state["0.weight"][...] = 0.0
    assert np.any(src[0].weight.data != 0) and np.any(dst[0].weight.data != 0)


def test_state_dict_includes_buffers():
    m = nn.Sequential(nn.Linear(2, 2), Scale(2))
    m[1].running_mean[...] = [1.0, 2.0]
    state = m.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.gamma", "1.running_mean"]
    fresh = nn.Sequential(nn.Linear(2, 2), Scale(2))
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh[1].running_mean, [1.0, 2.0])
    fresh.float()
    assert fresh[1].running_mean.dtype == np.float32


def test_load_state_dict_errors_name_the_key():
    net = make_net()
    state = net.state_dict()
    missing = dict(state)
    del missing["1.1.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['1.1.bias'\], unexpected keys \[\]"):
        net.load_state_dict(missing)
    extra = dict(state, **{"3.weight": np.zeros(1)})
    with pytest.raises(KeyError, match=r"unexpected keys \['3.weight'\]"):
        net.load_state_dict(extra)
    wrong = dict(state, **{"0.weight": np.zeros((2, 8))})
    with pytest.raises(ValueError, match=r"'0.weight' expects shape \(8, 2\), got \(2, 8\)"):
        net.load_state_dict(wrong)


# ---------------------------------------------------------------------- dtype
def test_double_and_float_cast_parameters_and_gradients():
    net = make_net()
    assert net.float() is net
    for p in net.parameters():
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    x = np.ones((3, 2), dtype=np.float32)
    y = net(x)
    assert y.dtype == np.float32
    assert net.backward(np.ones_like(y)).dtype == np.float32
    assert net.double() is net
    for p in net.parameters():
        assert p.data.dtype == np.float64 and p.grad.dtype == np.float64
    with pytest.raises(TypeError, match=r"Sequential.to\(\) expects a floating dtype, got int64"):
        net.to(np.int64)


# ---------------------------------------------------------------------- repr
def test_repr_matches_pytorch_format():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(make_net()) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=8, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): Tanh()\n"
        "    (1): Linear(in_features=8, out_features=4, bias=True)\n"
        "  )\n"
        "  (2): Linear(in_features=4, out_features=1, bias=False)\n"
        ")"
    )


def test_identity_passes_through():
    x = np.arange(6.0).reshape(2, 3)
    ident = nn.Identity()
    assert ident(x) is x and ident.backward(x) is x
    assert repr(ident) == "Identity()"
