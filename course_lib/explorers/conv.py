r"""Explorer for notebook 08 (convolutional networks, 畳み込みニューラルネットワーク): one filter over one image.

Convention: **cross-correlation, as PyTorch's ``nn.Conv2d``** (and
``course_lib.nn.Conv2d``): the kernel is *not* flipped. With zero padding P
and stride S, output position (r, c) of a K x K kernel ``w`` is

.. math:: y[r, c] = \sum_{i, j} w[i, j]\; x_{pad}[r S + i,\; c S + j],
          \qquad H_{out} = \lfloor (H + 2P - K) / S \rfloor + 1

(the same for the width). The pure functions below do all the computing:

    output_size(8, 3, stride=1, padding=1)         # 8
    correlate2d(image, FILTER_PRESETS["blur"], stride=1, padding=1)   # (8, 8) feature map (特徴マップ)
    receptive_field(0, 0, 3, stride=1, padding=1)  # (-1, 2, -1, 2): rows -1..1, columns -1..1
    formula_text(8, 8, 3, 1, 1)                    # "H_out = ⌊(8 + 2·1 − 3)/1⌋ + 1 = 8, W_out = 8"
    feature_maps(model, image)                     # [("0 Conv2d", (C, h, w)), ...] up to Flatten

:class:`ConvExplorer` puts controls in front of them: an image, a filter
(フィルタ), stride and padding, the output position whose window is outlined,
and, given a trained network, a second view with its feature maps layer by
layer. :func:`draw_conv_examples` is the static figure for the notebook.

The filters (:data:`FILTER_PRESETS`) and what a *positive* response means
(image coordinates: row 0 at the top):

* ``"vertical edge"``: Sobel ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``: positive
  where the intensity grows from left to right, negative where it falls, 0 on
  flat regions (the weights sum to 0);
* ``"horizontal edge"``: its transpose: positive where it grows downwards;
* ``"blur"``: the 3 x 3 Gaussian ``[1, 2, 1]^T [1, 2, 1] / 16`` (sums to 1);
* ``"sharpen"``: unsharp masking, ``2 · identity − blur`` (the image plus
  its difference from the blurred image; sums to 1). Every weight lies in
  [-2, 2], the range of the custom-weight sliders;
* ``"identity"``: 1 in the centre: the output is the input (with padding 1).
"""
from __future__ import annotations

import contextlib
import html
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np

from ..nn import Flatten
from ..nn.functional import unfold
from ..plotting import COLORS, freeze_layout, image_axes
from ._base import Explorer

__all__ = [
    "FILTER_PRESETS", "CUSTOM", "default_images", "output_size", "correlate2d", "receptive_field",
    "formula_text", "feature_maps", "NetworkView", "network_view", "feature_mosaic",
    "ConvState", "conv_state", "draw_conv_examples", "draw_feature_maps", "ConvExplorer",
]


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


_SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_GAUSS = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0
_IDENTITY = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])

#: filter name -> 3 x 3 kernel (read-only float64), used as a cross-correlation as in PyTorch (module docstring)
FILTER_PRESETS: dict[str, np.ndarray] = {
    "vertical edge": _frozen(_SOBEL),
    "horizontal edge": _frozen(_SOBEL.T),
    "blur": _frozen(_GAUSS),
    "sharpen": _frozen(2.0 * _IDENTITY - _GAUSS),
    "identity": _frozen(_IDENTITY),
}

#: the filter dropdown's last entry: the nine weight sliders
CUSTOM = "custom"

WEIGHT_RANGE = (-2.0, 2.0)  # the custom-weight sliders
MAX_STRIDE, MAX_PADDING = 3, 2
MIN_IMAGE = 3  # images must be at least kernel-sized: every stride and padding then gives an output


# --------------------------------------------------------------------------- images
def default_images(size: int = 12) -> dict[str, np.ndarray]:
    """A few synthetic ``size`` x ``size`` patterns in [0, 1] (used when the explorer gets no images).

    ``"square"`` (a filled square: four edges), ``"cross"`` (a plus sign),
    ``"diagonal"`` (a 2-pixel-wide diagonal line) and ``"vertical step"``
    (dark left half, bright right half: one vertical edge).
    """
    if not isinstance(size, (int, np.integer)) or size < 6:
        raise ValueError(f"default_images: size must be an int >= 6, got {size!r}")
    n = int(size)
    q = n // 4
    square = np.zeros((n, n))
    square[q:n - q, q:n - q] = 1.0
    cross = np.zeros((n, n))
    mid = n // 2
    cross[mid - 1:mid + 1, q - 1:n - q + 1] = 1.0
    cross[q - 1:n - q + 1, mid - 1:mid + 1] = 1.0
    diagonal = np.clip(np.eye(n) + np.eye(n, k=1), 0.0, 1.0)
    step = np.zeros((n, n))
    step[:, mid:] = 1.0
    return {"square": square, "cross": cross, "diagonal": diagonal, "vertical step": step}


