"""Toy datasets: shapes, dtypes, determinism per seed, class balance, errors."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib.datasets import make_line, make_moons, make_spirals, train_val_split

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
