"""Notebook 03's explorers: the pure functions behind them, then the widgets driven headless.

Redraw speed is measured outside the tests (see the notebook-03 report); tests never assert on time.
"""
from __future__ import annotations

import io
import warnings

import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.explorers.optimizers import (
    GAP_FLOOR,
    LANDSCAPE_LABELS,
    MAX_STEPS,
    OPTIMIZER_LABELS,
    RACERS,
    RUN_COLORS,
    OptimizerExplorer,
    OptimizerRaceExplorer,
    TrajectoryCache,
    cached_trajectory,
    draw_runs,
    gap_limits,
    landscape_grid,
    loss_gap,
    race,
    truncate_trajectory,
)
from course_lib.optim import LANDSCAPES, OPTIMIZER_NAMES, get_landscape, optimizer_trajectory
from course_lib.plotting import pixels_to_png


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert (a.verdict, a.step, a.message) == (b.verdict, b.step, b.message)


def _ends(slider) -> tuple:
    """The two end values of a slider (a FloatLogSlider's min and max are exponents)."""
    if hasattr(slider, "base"):
        return slider.base ** slider.min, slider.base ** slider.max
    return slider.min, slider.max


def _png(ex) -> bytes:
    data = bytes(ex.image.value)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return data


# ---------------------------------------------------------------------------- pure functions
def test_the_dropdowns_offer_every_landscape_and_optimizer():
    assert set(LANDSCAPE_LABELS) == set(LANDSCAPES)
    assert tuple(OPTIMIZER_LABELS) == OPTIMIZER_NAMES
    assert {r.optimizer for r in RACERS} <= set(OPTIMIZER_NAMES)
    assert all(set(r.lrs) == set(LANDSCAPES) for r in RACERS)


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_landscape_grid_is_computed_once_and_read_only(name):
    x, y, gap, levels = landscape_grid(name)
    assert landscape_grid(name)[2] is gap                    # cached
    land = get_landscape(name)
    assert x.shape == (161,) and y.shape == (161,) and gap.shape == (161, 161)
    assert (x[0], x[-1], y[0], y[-1]) == (*land.xlim, *land.ylim)
    np.testing.assert_allclose(gap[40, 100], land.value(x[100], y[40]) - land.min_value, rtol=1e-12, atol=1e-15)
    assert gap.min() >= 0.0 and np.all(np.diff(levels) > 0)
    with pytest.raises(ValueError):
        gap[0, 0] = 1.0
    lo, hi = gap_limits(name)
    assert lo == GAP_FLOOR and hi > 10 * gap.max()


def test_loss_gap_is_positive_for_log_axes():
    land = get_landscape("saddle")                            # f_min = -0.25 < 0
    gap = loss_gap(land, [-0.25, 0.75, -0.25 + 1e-20])
    np.testing.assert_allclose(gap, [GAP_FLOOR, 1.0, GAP_FLOOR])


@pytest.mark.parametrize("setting", [
    ("ill_conditioned_quadratic", "SGD", 0.21, 0.0),           # diverges at step 29
    ("ill_conditioned_quadratic", "SGD", 0.1, 0.0),            # converges at step 117
    ("rosenbrock", "Adam", 0.1, 0.9),                          # slow
    ("saddle", "SGD", 1.0, 0.0),                               # oscillates
    ("rosenbrock", "Nesterov", 0.05, 0.9),                     # diverges quickly
])
def test_truncating_a_long_run_equals_a_short_run(setting):
    landscape, opt, lr, mom = setting
    long = optimizer_trajectory(landscape, opt, lr, mom, steps=400)
    for steps in (1, 10, 28, 29, 30, 116, 117, 200, 400):
        _same(truncate_trajectory(long, landscape, steps), optimizer_trajectory(landscape, opt, lr, mom, steps=steps))


def test_truncate_refuses_to_invent_steps():
    run = optimizer_trajectory("saddle", "SGD", 0.01, steps=50)
    with pytest.raises(ValueError, match="only 50 steps"):
        truncate_trajectory(run, "saddle", 60)


