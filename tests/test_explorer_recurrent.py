"""The gradients-through-time explorer: its pure function, then the widget driven headless."""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.explorers.recurrent import (
    CELLS,
    MAX_STEPS,
    GradientThroughTime,
    GradientThroughTimeExplorer,
    _orthogonal,
    draw_gradient_through_time,
    gradient_through_time,
)
from course_lib.nn import LSTM, RNN
from course_lib.plotting import figure_to_png, new_figure

UNDERFLOW = 1e-300


def _strict():
    """What Explorer.redraw uses: every floating-point problem is an error, except underflow to 0."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


# --------------------------------------------------------------------------- what is exact
@pytest.mark.parametrize("cell, activation", [("rnn", "tanh"), ("rnn", "linear"), ("lstm", "tanh")])
def test_norms_start_at_one_with_one_entry_per_step_back(cell, activation):
    st = gradient_through_time(cell, 17, 1.3, activation, 2.0)
    assert isinstance(st, GradientThroughTime)
    assert st.norms.shape == (18,)
    assert st.norms[0] == 1.0  # dL/dh_T = r, a unit vector
    assert np.all(np.isfinite(st.norms)) and np.all(st.norms > 0)


@pytest.mark.parametrize("scale", [0.5, 0.75, 1.0, 1.35, 2.0, 2.5])
@pytest.mark.parametrize("steps", [1, 7, 100, MAX_STEPS])
def test_linear_rnn_norm_is_scale_to_the_k(scale, steps):
    # W_hh = scale * Q, Q orthogonal: dL/dh_{T-k} = r W_hh^k has norm scale^k exactly (up to rounding)
    st = gradient_through_time("rnn", steps, scale, "linear")
    k = np.arange(steps + 1)
    np.testing.assert_allclose(st.norms, float(scale) ** k, rtol=1e-12, atol=0)
    np.testing.assert_allclose(st.ratio(steps), scale ** steps, rtol=1e-12)


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.7, 2.5])
def test_tanh_never_exceeds_linear(scale):
    # |tanh'| <= 1 and every singular value of W_hh is scale: each step shrinks by at most scale
    tanh = gradient_through_time("rnn", MAX_STEPS, scale, "tanh").norms
    linear = gradient_through_time("rnn", MAX_STEPS, scale, "linear").norms
    assert np.all(tanh <= linear * (1 + 1e-12))
    assert np.all(tanh[1:] <= tanh[:-1] * scale * (1 + 1e-12))  # step by step too
    assert tanh[-1] < linear[-1]  # and it does shrink


def test_rnn_with_tanh_vanishes_at_100_steps():
    st = gradient_through_time("rnn", 100, 1.0, "tanh")
    assert st.back == 100
    assert st.ratio() == st.norms[100] < 1e-3
    assert st.regime == "vanishing"


def test_lstm_forget_bias_keeps_the_gradient():
    keep = gradient_through_time("lstm", 100, 1.0, forget_bias=6.0)
    forget = gradient_through_time("lstm", 100, 1.0, forget_bias=-4.0)
    rnn = gradient_through_time("rnn", 100, 1.0, "tanh")
    assert keep.ratio() > 1e-3 and keep.regime == "kept"
    assert keep.ratio() > 1e6 * forget.ratio()  # f ~ 1 against f ~ 0.02 per step
    assert keep.ratio() > 100 * rnn.ratio()
    assert forget.regime == "vanishing"


def test_exploding_and_kept_regimes():
    assert gradient_through_time("rnn", 100, 2.5, "linear").regime == "exploding"
    assert gradient_through_time("rnn", 100, 2.5, "tanh").regime == "exploding"
    assert gradient_through_time("rnn", 100, 1.0, "linear").regime == "kept"


# --------------------------------------------------------------------------- independent computations
def _rebuilt(cell, steps, scale, forget_bias, hidden, input_size, seed):
    """The inputs and weights gradient_through_time documents, drawn in the order it draws them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, 1, input_size))
    r = rng.standard_normal((1, hidden))
    r /= np.linalg.norm(r)
    if cell == "rnn":
        w_ih = rng.uniform(-1, 1, (hidden, input_size)) / math.sqrt(hidden)
        net = RNN(input_size, hidden, bias=False)
        net.weight_ih_l0.data[...] = w_ih
        net.weight_hh_l0.data[...] = scale * _orthogonal(hidden, rng)
        return x, r, net
    net = LSTM(input_size, hidden, generator=rng)  # draws as LSTMCell does: same shapes, same order
    net.weight_hh_l0.data[...] = scale * np.concatenate([_orthogonal(hidden, rng) for _ in range(4)])
    net.bias_ih_l0.data[...] = 0.0
    net.bias_hh_l0.data[...] = 0.0
    net.bias_ih_l0.data[hidden:2 * hidden] = forget_bias
    return x, r, net


