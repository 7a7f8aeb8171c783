"""BatchNorm1d, LayerNorm, RMSNorm: gradient checks, parity with PyTorch, running statistics, errors.

PyTorch values come from tests/fixtures/torch_normalization.{npz,json}, written by
tools/torch_reference/normalization.py (torch 2.13.0); these tests never import torch.
"""
import json
import pathlib

import numpy as np
import pytest

from course_lib.gradcheck import gradcheck
from course_lib.nn import Linear, ReLU, Sequential
from course_lib.nn.normalization import BatchNorm1d, LayerNorm, RMSNorm

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
FIX = np.load(FIXTURES / "torch_normalization.npz")
META = json.loads((FIXTURES / "torch_normalization.json").read_text())
CASES = META["cases"]
RTOL, ATOL = 1e-10, 1e-12


def _with_params(layer, case):
    for pname in case["params"]:
        getattr(layer, pname).data[...] = FIX[f"{case['name']}/param/{pname}"]
    return layer


def _check_step(layer, prefix):
    """Forward + backward on the fixture's batch; compare everything with PyTorch's values."""
    layer.zero_grad()
    y = layer(FIX[f"{prefix}/x"])
    np.testing.assert_allclose(y, FIX[f"{prefix}/y"], rtol=RTOL, atol=ATOL, err_msg=f"{prefix}: output")
    dx = layer.backward(FIX[f"{prefix}/upstream"])
    np.testing.assert_allclose(dx, FIX[f"{prefix}/dx"], rtol=RTOL, atol=ATOL, err_msg=f"{prefix}: dx")
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, FIX[f"{prefix}/d{name}"], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{prefix}: d{name}")


# ---------------------------------------------------------------------- parity with PyTorch
@pytest.mark.parametrize("case", CASES["batchnorm"], ids=lambda c: c["name"])
def test_batchnorm_matches_pytorch_in_train_and_eval(case):
    bn = _with_params(BatchNorm1d(**case["kwargs"]), case)
    assert sorted(n for n, _ in bn.named_parameters()) == case["params"]
    bn.train()
    for step in range(case["steps"]):
        prefix = f"{case['name']}/train{step}"
        _check_step(bn, prefix)
        if bn.track_running_stats:
            np.testing.assert_allclose(bn.running_mean, FIX[f"{prefix}/running_mean"], rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(bn.running_var, FIX[f"{prefix}/running_var"], rtol=RTOL, atol=ATOL)
            assert int(bn.num_batches_tracked) == int(FIX[f"{prefix}/num_batches_tracked"]) == step + 1
    bn.eval()
    before = bn.state_dict()
    _check_step(bn, f"{case['name']}/eval")
    for key, value in bn.state_dict().items():  # eval leaves the running statistics alone
        np.testing.assert_array_equal(value, before[key], err_msg=key)


@pytest.mark.parametrize("case", CASES["layernorm"], ids=lambda c: c["name"])
def test_layernorm_matches_pytorch(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs["normalized_shape"], list):
        kwargs["normalized_shape"] = tuple(kwargs["normalized_shape"])
    ln = _with_params(LayerNorm(**kwargs), case)
    assert sorted(n for n, _ in ln.named_parameters()) == case["params"]
    _check_step(ln, f"{case['name']}/train")
    ln.eval()
    _check_step(ln, f"{case['name']}/eval")


@pytest.mark.parametrize("case", CASES["rmsnorm"], ids=lambda c: c["name"])
def test_rmsnorm_matches_pytorch(case):
    rms = _with_params(RMSNorm(**case["kwargs"]), case)  # a list normalized_shape is accepted too
    assert sorted(n for n, _ in rms.named_parameters()) == case["params"]
    _check_step(rms, f"{case['name']}/train")


def test_rmsnorm_default_eps_is_finfo_eps_of_the_input_dtype():
    y = RMSNorm(4).float()(FIX["rms_float32_tiny/x"].astype(np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, FIX["rms_float32_tiny/y"], rtol=1e-6)
    np.testing.assert_allclose(y, 1e-4 / np.sqrt(1e-8 + np.finfo(np.float32).eps), rtol=1e-5)
    # float64: eps = 2.2e-16 matters for inputs of size 1e-8 (the rms_tiny_inputs fixture case)
    x = np.full((1, 4), 1e-8)
    np.testing.assert_allclose(RMSNorm(4)(x), 1e-8 / np.sqrt(1e-16 + np.finfo(np.float64).eps))


@pytest.mark.parametrize("key", sorted(k for k in META["reprs"] if not k.startswith("Dropout")))
def test_repr_matches_pytorch(key):
    layer = eval(key, {"BatchNorm1d": BatchNorm1d, "LayerNorm": LayerNorm, "RMSNorm": RMSNorm})
    assert repr(layer) == META["reprs"][key]


# ---------------------------------------------------------------------- gradient checks
def _rand(*shape, seed=0, scale=2.0, shift=0.5):
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)


def _random_affine(layer, seed=1):
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data[...] = rng.uniform(0.5, 1.5, p.shape) if p is getattr(layer, "weight", None) \
            else rng.standard_normal(p.shape)
    return layer


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (1, 3, 4), (2, 3)])
def test_gradcheck_batchnorm_training_mode(shape):
    # forward in training mode also moves the running statistics; that does not change the output
    bn = _random_affine(BatchNorm1d(3))
    assert gradcheck(bn, _rand(*shape))


