r"""Pooling (プーリング): the maximum or the mean of every window, PyTorch's ``MaxPool2d``/``AvgPool2d``.

Both slide a ``kH x kW`` window over each channel separately (no parameters):

.. math:: H_{out} = \lfloor (H + 2\,\text{padding} - k_H) / \text{stride} \rfloor + 1

with ``stride = kernel_size`` by default (windows side by side, no overlap).

* ``MaxPool2d``: y = the window's maximum. Backward sends each output's
  gradient to **one** input, the window's arg-max (at a tie: the first of the
  tied pixels in row-major order, as PyTorch on the CPU); the other pixels of
  the window get 0. Where windows overlap (stride < kernel), a pixel that is
  the maximum of several windows collects the sum. The padding is -inf, so it
  is never the maximum.
* ``AvgPool2d``: y = the window's sum / (kH*kW), the padding counting as zeros
  (PyTorch's ``count_include_pad=True``). Backward spreads each output's
  gradient evenly, 1/(kH*kW) to each pixel of its window.

Both loop in Python over the kH*kW offsets of the window only (4 for
``MaxPool2d(2)``): pixel (i, j) of every window of every image is one strided
slice of the (padded) batch, the same slices as im2col's (see ``im2col.py``,
also for the batch-last layout used inside). Nothing is copied into columns,
and backward adds each slice's gradient back in place; where windows overlap
the slices overlap and the gradients add up.
"""
from __future__ import annotations

import numpy as np

from .conv import _check_image_batch
from .im2col import _batch_last, _offsets, _output_size, _pad, _pair
from .module import Module


class _Pool2d(Module):
    """Shared plumbing of both pooling layers: arguments, input checks, padding."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        owner = type(self).__name__
        self._kernel = _pair(kernel_size, "kernel_size", owner, 1)
        # stride=None (PyTorch's default) means stride = kernel_size: windows side by side
        self._stride = self._kernel if stride is None else _pair(stride, "stride", owner, 1)
        self._padding = _pair(padding, "padding", owner, 0)
        for p, k in zip(self._padding, self._kernel):
            if p > k // 2:  # PyTorch's rule (it checks in forward, with this message)
                raise ValueError(
                    f"{owner}: pad should be at most half of effective kernel size, but got "
                    f"padding={padding!r} and kernel_size={kernel_size!r} (padding <= kernel_size // 2 "
                    f"on each axis; otherwise a window could lie entirely in the padding)"
                )
        # printed as given (an int stays an int), as PyTorch does
        self.kernel_size = _as_printed(kernel_size)
        self.stride = self.kernel_size if stride is None else _as_printed(stride)
        self.padding = _as_printed(padding)
        self._in_shape = None
        self._out_shape = None
        self._dtype = None  # the input's dtype: the input gradient's too

    def _padded_input(self, x, pad_value: float) -> np.ndarray:
        """Check ``x`` (N, C, H, W); return it batch-last and padded, (C, H + 2pH, W + 2pW, N)."""
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"{self._name()} expects a floating-point input, got dtype {x.dtype} "
                f"(convert with x.astype(np.float32))"
            )
        _check_image_batch(self, x)
        n, c = x.shape[:2]
        ho, wo = _output_size(self._name(), x.shape, self._kernel, self._stride, self._padding)
        self._in_shape, self._out_shape, self._dtype = x.shape, (n, c, ho, wo), x.dtype
        return _pad(_batch_last(x), self._padding, pad_value)

    def _offsets(self):
        """(k, rows, cols) for each window offset k = i*kW + j: ``padded[:, rows, cols]`` is that pixel of every window."""
        for i, j, rows, cols in _offsets(self._kernel, self._stride, self._out_shape[2:]):
            yield i * self._kernel[1] + j, rows, cols

    def _overlap(self) -> bool:
        """Do windows overlap (stride < kernel_size on an axis)? Then a pixel can be in several."""
        return any(s < k for s, k in zip(self._stride, self._kernel))

    def _grad_batch_last(self, grad_out, input_grad) -> np.ndarray | None:
        """The backward checks; ``grad_out`` batch-last (C, H_out, W_out, N) in the input's dtype."""
        self._check_input_grad(input_grad)
        self._require_cache(self._out_shape)
        g = self._check_grad_out(grad_out, self._out_shape)
        return _batch_last(g, self._dtype) if input_grad else None

    def _to_image(self, dxp: np.ndarray) -> np.ndarray:
        """Padded batch-last gradient (C, H + 2pH, W + 2pW, N) -> (N, C, H, W) (a view), padding dropped."""
        (ph, pw), (h, w) = self._padding, self._in_shape[2:]
        return dxp[:, ph: ph + h, pw: pw + w].transpose(3, 0, 1, 2)