def test_cache_reuses_the_longest_run():
    cache = TrajectoryCache(maxsize=2)
    a = cache.get("rosenbrock", "Adam", 0.1, 0.9, 0.999, 1000)
    assert cache.computed == 1
    for steps in (10, 500, 1000):
        _same(cache.get("rosenbrock", "Adam", 0.1, 0.9, 0.999, steps),
              optimizer_trajectory("rosenbrock", "Adam", 0.1, 0.9, 0.999, steps=steps))
    assert cache.computed == 1
    cache.get("saddle", "SGD", 0.1, 0.0, 0.999, 100)
    cache.get("saddle", "SGD", 0.1, 0.0, 0.999, 300)          # longer: computed again
    assert cache.computed == 3
    cache.get("saddle", "SGD", 0.2, 0.0, 0.999, 100)          # a third setting: the Adam run is dropped
    cache.get("rosenbrock", "Adam", 0.1, 0.9, 0.999, 1000)
    assert cache.computed == 5
    _same(a, cache.get("rosenbrock", "Adam", 0.1, 0.9, 0.999, 1000))


def test_cache_answers_every_length_from_a_diverged_run():
    cache = TrajectoryCache()
    cache.get("ill_conditioned_quadratic", "SGD", 0.21, 0.0, 0.999, 1000)     # diverges at 29
    for steps in (10, 29, 500, 1000):
        _same(cache.get("ill_conditioned_quadratic", "SGD", 0.21, 0.0, 0.999, steps),
              optimizer_trajectory("ill_conditioned_quadratic", "SGD", 0.21, steps=steps))
    assert cache.computed == 1
    _same(cached_trajectory("saddle", "Adam", 0.05, 0.9, 0.999, 80),
          optimizer_trajectory("saddle", "Adam", 0.05, 0.9, 0.999, steps=80))


@pytest.mark.parametrize("landscape", sorted(LANDSCAPES))
def test_race_runs_every_racer_with_its_own_lr(landscape):
    state = race(landscape, steps=120, lr_scale=2.0, cache=TrajectoryCache())
    assert len(state.entries) == len(RACERS)
    for racer, entry in zip(RACERS, state.entries):
        assert entry.lr == pytest.approx(2.0 * racer.lrs[landscape])
        assert entry.name == racer.label and entry.label.startswith(racer.label + ", lr ")
        _same(entry.run, optimizer_trajectory(landscape, racer.optimizer, entry.lr, racer.momentum, racer.beta2,
                                              steps=120))


def test_race_on_rosenbrock_with_the_tuned_rates():
    """The race's story: in 1000 steps momentum and Adam reach the minimum, plain GD does not."""
    state = race("rosenbrock", steps=MAX_STEPS, cache=TrajectoryCache())
    verdicts = {e.name: e.run.verdict for e in state.entries}
    assert verdicts["GD"] == "slow"
    assert verdicts["Momentum 0.9"] == "converged" and verdicts["Adam"] == "converged"
    assert all(e.run.verdict != "diverged" for e in state.entries)


@pytest.mark.parametrize("landscape, legend", list(zip(sorted(LANDSCAPES), ["loss", "figure", "none"])))
def test_draw_runs_static_figure(landscape, legend):
    runs = [("slow", optimizer_trajectory(landscape, "SGD", 1e-4, steps=50)),
            ("diverged", optimizer_trajectory(landscape, "SGD", 3.0, steps=50)),
            ("Adam", optimizer_trajectory(landscape, "Adam", 0.05, 0.9, steps=50))]
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_path, ax_loss = draw_runs(fig, landscape, runs, legend=legend)
    assert ax_loss.get_yscale() == "log" and ax_loss.get_xlim() == (0.0, 50.0)
    assert ax_path.get_xlim() == get_landscape(landscape).xlim
    assert len(ax_loss.get_lines()) == 2 * len(runs)          # a curve and a verdict marker per run
    buf = io.BytesIO()
    fig.savefig(buf, format="png")


def test_png_encoder_round_trips():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    back = matplotlib.image.imread(io.BytesIO(pixels_to_png(rgb)), format="png")
    np.testing.assert_array_equal(np.round(back[..., :3] * 255).astype(np.uint8), rgb)


# ---------------------------------------------------------------------------- the single-optimizer widget
@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return OptimizerExplorer()