@pytest.mark.parametrize("kwargs", [dict(affine=False), dict(bias=False), dict(momentum=None),
                                    dict(track_running_stats=False)])
def test_gradcheck_batchnorm_variants_training_mode(kwargs):
    bn = _random_affine(BatchNorm1d(4, **kwargs))
    assert gradcheck(bn, _rand(6, 4, seed=2))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (1, 3)])
def test_gradcheck_batchnorm_eval_mode(shape):
    bn = _random_affine(BatchNorm1d(3))
    for seed in range(3):  # non-trivial running statistics
        bn(_rand(8, 3, seed=10 + seed, scale=3.0, shift=1.0))
    bn.eval()
    assert gradcheck(bn, _rand(*shape))


def test_gradcheck_batchnorm_eval_without_tracking_goes_through_batch_statistics():
    bn = _random_affine(BatchNorm1d(3, track_running_stats=False)).eval()
    assert gradcheck(bn, _rand(5, 3))
    x = _rand(5, 3)
    y_eval = bn(x)
    np.testing.assert_allclose(y_eval, bn.train()(x))  # no running statistics: same as training


@pytest.mark.parametrize("normalized_shape,shape", [(6, (4, 6)), (5, (2, 3, 5)), ((3, 4), (2, 3, 4)),
                                                    ((2, 3), (2, 3)), (5, (1, 5))])
def test_gradcheck_layernorm(normalized_shape, shape):
    assert gradcheck(_random_affine(LayerNorm(normalized_shape)), _rand(*shape))


@pytest.mark.parametrize("kwargs", [dict(elementwise_affine=False), dict(bias=False), dict(eps=0.3)])
def test_gradcheck_layernorm_variants(kwargs):
    assert gradcheck(_random_affine(LayerNorm((2, 3), **kwargs)), _rand(4, 2, 3))


@pytest.mark.parametrize("normalized_shape,shape", [(6, (4, 6)), (5, (2, 3, 5)), ((3, 4), (2, 3, 4))])
def test_gradcheck_rmsnorm(normalized_shape, shape):
    assert gradcheck(_random_affine(RMSNorm(normalized_shape)), _rand(*shape))


@pytest.mark.parametrize("kwargs", [dict(elementwise_affine=False), dict(eps=0.3)])
def test_gradcheck_rmsnorm_variants(kwargs):
    assert gradcheck(_random_affine(RMSNorm((2, 3), **kwargs)), _rand(4, 2, 3))


