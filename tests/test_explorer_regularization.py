"""Notebook 04's explorer: the stored runs, the pure function behind the sliders, the widget headless.

The stored grid (data/regularization_runs.npz) is made by tools/make_regularization_runs.py;
one of its runs is retrained here and compared exactly. Redraw speed is measured, never asserted.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib.explorers.regularization import (
    DATA_PATH,
    DEFAULT_CONFIG,
    GRID,
    RegularizationExplorer,
    RegularizationRuns,
    RunConfig,
    boundary_lines,
    boundary_points,
    make_mlp,
    quantize_run,
    regularization_data,
    regularization_state,
    train_run,
    weight_decay_groups,
)
from course_lib.nn import Dropout, Linear

RUN_FIELDS = ("train_loss", "val_loss", "train_correct", "val_correct", "prob", "weight_norm")
TINY = RunConfig(epochs=12, grid_size=6)
TINY_GRID = {"n_train": (10, 30), "width": (4, 8), "weight_decay": (0.0, 1.0), "dropout": (0.0, 0.5)}


@pytest.fixture(scope="module")
def runs():
    return RegularizationRuns.load()


@pytest.fixture(scope="module")
def tiny():
    return RegularizationRuns.generate(TINY_GRID, config=TINY)


# ---------------------------------------------------------------------------- the stored file
def test_stored_file_matches_the_code(runs):
    assert DATA_PATH.is_file()
    assert DATA_PATH.stat().st_size < 1_000_000  # "small": a few hundred kB
    assert runs.grid == GRID
    assert runs.config == DEFAULT_CONFIG
    shape = tuple(len(v) for v in GRID.values())
    e, g = DEFAULT_CONFIG.epochs + 1, DEFAULT_CONFIG.grid_size
    assert runs.arrays["train_loss"].shape == shape + (e,)
    assert runs.arrays["val_correct"].shape == shape + (e,)
    assert runs.arrays["prob"].shape == shape + (g, g)
    assert runs.arrays["weight_norm"].shape == shape
    for name in ("train_loss", "val_loss", "weight_norm"):
        assert np.isfinite(runs.arrays[name]).all()
    assert (runs.arrays["train_correct"] <= max(GRID["n_train"])).all()
    assert (runs.arrays["val_correct"] <= runs.n_val).all()


def test_one_stored_run_is_regenerated_exactly(runs):
    """The file is what tools/make_regularization_runs.py makes: retrain one (cheap) setting."""
    setting = {"n_train": 20, "width": 8, "weight_decay": 1.0, "dropout": 0.3}
    fresh = quantize_run(train_run(**setting))
    stored = runs.run(**setting)
    for name in RUN_FIELDS:
        np.testing.assert_array_equal(getattr(fresh, name), getattr(stored, name), err_msg=name)


def test_stored_runs_tell_the_lessons_story(runs):
    """The claims the notebook makes about the grid, checked on the stored numbers."""
    def st(n=20, w=128, wd=0.0, p=0.0):
        return regularization_state(runs, n, w, wd, p)

    big = st()
    assert big.final_train_loss < 0.01 and big.train_acc[-1] == 1.0       # memorised
    assert big.final_val_loss > 3 * big.best_val_loss                     # validation loss rising
    assert big.verdict == "overfitting"
    # weight decay and dropout each lower the final validation loss, step by step
    for n in (20, 80):
        assert np.all(np.diff([st(n=n, wd=v).final_val_loss for v in GRID["weight_decay"]]) < 0)
    assert np.all(np.diff([st(n=80, p=v).final_val_loss for v in GRID["dropout"]]) < 0)
    assert st(n=80).best_epoch < 20 < st(n=80, wd=3.0, p=0.3).best_epoch
    # capacity vs data: more points are harder to memorise, a wider network memorises better,
    # and with the most data the final validation loss is far lower than with the least
    for w in GRID["width"]:
        assert np.all(np.diff([st(n=v, w=w).final_train_loss for v in GRID["n_train"]]) > 0)
        assert st(n=300, w=w).final_val_loss < st(n=20, w=w).final_val_loss / 3
    for n in GRID["n_train"]:
        assert np.all(np.diff([st(n=n, w=v).final_train_loss for v in GRID["width"]]) < 0)
    # a small network on many points fits well; heavy decay on a small one underfits
    assert st(n=300, w=8).verdict == "good fit"
    assert st(n=20, w=32, wd=10.0).verdict == "underfitting"


# ---------------------------------------------------------------------------- one run
def test_data_and_model():
    Xt, yt, Xv, yv = regularization_data()
    assert Xt.shape == (300, 2) and Xv.shape == (200, 2)
    assert set(np.unique(yt)) == {0, 1} and yt.dtype == np.int64
    m = make_mlp(16, 0.3, generator=np.random.default_rng(0))
    assert [type(layer).__name__ for layer in m] == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert m.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
    # the same weights with or without dropout: only the masks come on top
    a = make_mlp(16, 0.0, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(a[0].weight.data, m[0].weight.data)
    np.testing.assert_array_equal(a[-1].bias.data, m[-1].bias.data)
    groups = weight_decay_groups(m, 0.5)
    assert [p.data.ndim for p in groups[0]["params"]] == [2, 2, 2] and groups[0]["weight_decay"] == 0.5
    assert [p.data.ndim for p in groups[1]["params"]] == [1, 1, 1] and groups[1]["weight_decay"] == 0.0


def test_train_run_records_what_it_claims():
    run = train_run(10, 4, 0.5, 0.2, config=TINY)
    Xt, yt, Xv, yv = regularization_data(TINY)
    assert run.train_loss.shape == run.val_loss.shape == (TINY.epochs + 1,)
    assert run.prob.shape == (TINY.grid_size, TINY.grid_size)
    assert np.all((run.prob >= 0) & (run.prob <= 1))
    # epoch 0 is the untrained network, in eval mode
    from course_lib.nn import CrossEntropyLoss

    m = make_mlp(4, 0.2, generator=np.random.default_rng(TINY.init_seed)).eval()
    np.testing.assert_allclose(run.val_loss[0], CrossEntropyLoss()(m(Xv), yv), rtol=1e-12)
    assert run.val_correct[0] == np.sum(m(Xv).argmax(1) == yv)
    assert run.train_correct[0] == np.sum(m(Xt[:10]).argmax(1) == yt[:10])
    # the same setting twice gives the same numbers
    again = train_run(10, 4, 0.5, 0.2, config=TINY)
    for name in RUN_FIELDS:
        np.testing.assert_array_equal(getattr(run, name), getattr(again, name))


def test_train_run_rejects_bad_settings():
    for bad in [dict(n_train=1), dict(n_train=301), dict(width=0), dict(weight_decay=-1.0), dict(dropout=1.0)]:
        setting = {"n_train": 10, "width": 4, "weight_decay": 0.0, "dropout": 0.0, **bad}
        with pytest.raises(ValueError):
            train_run(config=TINY, **setting)


def test_boundary_points_layout():
    xs, ys, pts = boundary_points(TINY)
    g = TINY.grid_size
    assert pts.shape == (g * g, 2)
    i, j = 2, 5
    np.testing.assert_array_equal(pts[i * g + j], [xs[j], ys[i]])


def test_boundary_lines():
    xs, ys, pts = boundary_points(TINY)
    g = TINY.grid_size
    prob = (1 / (1 + np.exp(-4 * (pts[:, 0] - 0.5)))).reshape(g, g)  # crosses 0.5 at x = 0.5, a vertical line
    (line,) = boundary_lines(prob, TINY)
    np.testing.assert_allclose(line[:, 0], 0.5, atol=1e-12)
    np.testing.assert_allclose(sorted(line[:, 1]), ys)
    assert boundary_lines(np.full((g, g), 0.6), TINY) == []  # one class everywhere: no boundary


def test_quantize_run():
    run = train_run(10, 4, 0.0, 0.0, config=TINY)
    q = quantize_run(run)
    assert q.train_loss.dtype == np.float16 and q.prob.dtype == np.uint8 and q.val_correct.dtype == np.uint16
    np.testing.assert_allclose(q.val_loss.astype(float), run.val_loss, rtol=1e-3)
    np.testing.assert_allclose(q.prob / 255, run.prob, atol=0.5 / 255 + 1e-12)


# ---------------------------------------------------------------------------- the pure function
def test_state_is_a_lookup_of_the_right_run(tiny):
    for n in TINY_GRID["n_train"]:
        for w in TINY_GRID["width"]:
            for wd in TINY_GRID["weight_decay"]:
                for p in TINY_GRID["dropout"]:
                    s = regularization_state(tiny, n, w, wd, p)
                    q = quantize_run(train_run(n, w, wd, p, config=TINY))
                    np.testing.assert_array_equal(s.train_loss, q.train_loss.astype(np.float64))
                    np.testing.assert_array_equal(s.val_acc, q.val_correct / tiny.n_val)
                    np.testing.assert_array_equal(s.train_acc, q.train_correct / n)
                    np.testing.assert_array_equal(s.prob, q.prob / 255.0)
                    assert s.weight_norm == q.weight_norm
                    assert (s.n_train, s.width, s.weight_decay, s.dropout) == (n, w, wd, p)


def test_state_summary_fields(tiny):
    s = regularization_state(tiny, 30, 8, 1.0, 0.5)
    assert s.best_epoch == int(np.argmin(s.val_loss))
    assert s.best_val_loss == s.val_loss.min()
    assert s.best_val_acc == s.val_acc[s.best_epoch]
    assert s.final_train_loss == s.train_loss[-1] and s.final_val_loss == s.val_loss[-1]
    assert s.gap == pytest.approx(s.final_val_loss - s.final_train_loss)
    np.testing.assert_array_equal(s.epochs, np.arange(TINY.epochs + 1))
    assert s.verdict in ("overfitting", "underfitting", "good fit")
    assert "n_train=30" in s.label and "dropout=0.5" in s.label


def test_state_rejects_values_that_were_not_precomputed(tiny):
    with pytest.raises(ValueError, match=r"width=5 was not precomputed; choose one of \[4, 8\]"):
        regularization_state(tiny, 10, 5, 0.0, 0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        regularization_state(tiny, 10, 4, 0.3, 0.0)


def test_verdicts():
    from course_lib.explorers.regularization import _verdict

    assert _verdict(0.001, 2.0, 0.4) == "overfitting"
    assert _verdict(0.4, 0.45, 0.44) == "underfitting"
    assert _verdict(0.1, 0.3, 0.25) == "good fit"


def test_save_and_load_round_trip(tiny, tmp_path):
    path = tiny.save(tmp_path / "runs.npz")
    back = RegularizationRuns.load(path)
    assert back.grid == tiny.grid and back.config == tiny.config
    for name, arr in tiny.arrays.items():
        np.testing.assert_array_equal(back.arrays[name], arr)
        assert back.arrays[name].dtype == arr.dtype
    with pytest.raises(FileNotFoundError, match="make_regularization_runs.py"):
        RegularizationRuns.load(tmp_path / "missing.npz")


def test_generate_needs_the_four_settings():
    with pytest.raises(ValueError, match="needs the settings"):
        RegularizationRuns.generate({"n_train": (10,), "width": (4,)}, config=TINY)


# ---------------------------------------------------------------------------- the widget, headless
def test_explorer_builds_without_output(runs, capsys):
    ex = RegularizationExplorer(runs)
    assert capsys.readouterr().out == ""
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert set(ex.controls) == set(GRID)
    assert "overfitting" in ex.status.value and "early stopping" in ex.status.value
    assert (ex.state.n_train, ex.state.width, ex.state.weight_decay, ex.state.dropout) == (20, 128, 0.0, 0.0)


@pytest.mark.parametrize("name", list(GRID))
def test_each_slider_to_both_ends(runs, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = RegularizationExplorer(runs, n_train=40, width=32, weight_decay=1.0, dropout=0.1)
        slider = ex.controls[name]
        for end in (slider.options[0][1], slider.options[-1][1]):
            before = (ex.state, ex.status.value, bytes(ex.image.value), ex.redraw_count)
            slider.value = end
            assert ex.redraw_count == before[3] + 1
            assert getattr(ex.state, name) == end
            assert not np.array_equal(ex.state.val_loss, before[0].val_loss)
            assert ex.status.value != before[1]
            assert bytes(ex.image.value) != before[2]
            assert bytes(ex.image.value).startswith(b"\x89PNG")


def test_picture_depends_on_the_setting_only(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = RegularizationExplorer(runs)
        first = bytes(ex.image.value)
        ex.controls["n_train"].value = 300
        ex.controls["dropout"].value = 0.5
        ex.controls["weight_decay"].value = 10.0
        assert bytes(ex.image.value) != first
        ex.controls["n_train"].value = 20
        ex.controls["dropout"].value = 0.0
        ex.controls["weight_decay"].value = 0.0
        assert bytes(ex.image.value) == first


def test_a_network_without_a_boundary_draws_quietly(runs):
    """Width 8 with weight decay 10 decays to a constant 50/50 network: no 0.5 contour, no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = RegularizationExplorer(runs, n_train=80, width=8, weight_decay=10.0)
        assert np.ptp(ex.state.prob) == 0 and ex.state.verdict == "underfitting"
        ex.controls["width"].value = 128
        ex.controls["width"].value = 8
        assert "underfitting" in ex.status.value


def test_explorer_rejects_a_setting_outside_the_grid(runs):
    with pytest.raises(ValueError, match="not precomputed"):
        RegularizationExplorer(runs, width=64)


def test_explorer_loads_the_default_file():
    ex = RegularizationExplorer()
    assert ex.runs.grid == GRID


def test_dropout_layer_is_what_the_runs_use():
    m = make_mlp(8, 0.5, generator=np.random.default_rng(0))
    assert isinstance(m[2], Dropout) and m[2].p == 0.5
    assert isinstance(m[0], Linear)