def _move(ex, name, value):
    """Set one control; check that the explorer redrew and that state, status and picture changed."""
    before = (ex.state, ex.status.value, _png(ex), ex.redraw_count)
    ex.controls[name].value = value
    assert ex.redraw_count == before[3] + 1
    assert ex.state != before[0]
    assert ex.status.value != before[1]
    assert _png(ex) != before[2]
    run = ex.state.run
    assert run.verdict in ("converged", "oscillating", "diverged", "slow")
    assert run.verdict in ex.status.value
    assert np.all(np.isfinite(run.positions)) and np.all(np.isfinite(run.losses))


def test_explorer_builds_without_output(capsys):
    ex = OptimizerExplorer()
    assert capsys.readouterr().out == ""
    assert set(ex.controls) == {"landscape", "optimizer", "lr", "momentum", "beta2", "steps"}
    assert ex.state.run.verdict == "converged" and "converged at step" in ex.status.value
    assert "stability limit 2/h_max" in ex.status.value
    assert ex.controls["steps"].max == MAX_STEPS and ex.controls["lr"].base == 10
    _png(ex)


def test_every_landscape_option(explorer):
    ex = explorer
    ex.controls["optimizer"].value = "Adam"
    ex.controls["momentum"].value = 0.9
    ex.controls["lr"].value = 0.05
    for name in ["rosenbrock", "saddle", "ill_conditioned_quadratic"]:
        _move(ex, "landscape", name)
        assert ex.state.landscape == name


def test_every_optimizer_option(explorer):
    ex = explorer
    ex.controls["landscape"].value = "ill_conditioned_quadratic"
    ex.controls["lr"].value = 0.05
    ex.controls["momentum"].value = 0.9
    ex.controls["beta2"].value = 0.99
    ex.controls["steps"].value = 200
    ex.controls["optimizer"].value = "AdamW"
    for name in ["SGD", "Nesterov", "RMSprop", "Adam", "AdamW"]:
        _move(ex, "optimizer", name)
        assert ex.state.optimizer == name
        assert ex.controls["beta2"].disabled == (name in ("SGD", "Nesterov"))


@pytest.mark.parametrize("name, context", [
    ("lr", dict(optimizer="SGD", landscape="ill_conditioned_quadratic", momentum=0.0)),
    ("momentum", dict(optimizer="SGD", landscape="ill_conditioned_quadratic", lr=0.01)),
    ("beta2", dict(optimizer="Adam", landscape="saddle", lr=0.05, momentum=0.9)),
    ("steps", dict(optimizer="Adam", landscape="rosenbrock", lr=0.05, momentum=0.9)),
])
def test_each_slider_to_both_ends(explorer, name, context):
    ex = explorer
    for key, value in context.items():
        ex.controls[key].value = value
    slider = ex.controls[name]
    start = slider.value
    for end in _ends(slider):
        if end == pytest.approx(slider.value):     # already at this end: leave it first
            slider.value = float(np.sqrt(np.prod(_ends(slider)))) if name == "lr" else sum(_ends(slider)) / 2
        _move(ex, name, end)
        assert getattr(ex.state, name) == pytest.approx(end)
    slider.value = start


def test_divergence_is_shown_not_crashed(explorer):
    ex = explorer
    ex.controls["landscape"].value = "rosenbrock"
    ex.controls["optimizer"].value = "SGD"
    ex.controls["momentum"].value = 0.99
    lo, hi = _ends(ex.controls["lr"])
    ex.controls["lr"].value = hi
    assert ex.state.lr == pytest.approx(10 ** 0.5)
    assert ex.state.run.verdict == "diverged" and ex.state.run.step == 1
    assert "diverged at step 1" in ex.status.value and "#D55E00" in ex.status.value
    ex.controls["lr"].value = lo
    assert ex.state.lr == pytest.approx(1e-4) and ex.state.run.verdict != "diverged"


def test_stability_limit_in_the_status():
    ex = OptimizerExplorer(lr=0.21)
    assert ex.state.run.verdict == "diverged" and "= 1.05" in ex.status.value
    ex.controls["momentum"].value = 0.9          # momentum: the effective lr is shown instead
    assert "lr/(1−μ)" in ex.status.value and "stability limit" not in ex.status.value


