"""The vanishing-gradients explorer: its pure function, then the widget driven headless."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from course_lib.explorers.activations import (
    ACTIVATIONS,
    INITS,
    MAX_DEPTH,
    GradientFlow,
    VanishingGradientsExplorer,
    draw_comparison,
    draw_gradient_flow,
    gradient_flow,
)
from course_lib.nn import Linear, Sequential, Sigmoid
from course_lib.plotting import figure_to_png, new_figure


def _strict():
    """Every floating-point problem is an error (underflow to 0 is allowed: it is reported)."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


# --------------------------------------------------------------------------- known behaviour
def test_sigmoid_with_default_init_vanishes_at_depth_30():
    st = gradient_flow(30, "sigmoid", "default")
    assert st.ratio < 1e-3
    assert st.ratio < 1e-15  # 0.25 * 0.58 per layer: about 1e-25
    assert st.regime == "vanishing"
    assert st.summary().startswith("vanishing: first-layer gradient is ")
    assert "of the last" in st.summary()


@pytest.mark.parametrize("depth", [10, 30, 50])
def test_relu_with_kaiming_stays_within_a_factor_of_10(depth):
    st = gradient_flow(depth, "relu", "kaiming")
    assert 0.1 < st.ratio < 10
    assert np.all(st.grad_norm / st.grad_norm[-1] < 10)
    assert np.all(st.grad_norm / st.grad_norm[-1] > 0.1)
    assert st.regime == "healthy"


def test_tanh_with_xavier_is_healthy_at_depth_30():
    st = gradient_flow(30, "tanh", "xavier")
    assert 1e-2 < st.ratio < 10
    assert st.regime == "healthy"


def test_relu_with_unit_normal_weights_explodes_without_overflow():
    with _strict():
        st = gradient_flow(50, "relu", "normal", 4.0)
    assert st.regime == "exploding"
    assert st.act_std[-1] > 1e50  # huge, yet finite
    assert np.all(np.isfinite(st.grad_norm)) and np.all(np.isfinite(st.act_std))
    assert "exploding" in st.summary() and "activations reach std" in st.summary()


def test_relu_with_default_init_ends_with_dead_units():
    # the activations shrink until the bias decides: units with a negative bias are off for every input
    st = gradient_flow(30, "relu", "default")
    assert st.stuck[0] == 0.0
    assert st.stuck[-1] > 0.3
    assert "dead units at layer 30" in st.summary()


def test_saturation_measure_for_sigmoid_and_tanh():
    assert gradient_flow(30, "tanh", "normal", 4.0).stuck.min() > 0.8  # |tanh| > 0.99 almost everywhere
    assert gradient_flow(30, "sigmoid", "default").stuck.max() == 0.0  # vanishes without any saturation


def test_scale_multiplies_the_weights():
    a = gradient_flow(3, "tanh", "kaiming", 1.0, seed=1)
    b = gradient_flow(3, "tanh", "kaiming", 2.0, seed=1)
    assert b.act_std[0] > a.act_std[0]


def test_matches_a_course_lib_network_built_by_hand():
    # gradient_flow must be course_lib's Linear + Sigmoid with PyTorch's default init, nothing re-implemented
    st = gradient_flow(3, "sigmoid", "default", width=8, batch=5, seed=7)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 8))
    upstream = rng.standard_normal((5, 8)) / 5
    layers = []
    for _ in range(3):
        layers += [Linear(8, 8, generator=rng), Sigmoid()]
    net = Sequential(*layers)
    h = net(x)
    net.backward(upstream)
    np.testing.assert_allclose(st.act_std[-1], h.std())
    np.testing.assert_allclose(st.weight_grad_norm, [np.linalg.norm(net[i].weight.grad) for i in (0, 2, 4)])
    # the gradient reaching the last layer: upstream * sigmoid'(z)
    np.testing.assert_allclose(st.grad_norm[-1], np.linalg.norm(upstream * h * (1 - h)))


def test_kaiming_init_is_course_lib_init():
    # with scale 1 the first layer's activations are ReLU(x W^T), W ~ N(0, 2 / fan_in): std of z about sqrt(2)
    st = gradient_flow(1, "relu", "kaiming", width=256, batch=1024)
    # E[relu(z)^2] = var(z) / 2 = 1 -> std(relu(z)) = sqrt(1 - 1/pi)
    np.testing.assert_allclose(st.act_std[0], np.sqrt(1 - 1 / np.pi), rtol=0.05)