def _split_run(net, x, k, state0=None):
    """State after the first T-k steps, then the last k steps from it: (state at T-k, h_T)."""
    t = len(x) - k
    state = state0
    if t > 0:
        _, state = net(x[:t], state0)
    out, _ = net(x[t:], state)
    return state, out[-1]  # h_T: (1, H)


@pytest.mark.parametrize("cell, scale, forget_bias", [("rnn", 0.8, 0.0), ("rnn", 2.5, 0.0), ("lstm", 1.0, 1.0),
                                                      ("lstm", 2.2, -2.0), ("lstm", 0.5, 6.0)])
def test_agrees_with_course_lib_rnn_and_lstm_modules(cell, scale, forget_bias):
    # the whole-sequence nn.RNN / nn.LSTM (another code path: one forward, one backward through time)
    # gives dL/dh_{T-k} when it starts at step T-k from the state the first T-k steps reached
    steps, hidden, inp = 12, 6, 4
    st = gradient_through_time(cell, steps, scale, "tanh", forget_bias, hidden=hidden, input_size=inp, seed=3)
    x, r, net = _rebuilt(cell, steps, scale, forget_bias, hidden, inp, 3)
    expected = [1.0]
    for k in range(1, steps + 1):
        _split_run(net, x, k)
        if cell == "rnn":
            _, dh0 = net.backward((None, r[None]))  # the loss r . h_T is on the final state only
        else:
            _, (dh0, _) = net.backward((None, (r[None], None)))
        expected.append(np.linalg.norm(dh0))
    np.testing.assert_allclose(st.norms, expected, rtol=1e-9)


@pytest.mark.parametrize("cell", CELLS)
def test_agrees_with_finite_differences(cell):
    # d(r . h_T)/dh_{T-k} by central differences (the LSTM's c_{T-k} held fixed: the partial derivative)
    steps, hidden, inp = 6, 5, 3
    scale, fb = 1.4, 0.5
    st = gradient_through_time(cell, steps, scale, "tanh", fb, hidden=hidden, input_size=inp, seed=11)
    x, r, net = _rebuilt(cell, steps, scale, fb, hidden, inp, 11)
    for k in range(1, steps + 1):
        state, _ = _split_run(net, x, k)
        if state is None:  # k = T: the zero initial state
            state = np.zeros((1, 1, hidden)) if cell == "rnn" else (np.zeros((1, 1, hidden)),) * 2
        h = (state if cell == "rnn" else state[0]).copy()
        grad = np.zeros(hidden)
        eps = 1e-6
        for j in range(hidden):
            vals = []
            for sign in (1, -1):
                hp = h.copy()
                hp[0, 0, j] += sign * eps
                s = hp if cell == "rnn" else (hp, state[1])
                out, _ = net(x[steps - k:], s)
                vals.append(float(out[-1, 0] @ r[0]))
            grad[j] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(st.norms[k], np.linalg.norm(grad), rtol=1e-6)


def test_settings_change_only_what_they_name():
    a = gradient_through_time("rnn", 50, 1.5, "tanh", -4.0)
    b = gradient_through_time("rnn", 50, 1.5, "tanh", 6.0)
    np.testing.assert_array_equal(a.norms, b.norms)  # the RNN has no forget gate
    c = gradient_through_time("lstm", 50, 1.5, "tanh", 2.0)
    d = gradient_through_time("lstm", 50, 1.5, "linear", 2.0)
    np.testing.assert_array_equal(c.norms, d.norms)  # the LSTM has no activation choice
    assert d.activation == "tanh"
    # the scale reaches the RNN through W_hh only: the linear cell's norms are scale^k (above), and with
    # tanh the same weights at another scale give another curve
    assert not np.array_equal(a.norms, gradient_through_time("rnn", 50, 1.0, "tanh").norms)


