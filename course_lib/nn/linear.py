"""The linear (fully connected) layer: y = x W^T + b."""
from __future__ import annotations

import math

import numpy as np

from . import init
from .module import Module
from .parameter import Parameter


def _check_float_input(layer: Module, x, dtype) -> np.ndarray:
    """Shared input check: a floating array of the layer's dtype."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype == dtype:  # the usual case, decided by one comparison (dtype is a floating dtype)
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{layer._name()} expects a floating-point input, got dtype {x.dtype} "
            f"(convert with x.astype(np.{np.dtype(dtype).name}))"
        )
    if x.dtype != dtype:
        raise TypeError(
            f"{layer._name()} has {np.dtype(dtype).name} parameters but got {x.dtype} input "
            f"(convert the input with x.astype(np.{np.dtype(dtype).name}) or the layer with .to(np.{x.dtype.name}))"
        )
    return x


class Linear(Module):
    r"""Fully connected layer (全結合層), PyTorch's ``nn.Linear``.

    .. math:: y = x W^\top + b

    Shapes: ``x`` (..., in_features) -> ``y`` (..., out_features);
    ``weight`` (out_features, in_features), ``bias`` (out_features,).

    Initialisation as PyTorch: weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    ``dtype`` defaults to float64 (exact enough for gradient checks); use
    ``dtype=np.float32`` for faster training.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Linear: {name} must be a positive int, got {v!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        # PyTorch: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            bound = 1.0 / math.sqrt(in_features)
            init.uniform_(self.bias, -bound, bound, generator)
        else:
            self.register_parameter("bias", None)
        self._x = None  # cache: the input, flattened to (N, in_features)
        self._in_shape = None

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_float_input(self, x, self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self._name()} expects input of shape (..., {self.in_features}), got {x.shape}"
            )
        self._in_shape = x.shape
        x2 = x.reshape(-1, self.in_features)  # (N, in)
        self._x = x2
        y = x2 @ self.weight.data.T  # (N, out)
        if self.bias is not None:
            y += self.bias.data  # in place: no second (N, out) array
        return y.reshape(*x.shape[:-1], self.out_features)  # (..., out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Add dLoss/dweight and dLoss/dbias into ``.grad``; return dLoss/dx (None if ``input_grad=False``)."""
        self._check_input_grad(input_grad)
        x2 = self._require_cache(self._x)  # (N, in)
        g = self._check_grad_out(grad_out, (*self._in_shape[:-1], self.out_features))
        g2 = g.reshape(-1, self.out_features)  # (N, out)
        self.weight.grad += g2.T @ x2  # (out, in): sum over the batch of outer products
        if self.bias is not None:
            self.bias.grad += g2.sum(axis=0)  # (out,)
        if not input_grad:
            return None  # the input is data: skip the (N, out) @ (out, in) product
        dx = g2 @ self.weight.data  # (N, in)
        return dx.reshape(self._in_shape)