def test_every_corner_is_quiet():
    """Every landscape x optimizer at both lr ends and the extreme momentum / beta2 settings."""
    ex = OptimizerExplorer(steps=MAX_STEPS)
    c = ex.controls
    c["momentum"].value, c["beta2"].value = c["momentum"].max, c["beta2"].min
    for landscape in LANDSCAPES:
        c["landscape"].value = landscape
        for opt in OPTIMIZER_NAMES:
            c["optimizer"].value = opt
            for lr in _ends(c["lr"]):
                c["lr"].value = lr
                run = ex.state.run
                assert run.verdict in ("converged", "oscillating", "diverged", "slow")
                assert np.all(np.isfinite(run.positions)) and run.verdict in ex.status.value
                _png(ex)


def test_picture_depends_only_on_the_controls():
    ex = OptimizerExplorer()
    first = _png(ex)
    ex.controls["lr"].value = 0.01
    ex.controls["landscape"].value = "saddle"
    ex.controls["landscape"].value = "ill_conditioned_quadratic"
    ex.controls["lr"].value = 0.18
    assert _png(ex) == first


def test_static_draw_matches_the_state():
    ex = OptimizerExplorer()
    fig = Figure(figsize=(10, 4), layout="constrained")
    ex.draw(fig, ex.state)
    assert len(fig.axes) == 2


# ---------------------------------------------------------------------------- the race widget
@pytest.fixture(scope="module")
def racer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return OptimizerRaceExplorer()


def _move_race(ex, name, value):
    before = (ex.state, ex.status.value, _png(ex), ex.redraw_count)
    ex.controls[name].value = value
    assert ex.redraw_count == before[3] + 1
    assert ex.state != before[0] and ex.status.value != before[1] and _png(ex) != before[2]
    assert len(ex.state.entries) == len(RACERS)
    for e in ex.state.entries:
        assert e.name in ex.status.value
        assert np.all(np.isfinite(e.run.positions))


def test_race_builds(racer, capsys):
    assert set(racer.controls) == {"landscape", "lr_scale", "steps"}
    assert racer.state.landscape == "rosenbrock" and racer.state.steps == MAX_STEPS
    assert "converged" in racer.status.value


def test_race_colours_are_distinct_and_match_the_status_line(racer):
    colours = RUN_COLORS[:len(RACERS)]
    assert len(set(colours)) == len(RACERS)
    assert not {"#E69F00", "#D55E00"} <= set(colours)    # orange and vermilion look alike on a projector
    for colour, entry in zip(colours, racer.state.entries):
        assert f'<span style="color:{colour}">■</span> {entry.label}' in racer.status.value


def test_race_every_landscape(racer):
    for name in ["saddle", "ill_conditioned_quadratic", "rosenbrock"]:
        _move_race(racer, "landscape", name)
        assert racer.state.landscape == name


@pytest.mark.parametrize("name", ["lr_scale", "steps"])
def test_race_each_slider_to_both_ends(racer, name):
    slider = racer.controls[name]
    start = slider.value
    for end in _ends(slider):
        if end == pytest.approx(slider.value):
            slider.value = 1.0 if name == "lr_scale" else 500
        _move_race(racer, name, end)
        assert getattr(racer.state, name) == pytest.approx(end)
    slider.value = start


def test_race_shows_divergence_at_ten_times_the_rates(racer):
    racer.controls["landscape"].value = "rosenbrock"
    racer.controls["lr_scale"].value = _ends(racer.controls["lr_scale"])[1]
    assert racer.state.lr_scale == pytest.approx(10.0)
    assert any(e.run.verdict == "diverged" for e in racer.state.entries)
    assert "diverged</b> at step" in racer.status.value
    racer.controls["lr_scale"].value = 1.0


def test_race_static_draw(racer):
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    racer.draw(fig, racer.state)
    assert len(fig.legends) == 1 and len(fig.axes) == 2


def test_cache_with_min_steps_makes_the_steps_slider_free():
    cache = TrajectoryCache(min_steps=MAX_STEPS)
    for steps in (10, 300, MAX_STEPS, 50):
        _same(cache.get("saddle", "Adam", 0.05, 0.9, 0.999, steps),
              optimizer_trajectory("saddle", "Adam", 0.05, 0.9, 0.999, steps=steps))
    assert cache.computed == 1
    ex = OptimizerExplorer(cache=cache)
    computed = cache.computed
    for steps in (MAX_STEPS, 20, 500):
        ex.controls["steps"].value = steps
    assert cache.computed == computed
