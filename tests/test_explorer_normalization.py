"""Notebook 05's explorer and figures: the pure functions, then the widget driven headless."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from course_lib.explorers.activations import GradientFlow, gradient_flow
from course_lib.explorers.normalization import (
    BATCH_SIZES,
    N_FEATURES,
    BatchSizeExplorer,
    BatchStats,
    batch_statistics,
    draw_batch_stats,
    draw_flow_comparison,
    draw_noise_vs_batch_size,
    gradient_flow_with_norm,
    noise_vs_batch_size,
    population,
)
from course_lib.nn import BatchNorm1d, LayerNorm
from course_lib.plotting import figure_to_png, new_figure


def _strict():
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


# --------------------------------------------------------------------------- the population
def test_population_is_fixed_and_read_only():
    a, b = population(), population()
    assert a is b  # cached
    assert a.values.shape == (2048, N_FEATURES)
    assert not a.values.flags.writeable
    assert a.std > 0
    assert population(unit=3).unit == 3
    with pytest.raises(ValueError, match="unit"):
        population(unit=N_FEATURES)


# --------------------------------------------------------------------------- batch statistics
def test_batch_statistics_are_those_of_course_lib_batchnorm_batch_by_batch():
    # replay the same batches through BatchNorm1d(1) (momentum 0.1, training mode) and compare everything
    st = batch_statistics(8, n_batches=30, seed=0, unit=2)
    pop = population(0, 2)
    column = pop.values[:, 2]
    rng = np.random.default_rng([0, 8])
    batches = column[rng.integers(0, len(column), size=(30, 8))]  # the same draws as batch_statistics
    bn = BatchNorm1d(1)
    outputs = []
    for k in range(30):
        tracked = batches[k].copy()
        tracked[0] = column[0]
        probe = BatchNorm1d(1)  # a fresh layer: only its batch statistics matter for the tracked sample
        outputs.append(probe(tracked[:, None])[0, 0])
        bn(batches[k][:, None])  # training: updates the running statistics with this batch
    np.testing.assert_allclose(st.batch_mean, batches.mean(axis=1))
    np.testing.assert_allclose(st.batch_std, batches.std(axis=1))
    np.testing.assert_allclose(st.running_mean, bn.running_mean[0])
    np.testing.assert_allclose(st.running_var, bn.running_var[0])
    np.testing.assert_allclose(st.bn_train, outputs)
    bn.eval()
    np.testing.assert_allclose(st.bn_eval, bn(np.array([[column[0]]]))[0, 0])


def test_layer_norm_output_does_not_depend_on_the_batch_or_the_mode():
    st = batch_statistics(16, n_batches=20)
    values = population().values
    ln = LayerNorm(N_FEATURES)
    rng = np.random.default_rng(1)
    for _ in range(3):  # sample 0 with different companions: the same output
        batch = np.concatenate([values[:1], values[rng.integers(1, len(values), 15)]])
        np.testing.assert_allclose(ln(batch)[0, 0], st.ln_train)
    np.testing.assert_allclose(ln.eval()(values[:1])[0, 0], st.ln_eval)
    assert st.ln_gap == 0.0


def test_noise_shrinks_like_one_over_sqrt_batch_size():
    table = noise_vs_batch_size((4, 16, 64, 256), n_batches=400)
    b = table["batch_size"]
    np.testing.assert_allclose(table["mean_spread"] * np.sqrt(b), 1.0, rtol=0.2)
    assert np.all(np.diff(table["mean_spread"]) < 0)
    assert np.all(np.diff(table["std_spread"]) < 0)
    assert table["gap_rms"][0] > 3 * table["gap_rms"][-1]


def test_batch_size_two_gives_plus_or_minus_one():
    # two values normalized with their own mean and biased std are -1 and +1 (up to eps)
    st = batch_statistics(2, n_batches=200)
    column = population().values[:, 0]
    companion = column[np.random.default_rng([0, 2]).integers(0, len(column), size=(200, 2))][:, 1]
    half_gap = (column[0] - companion) / 2  # x_0 - mean of the pair
    np.testing.assert_allclose(st.bn_train, half_gap / np.sqrt(half_gap ** 2 + 1e-5))
    far = np.abs(half_gap) > 0.05
    assert far.mean() > 0.5
    np.testing.assert_allclose(np.abs(st.bn_train[far]), 1.0, atol=2e-3)


def test_batch_size_one_reports_the_batchnorm_error_and_never_raises():
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        st = batch_statistics(1)
    assert st.bn_error is not None and "Expected more than 1 value per channel" in st.bn_error
    assert st.bn_train.size == 0 and st.batch_std.size == 0
    assert math.isnan(st.bn_eval) and math.isnan(st.gap_rms) and math.isnan(st.std_spread)
    assert st.mean_spread == pytest.approx(1.0, rel=0.15)  # one sample: its value, spread sigma
    text = st.summary()
    assert "BatchNorm1d cannot train on it: Expected more than 1 value per channel when training" in text
    assert "nan" not in text.lower()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        BatchNorm1d(N_FEATURES)(population().values[:1])  # the message comes from the layer itself


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_every_batch_size_is_finite_and_silent(batch_size):
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        st = batch_statistics(batch_size)
        text = st.summary()
    assert isinstance(st, BatchStats)
    assert np.all(np.isfinite(st.batch_mean)) and np.all(np.isfinite(st.bn_train))
    assert "nan" not in text.lower()
    assert f"batch size {batch_size}:" in text


def test_deterministic_and_seeded():
    a, b = batch_statistics(32), batch_statistics(32)
    np.testing.assert_array_equal(a.bn_train, b.bn_train)
    c = batch_statistics(32, seed=1)
    assert not np.array_equal(a.batch_mean, c.batch_mean)


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.0), "batch_size"),
    (dict(batch_size=True), "batch_size"),
    (dict(batch_size=4, n_batches=0), "n_batches"),
    (dict(batch_size=4, unit=99), "unit"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        batch_statistics(**kwargs)


def test_noise_table_refuses_batch_size_one():
    with pytest.raises(ValueError, match="at least 2"):
        noise_vs_batch_size((1, 2))


# --------------------------------------------------------------------------- gradient flow with a norm layer
def test_no_norm_is_notebook_02s_gradient_flow():
    a = gradient_flow_with_norm(12, "tanh", "default", norm="none")
    b = gradient_flow(12, "tanh", "default")
    for name in ("grad_norm", "weight_grad_norm", "act_std", "stuck"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_same_network_as_gradient_flow_when_the_norm_does_nothing(monkeypatch):
    # with an identity in place of the norm layer, the numbers must be gradient_flow's: same weights, same data
    import course_lib.explorers.normalization as mod
    from course_lib.nn import Identity

    monkeypatch.setitem(mod.NORMS, "layernorm", lambda width: Identity())
    a = gradient_flow_with_norm(6, "relu", "kaiming", norm="layernorm", width=16, batch=8, seed=3)
    b = gradient_flow(6, "relu", "kaiming", width=16, batch=8, seed=3)
    for name in ("grad_norm", "weight_grad_norm", "act_std", "stuck"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize("activation, init", [("tanh", "default"), ("relu", "normal")])
def test_normalization_keeps_activations_steady(norm, activation, init):
    bare = gradient_flow_with_norm(30, activation, init, norm="none")
    st = gradient_flow_with_norm(30, activation, init, norm=norm)
    assert isinstance(st, GradientFlow)
    assert bare.regime in ("vanishing", "exploding")
    assert 0.3 < st.act_std[-1] / st.act_std[0] < 3  # the std stays put from layer 1 to layer 30
    assert 1e-3 < st.ratio < 1e3  # no vanishing or exploding across 30 layers
    assert abs(math.log10(st.ratio)) < abs(math.log10(bare.ratio)) / 3


def test_gradient_flow_with_norm_bad_arguments():
    with pytest.raises(ValueError, match="norm"):
        gradient_flow_with_norm(3, "relu", "default", norm="groupnorm")
    with pytest.raises(ValueError, match="depth"):
        gradient_flow_with_norm(0, "relu", "default", norm="batchnorm")


# --------------------------------------------------------------------------- static figures
def test_static_figures_draw_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = new_figure(12, 7, 60)
        axes = fig.subplots(2, 3)
        draw_batch_stats(axes[0], batch_statistics(1))
        panels = draw_batch_stats(axes[1], batch_statistics(64), legend=False)
        assert panels.g_note.get_visible() is False
        draw_noise_vs_batch_size(new_figure(10, 4, 60).subplots(1, 2), noise_vs_batch_size((2, 8, 32)))
        flows = {n: gradient_flow_with_norm(10, "tanh", "default", norm=n) for n in ("none", "batchnorm")}
        fig2 = new_figure(10, 4, 60)
        draw_flow_comparison(fig2.subplots(1, 2), flows, title="tanh")
        assert len(fig2.axes[0].get_lines()) == 2
        assert figure_to_png(fig).startswith(b"\x89PNG") and figure_to_png(fig2).startswith(b"\x89PNG")


def test_flow_comparison_std_axis_is_linear_unless_the_stds_span_orders_of_magnitude():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steady = {n: gradient_flow_with_norm(10, "tanh", "default", norm=n) for n in ("none", "layernorm")}
        fig = new_figure(10, 4, 60)
        draw_flow_comparison(fig.subplots(1, 2), steady, title="tanh")
        assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_yscale() == "linear"
        assert fig.axes[1].get_ylim()[0] == 0.0
        assert fig.axes[0].get_ylabel() == r"$\|\partial L / \partial z_k\|$"
        assert fig.axes[1].get_title() == "tanh: std of the activations $h_k$"
        exploding = {n: gradient_flow_with_norm(10, "relu", "normal", norm=n) for n in ("none", "batchnorm")}
        fig2 = new_figure(10, 4, 60)
        draw_flow_comparison(fig2.subplots(1, 2), exploding)
        assert fig2.axes[1].get_yscale() == "log"
        fig3 = new_figure(10, 4, 60)
        draw_flow_comparison(fig3.subplots(1, 2), steady, std_scale="log")
        assert fig3.axes[1].get_yscale() == "log"
        for f in (fig, fig2, fig3):
            assert figure_to_png(f).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="std_scale must be 'auto', 'log' or 'linear', got 'loglog'"):
        draw_flow_comparison(new_figure(10, 4, 60).subplots(1, 2), steady, std_scale="loglog")


# --------------------------------------------------------------------------- the widget, headless
@pytest.fixture
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return BatchSizeExplorer(batch_size=8, n_batches=200)


def test_explorer_starts_drawn(explorer):
    assert explorer.redraw_count == 1
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.state.batch_size == 8
    assert "batch size 8:" in explorer.status.value


def test_slider_is_log_spaced_from_1_to_256(explorer):
    slider = explorer.controls["batch_size"]
    assert list(slider.options) == [1, 2, 4, 8, 16, 32, 64, 128, 256]


def test_batch_size_slider_to_both_ends(explorer):
    slider = explorer.controls["batch_size"]
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (slider.options[0], slider.options[-1], slider.options[0]):
            before_state, before_png, count = explorer.state, explorer.image.value, explorer.redraw_count
            slider.value = value
            assert explorer.redraw_count == count + 1
            assert explorer.state is not before_state and explorer.state.batch_size == value
            assert explorer.image.value != before_png
            assert bytes(explorer.image.value).startswith(b"\x89PNG")
            seen.append(explorer.status.value)
    low, high, low_again = seen
    assert "BatchNorm1d raised ValueError" in low and "Expected more than 1 value per channel" in low
    assert "batch size 256:" in high and "raised" not in high
    assert low == low_again  # deterministic
    assert all("nan" not in t.lower() for t in seen)


def test_every_batch_size_redraws(explorer):
    pngs = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in BATCH_SIZES:
            explorer.controls["batch_size"].value = value
            pngs.add(bytes(explorer.image.value))
    assert len(pngs) == len(BATCH_SIZES)


def test_explorer_rejects_a_batch_size_off_the_slider():
    with pytest.raises(ValueError, match="batch_size"):
        BatchSizeExplorer(batch_size=3)
