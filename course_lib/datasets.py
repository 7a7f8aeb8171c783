"""Toy datasets, generated with a fixed seed (no download, ever).

Every generator returns ``(X, y)`` as float64 / int64 numpy arrays and takes
``seed`` so that a notebook gives the same data on every machine.

Images (notebook 08 · Convolutional networks) come as ``(N, C, H, W)`` batches, the
layout of ``torch.nn.Conv2d``: :func:`load_digits` reads real handwritten digits
shipped in ``data/digits.npz`` (see ``data/README.md``), :func:`make_shapes`
draws simple patterns, :func:`make_pattern` one clean pattern, and
:func:`shift_images` translates a batch.
"""
from __future__ import annotations

import numpy as np

from ._data import data_file

__all__ = [
    "make_line", "make_moons", "make_spirals", "train_val_split",
    "load_digits", "shift_images", "SHAPE_CLASSES", "make_shapes", "make_pattern", "make_marked_recall",
]


def _check_positive_int(name: str, fn: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{fn}: {name} must be a positive int, got {v!r}")
    return int(v)


def _check_noise(fn: str, noise) -> float:
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{fn}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def make_line(n_samples: int = 50, slope: float = 2.0, intercept: float = -1.0,
              noise: float = 0.3, x_range: tuple[float, float] = (-2.0, 2.0), seed: int = 0):
    """Points around the line y = slope * x + intercept.

    Returns ``X`` of shape (n_samples, 1) (sorted) and ``y`` of shape (n_samples, 1),
    with Gaussian noise of standard deviation ``noise`` added to y.
    """
    n = _check_positive_int("n_samples", "make_line", n_samples)
    noise = _check_noise("make_line", noise)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], size=n))
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x.reshape(n, 1), y.reshape(n, 1)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles, two classes.

    Returns ``X`` (n_samples, 2) float64 and ``y`` (n_samples,) int64 in {0, 1};
    the classes are as balanced as ``n_samples`` allows and shuffled.
    """
    n = _check_positive_int("n_samples", "make_moons", n_samples)
    noise = _check_noise("make_moons", noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2 + n % 2
    n1 = n // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``n_classes`` interleaved spiral arms (the cs231n spiral data).

    Returns ``X`` (n_per_class * n_classes, 2) float64 within about [-1, 1]^2 and
    ``y`` (n_per_class * n_classes,) int64 in [0, n_classes), shuffled. Not
    linearly separable: the classic case where a hidden layer is needed.
    """
    n = _check_positive_int("n_per_class", "make_spirals", n_per_class)
    k = _check_positive_int("n_classes", "make_spirals", n_classes)
    noise = _check_noise("make_spirals", noise)
    rng = np.random.default_rng(seed)
    X = np.zeros((n * k, 2))
    y = np.zeros(n * k, dtype=np.int64)
    for c in range(k):
        r = np.linspace(0.0, 1.0, n)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, n) + noise * rng.standard_normal(n)
        X[c * n:(c + 1) * n] = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
        y[c * n:(c + 1) * n] = c
    order = rng.permutation(n * k)
    return X[order], y[order]