def _as_printed(v):
    return tuple(v) if isinstance(v, list) else v


def _only_default(owner: str, name: str, value, default) -> None:
    if value != default or type(value) is not type(default):
        raise ValueError(f"{owner}: only {name}={default!r} is supported, got {value!r}")


class MaxPool2d(_Pool2d):
    """Max pooling, PyTorch's ``nn.MaxPool2d`` (``dilation=1``, ``ceil_mode=False``, no ``return_indices``).

    Shapes: ``x`` (N, C, H, W) -> ``y`` (N, C, H_out, W_out), any float dtype, kept.
    ``kernel_size``, ``stride`` (default: ``kernel_size``) and ``padding`` are an int
    or a pair (height, width); padding is -inf and at most half the kernel.

    Forward is PyTorch's loop, run for all windows at once: start from -inf,
    visit the window's pixels in row-major order, and move to a pixel only if it
    is strictly larger (or NaN, which propagates). So at a tie the *first*
    maximal pixel wins, and only it gets the gradient.

    Cache: for each output, the offset k = i*kW + j of the pixel that won.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False) -> None:
        # kept so that the signature matches PyTorch's; only the defaults are supported
        _only_default("MaxPool2d", "dilation", dilation, 1)
        _only_default("MaxPool2d", "return_indices", return_indices, False)
        _only_default("MaxPool2d", "ceil_mode", ceil_mode, False)
        super().__init__(kernel_size, stride, padding)
        self._argmax = None  # cache: (C, H_out, W_out, N) offset of each window's maximum

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation=1, ceil_mode=False")

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = self._padded_input(x, -np.inf)  # (C, H + 2pH, W + 2pW, N); -inf never wins
        n, c, ho, wo = self._out_shape
        kk = self._kernel[0] * self._kernel[1]
        y = np.full((c, ho, wo, n), -np.inf, dtype=xp.dtype)  # the maximum so far
        idx = self._first_real_pixel(kk)  # where it is (before any pixel beat -inf)
        better = np.empty(y.shape, dtype=bool)
        for k, rows, cols in self._offsets():
            v = xp[:, rows, cols]  # pixel k of every window: (C, H_out, W_out, N)
            np.greater(v, y, out=better)
            better |= np.isnan(v)  # as PyTorch: a NaN takes over (and stays: nothing is > NaN)
            np.maximum(y, v, out=y)  # = v where better, else y (np.maximum propagates NaN too)
            # idx = k where better. k grows from step to step, so that is max(idx, k * better):
            # arithmetic, several times faster than a masked copy (np.copyto(..., where=better))
            np.maximum(idx, np.multiply(better, idx.dtype.type(k)), out=idx)
        self._argmax = idx
        return y.transpose(3, 0, 1, 2)  # (N, C, H_out, W_out), a view

    def _first_real_pixel(self, kk: int) -> np.ndarray:
        """The start index of PyTorch's loop: each window's first pixel that is not padding.

        It only matters when a whole window is -inf (then nothing beats the start). It is
        offset 0 without padding; a window at the top-left border starts at row pH - h*sH.
        """
        n, c, ho, wo = self._out_shape
        if self._padding == (0, 0):
            return np.zeros((c, ho, wo, n), dtype=_index_dtype(kk))
        (ph, pw), (sh, sw), kw = self._padding, self._stride, self._kernel[1]
        i0 = np.maximum(ph - sh * np.arange(ho), 0)  # first real row of each window row
        j0 = np.maximum(pw - sw * np.arange(wo), 0)
        first = (i0[:, None] * kw + j0[None, :]).astype(_index_dtype(kk))  # (H_out, W_out)
        return np.broadcast_to(first[None, :, :, None], (c, ho, wo, n)).copy()  # writable

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dLoss/dx: each output's gradient goes to its window's arg-max (None if ``input_grad=False``)."""
        self._require_cache(self._argmax)
        g = self._grad_batch_last(grad_out, input_grad)  # (C, H_out, W_out, N)
        if g is None:
            return None  # no parameters: nothing else to do
        idx = self._argmax
        c, hp, wp = self._in_shape[1], *(s + 2 * p for s, p in zip(self._in_shape[2:], self._padding))
        dxp = np.zeros((c, hp, wp, self._out_shape[0]), dtype=self._dtype)
        for k, rows, cols in self._offsets():
            # the outputs whose maximum is pixel k of their window send it their gradient.
            # g * mask rather than np.where(mask, g, 0): the same for finite gradients, and
            # several times faster (no branch per element)
            share = g * (idx == k)
            if self._overlap():
                dxp[:, rows, cols] += share  # a pixel in several windows collects the sum
            else:
                dxp[:, rows, cols] = share  # each pixel is in one window at most: no sum needed
        return self._to_image(dxp)


