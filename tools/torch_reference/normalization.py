"""Reference values for course_lib.nn.BatchNorm1d, LayerNorm, RMSNorm and Dropout, computed with PyTorch.

Run with an interpreter that has torch (``pip install torch==2.13.0 numpy``):
    python tools/torch_reference/normalization.py
Writes
    tests/fixtures/torch_normalization.npz   arrays (float64): inputs, parameters, upstream gradients,
                                             outputs, input and parameter gradients, running statistics
    tests/fixtures/torch_normalization.json  the cases (constructor arguments, shapes, steps),
                                             PyTorch's reprs and its error messages for bad arguments/inputs
The tests read both without torch.
"""
import json
import pathlib

import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)
arrays: dict[str, np.ndarray] = {}
cases: dict[str, list] = {"batchnorm": [], "layernorm": [], "rmsnorm": []}
T = lambda a: torch.from_numpy(np.array(a, dtype=np.float64))  # noqa: E731


def randn(*shape, scale=1.0, shift=0.0):
    return shift + scale * rng.standard_normal(shape)


def set_params(module, params):
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(T(value))


def run_step(prefix, module, x, upstream):
    """One forward + backward; stores x, upstream, y, dx and every parameter's gradient."""
    module.zero_grad()
    xt = T(x).requires_grad_(True)
    y = module(xt)
    y.backward(T(upstream))
    arrays[f"{prefix}/x"] = x
    arrays[f"{prefix}/upstream"] = upstream
    arrays[f"{prefix}/y"] = y.detach().numpy().copy()
    arrays[f"{prefix}/dx"] = xt.grad.numpy().copy()
    for name, p in module.named_parameters():
        arrays[f"{prefix}/d{name}"] = p.grad.numpy().copy()


# ---------------------------------------------------------------------- BatchNorm1d
# Each case: several training steps (different batches, running statistics recorded after
# each), then one eval step on a fresh batch.
BN_CASES = [
    ("bn_2d", dict(num_features=4), (6, 4), 3),
    ("bn_3d", dict(num_features=3), (4, 3, 5), 3),
    ("bn_cumulative", dict(num_features=4, momentum=None), (5, 4), 4),
    ("bn_momentum_half", dict(num_features=2, momentum=0.5, eps=1e-3), (2, 2), 3),  # m = 2: unbiased var x2
    ("bn_3d_n1", dict(num_features=3), (1, 3, 4), 2),  # one sample but L = 4 values per channel
    ("bn_no_affine", dict(num_features=4, affine=False), (6, 4), 2),
    ("bn_no_bias", dict(num_features=4, bias=False), (6, 4), 2),
    ("bn_no_tracking", dict(num_features=4, track_running_stats=False), (6, 4), 2),  # batch stats in eval
    ("bn_no_tracking_3d", dict(num_features=3, affine=False, track_running_stats=False), (3, 3, 4), 1),
]
for name, kwargs, shape, steps in BN_CASES:
    bn = torch.nn.BatchNorm1d(**kwargs, dtype=torch.float64)
    params = {}
    if bn.weight is not None:
        params["weight"] = randn(kwargs["num_features"], scale=0.5, shift=1.0)
    if bn.bias is not None:
        params["bias"] = randn(kwargs["num_features"], scale=0.5)
    set_params(bn, params)
    for pname, value in params.items():
        arrays[f"{name}/param/{pname}"] = value
    C = kwargs["num_features"]
    feature_shift = np.arange(C).reshape((1, C) + (1,) * (len(shape) - 2))  # channels with different means
    bn.train()
    for step in range(steps):
        x = randn(*shape, scale=2.0) + 3.0 * feature_shift
        run_step(f"{name}/train{step}", bn, x, randn(*shape))
        if bn.track_running_stats:
            arrays[f"{name}/train{step}/running_mean"] = bn.running_mean.numpy().copy()
            arrays[f"{name}/train{step}/running_var"] = bn.running_var.numpy().copy()
            arrays[f"{name}/train{step}/num_batches_tracked"] = np.array(int(bn.num_batches_tracked))
    bn.eval()
    x = randn(*shape, scale=2.0) + 3.0 * feature_shift
    run_step(f"{name}/eval", bn, x, randn(*shape))
    cases["batchnorm"].append({"name": name, "kwargs": kwargs, "shape": list(shape), "steps": steps,
                               "params": sorted(params)})

# ---------------------------------------------------------------------- LayerNorm
LN_CASES = [
    ("ln_1d", dict(normalized_shape=8), (2, 3, 8)),
    ("ln_2d", dict(normalized_shape=[3, 4]), (2, 3, 4)),
    ("ln_batch1", dict(normalized_shape=5), (1, 5)),
    ("ln_no_batch_dims", dict(normalized_shape=[2, 3]), (2, 3)),
    ("ln_no_affine", dict(normalized_shape=6, elementwise_affine=False), (4, 6)),
    ("ln_no_bias", dict(normalized_shape=6, bias=False), (4, 6)),
    ("ln_eps", dict(normalized_shape=4, eps=0.1), (3, 4)),
]
for name, kwargs, shape in LN_CASES:
    ln = torch.nn.LayerNorm(**kwargs, dtype=torch.float64)
    params = {}
    if ln.weight is not None:
        params["weight"] = randn(*ln.weight.shape, scale=0.5, shift=1.0)
    if ln.bias is not None:
        params["bias"] = randn(*ln.bias.shape, scale=0.5)
    set_params(ln, params)
    for pname, value in params.items():
        arrays[f"{name}/param/{pname}"] = value
    run_step(f"{name}/train", ln, randn(*shape, scale=2.0, shift=1.0), randn(*shape))
    ln.eval()  # LayerNorm does the same in both modes
    run_step(f"{name}/eval", ln, randn(*shape, scale=2.0, shift=1.0), randn(*shape))
    cases["layernorm"].append({"name": name, "kwargs": kwargs, "shape": list(shape), "params": sorted(params)})