def test_gradcheck_through_a_network_with_normalization():
    rng = np.random.default_rng(3)
    net = Sequential(Linear(3, 4, generator=rng), BatchNorm1d(4), ReLU(),
                     Linear(4, 4, generator=rng), LayerNorm(4), Linear(4, 2, generator=rng), RMSNorm(2))
    assert gradcheck(net, _rand(6, 3))


# ---------------------------------------------------------------------- BatchNorm semantics
def test_batchnorm_training_output_has_zero_mean_unit_variance_per_channel():
    x = _rand(64, 3, 5, scale=4.0, shift=7.0)
    y = BatchNorm1d(3, eps=0.0)(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1.0, rtol=1e-12)


def test_batchnorm_running_stats_formula_unbiased_variance():
    x = _rand(4, 2)
    bn = BatchNorm1d(2, momentum=0.25)
    bn(x)
    np.testing.assert_allclose(bn.running_mean, 0.25 * x.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, 0.75 * 1.0 + 0.25 * x.var(axis=0, ddof=1))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()


def test_batchnorm_momentum_none_is_the_cumulative_average():
    batches = [_rand(5, 3, seed=s, shift=s) for s in range(4)]
    bn = BatchNorm1d(3, momentum=None)
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0))
    np.testing.assert_allclose(bn.running_var, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0))
    assert int(bn.num_batches_tracked) == 4


def test_batchnorm_momentum_extremes():
    x = _rand(5, 3)
    frozen, follow = BatchNorm1d(3, momentum=0), BatchNorm1d(3, momentum=1)
    frozen(x), follow(x)
    np.testing.assert_array_equal(frozen.running_mean, 0.0)
    np.testing.assert_array_equal(frozen.running_var, 1.0)
    np.testing.assert_allclose(follow.running_mean, x.mean(axis=0))
    np.testing.assert_allclose(follow.running_var, x.var(axis=0, ddof=1))


def test_batchnorm_eval_uses_running_statistics_and_is_per_sample():
    bn = _random_affine(BatchNorm1d(3))
    for s in range(5):
        bn(_rand(16, 3, seed=s, shift=2.0))
    bn.eval()
    x = _rand(6, 3, seed=99)
    y = bn(x)
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(bn(x[2:3]), y[2:3])  # one sample is fine in eval, same answer as in a batch
    bn.train()
    assert not np.allclose(bn(x), y)  # training mode uses this batch's statistics instead


def test_batchnorm_3d_pools_over_batch_and_length():
    x = _rand(3, 2, 7)
    rows = x.transpose(0, 2, 1).reshape(-1, 2)  # (N*L, C)
    y3 = BatchNorm1d(2)(x)
    y2 = BatchNorm1d(2)(rows)
    np.testing.assert_allclose(y3, y2.reshape(3, 7, 2).transpose(0, 2, 1))
    assert y3.shape == x.shape and y3.flags["C_CONTIGUOUS"]


def test_batchnorm_state_dict_has_buffers_and_round_trips():
    bn = BatchNorm1d(3)
    for s in range(2):
        bn(_rand(4, 3, seed=s))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    fresh = BatchNorm1d(3)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_var, bn.running_var)
    assert int(fresh.num_batches_tracked) == 2
    assert list(BatchNorm1d(3, affine=False, track_running_stats=False).state_dict()) == []
    net = Sequential(Linear(2, 3), BatchNorm1d(3))
    assert "1.running_mean" in net.state_dict() and "1.num_batches_tracked" in net.state_dict()


def test_batchnorm_float32_after_float():
    bn = BatchNorm1d(3).float()
    assert bn.running_mean.dtype == bn.running_var.dtype == bn.weight.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64
    x = _rand(4, 3).astype(np.float32)
    y = bn(x)
    assert y.dtype == np.float32 and bn.backward(np.ones_like(y)).dtype == np.float32
    assert bn.running_mean.dtype == np.float32


