"""Activation functions (活性化関数) as modules: forward and backward side by side.

Each module keeps the smallest cache its derivative needs:

=========  ===========================  =============================================
module     forward f(x)                 derivative f'(x), written from the cache
=========  ===========================  =============================================
ReLU       max(0, x)                    1 where x > 0, else 0 (PyTorch takes 0 at x = 0)
Sigmoid    s = 1 / (1 + e^-x)           s (1 - s)
Tanh       t = tanh(x)                  1 - t^2
GELU       x Phi(x)                     Phi(x) + x phi(x)   (phi: standard normal density)
=========  ===========================  =============================================
"""
from __future__ import annotations

import math

import numpy as np

from . import functional as F
from .module import Module


def _as_float(layer: Module, x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":  # not a floating dtype (the same test as np.issubdtype(x.dtype, np.floating), quicker)
        raise TypeError(f"{layer._name()} expects a floating-point input, got dtype {x.dtype}")
    return x


class _Elementwise(Module):
    """Shared plumbing: an element-wise function whose backward is grad_out * f'(x)."""

    def __init__(self) -> None:
        super().__init__()
        self._cache = None
        self._shape = None

    def forward(self, x):
        x = _as_float(self, x)
        self._shape = x.shape
        y, self._cache = self._forward(x)
        return y

    def backward(self, grad_out, input_grad: bool = True):
        self._check_input_grad(input_grad)
        cache = self._require_cache(self._cache)
        g = self._check_grad_out(grad_out, self._shape)
        if not input_grad:
            return None  # no parameters: nothing else to compute
        return g * self._derivative(cache)


class ReLU(_Elementwise):
    """ReLU(x) = max(0, x). Cache: the mask x > 0."""

    def _forward(self, x):
        # np.maximum keeps the dtype and is much faster than np.where. Against a row of zeros
        # (broadcast over the other axes) rather than the scalar 0: the same numbers, but numpy
        # runs its vectorised array-array loop, about twice as fast as the array-scalar one.
        return np.maximum(x, np.zeros(x.shape[-1:], dtype=x.dtype)), x > 0

    def _derivative(self, mask):
        return mask


class Sigmoid(_Elementwise):
    """Sigmoid(x) = 1 / (1 + e^-x), computed without overflow. Cache: the output s."""

    def _forward(self, x):
        s = F.sigmoid(x)
        return s, s

    def _derivative(self, s):
        return s * (1.0 - s)


class Tanh(_Elementwise):
    """Tanh(x). Cache: the output t."""

    def _forward(self, x):
        t = np.tanh(x)
        return t, t

    def _derivative(self, t):
        return 1.0 - t * t


# Python floats, not np.float64: a float32 input must give a float32 gradient.
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GELU(_Elementwise):
    """GELU(x) = x Phi(x) (Hendrycks & Gimpel, 2016), PyTorch's ``nn.GELU``.

    ``approximate="none"`` uses the exact normal CDF (via erf);
    ``approximate="tanh"`` uses GPT-2's tanh approximation.
    """

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__()
        self.approximate = approximate

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"

    def _forward(self, x):
        return F.gelu(x, self.approximate), x

    def _derivative(self, x):
        if self.approximate == "none":
            cdf = 0.5 * (1.0 + F.erf(x / math.sqrt(2.0)))
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * np.minimum(x * x, 1500.0))
            return cdf + x * pdf
        # d/dx [0.5 x (1 + tanh(u))], u = sqrt(2/pi) (x + 0.044715 x^3)
        u = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(u)
        du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