def _index_dtype(kk: int):
    """The smallest integer type that holds a window offset 0 ... kk - 1 (less memory to scan)."""
    return np.uint8 if kk <= 256 else np.intp


class AvgPool2d(_Pool2d):
    """Average pooling, PyTorch's ``nn.AvgPool2d`` (``ceil_mode=False``, ``count_include_pad=True``).

    Shapes: ``x`` (N, C, H, W) -> ``y`` (N, C, H_out, W_out), any float dtype, kept.
    ``kernel_size``, ``stride`` (default: ``kernel_size``) and ``padding`` are an int
    or a pair (height, width); the zero padding counts in the mean (every window
    divides by kH*kW), and is at most half the kernel.
    No cache but the shapes: backward does not depend on x.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None) -> None:
        # kept so that the signature matches PyTorch's; only the defaults are supported
        _only_default("AvgPool2d", "ceil_mode", ceil_mode, False)
        _only_default("AvgPool2d", "count_include_pad", count_include_pad, True)
        if divisor_override is not None:
            raise ValueError(f"AvgPool2d: only divisor_override=None is supported, got {divisor_override!r}")
        super().__init__(kernel_size, stride, padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = self._padded_input(x, 0.0)  # (C, H + 2pH, W + 2pW, N)
        n, c, ho, wo = self._out_shape
        total = np.zeros((c, ho, wo, n), dtype=xp.dtype)
        for _, rows, cols in self._offsets():
            total += xp[:, rows, cols]  # the window's pixels in row-major order, as PyTorch sums them
        total /= self._kernel[0] * self._kernel[1]
        return total.transpose(3, 0, 1, 2)  # (N, C, H_out, W_out), a view

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dLoss/dx: each output's gradient, divided by kH*kW, to every pixel of its window."""
        g = self._grad_batch_last(grad_out, input_grad)  # (C, H_out, W_out, N)
        if g is None:
            return None
        share = g / (self._kernel[0] * self._kernel[1])
        c, hp, wp = self._in_shape[1], *(s + 2 * p for s, p in zip(self._in_shape[2:], self._padding))
        dxp = np.zeros((c, hp, wp, self._out_shape[0]), dtype=self._dtype)
        for _, rows, cols in self._offsets():
            if self._overlap():
                dxp[:, rows, cols] += share  # a pixel in several windows collects the sum
            else:
                dxp[:, rows, cols] = share
        return self._to_image(dxp)