def train_val_split(X, y, val_fraction: float = 0.25, seed: int = 0):
    """Shuffle and split into ``(X_train, y_train, X_val, y_val)``."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} rows but y has {len(y)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = int(round(len(X) * val_fraction))
    if n_val == 0 or n_val == len(X):
        raise ValueError(f"train_val_split: {len(X)} samples are too few to split with val_fraction={val_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


# -- images ------------------------------------------------------------------------

DIGITS_FILE = "digits.npz"


def load_digits():
    """The 1,797 handwritten digits of the UCI data set, 8 x 8 pixels (read from ``data/digits.npz``).

    Returns ``X`` (1797, 1, 8, 8) float64 in [0, 1] (the stored counts 0..16 divided
    by 16; one channel) and ``y`` (1797,) int64 in 0..9 (between 174 and 183
    images per digit), in the order of the file. Source, citation and licence
    (CC BY 4.0, Alpaydin & Kaynak 1998): ``data/README.md``.
    """
    path = data_file(DIGITS_FILE)
    if not path.is_file():
        raise FileNotFoundError(
            f"load_digits: {path} is missing: regenerate it with `python tools/make_digits.py` "
            "(needs scikit-learn in a separate venv; see data/README.md)"
        )
    with np.load(path) as f:
        images, labels = f["images"], f["labels"]
    X = images.astype(np.float64)[:, None, :, :] / 16.0  # (N, 1, 8, 8)
    y = labels.astype(np.int64)                          # (N,)
    return X, y


def _check_shift(fn: str, name: str, v, size: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{fn}: {name} must be an int (whole pixels), got {v!r}")
    if abs(v) >= size:
        raise ValueError(f"{fn}: |{name}| must be < {size} (the image size), got {v}")
    return int(v)


def shift_images(X, dy: int, dx: int):
    """Translate a batch of images by whole pixels, filling the uncovered border with zeros.

    ``X`` is (N, C, H, W); pixel ``[..., i, j]`` moves to ``[..., i + dy, j + dx]``
    (``dy > 0``: down, ``dx > 0``: right). What moves past the border is lost (no
    wrap-around, unlike ``np.roll``). Returns a new array of the same shape and dtype;
    ``X`` is not modified.
    """
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"shift_images: expects images (N, C, H, W), got shape {X.shape}")
    H, W = X.shape[-2:]
    dy = _check_shift("shift_images", "dy", dy, H)
    dx = _check_shift("shift_images", "dx", dx, W)
    out = np.zeros_like(X)
    # Rows [max(0, -dy), H - max(0, dy)) of X land on rows [max(0, dy), H - max(0, -dy)) of out.
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[..., dst_r, dst_c] = X[..., src_r, src_c]
    return out


SHAPE_CLASSES = ("vertical", "horizontal", "diagonal", "corner", "cross", "edge")
"""The classes of :func:`make_shapes`, in label order: vertical bar, horizontal bar,
diagonal line (top left to bottom right), corner (an L), cross (+), edge (dark left
half, bright right half)."""

_MIN_SIZE = 5


def _check_size(fn: str, size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < _MIN_SIZE:
        raise ValueError(f"{fn}: size must be an int >= {_MIN_SIZE}, got {size!r}")
    return int(size)


def _check_kind(fn: str, kind) -> str:
    if kind not in SHAPE_CLASSES:
        raise ValueError(f"{fn}: kind must be one of {', '.join(map(repr, SHAPE_CLASSES))}, got {kind!r}")
    return kind


def _half_lengths(size: int) -> tuple[int, int]:
    """Smallest and largest half-length ``h`` of a stroke (a stroke is 2h + 1 pixels long)."""
    lo = max(1, size // 6)
    return lo, max(lo, size // 2 - 2)


def _draw(kind: str, size: int, row: int, col: int, h: int):
    """One clean (size, size) image: 1-pixel strokes of value 1 on 0, clipped at the border.

    ``(row, col)`` is the centre of the pattern, ``h`` its half-length: the bars, the
    diagonal and the arms of the cross are 2h + 1 pixels long; the corner fills the
    box of side 2h + 1 around the centre (left side and bottom side). For ``"edge"``,
    columns >= ``col`` are 1 and ``row`` and ``h`` are unused.
    """
    img = np.zeros((size, size))
    k = np.arange(-h, h + 1)

    def put(rows, cols):
        ok = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
        img[rows[ok], cols[ok]] = 1.0

    same = np.zeros_like(k)  # a constant coordinate along a stroke
    if kind == "vertical":
        put(row + k, col + same)
    elif kind == "horizontal":
        put(row + same, col + k)
    elif kind == "diagonal":
        put(row + k, col + k)
    elif kind == "corner":
        put(row + k, col - h + same)   # the upright of the L
        put(row + h + same, col + k)   # its foot
    elif kind == "cross":
        put(row + k, col + same)
        put(row + same, col + k)
    else:  # "edge"
        img[:, max(col, 0):] = 1.0
    return img


def make_pattern(kind: str, size: int = 12, row=None, col=None):
    """One clean (size, size) float64 image of the pattern ``kind`` (one of :data:`SHAPE_CLASSES`).

    Strokes are 1 pixel wide, value 1 on a background of 0, and reach
    ``max(1, size // 2 - 2)`` pixels on each side of the centre ``(row, col)`` (4 for
    size 12: the longest strokes :func:`make_shapes` draws). ``row`` and ``col`` default
    to the middle of the image; a pattern near the border is cut off. For ``"edge"`` the columns
    from ``col`` on are 1 and ``row`` is ignored. Use it to see what a filter
    responds to: convolve it and look at the output.
    """
    kind = _check_kind("make_pattern", kind)
    size = _check_size("make_pattern", size)
    centre = size // 2
    row = centre if row is None else row
    col = centre if col is None else col
    for name, v in (("row", row), ("col", col)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < size:
            raise ValueError(f"make_pattern: {name} must be None or an int in [0, {size}), got {v!r}")
    return _draw(kind, size, int(row), int(col), _half_lengths(size)[1])


def make_shapes(n_samples: int = 600, size: int = 12, seed: int = 0, noise: float = 0.05):
    """Small grey images of six simple patterns at random positions, one pattern per image.

    Returns ``X`` (n_samples, 1, size, size) float64 in [0, 1], ``y`` (n_samples,) int64
    in 0..5 and the class names :data:`SHAPE_CLASSES` (a tuple: ``names[y[i]]``).
    Each image is a pattern of :func:`make_pattern` with a random centre and a random
    stroke length (the whole pattern inside the image; an edge at a random column
    with at least two dark and two bright columns), plus Gaussian noise of standard
    deviation ``noise``, clipped to [0, 1]. The classes are as balanced as
    ``n_samples`` allows and shuffled.
    """
    n = _check_positive_int("n_samples", "make_shapes", n_samples)
    size = _check_size("make_shapes", size)
    noise = _check_noise("make_shapes", noise)
    rng = np.random.default_rng(seed)
    k = len(SHAPE_CLASSES)
    y = rng.permutation(np.arange(n) % k).astype(np.int64)  # as balanced as n allows, shuffled
    h_lo, h_hi = _half_lengths(size)
    X = np.empty((n, 1, size, size))
    for i, label in enumerate(y):
        h = int(rng.integers(h_lo, h_hi + 1))
        # every pattern except the edge fits in the box [centre - h, centre + h]^2
        row, col = rng.integers(h, size - h, size=2)
        if SHAPE_CLASSES[label] == "edge":
            col = rng.integers(2, size - 1)
        X[i, 0] = _draw(SHAPE_CLASSES[label], size, int(row), int(col), h)
    X = np.clip(X + noise * rng.standard_normal(X.shape), 0.0, 1.0)
    return X, y, SHAPE_CLASSES


def make_marked_recall(n_samples: int, length: int = 24, n_symbols: int = 4, seed: int = 0):
    """A memory task (notebook 09): remember the symbol after the marker, answer at the end.

    Each sequence has ``length`` tokens: random symbols 0 .. n_symbols - 1 and,
    somewhere, one marker token (id ``n_symbols``). The answer is the symbol
    right after the marker; the distance ``k`` counts the steps from that symbol
    to the last token, uniform in 1 .. length - 2. A model that reads only the
    last w tokens (a fixed window) sees the marker only when k < w.

    Returns ``X`` (n_samples, length) int64 token ids, ``y`` (n_samples,) the
    answers and ``k`` (n_samples,) the distances.
    """
    n = _check_positive_int("n_samples", "make_marked_recall", n_samples)
    length = _check_positive_int("length", "make_marked_recall", length)
    a = _check_positive_int("n_symbols", "make_marked_recall", n_symbols)
    if length < 3:
        raise ValueError(f"make_marked_recall: length must be at least 3 (marker, symbol, one more), got {length}")
    rng = np.random.default_rng(seed)
    X = rng.integers(0, a, size=(n, length))
    k = rng.integers(1, length - 1, size=n)           # steps from the remembered symbol to the end
    pos = length - 1 - k                              # where the symbol is: 1 .. length - 2
    rows = np.arange(n)
    X[rows, pos - 1] = a                              # the marker, just before it
    return X.astype(np.int64), X[rows, pos].astype(np.int64), k.astype(np.int64)
