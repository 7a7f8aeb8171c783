r"""Normalization layers (正規化): BatchNorm1d, LayerNorm and RMSNorm, with PyTorch's semantics.

All three rescale activations so that they have a steady size, then let the
network pick the size it wants back through a learnable scale (``weight``,
gamma) and shift (``bias``, beta). They differ in **which numbers are pooled**
to compute the statistics:

=============  ===================================  ==========================================
layer          statistics over                      x: (N, C) example
=============  ===================================  ==========================================
BatchNorm1d    the batch, per feature (channel)     mean over axis 0: C means, one per feature
LayerNorm      the features, per sample             mean over axis 1: N means, one per sample
RMSNorm        the features, per sample, no mean    root mean square over axis 1, no centring
=============  ===================================  ==========================================

Forward, with ``m`` the number of pooled values:

.. math::

    \mu = \frac1m \sum x, \quad \sigma^2 = \frac1m \sum (x-\mu)^2, \quad
    \hat x = \frac{x-\mu}{\sqrt{\sigma^2+\epsilon}}, \quad y = \gamma \hat x + \beta

Backward (the same compact formula for BatchNorm and LayerNorm, only the axis
changes), with :math:`d\hat x = \gamma \cdot dy` and means over the pooled axis:

.. math::

    dx = \frac{1}{\sqrt{\sigma^2+\epsilon}}
         \left( d\hat x - \mathrm{mean}(d\hat x) - \hat x \, \mathrm{mean}(d\hat x \, \hat x) \right)

The two subtracted terms are the gradient flowing through :math:`\mu` and
through :math:`\sigma^2`. RMSNorm has no :math:`\mu`, so its formula lacks the
middle term. In eval mode BatchNorm uses fixed running statistics, which do
not depend on ``x``: the backward is then just :math:`dx = d\hat x / \sqrt{\sigma^2_{run}+\epsilon}`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "LayerNorm", "RMSNorm"]


# ---------------------------------------------------------------------- shared helpers
def _check_float(layer: Module, x, dtype) -> np.ndarray:
    """A floating array; of ``dtype`` when the layer holds arrays of that dtype (``dtype=None``: any float)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{layer._name()} expects a floating-point input, got dtype {x.dtype} "
            f"(convert with x.astype(np.{np.dtype(dtype or np.float64).name}))"
        )
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{layer._name()} has {np.dtype(dtype).name} parameters but got {x.dtype} input "
            f"(convert the input with x.astype(np.{np.dtype(dtype).name}) or the layer with .to(np.{x.dtype.name}))"
        )
    return x


def _layer_dtype(layer: Module):
    """The dtype of the layer's parameters or buffers, or None when it has neither."""
    for p in layer.parameters():
        return p.dtype
    for name in layer._buffer_names:
        buf = getattr(layer, name)
        if np.issubdtype(buf.dtype, np.floating):
            return buf.dtype
    return None


def _check_eps(layer: str, eps) -> None:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0 or math.isinf(eps):
        raise ValueError(f"{layer}: eps must be a non-negative number, got {eps!r}")


def _check_bool(layer: str, name: str, value) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be True or False, got {value!r}")


def _as_shape(layer: str, normalized_shape) -> tuple[int, ...]:
    """``8`` -> ``(8,)``; ``(3, 4)`` or ``[3, 4]`` -> ``(3, 4)``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if (not shape or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in shape)):
        raise ValueError(
            f"{layer}: normalized_shape must be a positive int or a non-empty tuple of positive ints, "
            f"got {normalized_shape!r}"
        )
    return tuple(int(d) for d in shape)


def _normalize_backward(dx_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx of x_hat = (x - mean) * inv_std, both statistics taken over ``axis``."""
    return inv_std * (
        dx_hat
        - dx_hat.mean(axis=axis, keepdims=True)  # through the mean
        - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)  # through the variance
    )


