r"""im2col and col2im: ``unfold`` and ``fold`` (PyTorch: ``torch.nn.functional.unfold`` / ``fold``).

A convolution is a matrix product in disguise. ``unfold`` copies every
``kH x kW`` patch that the kernel visits into one column::

    x (N, C, H, W)  --unfold-->  cols (N, C*kH*kW, L)

with PyTorch's ordering of a column's rows: the channel ``c`` outermost, then
the kernel row ``i``, then the kernel column ``j`` (row ``(c*kH + i)*kW + j``),
and the L = H_out * W_out patch positions in row-major order (left to right,
then top to bottom), where

.. math:: H_{out} = \lfloor (H + 2 p_H - d_H (k_H - 1) - 1) / s_H \rfloor + 1

(the same for W). Then a convolution with a weight ``(C_out, C, kH, kW)`` is
``weight.reshape(C_out, -1) @ cols``.

``fold`` goes back: it adds every column entry to the pixel it was copied
from, so pixels that belong to several patches collect the *sum* (it is the
adjoint, the transpose, of ``unfold``: <unfold(x), y> == <x, fold(y)>). That
is exactly what the backward pass of a convolution needs.

Both loop in Python over the kH*kW kernel offsets only (9 for a 3x3 kernel);
each step copies (or adds) one whole strided slice of the batch.

Inside, the layers keep images **batch-last**, (C, H, W, N) in memory. The
slice one kernel offset takes, ``x[:, i::s, j::s, :]``, is then made of long
contiguous runs of N values, which numpy copies several times faster than the
runs of 2 to 8 pixels of an image row in (N, C, H, W). The layers still take
and return ordinary (N, C, H, W) arrays: what they return is a transposed
*view* of a batch-last array (``y.transpose(3, 0, 1, 2)``), so that the next
layer gets its batch-last input for free (:func:`_batch_last`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["unfold", "fold"]


# --------------------------------------------------------------------------- argument helpers
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _pair(value, name: str, owner: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each at least ``minimum``."""
    pair = (value, value) if _is_int(value) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(_is_int(v) for v in pair)):
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < minimum:
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _output_size(owner: str, shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
                 dilation: tuple = (1, 1), subject: str = "input") -> tuple[int, int]:
    """(H_out, W_out) for an input of ``shape`` (..., H, W); a clear error when one is below 1."""
    sizes = []
    for (axis, letter), size, k, s, p, d in zip((("height", "H"), ("width", "W")), shape[-2:],
                                                kernel, stride, padding, dilation):
        k_eff = d * (k - 1) + 1  # the span of a dilated kernel
        out = (size + 2 * p - k_eff) // s + 1
        if out < 1:
            kernel_txt = "kernel" if d == 1 else "(dilation·(kernel − 1) + 1)"
            raise ValueError(
                f"{owner}: output {axis} ⌊({letter} + 2·padding − {kernel_txt})/stride⌋ + 1 = "
                f"⌊({size} + {2 * p} − {k_eff})/{s}⌋ + 1 = {out} < 1 for {subject} {tuple(shape)}"
                f" (the input is smaller than the kernel: pad it or use a smaller kernel)"
            )
        sizes.append(out)
    return sizes[0], sizes[1]


# --------------------------------------------------------------------------- the two workhorses
def _batch_last(x: np.ndarray, dtype=None) -> np.ndarray:
    """(N, C, H, W) -> the same images as a contiguous (C, H, W, N) array.

    No copy when ``x`` is a transposed view of such an array (what the image
    layers return); otherwise one copy.
    """
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0), dtype=dtype)