def test_parameter_gradients_accumulate_and_grad_out_is_not_modified():
    for layer, x in ((BatchNorm1d(3), _rand(5, 3)), (LayerNorm(3), _rand(5, 3)), (RMSNorm(3), _rand(5, 3))):
        y = layer(x)
        g = _rand(*y.shape, seed=5)
        g_copy, x_copy = g.copy(), x.copy()
        dx1 = layer.backward(g)
        first = layer.weight.grad.copy()
        dx2 = layer.backward(g)
        np.testing.assert_allclose(layer.weight.grad, 2 * first)
        np.testing.assert_array_equal(dx1, dx2)
        np.testing.assert_array_equal(g, g_copy)
        np.testing.assert_array_equal(x, x_copy)


# ---------------------------------------------------------------------- LayerNorm / RMSNorm semantics
def test_layernorm_normalizes_each_sample_and_ignores_the_batch():
    x = _rand(4, 3, 8, scale=5.0, shift=-3.0)
    ln = LayerNorm(8, eps=0.0)
    y = ln(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ln(x[1:2, 2:3]), y[1:2, 2:3])  # batch size one: same answer
    np.testing.assert_allclose(ln.eval()(x), y)  # no train/eval difference


def test_layernorm_two_dims_equals_flattened_one_dim():
    x = _rand(2, 5, 3, 4)
    y2 = LayerNorm((3, 4))(x)
    y1 = LayerNorm(12)(x.reshape(2, 5, 12))
    np.testing.assert_allclose(y2, y1.reshape(x.shape))


def test_rmsnorm_gives_unit_root_mean_square_and_keeps_the_mean():
    x = _rand(6, 10, shift=3.0)
    y = RMSNorm(10, eps=0.0)(x)
    np.testing.assert_allclose(np.sqrt((y**2).mean(axis=-1)), 1.0)
    np.testing.assert_allclose(y, x / np.sqrt((x**2).mean(axis=-1, keepdims=True)))


def test_normalized_shape_forms():
    assert LayerNorm(8).normalized_shape == (8,)
    assert LayerNorm([3, 4]).weight.shape == (3, 4)
    assert RMSNorm(np.int64(5)).normalized_shape == (5,)
    assert RMSNorm((2, 3)).weight.shape == (2, 3)
    assert [n for n, _ in LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert list(LayerNorm(4, elementwise_affine=False).parameters()) == []
    assert list(RMSNorm(4, elementwise_affine=False).parameters()) == []


def test_layers_without_parameters_accept_any_float_dtype():
    for layer in (LayerNorm(4, elementwise_affine=False), RMSNorm(4, elementwise_affine=False),
                  BatchNorm1d(4, affine=False, track_running_stats=False)):
        x = _rand(3, 4).astype(np.float32)
        y = layer(x)
        assert y.dtype == np.float32
        assert layer.backward(np.ones_like(y)).dtype == np.float32


# ---------------------------------------------------------------------- errors
def _torch_message(key):
    err = META["errors"][key]
    return err["message"].replace("torch.Size([1, 3])", "(1, 3)").replace("torch.Size([1, 3, 1])", "(1, 3, 1)")


@pytest.mark.parametrize("x,key", [(np.zeros((1, 3)), "batchnorm_one_sample_2d"),
                                   (np.zeros((1, 3, 1)), "batchnorm_one_value_3d")])
def test_batchnorm_one_value_per_channel_in_training_is_pytorchs_error(x, key):
    assert META["errors"][key]["type"] == "ValueError"
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError) as info:
        bn(x)
    assert _torch_message(key) in str(info.value)
    assert str(info.value).startswith("BatchNorm1d(3, eps=1e-05")
    assert int(bn.num_batches_tracked) == 0  # nothing was updated
    assert META["errors"]["batchnorm_one_sample_eval"] is None
    assert bn.eval()(x).shape == x.shape  # eval mode: fine, as in PyTorch


def test_batchnorm_one_sample_without_running_stats_fails_in_eval_too():
    assert META["errors"]["batchnorm_one_sample_eval_no_tracking"]["type"] == "ValueError"
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        BatchNorm1d(3, track_running_stats=False).eval()(np.zeros((1, 3)))


