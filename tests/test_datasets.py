"""Toy datasets: shapes, dtypes, determinism per seed, class balance, errors; the image data of notebook 08."""
from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from course_lib._data import CHECKOUT_DATA_DIR, data_file
from course_lib.datasets import (
    SHAPE_CLASSES, load_digits, make_line, make_moons, make_pattern, make_shapes, make_spirals,
    shift_images, train_val_split,
)

ROOT = Path(__file__).resolve().parents[1]

GENERATORS = {
    "make_line": lambda **kw: make_line(**kw),
    "make_moons": lambda **kw: make_moons(**kw),
    "make_spirals": lambda **kw: make_spirals(**kw),
}


def test_make_line():
    X, y = make_line(n_samples=40, slope=3.0, intercept=0.5, noise=0.0, x_range=(-1.0, 2.0))
    assert X.shape == (40, 1) and y.shape == (40, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.all(np.diff(X[:, 0]) >= 0)  # sorted, for line plots
    assert X.min() >= -1.0 and X.max() <= 2.0
    np.testing.assert_allclose(y, 3.0 * X + 0.5, rtol=1e-15)  # noise=0: exactly on the line
    _, noisy = make_line(n_samples=2000, slope=3.0, intercept=0.5, noise=0.3, x_range=(-1.0, 2.0))
    Xn, _ = make_line(n_samples=2000, slope=3.0, intercept=0.5, noise=0.3, x_range=(-1.0, 2.0))
    assert np.std(noisy - (3.0 * Xn + 0.5)) == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize("n", [1, 2, 7, 200, 201])
def test_make_moons(n):
    X, y = make_moons(n_samples=n, noise=0.1, seed=3)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    counts = np.bincount(y, minlength=2)
    assert counts.tolist() == [n - n // 2, n // 2]  # as balanced as n allows
    assert set(np.unique(y)) <= {0, 1}


def test_moons_geometry_without_noise():
    X, y = make_moons(n_samples=100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-14)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_make_spirals(k):
    X, y = make_spirals(n_per_class=50, n_classes=k, noise=0.2, seed=1)
    assert X.shape == (50 * k, 2) and y.shape == (50 * k,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50] * k
    assert np.abs(X).max() <= 1.0
    assert len(np.unique(y[:20])) > 1 or k == 1  # shuffled, not sorted by class


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(name):
    make = GENERATORS[name]
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    X3, _ = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_default_seed_is_fixed():
    # the default seed gives the same data on every call (and every machine)
    np.testing.assert_array_equal(make_spirals()[0], make_spirals()[0])
    np.testing.assert_array_equal(make_moons()[0], make_moons()[0])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match=r"make_line: n_samples must be a positive int, got"):
        make_line(n_samples=bad)
    with pytest.raises(ValueError, match=r"make_moons: n_samples must be a positive int, got"):
        make_moons(n_samples=bad)
    with pytest.raises(ValueError, match=r"make_spirals: n_per_class must be a positive int, got"):
        make_spirals(n_per_class=bad)
    with pytest.raises(ValueError, match=r"make_spirals: n_classes must be a positive int, got"):
        make_spirals(n_classes=bad)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_bad_noise(bad):
    for name, make in GENERATORS.items():
        with pytest.raises(ValueError, match=rf"{name}: noise must be a finite number >= 0, got"):
            make(noise=bad)


def test_train_val_split():
    X = np.arange(240.0).reshape(120, 2)  # row i is (2i, 2i + 1): rows are easy to follow
    y = np.arange(120)
    Xt, yt, Xv, yv = train_val_split(X, y, val_fraction=0.25, seed=0)
    assert Xt.shape == (90, 2) and Xv.shape == (30, 2) and yt.shape == (90,) and yv.shape == (30,)
    # a partition of the rows, X and y shuffled together: nothing lost, nothing duplicated
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(120))
    np.testing.assert_array_equal(Xt[:, 0], 2 * yt)
    np.testing.assert_array_equal(Xv[:, 0], 2 * yv)
    assert not np.array_equal(yt, np.sort(yt))  # shuffled
    again = train_val_split(X, y, val_fraction=0.25, seed=0)
    np.testing.assert_array_equal(again[2], Xv)
    with pytest.raises(ValueError, match="train_val_split: X has 120 rows but y has 119"):
        train_val_split(X, y[:-1])
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got 1.0"):
        train_val_split(X, y, val_fraction=1.0)
    with pytest.raises(ValueError, match="3 samples are too few to split with val_fraction=0.1"):
        train_val_split(X[:3], y[:3], val_fraction=0.1)


