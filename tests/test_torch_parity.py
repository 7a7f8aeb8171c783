"""course_lib against PyTorch 2.13 reference values (no PyTorch needed).

The fixtures are written by ``tools/torch_reference/core.py`` (run it with a
Python that has ``torch==2.13.0``). The default tolerance is rtol=1e-12: both
sides compute the same float64 formulas and differ only by the order of
rounding. Looser tolerances are explained where they are used.
The last test compares with a live PyTorch and is skipped when it is not installed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import nn
from course_lib.nn import functional as F
from course_lib.nn import init

FIXTURES = Path(__file__).parent / "fixtures"
REF = np.load(FIXTURES / "torch_core.npz")
META = json.loads((FIXTURES / "torch_core_reprs.json").read_text())
REPRS = META["reprs"]
RTOL = 1e-12


def close(actual, expected, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- Linear
@pytest.mark.parametrize("prefix,bias", [("lin", True), ("lin_nobias", False)])
def test_linear_forward_backward(prefix, bias):
    w = REF[f"{prefix}_w"]
    layer = nn.Linear(w.shape[1], w.shape[0], bias=bias)
    assert layer.weight.shape == w.shape  # (out_features, in_features), as PyTorch
    layer.weight.data[...] = w
    if bias:
        layer.bias.data[...] = REF[f"{prefix}_b"]
    y = layer(REF[f"{prefix}_x"])
    close(y, REF[f"{prefix}_y"])
    close(layer.backward(REF[f"{prefix}_g"]), REF[f"{prefix}_dx"])
    close(layer.weight.grad, REF[f"{prefix}_dw"])
    if bias:
        close(layer.bias.grad, REF[f"{prefix}_db"])


# ---------------------------------------------------------------------- activations
# Derivatives that are differences of nearly equal numbers get an absolute
# tolerance as well: Tanh's 1 - t^2 where t = tanh(x) is within an ulp of ±1
# (and GELU's Phi(x) + x phi(x) near x = -0.75) are rounding noise of ~1e-16 on both
# sides, so their *relative* difference can be 1e-8 although both are right to 1e-16.
# GELU-tanh: where tanh(u) rounds to -1 within an ulp (x around -7),
# 1 + tanh(u) and 1 - tanh(u)^2 are that rounding noise (~1e-16) times x * du/dx (~50).
ACTIVATIONS = {  # name: (module, atol for f, atol for f')
    "relu": (nn.ReLU, 0.0, 0.0),
    "sigmoid": (nn.Sigmoid, 0.0, 1e-16),
    "tanh": (nn.Tanh, 0.0, 1e-15),
    "gelu_none": (lambda: nn.GELU("none"), 1e-15, 1e-15),
    "gelu_tanh": (lambda: nn.GELU("tanh"), 2e-15, 1e-14),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_and_derivatives(name):
    make, atol_y, atol_dy = ACTIVATIONS[name]
    x = REF["act_x"]  # a grid on [-10, 10] plus ±20 ... ±1e4, 0 and ±1e-300
    layer = make()
    y = layer(x)
    close(y, REF[f"act_{name}_y"], atol=atol_y)
    close(layer.backward(np.ones_like(x)), REF[f"act_{name}_dy"], atol=atol_dy)


def test_erf_matches_torch_special_erf():
    # Cephes' rational approximation (course_lib) against PyTorch's libm erf: both
    # are correctly rounded to within ~2 ulp; 1e-15 relative covers that.
    close(F.erf(REF["erf_x"]), REF["erf_y"], rtol=1e-15)


# ---------------------------------------------------------------------- softmax family, losses
@pytest.mark.parametrize("case", ["sm", "sm_big"])
def test_softmax_log_softmax(case):
    x = REF[f"{case}_x"]
    # probabilities that underflow to 0 on both sides compare with atol=1e-300
    close(F.softmax(x), REF[f"{case}_softmax"], atol=1e-300)
    close(F.log_softmax(x), REF[f"{case}_log_softmax"])


@pytest.mark.parametrize("case", ["ce", "ce_ignore", "ce_ignore0", "ce_big"])
def test_cross_entropy_loss_and_gradient(case):
    crit = nn.CrossEntropyLoss(ignore_index=int(REF[f"{case}_ignore_index"]))
    loss = crit(REF[f"{case}_logits"], REF[f"{case}_target"])
    close(loss, REF[f"{case}_loss"])
    close(crit.backward(), REF[f"{case}_grad"], atol=1e-300)
    if case == "ce":
        close(F.cross_entropy(REF["ce_logits"], REF["ce_target"]), REF["ce_loss"])


def test_mse_loss_and_gradient():
    crit = nn.MSELoss()
    close(crit(REF["mse_pred"], REF["mse_target"]), REF["mse_loss"])
    close(crit.backward(), REF["mse_grad"])


# ---------------------------------------------------------------------- init
def test_calculate_gain_values():
    ours = [init.calculate_gain(name, param) for name, param in META["gains"]]
    close(ours, REF["gain"], rtol=1e-15)


def test_fan_in_fan_out():
    ours = [init._calculate_fan_in_and_fan_out(np.empty(shape)) for shape in META["fan_shapes"]]
    np.testing.assert_array_equal(ours, REF["fans"])


# ---------------------------------------------------------------------- names and printing
def test_reprs_equal_pytorchs():
    built = {
        "linear": nn.Linear(3, 2), "linear_nobias": nn.Linear(3, 2, bias=False),
        "relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
        "gelu": nn.GELU(), "gelu_tanh": nn.GELU(approximate="tanh"),
        "mse": nn.MSELoss(), "cross_entropy": nn.CrossEntropyLoss(), "identity": nn.Identity(),
        "sequential": nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)),
        "nested": nn.Sequential(nn.Linear(2, 8), nn.Sequential(nn.GELU(approximate="tanh"), nn.Identity()),
                                nn.Linear(8, 1)),
        "modulelist": nn.ModuleList([nn.ReLU(), nn.Tanh()]),
    }
    for key, module in built.items():
        assert repr(module) == REPRS[key], key
    assert REPRS["linear"] == "Linear(in_features=3, out_features=2, bias=True)"


def test_weight_shape_and_parameter_names():
    assert list(nn.Linear(3, 2).weight.shape) == REPRS["linear_weight_shape"] == [2, 3]
    net = nn.Sequential(nn.Linear(2, 8), nn.Sequential(nn.Tanh(), nn.Linear(8, 4)), nn.Linear(4, 1, bias=False))
    assert [name for name, _ in net.named_parameters()] == REPRS["sequential_parameter_names"]


# ---------------------------------------------------------------------- live PyTorch (optional)
def test_live_torch_mlp_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6))
    target = rng.integers(0, 4, size=16)
    ours = nn.Sequential(nn.Linear(6, 10, generator=rng), nn.GELU(), nn.Linear(10, 10, generator=rng),
                         nn.Tanh(), nn.Linear(10, 4, generator=rng))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 10), torch.nn.GELU(), torch.nn.Linear(10, 10),
                                 torch.nn.Tanh(), torch.nn.Linear(10, 4)).double()
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname and tuple(tp.shape) == p.shape
            tp.copy_(torch.from_numpy(p.data))
    crit = nn.CrossEntropyLoss()
    loss = crit(ours(x), target)
    ours.backward(crit.backward())
    xt = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(theirs(xt), torch.tensor(target))
    tloss.backward()
    close(loss, tloss.item())
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, tp.grad.numpy(), atol=1e-15)
