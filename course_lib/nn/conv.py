r"""The 2-D convolution layer (畳み込み層), computed as im2col + one matrix product.

For an input ``x`` (N, C_in, H, W) and a weight ``W`` (C_out, C_in, kH, kW),

.. math:: y[n, o, h, w] = b[o] + \sum_{c, i, j} W[o, c, i, j]\; x_{pad}[n, c, h s_H + i, w s_W + j]

(a cross-correlation: the kernel is not flipped, as in PyTorch). With
``cols = unfold(x)`` of shape (N, C_in*kH*kW, L), L = H_out*W_out, this is a
matrix product ``W.reshape(C_out, -1) @ cols``. The layer puts the columns of
all N images side by side, (C_in*kH*kW, L*N), so the whole batch is **one**
matrix product (as ``Linear`` flattens (B, T, C) to (B*T, C)); backward is
three more:

* dW = ``grad_out @ cols^T``   (the cached columns; the sum over the batch is in the product),
* db = ``grad_out`` summed over the batch and the positions,
* dx = ``fold(W^T @ grad_out)``  (col2im: overlapping patches add up).

The arrays are batch-last, (C, H, W, N), inside the layer (see ``im2col.py``
for why); input and output are ordinary (N, C, H, W) arrays.
"""
from __future__ import annotations

import math

import numpy as np

from . import init
from .im2col import _batch_last, _col2im, _im2col, _is_int, _output_size, _pair
from .linear import _check_float_input
from .module import Module
from .parameter import Parameter


def _check_image_batch(layer: Module, x: np.ndarray) -> None:
    """Shared shape check of the image layers: a batch (N, C, H, W)."""
    if x.ndim == 3:
        raise ValueError(
            f"{layer._name()} expects a batch of images (N, C, H, W), got a 3-D input of shape "
            f"{x.shape}; for a single image (C, H, W) add the batch axis: x[None]"
        )
    if x.ndim != 4:
        raise ValueError(f"{layer._name()} expects a batch of images (N, C, H, W), got shape {x.shape}")


class Conv2d(Module):
    r"""2-D convolution, PyTorch's ``nn.Conv2d`` (without ``dilation``, ``groups`` and ``padding_mode``).

    Shapes: ``x`` (N, C_in, H, W) -> ``y`` (N, C_out, H_out, W_out) with

    .. math:: H_{out} = \lfloor (H + 2\,\text{padding} - k_H) / \text{stride} \rfloor + 1

    (the same for W); ``weight`` (C_out, C_in, kH, kW), ``bias`` (C_out,).
    ``kernel_size``, ``stride`` and ``padding`` are an int or a pair
    (height, width); padding is with zeros. Only dilation 1, one group and
    integer padding (not the strings ``"same"``/``"valid"``) are supported.

    Initialisation as PyTorch: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = C_in*kH*kW (``kaiming_uniform_(a=sqrt(5))`` for the weight).
    ``dtype`` defaults to float64 (for gradient checks); ``dtype=np.float32``
    for training, and a float32 layer computes in float32 throughout.

    Cache: the input's columns, (C_in*kH*kW, L*N): ``unfold(x)`` with the batch
    put beside the L = H_out*W_out positions.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not _is_int(v) or v <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = _pair(padding, "padding", "Conv2d", 0)
        kh, kw = self.kernel_size
        self.weight = Parameter(np.empty((out_channels, in_channels, kh, kw), dtype=dtype))
        # PyTorch: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if bias:
            fan_in = in_channels * kh * kw
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator)
        else:
            self.register_parameter("bias", None)
        self._cols = None  # cache: the columns of the batch, (C_in*kH*kW, L*N)
        self._in_shape = None
        self._out_shape = None

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_float_input(self, x, self.weight.dtype)
        _check_image_batch(self, x)
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(
                f"{self._name()} expects {self.in_channels} input channel(s), i.e. input of shape "
                f"(N, {self.in_channels}, H, W), got {x.shape} with {c} channel(s)"
            )
        ho, wo = _output_size(self._name(), x.shape, self.kernel_size, self.stride, self.padding)
        cols = _im2col(_batch_last(x), self.kernel_size, self.stride, self.padding, out_size=(ho, wo))
        cols = cols.reshape(-1, ho * wo * n)  # (C_in*kH*kW, L*N): one column per window of every image
        self._cols, self._in_shape, self._out_shape = cols, x.shape, (n, self.out_channels, ho, wo)
        w2 = self.weight.data.reshape(self.out_channels, -1)  # (C_out, C_in*kH*kW)
        y = w2 @ cols  # (C_out, L*N): the one matrix product, for every image at once
        if self.bias is not None:
            y += self.bias.data[:, None]  # in place: no second output-sized array
        # (C_out, H_out, W_out, N) seen as (N, C_out, H_out, W_out): a view, no copy
        return y.reshape(self.out_channels, ho, wo, n).transpose(3, 0, 1, 2)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Add dLoss/dweight and dLoss/dbias into ``.grad``; return dLoss/dx (None if ``input_grad=False``)."""
        self._check_input_grad(input_grad)
        cols = self._require_cache(self._cols)  # (C_in*kH*kW, L*N)
        g = self._check_grad_out(grad_out, self._out_shape)
        g2 = _batch_last(g).reshape(self.out_channels, -1)  # (C_out, L*N), the columns' order
        # dW[o, r] = sum over images and positions of g2[o, l] * cols[r, l]
        self.weight.grad += (g2 @ cols.T).reshape(self.weight.shape)
        if self.bias is not None:
            self.bias.grad += g2.sum(axis=1)  # (C_out,)
        if not input_grad:
            return None  # the caller does not need dx: skip W^T @ g and col2im
        w2 = self.weight.data.reshape(self.out_channels, -1)
        dcols = w2.T @ g2  # (C_in*kH*kW, L*N)
        n, _, ho, wo = self._out_shape
        kh, kw = self.kernel_size
        dcols = dcols.reshape(self.in_channels, kh, kw, ho, wo, n)
        dx = _col2im(dcols, self._in_shape[2:], self.stride, self.padding)  # (C_in, H, W, N)
        return dx.transpose(3, 0, 1, 2)  # (N, C_in, H, W), a view