def test_deterministic():
    a = gradient_flow(20, "gelu", "xavier", 2.0)
    b = gradient_flow(20, "gelu", "xavier", 2.0)
    for name in ("grad_norm", "weight_grad_norm", "act_std", "stuck"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = gradient_flow(20, "gelu", "xavier", 2.0, seed=1)
    assert not np.array_equal(a.grad_norm, c.grad_norm)


def test_shapes_and_depth_one():
    st = gradient_flow(1, "relu", "default")
    assert st.grad_norm.shape == st.act_std.shape == st.stuck.shape == st.weight_grad_norm.shape == (1,)
    assert st.ratio == 1.0
    assert "one layer" in st.summary()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=0), "depth"),
        (dict(depth=MAX_DEPTH + 1), "depth"),
        (dict(depth=2.0), "depth"),
        (dict(activation="swish"), "activation"),
        (dict(init="he"), "init"),
        (dict(scale=0.0), "scale"),
        (dict(scale=8.0), "scale"),
        (dict(width=1000), "width"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    args = dict(depth=3, activation="relu", init="default")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gradient_flow(**args)


SETTINGS = list(itertools.product([1, MAX_DEPTH], ACTIVATIONS, INITS, [0.25, 4.0]))


@pytest.mark.parametrize("depth, activation, init, scale", SETTINGS)
def test_every_extreme_setting_is_finite_and_silent(depth, activation, init, scale):
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        st = gradient_flow(depth, activation, init, scale)
        assert st.regime in ("healthy", "vanishing", "exploding")
        text = st.summary()
    for arr in (st.grad_norm, st.weight_grad_norm, st.act_std, st.stuck):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    assert "nan" not in text and "inf" not in text.replace("infinite", "")


def test_underflow_to_zero_is_reported_and_drawn():
    # a tiny scale makes the gradient smaller than float64 can hold: it becomes (exactly) 0
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        st = gradient_flow(50, "sigmoid", "default", 1e-6)
        assert st.n_underflow > 0 and np.any(st.grad_norm == 0.0)
        assert st.regime == "vanishing"
        assert "underflowed below 1e-300" in st.summary()
        fig = new_figure(11, 3.6, 80)
        panels = draw_gradient_flow(fig, st)
        assert panels.legend.get_visible()
        y_zero = panels.g_zero.get_ydata()
        assert len(y_zero) == st.n_underflow and np.all(np.isfinite(y_zero))
        low, high = panels.ax_g.get_ylim()
        assert np.all((low <= panels.g_line.get_ydata()) & (panels.g_line.get_ydata() <= high))
        assert figure_to_png(fig).startswith(b"\x89PNG")
        assert panels.png(st).startswith(b"\x89PNG")


def test_comparison_figure_draws_several_settings():
    states = [gradient_flow(30, "sigmoid", "default"), gradient_flow(30, "relu", "kaiming")]
    fig = new_figure(11, 3.6, 80)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_comparison(fig, states)
        png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG")
    assert len(fig.axes) == 3  # the explorer's three panels: gradient, activation std, % stuck
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)


def test_gradient_flow_returns_a_gradient_flow():
    assert isinstance(gradient_flow(2, "tanh", "default"), GradientFlow)


# --------------------------------------------------------------------------- the widget, headless
@pytest.fixture
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return VanishingGradientsExplorer(depth=20, activation="tanh", init="xavier", scale=1.0)


def test_explorer_starts_drawn(explorer):
    assert explorer.redraw_count == 1
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.state.depth == 20
    assert "first-layer gradient" in explorer.status.value


def _ends(widget):
    if hasattr(widget, "options"):
        values = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return values[0], values[-1]
    return widget.min, widget.max


@pytest.mark.parametrize("name", ["depth", "activation", "init", "scale"])
def test_each_control_to_both_ends(explorer, name):
    widget = explorer.controls[name]
    low, high = _ends(widget)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (low, high):
            before = (explorer.state, explorer.status.value, explorer.image.value)
            count = explorer.redraw_count
            widget.value = value
            assert explorer.redraw_count == count + 1, f"{name}={value!r} did not redraw"
            assert explorer.state is not before[0]
            assert explorer.image.value != before[2], f"{name}={value!r}: the picture did not change"
            assert bytes(explorer.image.value).startswith(b"\x89PNG")
            seen.append((explorer.state, explorer.status.value))
    (s_low, t_low), (s_high, t_high) = seen
    attr = "init" if name == "init" else name
    assert getattr(s_low, attr) != getattr(s_high, attr)
    assert t_low != t_high
    assert "nan" not in t_low.lower() and "nan" not in t_high.lower()


def test_depth_slider_range_and_log_scale_slider(explorer):
    assert (explorer.controls["depth"].min, explorer.controls["depth"].max) == (1, 50)
    scale = explorer.controls["scale"]
    assert scale.base ** scale.min == pytest.approx(0.25) and scale.base ** scale.max == pytest.approx(4.0)
    assert [label for label, _ in explorer.controls["init"].options] == list(INITS.values())
    assert list(explorer.controls["activation"].options) == ["sigmoid", "tanh", "relu", "gelu"]


def test_explorer_worst_corner_reports_exploding(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.controls["activation"].value = "relu"
        explorer.controls["init"].value = "normal"
        explorer.controls["scale"].value = 4.0
        explorer.controls["depth"].value = 50
    assert explorer.state.regime == "exploding"
    assert "exploding" in explorer.status.value


def test_explorer_reuses_backgrounds_and_redraws_the_same_picture(explorer):
    first = bytes(explorer.image.value)
    explorer.controls["depth"].value = 21  # same snapped limits: a cached background is reused
    explorer.controls["depth"].value = 20
    assert bytes(explorer.image.value) == first  # blitting gives exactly the full picture again
    blit, _ = explorer.figures[None]
    assert len(blit.backgrounds) <= blit.max_backgrounds


def test_explorer_default_shows_vanishing():
    ex = VanishingGradientsExplorer()
    assert ex.state.regime == "vanishing"
    assert "vanishing" in ex.status.value