# ---------------------------------------------------------------------- RMSNorm
RMS_CASES = [
    ("rms_1d", dict(normalized_shape=8), (2, 3, 8)),
    ("rms_2d_eps", dict(normalized_shape=[3, 4], eps=1e-6), (2, 3, 4)),
    ("rms_no_affine", dict(normalized_shape=5, elementwise_affine=False), (4, 5)),
    ("rms_big_eps", dict(normalized_shape=4, eps=0.5), (3, 4)),
    ("rms_tiny_inputs", dict(normalized_shape=4), (2, 4)),  # eps=None matters: finfo(float64).eps
]
for name, kwargs, shape in RMS_CASES:
    rms = torch.nn.RMSNorm(**kwargs, dtype=torch.float64)
    params = {}
    if rms.weight is not None:
        params["weight"] = randn(*rms.weight.shape, scale=0.5, shift=1.0)
    set_params(rms, params)
    for pname, value in params.items():
        arrays[f"{name}/param/{pname}"] = value
    scale = 1e-8 if name == "rms_tiny_inputs" else 2.0
    run_step(f"{name}/train", rms, randn(*shape, scale=scale), randn(*shape))
    cases["rmsnorm"].append({"name": name, "kwargs": kwargs, "shape": list(shape), "params": sorted(params)})

# float32 with eps=None: eps is finfo(float32).eps = 1.19e-7 (stored as float64)
x32 = np.full((2, 4), 1e-4, dtype=np.float32)
arrays["rms_float32_tiny/x"] = x32.astype(np.float64)
arrays["rms_float32_tiny/y"] = torch.nn.RMSNorm(4)(torch.from_numpy(x32)).detach().numpy().astype(np.float64)

# ---------------------------------------------------------------------- reprs and error messages
reprs = {
    "Dropout()": repr(torch.nn.Dropout()),
    "Dropout(0.2)": repr(torch.nn.Dropout(0.2)),
    "Dropout(p=0)": repr(torch.nn.Dropout(p=0)),
    "BatchNorm1d(4)": repr(torch.nn.BatchNorm1d(4)),
    "BatchNorm1d(3, eps=0.001, momentum=None)": repr(torch.nn.BatchNorm1d(3, eps=0.001, momentum=None)),
    "BatchNorm1d(5, affine=False, track_running_stats=False)":
        repr(torch.nn.BatchNorm1d(5, affine=False, track_running_stats=False)),
    "BatchNorm1d(4, bias=False)": repr(torch.nn.BatchNorm1d(4, bias=False)),
    "LayerNorm(8)": repr(torch.nn.LayerNorm(8)),
    "LayerNorm((3, 4), eps=1e-06)": repr(torch.nn.LayerNorm((3, 4), eps=1e-06)),
    "LayerNorm([3, 4], elementwise_affine=False)": repr(torch.nn.LayerNorm([3, 4], elementwise_affine=False)),
    "LayerNorm(8, bias=False)": repr(torch.nn.LayerNorm(8, bias=False)),
    "RMSNorm(8)": repr(torch.nn.RMSNorm(8)),
    "RMSNorm((3, 4), eps=1e-06, elementwise_affine=False)":
        repr(torch.nn.RMSNorm((3, 4), eps=1e-06, elementwise_affine=False)),
}


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - we record whatever PyTorch raises
        return {"type": type(e).__name__, "message": str(e)}
    return None


errors = {
    "dropout_p_negative": error_of(lambda: torch.nn.Dropout(-0.1)),
    "dropout_p_above_one": error_of(lambda: torch.nn.Dropout(1.5)),
    "dropout_p_one": error_of(lambda: torch.nn.Dropout(1.0)),  # None: PyTorch accepts p=1 (we do not)
    "batchnorm_one_sample_2d": error_of(lambda: torch.nn.BatchNorm1d(3)(torch.zeros(1, 3))),
    "batchnorm_one_value_3d": error_of(lambda: torch.nn.BatchNorm1d(3)(torch.zeros(1, 3, 1))),
    "batchnorm_one_sample_eval": error_of(lambda: torch.nn.BatchNorm1d(3).eval()(torch.zeros(1, 3))),
    "batchnorm_one_sample_eval_no_tracking":  # no running statistics: eval uses the batch's
        error_of(lambda: torch.nn.BatchNorm1d(3, track_running_stats=False).eval()(torch.zeros(1, 3))),
    "batchnorm_wrong_channels": error_of(lambda: torch.nn.BatchNorm1d(3)(torch.zeros(4, 5))),
    "batchnorm_1d_input": error_of(lambda: torch.nn.BatchNorm1d(3)(torch.zeros(3))),
    "batchnorm_4d_input": error_of(lambda: torch.nn.BatchNorm1d(3)(torch.zeros(2, 3, 4, 5))),
    "layernorm_wrong_shape": error_of(lambda: torch.nn.LayerNorm((3, 4))(torch.zeros(2, 4, 3))),
    "rmsnorm_wrong_shape": error_of(lambda: torch.nn.RMSNorm(4)(torch.zeros(2, 5))),
}

root = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures"
np.savez_compressed(root / "torch_normalization.npz", **arrays)
meta = {"torch_version": torch.__version__, "cases": cases, "reprs": reprs, "errors": errors}
(root / "torch_normalization.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
print("wrote", root / "torch_normalization.npz", f"({len(arrays)} arrays)")
print("wrote", root / "torch_normalization.json")