# ---------------------------------------------------------------------- BatchNorm1d
class BatchNorm1d(Module):
    r"""Batch normalization (バッチ正規化), PyTorch's ``nn.BatchNorm1d``.

    Shapes: ``x`` (N, C) or (N, C, L) -> ``y`` of the same shape, ``C = num_features``.
    Each channel is normalized with statistics pooled over the batch (and over
    ``L`` for 3-D inputs: every position of every sample counts).

    * training: the batch's mean and **biased** variance (divide by m) normalize
      the batch; the running statistics move towards the batch's mean and its
      **unbiased** variance (divide by m - 1), as PyTorch does:
      ``running = (1 - momentum) * running + momentum * batch_stat``.
      ``momentum=None`` uses the cumulative average ``1 / num_batches_tracked``.
    * eval: ``running_mean`` and ``running_var`` normalize, so the output of a
      sample no longer depends on the rest of the batch.
    * ``track_running_stats=False``: no running statistics; batch statistics in both modes.

    ``weight`` (gamma, ones) and ``bias`` (beta, zeros) have shape (C,).
    Buffers (saved by ``state_dict``): ``running_mean`` (zeros), ``running_var``
    (ones), ``num_batches_tracked`` (an int64 counter).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True,
                 dtype=np.float64) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise ValueError(f"BatchNorm1d: num_features must be a positive int, got {num_features!r}")
        _check_eps("BatchNorm1d", eps)
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
                                     or not 0 <= momentum <= 1):
            raise ValueError(f"BatchNorm1d: momentum must be None or a number in [0, 1], got {momentum!r}")
        for name, value in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            _check_bool("BatchNorm1d", name, value)
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        C = self.num_features
        if affine:
            self.weight = Parameter(np.ones(C, dtype=dtype))  # gamma, (C,)
            if bias:
                self.bias = Parameter(np.zeros(C, dtype=dtype))  # beta, (C,)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.running_mean = np.zeros(C, dtype=dtype)  # (C,)
            self.running_var = np.ones(C, dtype=dtype)  # (C,)
            self.num_batches_tracked = np.array(0, dtype=np.int64)
            self._buffer_names = ("running_mean", "running_var", "num_batches_tracked")
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
            self._buffer_names = ()
        # cache of the last forward: x_hat (m, C), inv_std (C,), whether batch statistics
        # were used (then the backward goes through them), and the input shape
        self._cache = None

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    # (N, C) stays (N, C); (N, C, L) becomes (N*L, C): one row per (sample, position)
    @staticmethod
    def _to_rows(x: np.ndarray) -> np.ndarray:
        if x.ndim == 2:
            return x
        return x.transpose(0, 2, 1).reshape(-1, x.shape[1])  # (N, C, L) -> (N, L, C) -> (N*L, C)

    @staticmethod
    def _from_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
        if len(shape) == 2:
            return rows
        N, C, L = shape
        return np.ascontiguousarray(rows.reshape(N, L, C).transpose(0, 2, 1))  # (N, C, L)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_float(self, x, _layer_dtype(self))
        C = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != C:
            raise ValueError(
                f"{self._name()} expects input of shape (N, {C}) or (N, {C}, L), got {x.shape}"
            )
        rows = self._to_rows(x)  # (m, C), m = N or N*L
        m = rows.shape[0]
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            if m <= 1:
                raise ValueError(
                    f"{self._name()}: Expected more than 1 value per channel when training, "
                    f"got input size {x.shape} (the variance of one value is 0: use a batch of "
                    f"at least 2 samples, or call .eval() to use the running statistics)"
                )
            mean = rows.mean(axis=0)  # (C,)
            var = rows.var(axis=0)  # (C,) biased: divides by m
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean, self.running_var  # (C,) each
        inv_std = 1.0 / np.sqrt(var + float(self.eps))  # (C,)
        x_hat = (rows - mean) * inv_std  # (m, C)
        y = x_hat
        if self.weight is not None:
            y = y * self.weight.data  # (m, C) * (C,)
        if self.bias is not None:
            y = y + self.bias.data
        self._cache = (x_hat, inv_std, use_batch_stats, x.shape)
        return self._from_rows(y, x.shape)

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        self.num_batches_tracked += 1
        if self.momentum is None:  # cumulative average of all batches so far
            factor = 1.0 / float(self.num_batches_tracked)
        else:  # exponential moving average
            factor = self.momentum
        unbiased_var = var * m / (m - 1)  # PyTorch stores the unbiased estimate
        # update in place, so references (and state_dict copies made later) see the new values
        self.running_mean[...] = (1 - factor) * self.running_mean + factor * mean
        self.running_var[...] = (1 - factor) * self.running_var + factor * unbiased_var

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        self._check_input_grad(input_grad)
        x_hat, inv_std, used_batch_stats, shape = self._require_cache(self._cache)
        g = self._to_rows(self._check_grad_out(grad_out, shape))  # (m, C)
        if self.weight is not None:
            self.weight.grad += (g * x_hat).sum(axis=0)  # (C,)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)  # (C,)
        if not input_grad:
            return None
        dx_hat = g * self.weight.data if self.weight is not None else g  # (m, C)
        if used_batch_stats:  # mean and variance depend on x: pool over the batch axis
            dx = _normalize_backward(dx_hat, x_hat, inv_std, axis=0)
        else:  # eval: fixed running statistics, an affine map of x
            dx = dx_hat * inv_std
        return self._from_rows(dx, shape)


# ---------------------------------------------------------------------- LayerNorm
class LayerNorm(Module):
    r"""Layer normalization (層正規化), PyTorch's ``nn.LayerNorm``.

    Normalizes each sample over its trailing dimensions ``normalized_shape``
    (an int ``D`` for the last axis, or a tuple for several), so it behaves the
    same in training and eval, for any batch size, even 1.

    Shapes: ``x`` (..., *normalized_shape) -> ``y`` of the same shape;
    ``weight`` (gamma, ones) and ``bias`` (beta, zeros) have shape ``normalized_shape``.
    ``elementwise_affine=False`` removes both; ``bias=False`` removes beta only.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, *, dtype=np.float64) -> None:
        super().__init__()
        self.normalized_shape = _as_shape("LayerNorm", normalized_shape)
        _check_eps("LayerNorm", eps)
        _check_bool("LayerNorm", "elementwise_affine", elementwise_affine)
        _check_bool("LayerNorm", "bias", bias)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self._buffer_names = ()
        self._cache = None  # x_hat (rows, D), inv_std (rows, 1), input shape

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_float(self, x, _layer_dtype(self))
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            dims = ", ".join(str(d) for d in self.normalized_shape)
            raise ValueError(f"{self._name()} expects input of shape (..., {dims}), got {x.shape}")
        D = math.prod(self.normalized_shape)
        rows = x.reshape(-1, D)  # (rows, D): one row per sample (every leading index)
        mean = rows.mean(axis=1, keepdims=True)  # (rows, 1)
        var = rows.var(axis=1, keepdims=True)  # (rows, 1) biased, as PyTorch
        inv_std = 1.0 / np.sqrt(var + float(self.eps))  # (rows, 1)
        x_hat = (rows - mean) * inv_std  # (rows, D)
        y = x_hat
        if self.weight is not None:
            y = y * self.weight.data.reshape(D)
        if self.bias is not None:
            y = y + self.bias.data.reshape(D)
        self._cache = (x_hat, inv_std, x.shape)
        return y.reshape(x.shape)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        self._check_input_grad(input_grad)
        x_hat, inv_std, shape = self._require_cache(self._cache)
        D = x_hat.shape[1]
        g = self._check_grad_out(grad_out, shape).reshape(-1, D)  # (rows, D)
        if self.weight is not None:
            self.weight.grad += (g * x_hat).sum(axis=0).reshape(self.normalized_shape)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0).reshape(self.normalized_shape)
        if not input_grad:
            return None
        dx_hat = g * self.weight.data.reshape(D) if self.weight is not None else g  # (rows, D)
        dx = _normalize_backward(dx_hat, x_hat, inv_std, axis=1)  # pool over the features
        return dx.reshape(shape)


