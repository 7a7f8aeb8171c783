"""course_lib.optim: optimizers, schedulers and clipping against PyTorch; the trajectory runner.

Reference values come from ``tools/torch_reference/optim.py`` (PyTorch 2.13,
float64), stored in ``tests/fixtures/torch_optim.npz``; these tests do not need
PyTorch. ``test_live_torch_*`` compare with an installed PyTorch and skip
when there is none.
"""
from __future__ import annotations

import json
import math
import pathlib
import warnings

import numpy as np
import pytest

from course_lib import optim
from course_lib.nn import Linear, Parameter
from course_lib.optim import (
    SGD, Adam, AdamW, CosineAnnealingLR, LambdaLR, LinearLR, RMSprop, WarmupCosineLR,
    clip_grad_norm_, clip_grad_value_, optimizer_trajectory, warmup_cosine_lr,
)
from course_lib.optim import trajectory as traj_mod
from course_lib.optim.landscapes import LANDSCAPES, get_landscape, ill_conditioned_quadratic

FIX = np.load(pathlib.Path(__file__).parent / "fixtures" / "torch_optim.npz")
CONFIG = json.loads(str(FIX["config"]))
OPT_CASES = {c["key"]: c for c in CONFIG["optimizers"]}
RTOL, ATOL = 1e-12, 1e-14


# ---------------------------------------------------------------------- helpers
def _build(case: dict, W: Parameter, b: Parameter):
    named = {"W": W, "b": b}
    if case["groups"] is None:
        params = [W, b]
    else:
        params = [{**g, "params": [named[n] for n in g["params"]]} for g in case["groups"]]
    return getattr(optim, case["optimizer"])(params, **case["kwargs"])


def _grads(case: dict, t: int, W: Parameter, b: Parameter):
    gW, gb = FIX["gW"][t], FIX["gb"][t]
    if case["grad"] == "quadratic":  # the gradient depends on the current parameters
        gW = FIX["curvW"] * (W.data - FIX["targetW"]) + 0.1 * gW
        gb = FIX["curvb"] * (b.data - FIX["targetb"]) + 0.1 * gb
    return np.array(gW), np.array(gb)


def _params(seed=0, shapes=((3, 4), (4,))):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s)) for s in shapes]


# ---------------------------------------------------------------------- parity with PyTorch
def test_fixture_covers_every_option():
    keys = set(OPT_CASES)
    for needed in ["sgd_default/fixed", "sgd_momentum/fixed", "sgd_dampening/fixed", "sgd_nesterov/fixed",
                   "sgd_weight_decay/fixed", "sgd_all/quadratic", "rmsprop_momentum/fixed",
                   "rmsprop_centered/fixed", "rmsprop_weight_decay/fixed", "adam_default/fixed",
                   "adam_weight_decay/quadratic", "adam_betas_eps/fixed", "adamw_default/fixed",
                   "adamw_weight_decay/fixed", "groups_sgd/quadratic", "groups_adamw/fixed"]:
        assert needed in keys
    assert CONFIG["steps"] >= 20
    assert FIX["W0"].dtype == np.float64 and FIX["W0"].shape == (3, 4) and FIX["b0"].shape == (4,)