def _pad(xt: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    """Pad a batch-last (C, H, W, N) array by ``padding`` (pH, pW) pixels of ``value`` on every side."""
    ph, pw = padding
    if not (ph or pw):
        return xt
    c, h, w, n = xt.shape
    padded = np.full((c, h + 2 * ph, w + 2 * pw, n), value, dtype=xt.dtype)
    padded[:, ph: ph + h, pw: pw + w] = xt  # (np.pad does the same, several times slower)
    return padded


def _offsets(kernel, stride, out_size, dilation=(1, 1)):
    """For each kernel offset (i, j), in row-major order: (i, j, rows, cols).

    ``rows`` and ``cols`` are the slices of the *padded* image that this pixel
    of the kernel visits over all the H_out x W_out positions:
    ``padded[:, rows, cols]`` holds pixel (i, j) of every window.
    """
    (kh, kw), (sh, sw), (ho, wo), (dh, dw) = kernel, stride, out_size, dilation
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            yield i, j, slice(top, top + sh * (ho - 1) + 1, sh), slice(left, left + sw * (wo - 1) + 1, sw)


def _im2col(xt: np.ndarray, kernel, stride, padding, dilation=(1, 1), out_size=None) -> np.ndarray:
    """The windows of a batch-last ``xt`` (C, H, W, N) as an array (C, kH, kW, H_out, W_out, N).

    ``cols[c, i, j, h, w, n] = x_padded[c, h*sH + i*dH, w*sW + j*dW, n]``, zero padding.
    Reshaped to (C*kH*kW, H_out*W_out*N) it holds one column per window of every image.
    """
    c, n = xt.shape[0], xt.shape[-1]
    ho, wo = out_size if out_size is not None else _output_size(
        "unfold", (n, c, *xt.shape[1:3]), kernel, stride, padding, dilation)
    xp = _pad(xt, padding)
    cols = np.empty((c, kernel[0], kernel[1], ho, wo, n), dtype=xt.dtype)
    for i, j, rows, cols_ in _offsets(kernel, stride, (ho, wo), dilation):
        cols[:, i, j] = xp[:, rows, cols_]  # pixel (i, j) of every window, of every image: one slice
    return cols


def _col2im(cols: np.ndarray, size: tuple[int, int], stride, padding, dilation=(1, 1)) -> np.ndarray:
    """The adjoint of :func:`_im2col`: ``cols`` (C, kH, kW, H_out, W_out, N) -> (C, H, W, N).

    Each entry is added to the pixel it came from; overlapping windows add up;
    what falls on the padding is dropped.
    """
    c, kh, kw, ho, wo, n = cols.shape
    (ph, pw), (h, w) = padding, size
    out = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for i, j, rows, cols_ in _offsets((kh, kw), stride, (ho, wo), dilation):
        out[:, rows, cols_] += cols[:, i, j]  # no pixel twice within one slice: += is safe
    return out[:, ph: ph + h, pw: pw + w]


def _as_float_array(x, fn: str) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{fn} expects a floating-point input, got dtype {x.dtype}")
    return x


# --------------------------------------------------------------------------- public functions
def _window_args(owner: str, kernel_size, dilation, padding, stride):
    """``unfold``'s and ``fold``'s window arguments as pairs: (kernel, dilation, padding, stride)."""
    return (_pair(kernel_size, "kernel_size", owner, 1), _pair(dilation, "dilation", owner, 1),
            _pair(padding, "padding", owner, 0), _pair(stride, "stride", owner, 1))


def unfold(input: np.ndarray, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """Sliding ``kernel_size`` patches as columns (im2col), PyTorch's ``F.unfold``.

    Shapes: ``input`` (N, C, H, W) -> (N, C*kH*kW, L), or an unbatched
    (C, H, W) -> (C*kH*kW, L); L = H_out * W_out. Zero padding. Every
    argument is an int or a pair (height, width).
    """
    kernel, dil, pad, strd = _window_args("unfold", kernel_size, dilation, padding, stride)
    x = _as_float_array(input, "unfold")
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold expects input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    batched = x.ndim == 4
    x4 = x if batched else x[None]
    n, c = x4.shape[:2]
    ho, wo = _output_size("unfold", x4.shape, kernel, strd, pad, dil)
    cols = _im2col(_batch_last(x4), kernel, strd, pad, dil, (ho, wo))  # (C, kH, kW, H_out, W_out, N)
    # PyTorch's layout: (N, C*kH*kW, L), rows (c, i, j) and positions (h, w) in row-major order
    cols = np.ascontiguousarray(cols.reshape(c * kernel[0] * kernel[1], ho * wo, n).transpose(2, 0, 1))
    return cols if batched else cols[0]


def fold(input: np.ndarray, output_size, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """Sum columns back into an image (col2im), PyTorch's ``F.fold``: the adjoint of :func:`unfold`.

    Shapes: ``input`` (N, C*kH*kW, L) -> (N, C, H, W) with ``(H, W) = output_size``,
    or an unbatched (C*kH*kW, L) -> (C, H, W). L must equal the number of
    patch positions ``unfold`` gives for an (H, W) image with the same arguments.
    """
    size = _pair(output_size, "output_size", "fold", 1)
    kernel, dil, pad, strd = _window_args("fold", kernel_size, dilation, padding, stride)
    cols = _as_float_array(input, "fold")
    if cols.ndim not in (2, 3):
        raise ValueError(f"fold expects input of shape (N, C*kH*kW, L) or (C*kH*kW, L), got {cols.shape}")
    batched = cols.ndim == 3
    cols3 = cols if batched else cols[None]
    n, rows, length = cols3.shape
    kk = kernel[0] * kernel[1]
    if rows % kk:
        raise ValueError(
            f"fold: input's dimension {cols.ndim - 2} ({rows}) must be divisible by "
            f"kH*kW = {kernel[0]}*{kernel[1]} = {kk}, got input of shape {cols.shape}"
        )
    ho, wo = _output_size("fold", size, kernel, strd, pad, dil, subject="output_size")
    if length != ho * wo:
        raise ValueError(
            f"fold: output_size={size} with kernel_size={kernel}, dilation={dil}, padding={pad}, "
            f"stride={strd} has {ho} * {wo} = {ho * wo} sliding positions, but input's last "
            f"dimension is {length} (input shape {cols.shape})"
        )
    six = cols3.transpose(1, 2, 0).reshape(rows // kk, kernel[0], kernel[1], ho, wo, n)  # batch-last
    out = np.ascontiguousarray(_col2im(six, size, strd, pad, dil).transpose(3, 0, 1, 2))  # (N, C, H, W)
    return out if batched else out[0]
