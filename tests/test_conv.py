"""Conv2d, unfold/fold, MaxPool2d, AvgPool2d and Flatten.

Gradient checks, a naive reference convolution, the error messages, and PyTorch
parity against tests/fixtures/torch_conv.npz (written by
tools/torch_reference/conv.py with torch 2.13.0; these tests do not import torch,
except the last one, which is skipped without it).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck
from course_lib.nn import functional as F

REF = np.load(Path(__file__).parent / "fixtures" / "torch_conv.npz")
RTOL, ATOL = 1e-12, 1e-13


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def args_of(case: str) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(str(REF[f"{case}/args"])).items()}


def cases(prefix: str) -> list[str]:
    return sorted({k.split("/")[0] for k in REF.files if k.startswith(prefix)})


def distinct(rng, shape) -> np.ndarray:
    """Random values without ties (a shuffled grid, spacing 0.01 >> gradcheck's eps)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.01 - size * 0.005).reshape(shape)


def naive_conv2d(x, w, b, stride, padding):
    """The definition, four loops deep: y[n, o, h, w] = b[o] + sum_{c,i,j} W[o,c,i,j] x_pad[n, c, h*s+i, w*s+j]."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, hp, wp = xp.shape
    o, _, kh, kw = w.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for ni in range(n):
        for oi in range(o):
            for h in range(ho):
                for wi in range(wo):
                    patch = xp[ni, :, h * sh: h * sh + kh, wi * sw: wi * sw + kw]
                    y[ni, oi, h, wi] = np.sum(patch * w[oi]) + (0.0 if b is None else b[oi])
    return y


# ---------------------------------------------------------------------- gradcheck
CONV_CONFIGS = [  # (in, out, kernel, stride, padding, bias, input shape)
    (2, 3, 3, 1, 0, True, (2, 2, 5, 6)),
    (1, 4, 3, 1, 1, True, (2, 1, 5, 5)),
    (3, 2, (3, 2), (2, 1), (1, 0), True, (2, 3, 7, 6)),
    (2, 3, (2, 3), 2, (0, 1), False, (1, 2, 6, 7)),
    (2, 2, 1, 1, 0, True, (2, 2, 3, 4)),
    (1, 2, 3, 3, 1, True, (1, 1, 7, 8)),  # stride 3: the last column is not in any window
]


@pytest.mark.parametrize("cfg", CONV_CONFIGS)
def test_conv2d_gradcheck(cfg):
    cin, cout, k, s, p, bias, shape = cfg
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias, generator=rng)
    assert gradcheck(conv, rng.standard_normal(shape))
    assert [name for name, _ in conv.named_parameters()] == (["weight", "bias"] if bias else ["weight"])


@pytest.mark.parametrize("cfg", CONV_CONFIGS)
def test_conv2d_equals_naive_loops(cfg):
    cin, cout, k, s, p, bias, shape = cfg
    rng = np.random.default_rng(1)
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias, generator=rng)
    x = rng.standard_normal(shape)
    expected = naive_conv2d(x, conv.weight.data, None if conv.bias is None else conv.bias.data,
                            conv.stride, conv.padding)
    close(conv(x), expected)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=2), (2, 3, 6, 4)),
    (dict(kernel_size=2), (1, 2, 5, 7)),  # odd sizes: the last row and column are in no window
    (dict(kernel_size=3, stride=1), (2, 2, 5, 5)),  # overlapping windows
    (dict(kernel_size=3, stride=2, padding=1), (1, 2, 7, 6)),  # overlap and -inf padding
    (dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)), (2, 1, 5, 7)),
])
def test_maxpool_gradcheck(kwargs, shape):
    assert gradcheck(nn.MaxPool2d(**kwargs), distinct(np.random.default_rng(2), shape))


@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=2), (2, 3, 6, 4)),
    (dict(kernel_size=3, stride=1), (1, 2, 5, 6)),
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 7, 6)),
    (dict(kernel_size=(3, 2), stride=1, padding=(1, 1)), (1, 1, 4, 5)),
])
def test_avgpool_gradcheck(kwargs, shape):
    assert gradcheck(nn.AvgPool2d(**kwargs), np.random.default_rng(3).standard_normal(shape))


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (2, 3), (1, 2)])
def test_flatten_gradcheck(start, end):
    assert gradcheck(nn.Flatten(start, end), np.random.default_rng(4).standard_normal((2, 3, 2, 2)))


def small_cnn(rng, dtype=np.float64):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, dtype=dtype, generator=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3, padding=1, dtype=dtype, generator=rng), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(6, 5, dtype=dtype, generator=rng))  # (8, 6) -> (4, 3) -> (2, 1)


def test_small_cnn_gradcheck():
    rng = np.random.default_rng(5)
    net = small_cnn(rng)
    assert gradcheck(net, rng.standard_normal((2, 1, 8, 6)))


def test_small_cnn_with_loss_gradcheck():
    rng = np.random.default_rng(6)
    net, crit = small_cnn(rng), nn.CrossEntropyLoss()
    x, target = rng.standard_normal((3, 1, 8, 6)), rng.integers(0, 5, size=3)

    def model_and_loss(x):
        loss = crit(net(x), target)
        return np.array(loss), lambda g: net.backward(crit.backward() * g)

    assert gradcheck(model_and_loss, x)


# ---------------------------------------------------------------------- unfold / fold
@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 2, 5, 6)),
    (dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)), (1, 3, 6, 5)),
    (dict(kernel_size=2, dilation=2, padding=1, stride=2), (2, 1, 7, 8)),
    (dict(kernel_size=2), (3, 4, 5)),  # unbatched (C, H, W)
])
def test_unfold_fold_adjoint(kwargs, shape):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    cols = F.unfold(x, **kwargs)
    y = rng.standard_normal(cols.shape)
    folded = F.fold(y, shape[-2:], **kwargs)
    assert folded.shape == shape
    assert np.sum(cols * y) == pytest.approx(np.sum(x * folded), rel=1e-12)


def test_unfold_row_order_and_conv_as_matrix_product():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    cols = F.unfold(x, (2, 3))  # (N, C*kH*kW, L)
    assert cols.shape == (2, 3 * 6, 3 * 3)
    # row (c*kH + i)*kW + j, column h*W_out + w holds x[n, c, h + i, w + j]
    assert cols[1, (2 * 2 + 1) * 3 + 2, 1 * 3 + 2] == x[1, 2, 1 + 1, 2 + 2]
    rng = np.random.default_rng(8)
    conv = nn.Conv2d(3, 4, (2, 3), generator=rng)
    y = (conv.weight.data.reshape(4, -1) @ cols + conv.bias.data[:, None]).reshape(2, 4, 3, 3)
    close(conv(x), y)


def test_fold_of_ones_counts_windows():
    counts = F.fold(np.ones((1, 9, 9)), (5, 5), 3)  # 3x3 kernel, stride 1 on a 5x5 image
    assert counts[0, 0].tolist()[0] == [1, 2, 3, 2, 1]
    assert counts[0, 0, 2, 2] == 9


# ---------------------------------------------------------------------- input_grad=False, dtypes
@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Conv2d(2, 3, 3, padding=1, generator=np.random.default_rng(9)), (2, 2, 5, 5)),
    (lambda: nn.Conv2d(2, 3, (2, 3), stride=2, bias=False, generator=np.random.default_rng(9)), (2, 2, 6, 7)),
    (lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
    (lambda: nn.AvgPool2d(3, 1, 1), (2, 2, 4, 4)),
    (lambda: nn.Flatten(), (2, 2, 4, 4)),
    (lambda: small_cnn(np.random.default_rng(9)), (2, 1, 8, 6)),
])
def test_input_grad_false_same_param_grads_returns_none(make, shape):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape)
    a, b = make(), make()
    ya, yb = a(x), b(x)
    g = rng.standard_normal(ya.shape)
    dx = a.backward(g)
    assert dx.shape == x.shape
    assert b.backward(g, input_grad=False) is None
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(pa.grad, pb.grad), name  # bit-identical
    with pytest.raises(TypeError, match="input_grad to be True or False"):
        a.backward(g, input_grad=1)


def test_parameter_gradients_accumulate():
    rng = np.random.default_rng(11)
    conv = nn.Conv2d(2, 3, 3, generator=rng)
    x = rng.standard_normal((2, 2, 5, 5))
    g = rng.standard_normal(conv(x).shape)
    conv.backward(g)
    once = conv.weight.grad.copy()
    conv(x)
    conv.backward(g)
    close(conv.weight.grad, 2 * once)


def test_float32_layers_stay_float32():
    rng = np.random.default_rng(12)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, dtype=np.float32, generator=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, dtype=np.float32, generator=rng), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64, 10, dtype=np.float32, generator=rng))
    x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    h = x
    for layer in net:
        h = layer(h)
        assert h.dtype == np.float32, layer
    dx = net.backward(np.ones_like(h))
    assert dx.dtype == np.float32
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in net.parameters())
    for layer in (nn.MaxPool2d(3, 1, 1), nn.AvgPool2d(3, 2, 1)):
        y = layer(x)
        assert y.dtype == layer.backward(np.ones_like(y)).dtype == np.float32
    assert F.unfold(x, 3).dtype == F.fold(F.unfold(x, 3), (8, 8), 3).dtype == np.float32


def test_layers_do_not_modify_their_arguments():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 2, 6, 6))
    for layer in (nn.Conv2d(2, 3, 3, padding=1, generator=rng), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2), nn.Flatten()):
        x0 = x.copy()
        y = layer(x)
        g = rng.standard_normal(y.shape)
        g0 = g.copy()
        layer.backward(g)
        assert np.array_equal(x, x0) and np.array_equal(g, g0), layer


def test_default_init_bounds_as_pytorch():
    conv = nn.Conv2d(3, 64, (3, 5), generator=np.random.default_rng(14))
    bound = 1 / math.sqrt(3 * 3 * 5)  # kaiming_uniform(a=sqrt(5)) on fan_in = C_in*kH*kW
    assert conv.weight.shape == (64, 3, 3, 5) and conv.bias.shape == (64,)
    for p in (conv.weight.data, conv.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    assert conv.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert nn.Conv2d(2, 2, 3, bias=False).bias is None


def test_reprs():
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(2, 3, (3, 2), stride=2, bias=False)) == \
        "Conv2d(2, 3, kernel_size=(3, 2), stride=(2, 2), bias=False)"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    for name in ("Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"):
        assert name in nn.__all__ and hasattr(nn, name)
    assert "unfold" in F.__all__ and "fold" in F.__all__


# ---------------------------------------------------------------------- errors
def test_conv_wrong_channels():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4.*expects 3 input channel.*\(N, 3, H, W\).*\(2, 1, 5, 5\)"):
        conv(np.zeros((2, 1, 5, 5)))


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.AvgPool2d(2)],
                         ids=["Conv2d", "MaxPool2d", "AvgPool2d"])
def test_3d_input_hint_and_other_ranks(layer):
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}\(.*\(N, C, H, W\).*3-D input of shape \(3, 5, 5\).*x\[None\]"):
        layer(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match=rf"{name}\(.*\(N, C, H, W\).*\(5, 5\)"):
        layer(np.zeros((5, 5)))


@pytest.mark.parametrize("layer,shape,numbers", [
    (nn.Conv2d(1, 2, 3), (1, 1, 2, 5), "⌊(2 + 0 − 3)/1⌋ + 1 = 0"),
    (nn.Conv2d(1, 2, (1, 5), stride=2, padding=(0, 1)), (1, 1, 4, 2), "⌊(2 + 2 − 5)/2⌋ + 1 = 0"),
    (nn.MaxPool2d(3), (1, 1, 2, 2), "⌊(2 + 0 − 3)/3⌋ + 1 = 0"),
    (nn.AvgPool2d(4, padding=1), (1, 1, 1, 8), "⌊(1 + 2 − 4)/4⌋ + 1 = 0"),
])
def test_image_smaller_than_kernel(layer, shape, numbers):
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape))
    msg = str(info.value)
    assert type(layer).__name__ in msg and numbers in msg and "< 1" in msg and str(shape) in msg
    assert "stride" in msg and "padding" in msg and "kernel" in msg  # the formula, in words


@pytest.mark.parametrize("layer", [nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.AvgPool2d(2)],
                         ids=["Conv2d", "MaxPool2d", "AvgPool2d"])
def test_integer_input(layer):
    with pytest.raises(TypeError, match=rf"{type(layer).__name__}\(.*floating-point input, got dtype int64.*astype"):
        layer(np.zeros((1, 1, 4, 4), dtype=np.int64))


def test_unfold_fold_integer_input():
    with pytest.raises(TypeError, match="unfold expects a floating-point input, got dtype int64"):
        F.unfold(np.zeros((1, 1, 4, 4), dtype=np.int64), 2)
    with pytest.raises(TypeError, match="fold expects a floating-point input"):
        F.fold(np.zeros((1, 4, 4), dtype=np.int32), (3, 3), 2)


def test_conv_dtype_mismatch():
    conv = nn.Conv2d(1, 2, 3, dtype=np.float32)
    with pytest.raises(TypeError, match="float32 parameters but got float64 input"):
        conv(np.zeros((1, 1, 4, 4)))


@pytest.mark.parametrize("layer", [nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten()],
                         ids=["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"])
def test_wrong_grad_out_shape_and_backward_before_forward(layer):
    name = type(layer).__name__
    with pytest.raises(RuntimeError, match=rf"{name}\(.*backward\(\) called before forward\(\)"):
        layer.backward(np.zeros((1, 2, 2, 2)))
    y = layer(np.zeros((2, 1, 6, 6)))
    with pytest.raises(ValueError, match=rf"{name}\(.*expects grad_out of the output's shape "
                                         rf"{re_shape(y.shape)}, got \(2, 9\)"):
        layer.backward(np.zeros((2, 9)))


def re_shape(shape) -> str:
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_pool_padding_at_most_half_kernel():
    with pytest.raises(ValueError, match=r"MaxPool2d: pad should be at most half of effective kernel size.*padding=2.*kernel_size=3"):
        nn.MaxPool2d(3, padding=2)
    with pytest.raises(ValueError, match="AvgPool2d: pad should be at most half"):
        nn.AvgPool2d((2, 4), padding=(2, 1))
    nn.MaxPool2d(2, padding=1)  # exactly half: allowed, as PyTorch
    nn.MaxPool2d((3, 4), padding=(1, 2))


def test_bad_arguments():
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive int, got 0"):
        nn.Conv2d(0, 2, 3)
    with pytest.raises(TypeError, match=r"Conv2d: kernel_size must be an int or a pair of ints \(height, width\), got \(3, 3, 3\)"):
        nn.Conv2d(1, 2, (3, 3, 3))
    with pytest.raises(ValueError, match="Conv2d: stride must be positive, got 0"):
        nn.Conv2d(1, 2, 3, stride=0)
    with pytest.raises(ValueError, match="Conv2d: padding must be non-negative"):
        nn.Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(TypeError, match="Conv2d: padding must be an int or a pair"):
        nn.Conv2d(1, 2, 3, padding="same")
    with pytest.raises(ValueError, match="MaxPool2d: only ceil_mode=False is supported"):
        nn.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(ValueError, match="AvgPool2d: only count_include_pad=True is supported"):
        nn.AvgPool2d(2, count_include_pad=False)


def test_fold_errors():
    with pytest.raises(ValueError, match=r"fold: input's dimension 1 \(7\) must be divisible by kH\*kW = 2\*2 = 4"):
        F.fold(np.zeros((1, 7, 4)), (3, 3), 2)
    with pytest.raises(ValueError, match=r"fold: output_size=\(3, 3\).*2 \* 2 = 4 sliding positions.*last dimension is 5"):
        F.fold(np.zeros((1, 8, 5)), (3, 3), 2)
    with pytest.raises(ValueError, match=r"unfold expects input of shape \(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"):
        F.unfold(np.zeros((4, 4)), 2)


def test_flatten_errors():
    with pytest.raises(IndexError, match=r"Flatten\(start_dim=1, end_dim=4\): end_dim=4 is out of range for a 4-d input"):
        nn.Flatten(1, 4)(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="start_dim cannot come after end_dim"):
        nn.Flatten(2, 1)(np.zeros((2, 3, 4, 5)))


# ---------------------------------------------------------------------- max-pool ties and routing
def test_maxpool_ties_pick_first_in_row_major_order():
    pool = nn.MaxPool2d(2)
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]])  # ties: 3 twice, 2 four times
    close(pool(x), [[[[3.0, 2.0]]]])
    dx = pool.backward(np.array([[[[10.0, 20.0]]]]))
    close(dx, [[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])  # one position per window


def test_maxpool_overlapping_windows_accumulate():
    pool = nn.MaxPool2d(3, stride=1)
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 5.0  # the maximum of all four 3x3 windows
    pool(x)
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert dx[0, 0, 1, 2] == 10.0 and np.count_nonzero(dx) == 1


def test_maxpool_nan_propagates():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 0, 1] = np.nan
    y = nn.MaxPool2d(2)(x)
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 0, 1] == 0.0


# ---------------------------------------------------------------------- PyTorch parity (fixture)
def test_fixture_made_with_torch_2_13():
    assert str(REF["torch_version"]).startswith("2.13.0")


@pytest.mark.parametrize("case", cases("conv_"))
def test_conv2d_matches_torch(case):
    kw = args_of(case)
    conv = nn.Conv2d(**kw)
    assert repr(conv) == str(REF[f"{case}/repr"])
    assert conv.weight.shape == REF[f"{case}/w"].shape
    conv.weight.data[...] = REF[f"{case}/w"]
    if conv.bias is not None:
        conv.bias.data[...] = REF[f"{case}/b"]
    close(conv(REF[f"{case}/x"]), REF[f"{case}/y"])
    close(conv.backward(REF[f"{case}/g"]), REF[f"{case}/dx"])
    close(conv.weight.grad, REF[f"{case}/dw"])
    if conv.bias is not None:
        close(conv.bias.grad, REF[f"{case}/db"])


@pytest.mark.parametrize("case", cases("unfold_"))
def test_unfold_fold_match_torch(case):
    kw = args_of(case)
    x = REF[f"{case}/x"]
    close(F.unfold(x, **kw), REF[f"{case}/unfold"], atol=0)  # copies: exact
    close(F.fold(REF[f"{case}/y"], x.shape[-2:], **kw), REF[f"{case}/fold"])


@pytest.mark.parametrize("case", cases("max_") + cases("avg_"))
def test_pooling_matches_torch(case):
    cls = nn.MaxPool2d if case.startswith("max_") else nn.AvgPool2d
    pool = cls(**args_of(case))
    assert repr(pool) == str(REF[f"{case}/repr"])
    y = pool(REF[f"{case}/x"])
    if case.startswith("max_"):
        np.testing.assert_array_equal(y, REF[f"{case}/y"])  # a copy of one input per window: exact
    else:
        close(y, REF[f"{case}/y"])
    # (overlapping windows add gradients in another order than PyTorch: equal to rounding)
    close(pool.backward(REF[f"{case}/g"]), REF[f"{case}/dx"])


@pytest.mark.parametrize("case", cases("flatten_"))
def test_flatten_matches_torch(case):
    layer = nn.Flatten(**args_of(case))
    assert repr(layer) == str(REF[f"{case}/repr"])
    x = np.zeros(tuple(REF["flatten/in_shape"]))
    y = layer(x)
    assert y.shape == tuple(REF[f"{case}/shape"])
    assert layer.backward(np.ones(y.shape)).shape == x.shape


def test_cnn_matches_torch():
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(64, 10))
    assert repr(net) == str(REF["cnn/repr"])
    for name, p in net.named_parameters():
        p.data[...] = REF[f"cnn/param/{name}"]
    crit = nn.CrossEntropyLoss()
    loss = crit(net(REF["cnn/x"]), REF["cnn/target"])
    assert loss == pytest.approx(float(REF["cnn/loss"]), rel=1e-12)
    close(net.backward(crit.backward()), REF["cnn/dx"])
    for name, p in net.named_parameters():
        close(p.grad, REF[f"cnn/grad/{name}"])


# ---------------------------------------------------------------------- live PyTorch (optional)
def test_live_torch_conv_and_pools():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    x = rng.integers(-2, 3, size=(3, 2, 9, 8)).astype(np.float64)  # ties for the max-pools
    conv = nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 1), generator=rng)
    tconv = torch.nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 1)).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(conv.weight.data))
        tconv.bias.copy_(torch.from_numpy(conv.bias.data))
    for ours, theirs in ((conv, tconv), (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
                         (nn.AvgPool2d(2, 1, 1), torch.nn.AvgPool2d(2, 1, 1))):
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        g = rng.standard_normal(tuple(yt.shape))
        yt.backward(torch.from_numpy(g))
        close(ours(x), yt.detach().numpy())
        close(ours.backward(g), xt.grad.numpy())
        assert repr(ours) == repr(theirs)
    close(conv.weight.grad, tconv.weight.grad.numpy())
    close(conv.bias.grad, tconv.bias.grad.numpy())