def test_deterministic_and_seeded():
    for cell in CELLS:
        a = gradient_through_time(cell, 80, 1.2, "tanh", 1.5)
        b = gradient_through_time(cell, 80, 1.2, "tanh", 1.5)
        np.testing.assert_array_equal(a.norms, b.norms)
        assert a.label == b.label and a.summary() == b.summary()
        c = gradient_through_time(cell, 80, 1.2, "tanh", 1.5, seed=1)
        assert not np.array_equal(a.norms, c.norms)


# --------------------------------------------------------------------------- argument errors
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cell="gru"), "cell"),
        (dict(steps=0), "steps"),
        (dict(steps=MAX_STEPS + 1), "steps"),
        (dict(steps=True), "steps"),
        (dict(steps=10.0), "steps"),
        (dict(scale=0.0), "scale"),
        (dict(scale=-1.0), "scale"),
        (dict(scale=3.0), "scale"),
        (dict(scale=float("nan")), "scale"),
        (dict(scale="1"), "scale"),
        (dict(forget_bias=-4.5), "forget_bias"),
        (dict(forget_bias=6.5), "forget_bias"),
        (dict(forget_bias=float("nan")), "forget_bias"),
        (dict(activation="relu"), "activation"),
        (dict(hidden=0), "hidden"),
        (dict(hidden=True), "hidden"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    args = dict(cell="lstm", steps=10, scale=1.0, activation="tanh", forget_bias=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gradient_through_time(**args)


def test_range_ends_are_accepted():
    for steps, scale, fb in itertools.product([1, MAX_STEPS], [0.5, 2.5], [-4.0, 6.0]):
        assert gradient_through_time("lstm", steps, scale, forget_bias=fb).steps == steps
    assert gradient_through_time("rnn", np.int64(5), 1).scale == 1.0  # the slider's numpy int, an int scale


# --------------------------------------------------------------------------- every slider position
SCALES = [round(0.5 + 0.05 * i, 2) for i in range(41)]  # the slider's every position
BIASES = [-4.0 + 0.5 * i for i in range(21)]


@pytest.mark.parametrize("steps", [1, 2, 99, 100, 101, MAX_STEPS])
@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_every_rnn_setting_is_finite_and_silent(steps, activation):
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        for scale in SCALES:
            st = gradient_through_time("rnn", steps, scale, activation)
            text = st.summary()
            assert np.all(np.isfinite(st.norms)) and np.all(st.norms >= UNDERFLOW), (steps, scale)
            assert st.regime in text and "nan" not in text and "inf" not in text


@pytest.mark.parametrize("steps", [1, 100, MAX_STEPS])
@pytest.mark.parametrize("scale", [0.5, 1.0, 1.75, 2.5])
def test_every_lstm_setting_is_finite_and_silent(steps, scale):
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        for fb in BIASES:
            st = gradient_through_time("lstm", steps, scale, "tanh", fb)
            text = st.summary()
            assert np.all(np.isfinite(st.norms)), (steps, scale, fb)
            # the smallest gradient in range is about 1e-174: a norm must not round it to 0
            assert np.all(st.norms >= UNDERFLOW), (steps, scale, fb)
            assert st.regime in text and "nan" not in text and "inf" not in text


def test_tiny_lstm_gradient_is_not_rounded_to_zero():
    # forget bias -4 at scale 0.5: about 1e-1 per step. np.linalg.norm squares the entries and gives
    # 0 below 1e-154; the true norm is still far above float64's 1e-308
    st = gradient_through_time("lstm", MAX_STEPS, 0.5, "tanh", -4.0)
    assert np.all(st.norms > 0)
    steps_down = np.log10(st.norms[1:] / st.norms[:-1])
    assert np.all(np.isfinite(steps_down)) and steps_down[100:].min() > -3  # a steady decline, no cliff


# --------------------------------------------------------------------------- summary text
def test_summary_text():
    st = gradient_through_time("rnn", 100, 1.0, "tanh")
    text = st.summary()
    assert text.startswith("vanishing: RNN (tanh), scale 1: the gradient from 100 steps back is ")
    assert text.endswith(" of the last")
    assert gradient_through_time("rnn", MAX_STEPS, 1.0, "tanh").summary().count("100 steps back") == 1
    one = gradient_through_time("rnn", 1, 1.0, "tanh")
    assert one.back == 1 and "from 1 step back (the first step)" in one.summary()
    assert "from 50 steps back (the first step)" in gradient_through_time("rnn", 50, 1.0).summary()
    big = gradient_through_time("rnn", 100, 2.5, "linear")
    assert big.summary().startswith("exploding: RNN (linear), scale 2.5:") and big.summary().endswith("× the last")
    lstm = gradient_through_time("lstm", 100, 1.0, forget_bias=6.0)
    assert lstm.summary().startswith("kept: LSTM, forget bias 6 (f ≈ 1.00):")
    assert "forget bias -4 (f ≈ 0.02)" in gradient_through_time("lstm", 10, forget_bias=-4.0).label


def test_summary_of_an_underflowed_gradient():
    # not reachable with the sliders (see above), but a state can say so
    norms = np.array([1.0, 1e-200, 0.0])
    st = GradientThroughTime("rnn", 2, 0.5, "tanh", 1.0, norms)
    assert st.regime == "vanishing"
    assert st.summary() == ("vanishing: RNN (tanh), scale 0.5: the gradient from 2 steps back (the first step) "
                            "is below 1e-300: it underflowed, the end of float64's range")


# --------------------------------------------------------------------------- static figure
def test_draw_several_states_on_a_plain_figure():
    states = [gradient_through_time("rnn", 100, 1.0, "tanh"), gradient_through_time("rnn", 60, 1.0, "linear"),
              gradient_through_time("lstm", 100, 1.0, forget_bias=6.0),
              GradientThroughTime("rnn", 2, 0.5, "tanh", 1.0, np.array([1.0, 1e-200, 0.0]))]
    fig = Figure(figsize=(8, 4), dpi=60)
    ax = fig.subplots()
    with warnings.catch_warnings(), _strict():
        warnings.simplefilter("error")
        draw_gradient_through_time(ax, states)
        png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG")
    assert ax.get_xlabel().startswith("k: steps back") and "dL/dh_{T-k}" in ax.get_ylabel()
    assert ax.get_yscale() == "log"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [st.label for st in states]
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(lines) == len(states)
    lo, hi = ax.get_ylim()
    for ln, st in zip(lines, states):
        np.testing.assert_array_equal(ln.get_xdata(), np.arange(st.steps + 1))
        y = np.asarray(ln.get_ydata())
        assert np.all(y > 0) and np.all((lo <= y) & (y <= hi))  # the underflowed 0 is drawn at the floor


# --------------------------------------------------------------------------- the widget, headless
@pytest.fixture
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return GradientThroughTimeExplorer()


def _snapshot(ex):
    return ex.state, ex.status.value, bytes(ex.image.value), ex.redraw_count


def test_explorer_starts_drawn(explorer):
    assert explorer.redraw_count == 1
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.state.cell == "rnn" and explorer.state.steps == 100
    assert explorer.status.value.startswith("<b style='color:#0072B2'>vanishing</b>: RNN (tanh), scale 1:")
    assert set(explorer.controls) == {"cell", "steps", "scale", "activation", "forget_bias"}
    assert (explorer.controls["steps"].min, explorer.controls["steps"].max) == (1, MAX_STEPS)
    assert (explorer.controls["scale"].min, explorer.controls["scale"].max) == (0.5, 2.5)
    assert (explorer.controls["forget_bias"].min, explorer.controls["forget_bias"].max) == (-4.0, 6.0)


def test_disabled_controls_follow_the_cell(explorer):
    c = explorer.controls
    assert not c["activation"].disabled and c["forget_bias"].disabled
    c["cell"].value = "lstm"
    assert c["activation"].disabled and not c["forget_bias"].disabled
    assert explorer.state.cell == "lstm" and "LSTM" in explorer.status.value
    c["cell"].value = "rnn"
    assert not c["activation"].disabled and c["forget_bias"].disabled


# the cell in which each control matters (the other one ignores it)
CONTROL_CELL = {"cell": "rnn", "steps": "rnn", "scale": "lstm", "activation": "rnn", "forget_bias": "lstm"}


def _ends(widget):
    if hasattr(widget, "options"):
        values = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return values[-1], values[0]
    return widget.min, widget.max


@pytest.mark.parametrize("name", list(CONTROL_CELL))
def test_each_control_changes_state_status_and_picture(explorer, name):
    explorer.controls["cell"].value = CONTROL_CELL[name]
    widget = explorer.controls[name]
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in _ends(widget):
            before = _snapshot(explorer)
            widget.value = value
            assert explorer.redraw_count == before[3] + 1, f"{name}={value!r} did not redraw"
            assert explorer.state is not before[0]
            assert not np.array_equal(explorer.state.norms, before[0].norms)
            assert explorer.status.value != before[1], f"{name}={value!r}: the status did not change"
            assert bytes(explorer.image.value) != before[2], f"{name}={value!r}: the picture did not change"
            assert bytes(explorer.image.value).startswith(b"\x89PNG")
            seen.append(explorer.state)
    assert getattr(seen[0], name) != getattr(seen[1], name)


@pytest.mark.parametrize("cell", CELLS)
def test_every_slider_to_both_ends_is_finite(explorer, cell):
    explorer.controls["cell"].value = cell
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("steps", "scale", "forget_bias"):
            for value in _ends(explorer.controls[name]):
                explorer.controls[name].value = value
                st = explorer.state
                assert getattr(st, name) == value
                assert np.all(np.isfinite(st.norms)) and st.norms.shape == (st.steps + 1,)
                assert explorer.status.value.startswith("<b style='color:")
                assert f">{st.regime}</b>: " in explorer.status.value
                assert "nan" not in explorer.status.value


def test_the_panel_shows_the_state(explorer):
    explorer.controls["steps"].value = 30
    blit, panel = explorer.figures[None]
    np.testing.assert_array_equal(panel.line.get_xdata(), np.arange(31))
    np.testing.assert_allclose(panel.line.get_ydata(), np.log10(explorer.state.norms))
    assert list(panel.mark.get_xdata()) == [30]  # the step the status line reports
    lo, hi = panel.ax.get_ylim()
    assert lo <= panel.line.get_ydata().min() and panel.line.get_ydata().max() <= hi
    assert not panel.legend.get_visible()  # no underflow within the sliders' range


def test_the_picture_is_a_function_of_the_controls(explorer):
    first = bytes(explorer.image.value)
    explorer.controls["scale"].value = 2.0
    explorer.controls["cell"].value = "lstm"
    explorer.controls["cell"].value = "rnn"
    explorer.controls["scale"].value = 1.0
    assert bytes(explorer.image.value) == first


def test_explorer_arguments_reach_the_state():
    ex = GradientThroughTimeExplorer(cell="lstm", steps=40, scale=1.5, forget_bias=3.0, hidden=8, seed=2)
    np.testing.assert_array_equal(ex.state.norms,
                                  gradient_through_time("lstm", 40, 1.5, "tanh", 3.0, hidden=8, seed=2).norms)
    assert ex.controls["activation"].disabled


def test_new_figure_draw_matches_the_explorer_panel_contents():
    # the full (non-blitted) drawing of the same state renders too
    ex = GradientThroughTimeExplorer(steps=20)
    fig = new_figure(ex.fig_width, ex.fig_height, ex.fig_dpi)
    ex.draw(fig, ex.state)
    assert figure_to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("value, regime", [(0.9e-3, "vanishing"), (1.1e-3, "kept"), (1.0, "kept"),
                                           (0.9e3, "kept"), (1.1e3, "exploding")])
def test_regime_thresholds(value, regime):
    # the ratio is read 100 steps back (not at the end) when the sequence is longer
    norms = np.ones(151)
    norms[100] = value
    st = GradientThroughTime("rnn", 150, 1.0, "tanh", 1.0, norms)
    assert st.ratio() == value and st.regime == regime
    assert st.summary().startswith(f"{regime}: ")