# ---------------------------------------------------------------------- RMSNorm
class RMSNorm(Module):
    r"""Root-mean-square normalization, PyTorch's ``nn.RMSNorm`` (LLaMA-style models).

    .. math:: y = \frac{x}{\sqrt{\mathrm{mean}(x^2) + \epsilon}} \cdot \gamma

    LayerNorm without the mean subtraction and without a bias: each sample is
    only rescaled to unit root mean square over ``normalized_shape``.
    ``eps=None`` means ``np.finfo(x.dtype).eps`` of the input (PyTorch's
    ``torch.finfo(x.dtype).eps``), e.g. 2.2e-16 for float64.

    Shapes: ``x`` (..., *normalized_shape) -> ``y`` of the same shape;
    ``weight`` (gamma, ones) has shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 *, dtype=np.float64) -> None:
        super().__init__()
        self.normalized_shape = _as_shape("RMSNorm", normalized_shape)
        if eps is not None:
            _check_eps("RMSNorm", eps)
        _check_bool("RMSNorm", "elementwise_affine", elementwise_affine)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self._buffer_names = ()
        self._cache = None  # x_hat (rows, D), inv_rms (rows, 1), input shape

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_float(self, x, _layer_dtype(self))
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            dims = ", ".join(str(d) for d in self.normalized_shape)
            raise ValueError(f"{self._name()} expects input of shape (..., {dims}), got {x.shape}")
        eps = np.finfo(x.dtype).eps if self.eps is None else float(self.eps)
        D = math.prod(self.normalized_shape)
        rows = x.reshape(-1, D)  # (rows, D)
        mean_square = (rows * rows).mean(axis=1, keepdims=True)  # (rows, 1)
        inv_rms = 1.0 / np.sqrt(mean_square + eps)  # (rows, 1)
        x_hat = rows * inv_rms  # (rows, D)
        y = x_hat * self.weight.data.reshape(D) if self.weight is not None else x_hat
        self._cache = (x_hat, inv_rms, x.shape)
        return y.reshape(x.shape)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        self._check_input_grad(input_grad)
        x_hat, inv_rms, shape = self._require_cache(self._cache)
        D = x_hat.shape[1]
        g = self._check_grad_out(grad_out, shape).reshape(-1, D)  # (rows, D)
        if self.weight is not None:
            self.weight.grad += (g * x_hat).sum(axis=0).reshape(self.normalized_shape)
        if not input_grad:
            return None
        dx_hat = g * self.weight.data.reshape(D) if self.weight is not None else g  # (rows, D)
        # LayerNorm's formula without the "through the mean" term
        dx = inv_rms * (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True))
        return dx.reshape(shape)
