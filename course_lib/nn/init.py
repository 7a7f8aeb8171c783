"""Weight initialisation (PyTorch: ``torch.nn.init``), with PyTorch's names and formulas.

For a weight of shape ``(out_features, in_features)``: ``fan_in = in_features``
(inputs summed into each output) and ``fan_out = out_features``.

Every function fills its argument **in place** (the trailing underscore, as in
PyTorch), accepts a ``Parameter`` or an ndarray, and returns it.
"""
from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from .parameter import Parameter

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]


def _array(tensor) -> np.ndarray:
    arr = tensor.data if isinstance(tensor, Parameter) else tensor
    if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"init expects a Parameter or a floating ndarray, got {type(tensor).__name__}")
    return arr


def _calculate_fan_in_and_fan_out(arr: np.ndarray) -> tuple[int, int]:
    if arr.ndim < 2:
        raise ValueError(
            f"fan in and fan out need an array of at least 2 dimensions, got shape {arr.shape}"
        )
    receptive = int(np.prod(arr.shape[2:])) if arr.ndim > 2 else 1
    return arr.shape[1] * receptive, arr.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``.

    linear/sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu: sqrt(2 / (1 + slope^2)), selu: 3/4.
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid"]
    if nonlinearity in linear_fns:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    arr = _array(tensor)
    arr[...] = _random.resolve(generator).uniform(a, b, size=arr.shape)
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    arr = _array(tensor)
    arr[...] = _random.resolve(generator).normal(mean, std, size=arr.shape)
    return tensor


def constant_(tensor, val: float):
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(arr, a, mode, nonlinearity) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(arr)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan)  (He et al., 2015)."""
    std = _kaiming_std(_array(tensor), a, mode, nonlinearity)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)  (He et al., 2015)."""
    std = _kaiming_std(_array(tensor), a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)