def _check_images(images) -> dict[str, np.ndarray]:
    if not isinstance(images, dict) or not images:
        raise ValueError("ConvExplorer: images must be a non-empty dict name -> (H, W) array")
    out = {}
    for name, img in images.items():
        a = np.asarray(img, dtype=np.float64)
        if a.ndim == 3 and a.shape[0] == 1:  # (1, H, W): one channel
            a = a[0]
        if a.ndim != 2 or min(a.shape) < MIN_IMAGE:
            raise ValueError(f"ConvExplorer: image {name!r} must be (H, W) with H, W >= {MIN_IMAGE}, "
                             f"got shape {np.shape(img)}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"ConvExplorer: image {name!r} contains NaN or infinite values")
        out[str(name)] = a
    return out


# --------------------------------------------------------------------------- pure functions
def _check_int(fn: str, name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{fn}: {name} must be an int >= {lo}, got {v!r}")
    return int(v)


def _pair(fn: str, name: str, v, lo: int) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{fn}: {name} must be an int or a pair (height, width), got {v!r}")
        return _check_int(fn, name, v[0], lo), _check_int(fn, name, v[1], lo)
    k = _check_int(fn, name, v, lo)
    return k, k


def _formula(size: int, kernel: int, stride: int, padding: int) -> tuple[str, int]:
    out = (size + 2 * padding - kernel) // stride + 1
    return f"⌊({size} + 2·{padding} − {kernel})/{stride}⌋ + 1 = {out}", out


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """⌊(size + 2·padding − kernel)/stride⌋ + 1: the output length of a convolution along one axis.

    Raises ``ValueError`` (with the formula filled in) when it is below 1,
    i.e. when the kernel is larger than the padded input.
    """
    size = _check_int("output_size", "size", size, 1)
    kernel = _check_int("output_size", "kernel", kernel, 1)
    stride = _check_int("output_size", "stride", stride, 1)
    padding = _check_int("output_size", "padding", padding, 0)
    text, out = _formula(size, kernel, stride, padding)
    if out < 1:
        raise ValueError(f"output_size: {text} < 1: the kernel ({kernel}) is larger than the padded "
                         f"input ({size} + 2·{padding} = {size + 2 * padding}); pad more or use a smaller kernel")
    return out


def correlate2d(image, kernel, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The feature map of one kernel over one image: what ``Conv2d`` computes for one channel, no bias.

    ``image`` (H, W), ``kernel`` (kH, kW) -> (H_out, W_out), float64, with
    ``y[r, c] = sum_ij kernel[i, j] * x_pad[r*stride + i, c*stride + j]``
    (cross-correlation: the kernel is not flipped) and ``x_pad`` the image
    with ``padding`` rows/columns of zeros on every side. ``stride`` and
    ``padding`` are an int or a pair (height, width).

    Computed as ``Conv2d`` does: the patches as columns (``unfold``, im2col)
    and one product with the flattened kernel.
    """
    x = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError(f"correlate2d: expects image (H, W) and kernel (kH, kW), got {x.shape} and {k.shape}")
    sh, sw = _pair("correlate2d", "stride", stride, 1)
    ph, pw = _pair("correlate2d", "padding", padding, 0)
    kh, kw = k.shape
    ho = output_size(x.shape[0], kh, sh, ph)
    wo = output_size(x.shape[1], kw, sw, pw)
    cols = unfold(x[None], (kh, kw), padding=(ph, pw), stride=(sh, sw))  # (kH·kW, H_out·W_out)
    return (k.ravel() @ cols).reshape(ho, wo)


def receptive_field(out_row: int, out_col: int, kernel, stride=1, padding=0) -> tuple[int, int, int, int]:
    """The input pixels output ``(out_row, out_col)`` sees: ``(row0, row1, col0, col1)``, **half-open**.

    Rows ``row0 .. row1 - 1`` and columns ``col0 .. col1 - 1`` of the
    *unpadded* image (``row1 - row0 = kH``): ``row0 = out_row·stride −
    padding``. With padding the window may reach outside the image (negative
    indices, or ``>= H``): those pixels are the zero padding.
    """
    r = _check_int("receptive_field", "out_row", out_row, 0)
    c = _check_int("receptive_field", "out_col", out_col, 0)
    kh, kw = _pair("receptive_field", "kernel", kernel, 1)
    sh, sw = _pair("receptive_field", "stride", stride, 1)
    ph, pw = _pair("receptive_field", "padding", padding, 0)
    row0, col0 = r * sh - ph, c * sw - pw
    return row0, row0 + kh, col0, col0 + kw


def formula_text(H: int, W: int, K: int, S: int, P: int) -> str:
    """The output-size formula filled in, plain text: ``"H_out = ⌊(8 + 2·1 − 3)/1⌋ + 1 = 8, W_out = 8"``.

    The width gets its own formula when ``W != H``. Never raises: an output
    below 1 is written out and flagged ("< 1: no output").
    """
    h_text, h_out = _formula(int(H), int(K), int(S), int(P))
    if int(W) == int(H):
        text = f"H_out = {h_text}, W_out = {h_out}"
        bad = h_out < 1
    else:
        w_text, w_out = _formula(int(W), int(K), int(S), int(P))
        text = f"H_out = {h_text}, W_out = {w_text}"
        bad = min(h_out, w_out) < 1
    return text + (" (< 1: no output, the kernel is larger than the padded image)" if bad else "")


def _model_dtype(model) -> np.dtype:
    for p in model.parameters():
        return p.data.dtype
    return np.dtype(np.float64)


def _as_batch(model, image) -> np.ndarray:
    x = np.asarray(image)
    if x.ndim == 2:
        x = x[None]  # (1, H, W): one channel
    if x.ndim != 3:
        raise ValueError(f"feature_maps: expects one image (C, H, W) or (H, W), got shape {x.shape}")
    return x[None].astype(_model_dtype(model))  # (1, C, H, W): a batch of one, in the model's dtype


@contextlib.contextmanager
def _eval_mode(model):
    """Run ``model`` in eval mode, then give every submodule back its own training flag."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def feature_maps(model, image) -> list[tuple[str, np.ndarray]]:
    """The feature maps of one image after every layer of a CNN, up to (not including) ``Flatten``.

    ``model``: a course_lib ``nn.Sequential`` (e.g. Conv2d, ReLU, MaxPool2d,
    ..., Flatten, Linear); ``image``: (1, H, W), or (H, W) for one channel.
    Returns ``[(name, maps), ...]``, one entry per layer, ``name`` like
    ``"0 Conv2d"`` (the layer's index in the Sequential and its class) and
    ``maps`` a float64 array (C, h, w). The walk stops before the first
    ``Flatten`` or at the first layer whose output is not (1, C, h, w).
    The model runs in eval mode (Dropout off, BatchNorm with its running
    statistics); afterwards every layer is back in the mode it was in.
    A layer that cannot take the image raises its ``ValueError``.
    """
    x = _as_batch(model, image)
    out = []
    with _eval_mode(model):
        for name, m in model.named_children():
            if isinstance(m, Flatten):
                break
            x = m(x)
            if x.ndim != 4:
                break
            out.append((f"{name} {type(m).__name__}", np.array(x[0], dtype=np.float64)))
    return out


@dataclass(frozen=True)
class NetworkView:
    """What the network view shows for one image: its feature maps and the network's answer."""

    maps: list  # [(name, (C, h, w) float64), ...]: feature_maps(model, image)
    probs: np.ndarray | None  # (K,) softmax of the output when it is one row of logits, else None
    error: str | None  # why the network cannot take this image (then maps is empty)
    input_shape: tuple | None = None  # (H, W) of the image

    @property
    def predicted(self) -> int | None:
        return None if self.probs is None else int(np.argmax(self.probs))


def network_view(model, image) -> NetworkView:
    """:func:`feature_maps` of ``image`` plus the model's prediction; never raises for an image that
    does not fit (wrong size for the network's Linear layer, smaller than a kernel): ``error`` says why."""
    try:
        maps = feature_maps(model, image)
        with _eval_mode(model):
            y = np.asarray(model(_as_batch(model, image)), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        return NetworkView(maps=[], probs=None, error=str(exc), input_shape=tuple(np.shape(image)[-2:]))
    probs = None
    if y.ndim == 2 and y.shape[0] == 1 and y.shape[1] > 1 and np.all(np.isfinite(y)):
        z = y[0] - y[0].max()  # stable softmax
        e = np.exp(z)
        probs = e / e.sum()
    return NetworkView(maps=maps, probs=probs, error=None, input_shape=tuple(np.shape(image)[-2:]))


def _resample(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resize of (..., h0, w0) to (..., h, w) (a small map drawn with big pixels)."""
    ri = (np.arange(h) * a.shape[-2]) // h
    ci = (np.arange(w) * a.shape[-1]) // w
    return a[..., ri[:, None], ci[None, :]]


def feature_mosaic(maps: list, max_channels: int = 8) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """All feature maps in one picture: one row per layer, one tile per channel.

    Every map is resized (nearest neighbour) to one tile size, the largest
    map's, so a 2 x 2 map after pooling shows as 4 big pixels; each row is
    divided by its largest absolute value, so it spans [-1, 1] (a diverging
    colour map centred at 0 then shows every layer). Gaps and missing
    channels are NaN. At most ``max_channels`` channels per layer.
    Returns ``(mosaic, scales, (tile_h, tile_w, gap))``: ``scales[k]`` is
    the max |value| of layer k (1 for an all-zero layer).
    """
    th = max(m.shape[1] for _, m in maps)
    tw = max(m.shape[2] for _, m in maps)
    gap = max(1, min(th, tw) // 8)
    n_cols = min(max_channels, max(m.shape[0] for _, m in maps))
    mosaic = np.full((len(maps) * (th + gap) - gap, n_cols * (tw + gap) - gap), np.nan)
    scales = np.ones(len(maps))
    for k, (_, m) in enumerate(maps):
        top = float(np.max(np.abs(m)))
        scales[k] = top if top > 0 else 1.0
        tiles = _resample(m[:n_cols], th, tw) / scales[k]  # (C, th, tw) in [-1, 1]
        r0 = k * (th + gap)
        for c, tile in enumerate(tiles):
            c0 = c * (tw + gap)
            mosaic[r0:r0 + th, c0:c0 + tw] = tile
    return mosaic, scales, (th, tw, gap)


# --------------------------------------------------------------------------- the state
@dataclass(frozen=True)
class ConvState:
    """Everything the explorer shows for one setting."""

    view: str  # "conv" or "network"
    image_name: str
    image: np.ndarray  # (H, W)
    filter_name: str  # a FILTER_PRESETS key or CUSTOM
    kernel: np.ndarray  # (3, 3)
    stride: int
    padding: int
    out_row: int  # the chosen output position (clamped into the feature map)
    out_col: int
    feature_map: np.ndarray  # (H_out, W_out) correlate2d(image, kernel, stride, padding)
    window: tuple  # receptive_field(out_row, out_col, 3, stride, padding): half-open, unpadded coordinates
    value: float  # feature_map[out_row, out_col]
    formula: str  # formula_text(H, W, 3, stride, padding)
    network: NetworkView | None = field(default=None)

    @property
    def padded(self) -> np.ndarray:
        """The image with its zero padding, (H + 2P, W + 2P)."""
        return np.pad(self.image, self.padding)

    @property
    def touches_padding(self) -> bool:
        r0, r1, c0, c1 = self.window
        h, w = self.image.shape
        return r0 < 0 or c0 < 0 or r1 > h or c1 > w


def conv_state(image, kernel, stride: int = 1, padding: int = 0, out_row: int = 0, out_col: int = 0,
               image_name: str = "image", filter_name: str = CUSTOM, view: str = "conv",
               network: NetworkView | None = None) -> ConvState:
    """The :class:`ConvState` of one setting; ``out_row``/``out_col`` are clamped into the feature map."""
    x = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    fm = correlate2d(x, k, stride, padding)
    r = min(max(int(out_row), 0), fm.shape[0] - 1)
    c = min(max(int(out_col), 0), fm.shape[1] - 1)
    return ConvState(
        view=view, image_name=image_name, image=x, filter_name=filter_name, kernel=k,
        stride=int(stride), padding=int(padding), out_row=r, out_col=c, feature_map=fm,
        window=receptive_field(r, c, k.shape, stride, padding), value=float(fm[r, c]),
        formula=formula_text(x.shape[0], x.shape[1], k.shape[0], stride, padding), network=network,
    )


# --------------------------------------------------------------------------- drawing
def _symmetric(a: np.ndarray) -> float:
    top = float(np.max(np.abs(a))) if a.size else 0.0
    return top if top > 0 else 1.0


def _short(v: float) -> str:
    """A weight in at most 4 characters, for the small cells of the input: ".25", "-.06", "1.75", "-2"."""
    def fmt(spec: str) -> str:
        s = format(v, spec).rstrip("0").rstrip(".")
        s = "0" if s in ("-0", "") else s
        return s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s

    s = fmt(".2f")
    return s if len(s) <= 4 else fmt(".1f")


def _num(v: float) -> str:
    """A weight for the kernel panel and the status line: "-1", "0.0625", "1.75", "0.3"."""
    s = f"{v:.3g}"
    return "0" if s == "-0" else s


def _gray(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(h, w) values -> (h, w, 3) RGB: low values white, high values black (ink on paper)."""
    t = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    return np.repeat((1.0 - 0.92 * t)[..., None], 3, axis=2)


PAD_TINT = np.array([0.80, 0.88, 0.96])  # the zero padding: a pale blue, not the image's white


def _input_rgb(state: ConvState) -> np.ndarray:
    img = state.image
    lo, hi = min(0.0, float(img.min())), float(img.max())
    if hi <= lo:
        hi = lo + 1.0
    rgb = _gray(state.padded, lo, hi)
    p = state.padding
    if p:
        mask = np.ones(state.padded.shape, dtype=bool)
        mask[p:p + img.shape[0], p:p + img.shape[1]] = False
        rgb[mask] = PAD_TINT
    return rgb


def _grid_segments(h: int, w: int, x0: float, y0: float) -> list:
    """Lines between the cells of an h x w grid whose top-left cell is centred at (x0, y0)."""
    segs = [[(x0 - 0.5 + j, y0 - 0.5), (x0 - 0.5 + j, y0 - 0.5 + h)] for j in range(w + 1)]
    segs += [[(x0 - 0.5, y0 - 0.5 + i), (x0 - 0.5 + w, y0 - 0.5 + i)] for i in range(h + 1)]
    return segs


class ConvFigure:
    """The explorer's three panels: padded input with the window, the kernel, the feature map.

    Built once on ``fig``; ``update(state)`` puts a state into it. Every
    artist lives inside axes without frames or ticks and is in ``animated``,
    so a redraw needs no new background whatever the sizes (the axes ranges
    follow the image and the feature map).
    """

    def __init__(self, fig) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Rectangle
        import matplotlib.patheffects as pe

        self.fig = fig
        self.ax_in, self.ax_k, self.ax_out = fig.subplots(1, 3, width_ratios=[1.0, 0.62, 1.0])
        for ax in (self.ax_in, self.ax_k, self.ax_out):
            ax.set_axis_off()
            ax.set_aspect("equal")
        dummy = np.zeros((3, 3))
        # left: the padded input, its grid, the image's border, the window and its 9 weights
        self.in_img = self.ax_in.imshow(np.ones((3, 3, 3)), interpolation="nearest")
        self.in_grid = LineCollection([], colors="0.6", linewidths=0.5)
        self.ax_in.add_collection(self.in_grid)
        self.in_border = Rectangle((0, 0), 1, 1, fill=False, edgecolor="0.35", linestyle="--", linewidth=1.2)
        self.window = Rectangle((0, 0), 3, 3, fill=False, edgecolor=COLORS[3], linewidth=3.0)
        self.ax_in.add_patch(self.in_border)
        self.ax_in.add_patch(self.window)
        halo = [pe.withStroke(linewidth=2.5, foreground="white")]
        self.w_texts = [self.ax_in.text(0, 0, "", ha="center", va="center", fontsize=8, color=COLORS[3],
                                        fontweight="bold", path_effects=halo) for _ in range(9)]
        self.in_title = self.ax_in.set_title("")
        # middle: the kernel as a heat map with its numbers
        self.k_img = self.ax_k.imshow(dummy, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        self.k_grid = LineCollection(_grid_segments(3, 3, 0, 0), colors="0.5", linewidths=0.8)
        self.ax_k.add_collection(self.k_grid)
        self.k_texts = [self.ax_k.text(j, i, "", ha="center", va="center", fontsize=12)
                        for i in range(3) for j in range(3)]
        self.ax_k.set_xlim(-0.5, 2.5)
        self.ax_k.set_ylim(2.5, -0.5)
        self.k_title = self.ax_k.set_title("")
        self.k_caption = self.ax_k.text(1.0, 3.0, "", ha="center", va="top", fontsize=10, color="0.3")
        # right: the feature map, its grid and the chosen cell
        self.out_img = self.ax_out.imshow(dummy, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        self.out_grid = LineCollection([], colors="0.75", linewidths=0.5)
        self.ax_out.add_collection(self.out_grid)
        self.cell = Rectangle((0, 0), 1, 1, fill=False, edgecolor=COLORS[3], linewidth=3.0)
        self.ax_out.add_patch(self.cell)
        self.out_title = self.ax_out.set_title("")
        self.animated = [self.in_img, self.in_grid, self.in_border, self.window, *self.w_texts, self.in_title,
                         self.k_img, self.k_grid, *self.k_texts, self.k_title, self.k_caption,
                         self.out_img, self.out_grid, self.cell, self.out_title]

    def update(self, state: ConvState) -> None:
        h, w = state.image.shape
        p = state.padding
        ph, pw = h + 2 * p, w + 2 * p
        # input, in unpadded pixel coordinates: the padding has negative indices
        self.in_img.set_data(_input_rgb(state))
        self.in_img.set_extent((-p - 0.5, w + p - 0.5, h + p - 0.5, -p - 0.5))
        self.ax_in.set_xlim(-p - 0.5, w + p - 0.5)
        self.ax_in.set_ylim(h + p - 0.5, -p - 0.5)
        self.in_grid.set_segments(_grid_segments(ph, pw, -p, -p))
        self.in_border.set_bounds(-0.5, -0.5, w, h)
        self.in_border.set_visible(p > 0)
        r0, r1, c0, c1 = state.window
        self.window.set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0, r1 - r0)
        kh, kw = state.kernel.shape
        self.ax_in.apply_aspect()
        cell_px = self.ax_in.get_window_extent().width / pw  # how wide one pixel of the image is drawn
        size = float(np.clip(cell_px * 72 / self.fig.dpi * 0.34, 6.0, 10.0))  # 4 characters fit in a cell
        for t, (i, j) in zip(self.w_texts, [(i, j) for i in range(kh) for j in range(kw)]):
            t.set_position((c0 + j, r0 + i))
            t.set_text(_short(float(state.kernel[i, j])))
            t.set_fontsize(size)
        pad = f", padding {p} (blue)" if p else ""
        self.in_title.set_text(f"input {h}×{w}{pad}")
        # kernel
        top = _symmetric(state.kernel)
        self.k_img.set_data(state.kernel)
        self.k_img.set_clim(-top, top)
        for t, v in zip(self.k_texts, state.kernel.ravel()):
            t.set_text(_num(float(v)))
            t.set_color("white" if abs(v) > 0.6 * top else "black")
        self.k_title.set_text(f"kernel: {state.filter_name}")
        self.k_caption.set_text(f"stride {state.stride}\nsum of weights {_num(float(state.kernel.sum()))}")
        # feature map
        fm = state.feature_map
        ho, wo = fm.shape
        top = _symmetric(fm)
        self.out_img.set_data(fm)
        self.out_img.set_clim(-top, top)
        self.out_img.set_extent((-0.5, wo - 0.5, ho - 0.5, -0.5))
        self.ax_out.set_xlim(-0.5, wo - 0.5)
        self.ax_out.set_ylim(ho - 0.5, -0.5)
        self.out_grid.set_segments(_grid_segments(ho, wo, 0, 0))
        self.cell.set_bounds(state.out_col - 0.5, state.out_row - 0.5, 1, 1)
        self.out_title.set_text(f"feature map {ho}×{wo} (red > 0 > blue, ±{top:.2g})")
        for ax in (self.ax_in, self.ax_out):
            ax.apply_aspect()  # square pixels for any shape (a redraw does not run the axes' own draw)


class NetworkFigure:
    """The network view: the input (left) and every layer's feature maps, one row per layer (right)."""

    def __init__(self, fig, view: NetworkView, max_channels: int = 8) -> None:
        self.fig = fig
        self.max_channels = max_channels
        self.ax_in, self.ax_maps = fig.subplots(1, 2, width_ratios=[1.0, 3.2])
        mosaic, scales, (th, tw, gap) = feature_mosaic(view.maps, max_channels)
        shape = np.shape(view.maps[0][1])[1:] if view.maps else (3, 3)
        self.in_shape = view.input_shape or shape
        self.in_img = self.ax_in.imshow(np.zeros(self.in_shape), cmap="gray_r", vmin=0, vmax=1,
                                        interpolation="nearest")
        image_axes(self.ax_in)
        self.in_title = self.ax_in.set_title("")
        import matplotlib
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Rectangle

        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
        self.maps_img = self.ax_maps.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest",
                                            aspect="equal")
        ax = self.ax_maps
        for side in ("left", "bottom", "right", "top"):
            ax.spines[side].set_visible(False)
        ax.grid(False)
        rows = [k * (th + gap) + (th - 1) / 2 for k in range(len(view.maps))]
        ax.set_yticks(rows, [f"{name}\n{m.shape[0]}×{m.shape[1]}×{m.shape[2]}" for name, m in view.maps],
                      fontsize=10)
        n_cols = mosaic.shape[1] // (tw + gap) + 1
        frames = [Rectangle((c * (tw + gap) - 0.5, k * (th + gap) - 0.5), tw, th)
                  for k, (_, m) in enumerate(view.maps) for c in range(min(m.shape[0], n_cols))]
        self.frames = ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor="0.6", linewidth=0.6))
        ax.set_xticks([c * (tw + gap) + (tw - 1) / 2 for c in range(n_cols)], [str(c) for c in range(n_cols)],
                      fontsize=10)
        ax.xaxis.set_ticks_position("top")
        ax.tick_params(length=0)
        ax.set_xlabel("channel", fontsize=11)
        ax.xaxis.set_label_position("top")
        self.scale_texts = [ax.text(mosaic.shape[1] + gap, r, "", ha="left", va="center", fontsize=10, color="0.3")
                            for r in rows]
        ax.set_xlim(-0.5, mosaic.shape[1] - 0.5 + 6 * gap + 0.25 * tw)
        # the frame goes on top of the (moving) input image, else the image hides half of it
        self.animated = [self.in_img, *self.ax_in.spines.values(), self.in_title, self.maps_img, self.frames,
                         *self.scale_texts]

    def update(self, state: ConvState) -> None:
        view = state.network
        mosaic, scales, _ = feature_mosaic(view.maps, self.max_channels)
        img = state.image
        lo = min(0.0, float(img.min()))
        self.in_img.set_data(img)
        self.in_img.set_clim(lo, max(float(img.max()), lo + 1e-9))
        self.in_title.set_text(f"input: {state.image_name}")
        self.maps_img.set_data(mosaic)
        for t, s in zip(self.scale_texts, scales):
            t.set_text(f"±{s:.2g}")


class MessageFigure:
    """One line of text where a picture would be (the network cannot take the image)."""

    def __init__(self, fig) -> None:
        ax = fig.subplots()
        ax.set_axis_off()
        self.text = ax.text(0.5, 0.5, "", ha="center", va="center", fontsize=13, transform=ax.transAxes)
        self.animated = [self.text]

    def update(self, state: ConvState) -> None:
        h, w = state.image.shape
        self.text.set_text(f"The network cannot take the image {state.image_name!r} ({h}×{w}):\n"
                           "pick an image of the size it was trained on.")


def draw_conv_examples(fig_or_axes, image, presets=("vertical edge", "horizontal edge", "blur", "sharpen"),
                       padding: int = 1, stride: int = 1) -> list:
    """The static figure: ``image`` and its feature map under each preset, side by side.

    ``fig_or_axes``: a Figure (gets 1 + len(presets) axes in a row) or that
    many axes. Feature maps use a diverging colour map centred at 0, each
    with its own symmetric range (given in its title). Returns the axes.
    """
    img = np.asarray(image, dtype=np.float64)
    names = list(presets)
    for name in names:
        if name not in FILTER_PRESETS:
            raise ValueError(f"draw_conv_examples: unknown preset {name!r} (have {list(FILTER_PRESETS)})")
    if hasattr(fig_or_axes, "subplots"):
        axes = list(fig_or_axes.subplots(1, len(names) + 1))
    else:
        axes = list(np.ravel(fig_or_axes))
        if len(axes) != len(names) + 1:
            raise ValueError(f"draw_conv_examples: needs {len(names) + 1} axes (the image + one per preset), "
                             f"got {len(axes)}")
    axes[0].imshow(img, cmap="gray_r", interpolation="nearest")
    axes[0].set_title(f"input {img.shape[0]}×{img.shape[1]}")
    for ax, name in zip(axes[1:], names):
        fm = correlate2d(img, FILTER_PRESETS[name], stride, padding)
        top = _symmetric(fm)
        ax.imshow(fm, cmap="RdBu_r", vmin=-top, vmax=top, interpolation="nearest")
        ax.set_title(f"{name} (±{top:.2g})")
    image_axes(*axes)
    return axes


def draw_feature_maps(fig, model, image, image_name: str = "image", max_channels: int = 8) -> NetworkView:
    """The static twin of the network view: ``image`` and ``model``'s feature maps, one row per layer.

    Raises ``ValueError`` if the network cannot take the image. Returns the :class:`NetworkView`.
    """
    view = network_view(model, image)
    if view.error is not None:
        raise ValueError(f"draw_feature_maps: {view.error}")
    img = np.asarray(image, dtype=np.float64).reshape(np.shape(image)[-2:])
    state = conv_state(img, FILTER_PRESETS["identity"], image_name=image_name, view="network", network=view)
    panels = NetworkFigure(fig, view, max_channels)
    panels.update(state)
    return view


# --------------------------------------------------------------------------- the widget
WEIGHTS = [f"w{i}{j}" for i in range(3) for j in range(3)]  # control names of the custom kernel, row-major


class ConvExplorer(Explorer):
    """An image, a 3 x 3 filter, stride and padding against the feature map they give.

    ``ConvExplorer(images=None, model=None)`` returns the widget. ``images``:
    dict name -> (H, W) array (default :func:`default_images`); ``model``: a
    trained course_lib Sequential CNN, which adds a view toggle ("trained
    network": its feature maps layer by layer for the chosen image; images
    it cannot take are named in the status line).

    Controls: image, filter (the presets, then ``"custom"``), stride 1..3,
    padding 0..2, output row and column (their maximum follows the output
    size; a value beyond it is clamped when the size shrinks), and nine
    weight sliders in a 3 x 3 grid, -2..2. **The weight sliders always show
    the kernel in use**: choosing a preset sets them to its weights; moving
    one switches the filter to ``"custom"``, starting from the preset's
    weights (choosing ``"custom"`` in the dropdown keeps the weights too).
    Choosing a preset again replaces the custom weights.

    Picture: left the padded input (padding tinted blue, the image's border
    dashed) with the window of the chosen output outlined and its weights
    written in; middle the kernel as a heat map with numbers; right the
    feature map (diverging colours centred at 0) with the chosen cell
    outlined. The status line fills in the output-size formula and gives the
    chosen output value. ``.state`` is the latest :class:`ConvState`.
    """

    fig_width = 10.5
    fig_height = 4.4
    fig_dpi = 80

    def __init__(self, images: dict | None = None, model=None, image: str | None = None,
                 filter: str = "vertical edge", stride: int = 1, padding: int = 0,
                 row: int | None = None, col: int | None = None) -> None:
        self.images = _check_images(default_images() if images is None else images)
        self.model = model
        image = next(iter(self.images)) if image is None else image
        if image not in self.images:
            raise ValueError(f"ConvExplorer: no image {image!r} (have {list(self.images)})")
        if filter not in FILTER_PRESETS and filter != CUSTOM:
            raise ValueError(f"ConvExplorer: filter must be one of {[*FILTER_PRESETS, CUSTOM]}, got {filter!r}")
        self._syncing = False
        h, w = self.images[image].shape
        ho, wo = output_size(h, 3, stride, padding), output_size(w, 3, stride, padding)
        row = ho // 2 if row is None else row
        col = wo // 4 if col is None else col
        kernel = FILTER_PRESETS.get(filter, FILTER_PRESETS["vertical edge"])
        style = {"description_width": "80px"}
        wide = widgets.Layout(width="340px")
        controls = {
            "image": widgets.Dropdown(options=list(self.images), value=image, description="image",
                                      style=style, layout=wide),
            "filter": widgets.Dropdown(options=[*FILTER_PRESETS, CUSTOM], value=filter, description="filter",
                                       style=style, layout=wide),
            "stride": widgets.IntSlider(value=stride, min=1, max=MAX_STRIDE, description="stride",
                                        style=style, layout=wide),
            "padding": widgets.IntSlider(value=padding, min=0, max=MAX_PADDING, description="padding",
                                         style=style, layout=wide),
            "row": widgets.IntSlider(value=min(row, ho - 1), min=0, max=ho - 1, description="output row",
                                     style=style, layout=wide),
            "col": widgets.IntSlider(value=min(col, wo - 1), min=0, max=wo - 1, description="output col",
                                     style=style, layout=wide),
        }
        w_style = {"description_width": "30px"}
        for name, v in zip(WEIGHTS, kernel.ravel()):
            controls[name] = widgets.FloatSlider(
                value=float(v), min=WEIGHT_RANGE[0], max=WEIGHT_RANGE[1], step=0.1, description=name,
                readout_format=".2f", continuous_update=False, style=w_style, layout=widgets.Layout(width="165px"))
        if model is not None:
            controls["view"] = widgets.ToggleButtons(options=[("convolution", "conv"), ("trained network", "network")],
                                                     value="conv", description="view", style=style)
        super().__init__(controls)
        c = self.controls
        left = widgets.VBox([c["image"], c["filter"], c["stride"], c["padding"], c["row"], c["col"]])
        grid = widgets.VBox([
            widgets.HTML("<b>kernel weights</b> (moving one selects <i>custom</i>)"),
            *[widgets.HBox([c[WEIGHTS[3 * i + j]] for j in range(3)]) for i in range(3)],
        ])
        top = [widgets.HBox([left, grid], layout=widgets.Layout(flex_flow="row wrap"))]
        if model is not None:
            top.insert(0, c["view"])
        self.children = (*top, self.image, self.status)

    # --- keeping the controls consistent ------------------------------------------------
    @contextlib.contextmanager
    def _hold(self):
        """Change controls without a redraw for each (one redraw follows)."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        c = self.controls
        owner = change["owner"]
        with self._hold():
            if owner is c["filter"] and change["new"] in FILTER_PRESETS:
                for name, v in zip(WEIGHTS, FILTER_PRESETS[change["new"]].ravel()):
                    c[name].value = float(v)
            elif owner in [c[name] for name in WEIGHTS] and c["filter"].value != CUSTOM:
                c["filter"].value = CUSTOM
            img = self.images[c["image"].value]
            ho = output_size(img.shape[0], 3, c["stride"].value, c["padding"].value)
            wo = output_size(img.shape[1], 3, c["stride"].value, c["padding"].value)
            c["row"].max, c["col"].max = ho - 1, wo - 1  # the values are clamped with them
            if "view" in c:
                conv_only = c["view"].value == "network"
                for name, w in c.items():
                    if name not in ("image", "view"):
                        w.disabled = conv_only
        self.redraw()

    # --- Explorer -----------------------------------------------------------------------
    def compute(self, image, filter, stride, padding, row, col, view="conv", **weights) -> ConvState:
        kernel = FILTER_PRESETS[filter] if filter in FILTER_PRESETS else np.array(
            [weights[name] for name in WEIGHTS], dtype=np.float64).reshape(3, 3)
        network = network_view(self.model, self.images[image]) if view == "network" else None
        return conv_state(self.images[image], kernel, stride, padding, row, col, image_name=image,
                          filter_name=filter, view=view, network=network)

    def figure_key(self, state: ConvState):
        if state.view != "network":
            return "conv"
        if state.network.error is not None:
            return "message"
        return ("network", state.image.shape)

    def setup(self, fig, state: ConvState):
        key = self.figure_key(state)
        if key == "conv":
            panels = ConvFigure(fig)
            panels.update(state)  # titles in place, then the layout runs once and stays:
            freeze_layout(fig)    # update() sizes the weights' font from the axes' final size
            return panels
        if key == "message":
            return MessageFigure(fig)
        return NetworkFigure(fig, state.network)

    def update(self, panels, state: ConvState) -> list:
        panels.update(state)
        return panels.animated

    def status_text(self, state: ConvState) -> str:
        if state.view == "network":
            return self._network_status(state)
        r0, r1, c0, c1 = state.window
        k = state.kernel
        kernel = " | ".join(" ".join(_num(float(v)) for v in row) for row in k)
        where = " (the window reaches into the zero padding)" if state.touches_padding else ""
        return (f"{state.formula} · output ({state.out_row}, {state.out_col}) = Σ w·x = <b>{state.value:.3g}</b> "
                f"over input rows {r0}..{r1 - 1}, columns {c0}..{c1 - 1}{where} · "
                f"image <i>{state.image_name}</i>, filter <i>{state.filter_name}</i> [{kernel}]")

    @staticmethod
    def _network_status(state: ConvState) -> str:
        view = state.network
        h, w = state.image.shape
        if view.error is not None:
            return (f"<b>the network cannot take <i>{state.image_name}</i> ({h}×{w})</b>: "
                    f"pick an image of the size it was trained on · {html.escape(view.error)}")
        answer = ""
        if view.probs is not None:
            answer = f"predicted class <b>{view.predicted}</b> (softmax {view.probs[view.predicted]:.2f}) · "
        return (f"trained network on <i>{state.image_name}</i> ({h}×{w}): {answer}"
                f"{len(view.maps)} layers up to Flatten; each row scaled to its largest |value| (right), "
                f"red > 0 > blue")