@pytest.mark.parametrize("shape", [(4, 5), (3,), (2, 3, 4, 5), (2, 4, 3)])
def test_batchnorm_wrong_input_shape(shape):
    assert META["errors"]["batchnorm_wrong_channels"] is not None  # PyTorch also refuses (RuntimeError)
    with pytest.raises(ValueError) as info:
        BatchNorm1d(3)(np.zeros(shape))
    assert str(info.value) == (
        "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True) "
        f"expects input of shape (N, 3) or (N, 3, L), got {shape}"
    )


@pytest.mark.parametrize("layer,shape,expected", [
    (LayerNorm((3, 4)), (2, 4, 3), "expects input of shape (..., 3, 4), got (2, 4, 3)"),
    (LayerNorm((3, 4)), (4,), "expects input of shape (..., 3, 4), got (4,)"),
    (RMSNorm(4), (2, 5), "expects input of shape (..., 4), got (2, 5)"),
])
def test_layernorm_rmsnorm_wrong_input_shape(layer, shape, expected):
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape))
    assert str(info.value) == f"{layer!r} {expected}"


@pytest.mark.parametrize("make", [lambda: BatchNorm1d(3), lambda: LayerNorm(3), lambda: RMSNorm(3)])
def test_dtype_errors(make):
    layer = make()
    with pytest.raises(TypeError, match="expects a floating-point input, got dtype int64"):
        layer(np.ones((4, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="has float64 parameters but got float32 input"):
        layer(np.ones((4, 3), dtype=np.float32))


def test_batchnorm_with_only_buffers_checks_their_dtype():
    with pytest.raises(TypeError, match="has float64 parameters but got float32 input"):
        BatchNorm1d(3, affine=False)(np.ones((4, 3), dtype=np.float32))


@pytest.mark.parametrize("make,x", [(lambda: BatchNorm1d(3), np.ones((4, 3))),
                                    (lambda: LayerNorm(3), np.ones((4, 3))),
                                    (lambda: RMSNorm(3), np.ones((4, 3)))])
def test_backward_before_forward_and_wrong_grad_shape(make, x):
    layer = make()
    with pytest.raises(RuntimeError) as info:
        layer.backward(np.ones((4, 3)))
    assert str(info.value) == f"{layer!r}: backward() called before forward()"
    layer(x)
    with pytest.raises(ValueError, match=r"expects grad_out of the output's shape \(4, 3\), got \(3, 4\)"):
        layer.backward(np.ones((3, 4)))


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_features=0), "num_features must be a positive int, got 0"),
    (dict(num_features=2.5), "num_features must be a positive int, got 2.5"),
    (dict(num_features=True), "num_features must be a positive int, got True"),
    (dict(num_features=3, eps=-1e-5), "eps must be a non-negative number"),
    (dict(num_features=3, momentum=1.5), r"momentum must be None or a number in \[0, 1\], got 1.5"),
    (dict(num_features=3, momentum="0.1"), "momentum must be None or a number"),
])
def test_batchnorm_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm1d(**kwargs)


def test_bad_boolean_flags():
    with pytest.raises(TypeError, match="BatchNorm1d: affine must be True or False, got 1"):
        BatchNorm1d(3, affine=1)
    with pytest.raises(TypeError, match="LayerNorm: elementwise_affine must be True or False"):
        LayerNorm(3, elementwise_affine="yes")
    with pytest.raises(TypeError, match="RMSNorm: elementwise_affine must be True or False"):
        RMSNorm(3, elementwise_affine=None)


@pytest.mark.parametrize("cls", [LayerNorm, RMSNorm])
@pytest.mark.parametrize("bad", [0, -2, (), (3, 0), "8", 2.0, (3, 2.5), None])
def test_bad_normalized_shape(cls, bad):
    with pytest.raises(ValueError, match=f"{cls.__name__}: normalized_shape must be a positive int"):
        cls(bad)


@pytest.mark.parametrize("cls", [LayerNorm, RMSNorm])
def test_bad_eps(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: eps must be a non-negative number, got -0.1"):
        cls(4, eps=-0.1)
    with pytest.raises(ValueError, match="eps must be a non-negative number"):
        cls(4, eps=float("nan"))