# -- handwritten digits (data/digits.npz) -------------------------------------------

DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def _readme_digits_sha256() -> str:
    readme = (CHECKOUT_DATA_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Handwritten digits", 1)[1].split("\n## ", 1)[0]
    (sha,) = re.findall(r"sha256\*\*: `([0-9a-f]{64})`", section)
    return sha


def _make_digits_tool():
    spec = importlib.util.spec_from_file_location("make_digits", ROOT / "tools" / "make_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_load_digits():
    X, y = load_digits()
    assert X.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, np.round(X * 16))  # counts 0..16, divided by 16
    assert len(np.unique(X)) == 17
    assert np.bincount(y).tolist() == DIGIT_COUNTS
    assert not np.shares_memory(load_digits()[0], X)  # a fresh array on every call


def test_digits_file_matches_readme():
    path = data_file("digits.npz")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == _readme_digits_sha256()
    with np.load(path) as f:
        assert sorted(f.files) == ["images", "labels"]
        images, labels = f["images"], f["labels"]
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    assert labels.dtype == np.uint8 and labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16 and labels.max() == 9
    readme = (CHECKOUT_DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "| images | " + " | ".join(map(str, DIGIT_COUNTS)) + " |" in readme
    assert f"`digits.npz` ({path.stat().st_size:,} bytes" in readme


def test_make_digits_writes_the_committed_bytes():
    # Without scikit-learn: the tool's writer, given the committed arrays, reproduces the
    # committed file byte for byte (so the sha256 depends only on the arrays and numpy).
    tool = _make_digits_tool()
    path = data_file("digits.npz")
    images, labels = tool.read_npz(path)
    assert tool.npz_bytes(images, labels) == path.read_bytes()
    assert tool.check(path, images, labels) == 0
    assert tool.check(path, images, labels[::-1].copy()) == 1


def test_make_digits_without_sklearn_says_how_to_run_it():
    if importlib.util.find_spec("sklearn") is not None:
        pytest.skip("scikit-learn is installed here")
    with pytest.raises(SystemExit, match="needs scikit-learn"):
        _make_digits_tool().main(["--check"])


def test_make_digits_check_against_sklearn(capsys):
    pytest.importorskip("sklearn")
    tool = _make_digits_tool()
    assert tool.main(["--check", "--out", str(data_file("digits.npz"))]) == 0
    assert "up to date" in capsys.readouterr().out


# -- shift_images ----------------------------------------------------------------------

def test_shift_images_moves_a_pixel_and_fills_zeros():
    X = np.zeros((2, 3, 5, 7))
    X[1, 2, 1, 3] = 5.0
    out = shift_images(X, 2, -3)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert out[1, 2, 3, 0] == 5.0 and np.count_nonzero(out) == 1
    ones = np.ones((1, 1, 4, 4), dtype=np.float32)
    moved = shift_images(ones, 1, 2)  # down 1, right 2
    assert moved.dtype == np.float32
    expected = np.zeros((4, 4), np.float32)
    expected[1:, 2:] = 1
    np.testing.assert_array_equal(moved[0, 0], expected)  # zeros come in, nothing wraps around
    np.testing.assert_array_equal(shift_images(ones, -3, -3)[0, 0], np.pad([[1.0]], ((0, 3), (0, 3))))


def test_shift_images_is_pure_and_zero_is_identity():
    X, _ = load_digits()
    X = X[:20]
    before = X.copy()
    same = shift_images(X, 0, 0)
    np.testing.assert_array_equal(same, X)
    assert not np.shares_memory(same, X)
    shift_images(X, 1, 1)
    np.testing.assert_array_equal(X, before)  # the input is not modified


@pytest.mark.parametrize("dy, dx", [(1, 0), (0, -2), (3, 2), (-1, -1), (7, -7)])
def test_inverse_shift_recovers_the_interior(dy, dx):
    X = np.random.default_rng(0).uniform(size=(3, 2, 8, 8))
    back = shift_images(shift_images(X, dy, dx), -dy, -dx)
    rows = slice(max(0, -dy), 8 - max(0, dy))  # the pixels that stayed inside
    cols = slice(max(0, -dx), 8 - max(0, dx))
    np.testing.assert_array_equal(back[..., rows, cols], X[..., rows, cols])
    mask = np.ones((8, 8), bool)
    mask[rows, cols] = False
    assert np.all(back[..., mask] == 0)  # what fell off is gone, replaced by zeros
    # the same as np.roll with the wrapped-around pixels set to zero
    rolled = np.roll(X, (dy, dx), axis=(2, 3))
    kept = np.zeros((8, 8), bool)
    kept[max(0, dy):8 + min(0, dy), max(0, dx):8 + min(0, dx)] = True
    np.testing.assert_array_equal(shift_images(X, dy, dx), np.where(kept, rolled, 0.0))


def test_shift_images_errors():
    X = np.zeros((1, 1, 8, 6))
    for bad in (1.0, 0.5, True, None, "1"):
        with pytest.raises(ValueError, match=r"shift_images: dy must be an int \(whole pixels\), got"):
            shift_images(X, bad, 0)
        with pytest.raises(ValueError, match=r"shift_images: dx must be an int \(whole pixels\), got"):
            shift_images(X, 0, bad)
    with pytest.raises(ValueError, match=r"shift_images: \|dy\| must be < 8 \(the image size\), got -8"):
        shift_images(X, -8, 0)
    with pytest.raises(ValueError, match=r"shift_images: \|dx\| must be < 6 \(the image size\), got 6"):
        shift_images(X, 0, 6)
    shift_images(X, np.int64(7), np.int32(-5))  # numpy ints are fine
    with pytest.raises(ValueError, match=r"shift_images: expects images \(N, C, H, W\), got shape \(8, 6\)"):
        shift_images(X[0, 0], 1, 1)


# -- make_shapes / make_pattern -----------------------------------------------------

def test_make_shapes_shapes_and_range():
    X, y, names = make_shapes()
    assert names == SHAPE_CLASSES == ("vertical", "horizontal", "diagonal", "corner", "cross", "edge")
    assert X.shape == (600, 1, 12, 12) and y.shape == (600,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.bincount(y, minlength=6).tolist() == [100] * 6
    assert len(np.unique(y[:12])) > 1  # shuffled, not sorted by class
    X, y, _ = make_shapes(n_samples=7, size=9, noise=0.1, seed=2)
    assert X.shape == (7, 1, 9, 9) and np.bincount(y, minlength=6).tolist() == [2, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("n", [1, 5, 6, 13, 100])
def test_make_shapes_balanced(n):
    _, y, _ = make_shapes(n_samples=n, seed=4)
    counts = np.bincount(y, minlength=6)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_make_shapes_determinism():
    X1, y1, _ = make_shapes(seed=5)
    X2, y2, _ = make_shapes(seed=5)
    X3, y3, _ = make_shapes(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3) and not np.array_equal(y1, y3)
    np.testing.assert_array_equal(make_shapes()[0], make_shapes()[0])  # the default seed is fixed


@pytest.mark.parametrize("size", [5, 8, 12, 16])
def test_make_shapes_draws_the_named_pattern(size):
    # noise=0: every image is a clean pattern of its class, whole, at some position
    X, y, names = make_shapes(n_samples=120, size=size, noise=0.0, seed=1)
    assert set(np.unique(X)) == {0.0, 1.0}
    positions = set()
    for img, label in zip(X[:, 0], y):
        r, c = np.nonzero(img)
        kind = names[label]
        if kind == "vertical":
            assert len(set(c)) == 1 and np.array_equal(np.sort(r), np.arange(r.min(), r.max() + 1)) and len(r) >= 3
        elif kind == "horizontal":
            assert len(set(r)) == 1 and np.array_equal(np.sort(c), np.arange(c.min(), c.max() + 1)) and len(c) >= 3
        elif kind == "diagonal":
            assert len(set(r - c)) == 1 and len(r) >= 3
        elif kind == "corner":
            h = (r.max() - r.min()) // 2
            assert r.max() - r.min() == c.max() - c.min() == 2 * h and len(r) == 4 * h + 1
            assert np.all((c == c.min()) | (r == r.max()))  # an L: left side and bottom
        elif kind == "cross":
            assert len(r) == 4 * ((r.max() - r.min()) // 2) + 1 and r.max() - r.min() == c.max() - c.min()
            rc, cc = (r.min() + r.max()) // 2, (c.min() + c.max()) // 2
            assert np.all((r == rc) | (c == cc))
        else:  # edge: dark left, bright right, both at least two columns wide
            col = c.min()
            assert 2 <= col <= size - 2 and np.all(img[:, col:] == 1) and np.all(img[:, :col] == 0)
        positions.add((kind, r.min(), c.min()))
    assert len(positions) > 30 or size == 5  # random positions, not one template per class


def test_make_shapes_noise():
    X0, y0, _ = make_shapes(noise=0.0, seed=3)
    X, y, _ = make_shapes(noise=0.05, seed=3)
    np.testing.assert_array_equal(y, y0)  # the noise does not change what is drawn
    np.testing.assert_array_equal(X[X0 == 1] > 0.7, True)
    inside = (X0 == 0) & (X > 0) & (X < 1)  # unclipped background pixels
    assert np.std(X[inside]) == pytest.approx(0.05 * 0.6, rel=0.2)  # half-normal: std 0.6 sigma
    assert not np.array_equal(X, X0)


def test_make_shapes_errors():
    for bad in (0, -3, 2.5, True, None):
        with pytest.raises(ValueError, match=r"make_shapes: n_samples must be a positive int, got"):
            make_shapes(n_samples=bad)
    for bad in (4, 0, 12.0, True):
        with pytest.raises(ValueError, match=r"make_shapes: size must be an int >= 5, got"):
            make_shapes(size=bad)
    with pytest.raises(ValueError, match=r"make_shapes: noise must be a finite number >= 0, got"):
        make_shapes(noise=-0.1)


@pytest.mark.parametrize("kind", SHAPE_CLASSES)
def test_make_pattern(kind):
    img = make_pattern(kind)
    assert img.shape == (12, 12) and img.dtype == np.float64
    assert set(np.unique(img)) == {0.0, 1.0}
    r, c = np.nonzero(img)
    expected = {  # centred at (6, 6), strokes reaching 4 pixels on each side
        "vertical": (9, (2, 10), (6, 6)),
        "horizontal": (9, (6, 6), (2, 10)),
        "diagonal": (9, (2, 10), (2, 10)),
        "corner": (17, (2, 10), (2, 10)),
        "cross": (17, (2, 10), (2, 10)),
        "edge": (72, (0, 11), (6, 11)),
    }[kind]
    assert (len(r), (r.min(), r.max()), (c.min(), c.max())) == expected
    # the same pattern one pixel down and right is the shifted image
    moved = make_pattern(kind, row=7, col=7)
    if kind == "edge":  # only the column matters
        np.testing.assert_array_equal(moved, make_pattern(kind, row=0, col=7))
        np.testing.assert_array_equal(moved, shift_images(img[None, None], 0, 1)[0, 0])
    else:
        np.testing.assert_array_equal(moved, shift_images(img[None, None], 1, 1)[0, 0])
    # near the border the pattern is cut off, not wrapped around
    cut = make_pattern(kind, row=0, col=11)
    if kind == "edge":
        assert np.all(cut[:, 11] == 1) and cut.sum() == 12
    else:
        assert 0 < cut.sum() < img.sum() and cut[:, :2].sum() == 0 and cut[-2:].sum() == 0
    assert make_pattern(kind, size=7).shape == (7, 7)


def test_make_pattern_errors():
    with pytest.raises(ValueError, match=r"make_pattern: kind must be one of 'vertical', 'horizontal', "
                                         r"'diagonal', 'corner', 'cross', 'edge', got 'circle'"):
        make_pattern("circle")
    with pytest.raises(ValueError, match=r"make_pattern: size must be an int >= 5, got 3"):
        make_pattern("cross", size=3)
    for bad in (12, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"make_pattern: row must be None or an int in \[0, 12\), got"):
            make_pattern("cross", row=bad)
        with pytest.raises(ValueError, match=r"make_pattern: col must be None or an int in \[0, 12\), got"):
            make_pattern("cross", col=bad)


# ---------------------------------------------------------------------------- make_marked_recall (notebook 09)
def test_marked_recall_layout():
    from course_lib.datasets import make_marked_recall
    X, y, k = make_marked_recall(500, length=10, n_symbols=3, seed=1)
    assert X.shape == (500, 10) and y.shape == (500,) and k.shape == (500,)
    assert set(np.unique(k)) == set(range(1, 9))          # every distance 1 .. length - 2 occurs
    for row, ans, dist in zip(X, y, k):
        pos = 10 - 1 - dist
        assert row[pos - 1] == 3                           # the marker, just before the symbol
        assert np.count_nonzero(row == 3) == 1             # exactly one marker
        assert row[pos] == ans and 0 <= ans < 3
    X2, y2, k2 = make_marked_recall(500, length=10, n_symbols=3, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and np.array_equal(k, k2)


def test_marked_recall_errors():
    from course_lib.datasets import make_marked_recall
    with pytest.raises(ValueError, match="length must be at least 3"):
        make_marked_recall(5, length=2)
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        make_marked_recall(0)