@pytest.mark.parametrize("key", sorted(OPT_CASES))
def test_matches_pytorch_step_by_step(key):
    case = OPT_CASES[key]
    W, b = Parameter(FIX["W0"]), Parameter(FIX["b0"])
    opt = _build(case, W, b)
    for t in range(CONFIG["steps"]):
        W.grad, b.grad = _grads(case, t, W, b)
        gW_before = W.grad.copy()
        opt.step()
        np.testing.assert_allclose(W.data, FIX[f"opt/{key}/W"][t + 1], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{key}: W after step {t + 1}")
        np.testing.assert_allclose(b.data, FIX[f"opt/{key}/b"][t + 1], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{key}: b after step {t + 1}")
        np.testing.assert_array_equal(W.grad, gW_before)  # the optimizer never modifies .grad


# ---------------------------------------------------------------------- defaults and validation
def test_defaults_are_pytorchs():
    p = _params()
    assert SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    r = RMSprop(p).defaults
    assert (r["lr"], r["alpha"], r["eps"], r["weight_decay"], r["momentum"], r["centered"]) == \
        (0.01, 0.99, 1e-8, 0, 0, False)
    a = Adam(p).defaults
    assert (a["lr"], a["betas"], a["eps"], a["weight_decay"], a["decoupled_weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 0, False)
    w = AdamW(p).defaults
    assert (w["lr"], w["betas"], w["eps"], w["weight_decay"], w["decoupled_weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2, True)


BAD_ARGS = [
    (lambda p: SGD(p, lr=-0.1), r"SGD: Invalid learning rate: -0.1"),
    (lambda p: SGD(p, lr=float("nan")), r"SGD: Invalid learning rate: nan"),
    (lambda p: SGD(p, momentum=-0.5), r"SGD: Invalid momentum value: -0.5"),
    (lambda p: SGD(p, weight_decay=-1e-4), r"SGD: Invalid weight_decay value"),
    (lambda p: SGD(p, nesterov=True), r"SGD: Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), r"Nesterov momentum requires"),
    (lambda p: RMSprop(p, lr=-1), r"RMSprop: Invalid learning rate: -1"),
    (lambda p: RMSprop(p, eps=-1e-8), r"RMSprop: Invalid epsilon value"),
    (lambda p: RMSprop(p, momentum=-0.1), r"RMSprop: Invalid momentum value"),
    (lambda p: RMSprop(p, alpha=-0.1), r"RMSprop: Invalid alpha value"),
    (lambda p: RMSprop(p, weight_decay=-0.1), r"RMSprop: Invalid weight_decay value"),
    (lambda p: Adam(p, lr=-1e-3), r"Adam: Invalid learning rate"),
    (lambda p: Adam(p, eps=-1.0), r"Adam: Invalid epsilon value"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r"Adam: Invalid beta parameter at index 0: 1.0"),
    (lambda p: Adam(p, betas=(-0.1, 0.999)), r"Adam: Invalid beta parameter at index 0"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), r"Adam: Invalid beta parameter at index 1: 1.0"),
    (lambda p: Adam(p, weight_decay=-0.1), r"Adam: Invalid weight_decay value"),
    (lambda p: AdamW(p, lr=-1.0), r"AdamW: Invalid learning rate"),
    (lambda p: AdamW(p, betas=(0.9, 1.5)), r"AdamW: Invalid beta parameter at index 1"),
    (lambda p: AdamW(p, weight_decay=-0.01), r"AdamW: Invalid weight_decay value"),
    (lambda p: SGD([], lr=0.1), r"SGD: optimizer got an empty parameter list"),
    (lambda p: Adam(iter([])), r"Adam: optimizer got an empty parameter list"),
    (lambda p: SGD([{"params": p[:1]}, {"params": p}], lr=0.1), r"more than one parameter group"),
    (lambda p: SGD([p[0], p[0]], lr=0.1), r"the same Parameter twice"),
    (lambda p: SGD([{"params": p, "lr": -1.0}], lr=0.1), r"SGD: Invalid learning rate: -1.0"),
    (lambda p: Adam([{"params": p, "betas": (0.9, 1.0)}]), r"Invalid beta parameter at index 1"),
]


@pytest.mark.parametrize("make,match", BAD_ARGS, ids=[m for _, m in BAD_ARGS])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make(_params())


def test_bad_params_raise_type_error():
    p = _params()
    with pytest.raises(TypeError, match="single Parameter"):
        SGD(p[0], lr=0.1)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        SGD(Linear(2, 3), lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Parameters"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        SGD(set(p), lr=0.1)


def test_optimizes_a_module_and_its_parameter_generator():
    model = Linear(3, 2, generator=np.random.default_rng(0))
    opt = SGD(model.parameters(), lr=0.5)  # a generator is fine
    w0 = model.weight.data.copy()
    model.weight.grad[...] = 1.0
    opt.step()
    np.testing.assert_allclose(model.weight.data, w0 - 0.5)


# ---------------------------------------------------------------------- groups, state, zero_grad
def test_param_groups_fill_defaults_and_keep_overrides():
    W, b = _params()
    opt = AdamW([{"params": [W], "weight_decay": 0.1}, {"params": b, "weight_decay": 0.0, "lr": 3e-3}], lr=1e-3)
    g0, g1 = opt.param_groups
    assert g0["params"] == [W] and g1["params"] == [b]  # a lone Parameter becomes a list
    assert (g0["lr"], g0["weight_decay"], g0["betas"]) == (1e-3, 0.1, (0.9, 0.999))
    assert (g1["lr"], g1["weight_decay"]) == (3e-3, 0.0)
    assert "Parameter Group 1" in repr(opt) and "weight_decay: 0.0" in repr(opt)


def test_group_hyperparameters_apply_per_group():
    W, b = _params()
    W0, b0 = W.data.copy(), b.data.copy()
    opt = SGD([{"params": [W]}, {"params": [b], "lr": 0.0}], lr=0.1)
    W.grad, b.grad = np.ones_like(W.data), np.ones_like(b.data)
    opt.step()
    np.testing.assert_allclose(W.data, W0 - 0.1)
    np.testing.assert_array_equal(b.data, b0)  # lr 0 in its group: unchanged


def test_weight_decay_only_on_the_decay_group():
    W, b = _params()
    W0, b0 = W.data.copy(), b.data.copy()
    opt = AdamW([{"params": [W], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}], lr=0.01)
    opt.step()  # zero gradients: only the decoupled decay moves anything
    np.testing.assert_allclose(W.data, W0 * (1 - 0.01 * 0.1), rtol=1e-15)
    np.testing.assert_array_equal(b.data, b0)


def test_add_param_group():
    W, b = _params()
    opt = SGD([W], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [W]})
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.add_param_group({"params": _params(1)[:1], "lr": -1})


def test_caller_group_dict_is_not_mutated():
    W, _ = _params()
    group = {"params": [W], "lr": 0.5}
    SGD([group], lr=0.1, momentum=0.9)
    assert group == {"params": [W], "lr": 0.5}


def test_zero_grad_resets_grads_but_not_state_or_data():
    W, b = _params()
    opt = Adam([W, b], lr=0.1)
    W.grad[...] = 1.0
    b.grad[...] = -2.0
    opt.step()
    data = W.data.copy()
    m = opt.state[W]["exp_avg"].copy()
    opt.zero_grad()
    assert np.all(W.grad == 0) and np.all(b.grad == 0) and W.grad.shape == W.data.shape
    np.testing.assert_array_equal(W.data, data)
    np.testing.assert_array_equal(opt.state[W]["exp_avg"], m)


@pytest.mark.parametrize("make,keys", [
    (lambda p: SGD(p, lr=0.1), set()),
    (lambda p: SGD(p, lr=0.1, momentum=0.9), {"momentum_buffer"}),
    (lambda p: RMSprop(p), {"step", "square_avg"}),
    (lambda p: RMSprop(p, momentum=0.5, centered=True), {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (lambda p: Adam(p), {"step", "exp_avg", "exp_avg_sq"}),
    (lambda p: AdamW(p), {"step", "exp_avg", "exp_avg_sq"}),
])
def test_state_is_keyed_by_parameter_with_pytorch_names(make, keys):
    params = _params()
    opt = make(params)
    rng = np.random.default_rng(3)
    for _ in range(7):
        for p in params:
            p.grad = rng.standard_normal(p.data.shape)
        opt.step()
    for p in params:
        assert set(opt.state.get(p, {})) == keys
        if "step" in keys:
            assert opt.state[p]["step"] == 7
        for k in keys - {"step"}:
            assert opt.state[p][k].shape == p.data.shape


def test_momentum_buffer_is_a_running_sum_for_a_constant_gradient():
    (p,) = _params(shapes=((5,),))
    opt = SGD([p], lr=0.01, momentum=0.9)
    p.grad = np.full(5, 2.0)
    for _ in range(4):
        opt.step()
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], 2.0 * (1 + 0.9 + 0.81 + 0.729))


def test_adam_first_step_moves_each_entry_by_lr_times_sign():
    """Bias correction makes the first step lr * g / |g| (up to eps), whatever the gradient's scale."""
    (p,) = _params(shapes=((6,),))
    p0 = p.data.copy()
    p.grad = np.array([1e-3, -5.0, 300.0, -0.2, 7.0, 1e-2])
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data - p0, -0.1 * np.sign(p.grad), rtol=1e-5)


def test_adam_l2_versus_adamw_decoupled_decay():
    """Zero gradient: AdamW shrinks p by (1 - lr*wd); Adam's L2 term is normalized into a ~lr-sized step."""
    pa, pw = Parameter(np.array([2.0, -3.0])), Parameter(np.array([2.0, -3.0]))
    Adam([pa], lr=0.1, weight_decay=0.01).step()
    AdamW([pw], lr=0.1, weight_decay=0.01).step()
    np.testing.assert_allclose(pw.data, [2.0 * 0.999, -3.0 * 0.999], rtol=1e-15)
    np.testing.assert_allclose(pa.data, [2.0 - 0.1, -3.0 + 0.1], rtol=1e-6)


def test_params_without_requires_grad_are_skipped():
    W, b = _params()
    b.requires_grad = False
    b0 = b.data.copy()
    opt = Adam([W, b], lr=0.1)
    W.grad[...] = b.grad[...] = 1.0
    opt.step()
    np.testing.assert_array_equal(b.data, b0)
    assert b not in opt.state


def test_step_returns_closure_value():
    W, _ = _params()
    for opt in (SGD([W], lr=0.1), RMSprop([W]), Adam([W]), AdamW([W])):
        assert opt.step(lambda: 1.25) == 1.25
        assert opt.step() is None


def test_float32_parameters_stay_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    opt = AdamW([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert p.data.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32


# ---------------------------------------------------------------------- schedules
def _sched_opt(lrs):
    params = _params(shapes=[(2,)] * len(lrs))
    return SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)


def _run_schedule(sched, opt):
    values = [sched.get_last_lr()]
    for _ in range(CONFIG["sched_steps"]):
        opt.step()
        sched.step()
        values.append(sched.get_last_lr())
    return np.array(values)


def _make_scheduler(spec, opt):
    kind = spec["kind"]
    if kind == "CosineAnnealingLR":
        return CosineAnnealingLR(opt, T_max=spec["T_max"], eta_min=spec["eta_min"])
    if kind == "WarmupCosine":
        return WarmupCosineLR(opt, spec["warmup_steps"], spec["total_steps"], min_lr=spec["min_lr"])
    if kind == "LambdaLR":
        return LambdaLR(opt, [lambda s: 0.95 ** s, lambda s: 1.0 / (s + 1)])
    if kind == "LinearLR":
        return LinearLR(opt, start_factor=spec["start_factor"], end_factor=spec["end_factor"],
                        total_iters=spec["total_iters"])
    raise AssertionError(kind)


@pytest.mark.parametrize("name", sorted(CONFIG["schedulers"]))
def test_schedules_match_pytorch(name):
    spec = CONFIG["schedulers"][name]
    opt = _sched_opt(spec["lrs"])
    ours = _run_schedule(_make_scheduler(spec, opt), opt)
    ref = FIX[f"sched/{name}"]
    assert ours.shape == ref.shape == (CONFIG["sched_steps"] + 1, len(spec["lrs"]))
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15 * max(spec["lrs"]))
    np.testing.assert_allclose([g["lr"] for g in opt.param_groups], ref[-1], rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("name", ["warmup_cosine", "warmup_cosine_no_floor"])
def test_warmup_cosine_function_matches_pytorch_lambda(name):
    spec = CONFIG["schedulers"][name]
    steps = np.arange(CONFIG["sched_steps"] + 1)
    for g, max_lr in enumerate(spec["lrs"]):
        vec = warmup_cosine_lr(steps, max_lr=max_lr, warmup_steps=spec["warmup_steps"],
                               total_steps=spec["total_steps"], min_lr=spec["min_lr"])
        np.testing.assert_allclose(vec, FIX[f"sched/{name}"][:, g], rtol=1e-12, atol=1e-18)
        scalar = [warmup_cosine_lr(int(s), max_lr=max_lr, warmup_steps=spec["warmup_steps"],
                                   total_steps=spec["total_steps"], min_lr=spec["min_lr"]) for s in steps]
        assert all(isinstance(v, float) for v in scalar)
        np.testing.assert_array_equal(scalar, vec)


def test_warmup_cosine_convention():
    kw = dict(max_lr=1e-3, warmup_steps=4, total_steps=14, min_lr=1e-4)
    lr = [warmup_cosine_lr(s, **kw) for s in range(20)]
    assert lr[0] == pytest.approx(1e-3 / 5)                       # first update already moves
    assert lr[:5] == pytest.approx([2e-4, 4e-4, 6e-4, 8e-4, 1e-3])  # strictly rising, peak at warmup end
    assert lr[4] == 1e-3 and max(lr) == 1e-3 and lr.count(1e-3) == 1
    assert lr[9] == pytest.approx(1e-4 + 0.5 * 9e-4)              # half way through the cosine
    assert np.all(np.diff(lr[4:15]) < 0)                          # then strictly falling
    assert lr[14:] == [1e-4] * 6                                  # floor from total_steps on
    assert warmup_cosine_lr(0, max_lr=1.0, warmup_steps=0, total_steps=10) == 1.0  # no warmup


def test_warmup_cosine_scheduler_convention_in_a_training_loop():
    W, _ = _params()
    opt = SGD([W], lr=0.5)
    sched = WarmupCosineLR(opt, warmup_steps=3, total_steps=10)
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == pytest.approx(0.5 / 4)
    assert opt.param_groups[0]["initial_lr"] == 0.5 and sched.base_lrs == [0.5]
    used = []
    for _ in range(12):
        used.append(opt.param_groups[0]["lr"])  # what this optimizer.step() uses
        opt.step()
        sched.step()
    expected = [warmup_cosine_lr(s, max_lr=0.5, warmup_steps=3, total_steps=10) for s in range(12)]
    np.testing.assert_array_equal(used, expected)
    assert sched.last_epoch == 12 and sched.get_last_lr() == [0.0]


def test_cosine_annealing_closed_form_endpoints():
    opt = _sched_opt([0.1])
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    values = _run_schedule(sched, opt)[:, 0]
    assert values[0] == 0.1 and values[10] == pytest.approx(0.01, abs=1e-17)
    assert values[5] == pytest.approx(0.055)
    assert values[20] == pytest.approx(0.1)  # beyond T_max the cosine climbs back (PyTorch does too)


@pytest.mark.parametrize("kwargs,match", [
    (dict(max_lr=1.0, warmup_steps=10, total_steps=10), "warmup_steps < total_steps"),
    (dict(max_lr=1.0, warmup_steps=-1, total_steps=10), "warmup_steps < total_steps"),
    (dict(max_lr=1.0, warmup_steps=2, total_steps=10, min_lr=2.0), "min_lr <= max_lr"),
    (dict(max_lr=1.0, warmup_steps=2, total_steps=10, min_lr=-0.1), "min_lr <= max_lr"),
])
def test_warmup_cosine_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        warmup_cosine_lr(0, **kwargs)


def test_scheduler_validation():
    opt = _sched_opt([0.1, 0.2])
    with pytest.raises(ValueError, match="step must be >= 0"):
        warmup_cosine_lr(-1, max_lr=1.0, warmup_steps=1, total_steps=5)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(opt, [lambda s: 1.0])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="min_lr <= max_lr"):
        WarmupCosineLR(opt, 2, 10, min_lr=0.15)  # the 0.1 group would rise to its floor
    with pytest.raises(TypeError, match="is not an Optimizer"):
        CosineAnnealingLR(object(), T_max=10)
    with pytest.raises(KeyError, match="initial_lr"):
        CosineAnnealingLR(_sched_opt([0.1]), T_max=10, last_epoch=5)


# ---------------------------------------------------------------------- clipping
@pytest.mark.parametrize("case", CONFIG["clip"], ids=[c["name"] for c in CONFIG["clip"]])
def test_clip_grad_norm_matches_pytorch(case):
    name = case["name"]
    W, b = Parameter(np.zeros((3, 4))), Parameter(np.zeros(4))
    W.grad, b.grad = FIX[f"clip/{name}/gW"].copy(), FIX[f"clip/{name}/gb"].copy()
    gW_array = W.grad
    total = clip_grad_norm_([W, b], float(FIX[f"clip/{name}/max_norm"]), norm_type=case["norm_type"])
    assert isinstance(total, float)
    assert total == pytest.approx(float(FIX[f"clip/{name}/total"]), rel=1e-13)
    np.testing.assert_allclose(W.grad, FIX[f"clip/{name}/gW_after"], rtol=1e-13)
    np.testing.assert_allclose(b.grad, FIX[f"clip/{name}/gb_after"], rtol=1e-13)
    assert W.grad is gW_array  # scaled in place, as PyTorch


def test_clip_grad_norm_scales_to_max_norm_and_keeps_direction():
    params = _params(shapes=((10, 10), (10,)))
    rng = np.random.default_rng(5)
    for p in params:
        p.grad = 10 * rng.standard_normal(p.data.shape)
    before = np.concatenate([p.grad.ravel() for p in params])
    total = clip_grad_norm_(params, max_norm=1.0)
    after = np.concatenate([p.grad.ravel() for p in params])
    assert total == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after, before * (1.0 / (total + 1e-6)))


def test_clip_grad_norm_edge_cases():
    (p,) = _params(shapes=((3,),))
    p.grad = np.array([3.0, 4.0, 0.0])
    assert clip_grad_norm_(p, 10.0) == 5.0          # a single Parameter works; no clipping below max
    np.testing.assert_array_equal(p.grad, [3.0, 4.0, 0.0])
    assert clip_grad_norm_([], 1.0) == 0.0
    p.grad = np.array([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = np.array([1e300, 1e300, 0.0])           # overflowing norm: inf, no warning (as PyTorch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clip_grad_norm_([p], 1.0) == math.inf


def test_clip_grad_value_():
    (p,) = _params(shapes=((4,),))
    p.grad = np.array([-3.0, -0.5, 0.2, 9.0])
    clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, -0.5, 0.2, 1.0])


# ---------------------------------------------------------------------- landscapes
@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_landscape_gradient_matches_finite_differences(name):
    land = get_landscape(name)
    rng = np.random.default_rng(0)
    x = rng.uniform(*land.xlim, 50)
    y = rng.uniform(*land.ylim, 50)
    gx, gy = land.gradient(x, y)                   # vectorized over 50 points
    h = 1e-6
    np.testing.assert_allclose(gx, (land.value(x + h, y) - land.value(x - h, y)) / (2 * h), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(gy, (land.value(x, y + h) - land.value(x, y - h)) / (2 * h), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_landscape_metadata(name):
    land = get_landscape(name)
    assert land.name == name and land.title
    for mx, my in land.minima:
        assert land.value(mx, my) == land.min_value
        assert land.gradient(mx, my) == (0.0, 0.0)
        assert land.xlim[0] < mx < land.xlim[1] and land.ylim[0] < my < land.ylim[1]
    sx, sy = land.start
    assert land.xlim[0] < sx < land.xlim[1] and land.ylim[0] < sy < land.ylim[1]
    X, Y, Z = land.grid(30)
    assert X.shape == Y.shape == Z.shape == (30, 30) and np.all(np.isfinite(Z))
    assert np.all(Z >= land.min_value)


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown landscape 'bowl'"):
        optimizer_trajectory("bowl", "SGD", 0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        optimizer_trajectory("saddle", "lion", 0.1)
    with pytest.raises(ValueError, match="steps must be an int"):
        optimizer_trajectory("saddle", "SGD", 0.1, steps=-1)
    with pytest.raises(ValueError, match="start must be a finite point"):
        optimizer_trajectory("saddle", "SGD", 0.1, start=(0.0, np.nan))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optimizer_trajectory("saddle", "Adam", -0.1)


# ---------------------------------------------------------------------- trajectories
def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    """GD on f = (h1 x^2 + h2 y^2)/2 multiplies each coordinate by (1 - lr h) per step."""
    land = ill_conditioned_quadratic((0.5, 10.0))
    lr, steps = 0.15, 60
    run = optimizer_trajectory(land, "SGD", lr, steps=steps)
    t = np.arange(steps + 1)
    expected = np.stack([land.start[0] * (1 - lr * 0.5) ** t, land.start[1] * (1 - lr * 10.0) ** t], axis=1)
    np.testing.assert_allclose(run.positions, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(run.losses, land.value(expected[:, 0], expected[:, 1]), rtol=1e-12)


@pytest.mark.parametrize("curvatures", [(1.0, 1.0), (0.5, 10.0), (2.0, 40.0)])
def test_gradient_descent_converges_iff_lr_below_two_over_h(curvatures):
    land = ill_conditioned_quadratic(curvatures)
    limit = 2.0 / max(curvatures)
    assert land.stability_lr == limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        below = optimizer_trajectory(land, "SGD", 0.99 * limit, steps=3000)
        above = optimizer_trajectory(land, "SGD", 1.01 * limit, steps=3000)
    assert below.verdict == "converged" and below.steps_run == 3000
    assert above.verdict == "diverged"
    # closed form: coordinate i is multiplied by (1 - lr h_i) per step (|.| = 1.01 for the stiff
    # one); the run stops at the first step where a coordinate leaves the divergence box
    # (10x the plot window around its centre, which is the origin here)
    lr = 1.01 * limit
    bounds = [traj_mod.DIVERGENCE_FACTOR * (hi - lo) / 2 for lo, hi in (land.xlim, land.ylim)]
    expected_step = next(t for t in range(1, 10_000)
                         if any(abs(s0 * (1 - lr * h) ** t) > bound
                                for s0, h, bound in zip(land.start, curvatures, bounds)))
    assert above.step == expected_step
    assert above.message == f"diverged at step {expected_step} (left the region 10x the plot window)"
    assert above.positions.shape == (expected_step + 1, 2) and np.all(np.isfinite(above.losses))


def test_lr_exactly_at_the_limit_oscillates_forever():
    land = ill_conditioned_quadratic((0.5, 10.0))
    run = optimizer_trajectory(land, "SGD", land.stability_lr, steps=200)
    assert run.verdict == "oscillating" and run.step is None
    assert run.message.startswith("oscillating: 100% of the last 100 steps reverse direction")
    np.testing.assert_allclose(np.abs(run.positions[:, 1]), abs(land.start[1]), rtol=1e-12)


def test_small_lr_is_too_slow_and_momentum_fixes_the_valley():
    land = ill_conditioned_quadratic()
    slow = optimizer_trajectory(land, "SGD", 0.01, steps=100)
    assert slow.verdict == "slow" and slow.message.startswith("too slow: still ")
    heavy = optimizer_trajectory(land, "SGD", 0.01, momentum=0.9, steps=200)
    plain = optimizer_trajectory(land, "SGD", 0.01, steps=200)
    assert heavy.verdict == "converged" and plain.verdict == "slow"


def test_converged_step_is_when_the_point_stays_at_the_minimum():
    land = ill_conditioned_quadratic((0.5, 10.0))
    run = optimizer_trajectory(land, "SGD", 0.1, steps=300)
    assert run.verdict == "converged"
    dist = np.linalg.norm(run.positions, axis=1)
    tol = traj_mod.CONVERGENCE_TOL * math.hypot(10.0, 6.0)
    assert np.all(dist[run.step:] < tol) and dist[run.step - 1] >= tol
    assert run.message == f"converged at step {run.step} (within {tol:.3g} of a minimum)"


def test_saddle_escape_and_stuck_on_the_ridge():
    escaped = optimizer_trajectory("saddle", "SGD", 0.1, steps=200)
    assert escaped.verdict == "converged" and escaped.positions[-1] == pytest.approx([0.0, 1.0], abs=1e-2)
    stuck = optimizer_trajectory("saddle", "SGD", 0.1, steps=200, start=(-2.5, 0.0))
    assert stuck.verdict == "slow" and stuck.positions[-1, 1] == 0.0


@pytest.mark.parametrize("name", ["SGD", "Nesterov", "RMSprop", "Adam", "AdamW"])
@pytest.mark.parametrize("landscape", sorted(LANDSCAPES))
def test_every_setting_is_quiet_and_finite(name, landscape):
    """The explorer's slider extremes: tiny and huge lr, momentum 0 and 0.99, beta2 0.9 and 0.9999."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lr in (1e-5, 1e-2, 1.0, 1e3):
            for momentum in (0.0, 0.99):
                for beta2 in (0.9, 0.9999):
                    run = optimizer_trajectory(landscape, name, lr, momentum, beta2, steps=150)
                    assert run.verdict in {"converged", "oscillating", "diverged", "slow"}
                    assert np.all(np.isfinite(run.positions)) and np.all(np.isfinite(run.losses))
                    assert run.positions.shape == (run.steps_run + 1, 2) and run.losses.shape == (run.steps_run + 1,)
                    assert (run.step is not None) == (run.verdict in {"converged", "diverged"})


def test_huge_lr_diverges_at_step_one_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = optimizer_trajectory("rosenbrock", "SGD", 1e6, momentum=0.9, steps=100)
    assert run.verdict == "diverged" and run.step == 1 and run.steps_run == 1


def test_trajectory_runs_the_same_optimizer_classes():
    land = get_landscape("rosenbrock")
    run = optimizer_trajectory(land, "adam", 0.05, momentum=0.8, beta2=0.99, steps=40)  # case-insensitive
    p = Parameter(np.array(land.start))
    opt = Adam([p], lr=0.05, betas=(0.8, 0.99))
    for t in range(40):
        p.grad = np.array(land.gradient(*p.data))
        opt.step()
        np.testing.assert_array_equal(run.positions[t + 1], p.data)


def test_steps_zero_and_custom_start():
    run = optimizer_trajectory("ill_conditioned_quadratic", "Adam", 0.1, 0.9, steps=0, start=(1.0, -1.0))
    assert run.positions.tolist() == [[1.0, -1.0]] and run.losses.tolist() == [5.25]


# ---------------------------------------------------------------------- live PyTorch (skips without torch)
LIVE_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.3, centered=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.7, 0.95), weight_decay=0.1)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3)),
]


@pytest.mark.parametrize("cls,kwargs", LIVE_CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(LIVE_CASES)])
def test_live_torch_optimizers(cls, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    starts = [rng.standard_normal((5, 3)), rng.standard_normal(3)]
    ours = [Parameter(s) for s in starts]
    theirs = [torch.tensor(s.copy(), dtype=torch.float64, requires_grad=True) for s in starts]
    opt_ours = getattr(optim, cls)(ours, **kwargs)
    opt_theirs = getattr(torch.optim, cls)(theirs, foreach=False, **kwargs)
    for _ in range(30):
        for p, q in zip(ours, theirs):
            g = 2.0 * p.data + rng.standard_normal(p.data.shape)  # depends on the parameters
            p.grad = g
            q.grad = torch.tensor(g.copy())
        opt_ours.step()
        opt_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_live_torch_schedules():
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt_t = torch.optim.SGD([p], lr=0.3)
    sched_t = torch.optim.lr_scheduler.CosineAnnealingLR(opt_t, T_max=40, eta_min=0.01)
    opt = _sched_opt([0.3])
    sched = CosineAnnealingLR(opt, T_max=40, eta_min=0.01)
    for _ in range(90):
        assert sched.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-12, abs=1e-16)
        opt_t.step()
        sched_t.step()
        opt.step()
        sched.step()
