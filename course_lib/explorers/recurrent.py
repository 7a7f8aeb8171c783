"""Gradients through time (通時的誤差逆伝播): how far back a recurrent network's gradient reaches.

The pure function :func:`gradient_through_time` runs a recurrent cell over a
random input sequence x_1 .. x_T (batch 1), puts a loss on the **last** state
only, L = h_T · r with a fixed random unit vector r (so dL/dh_T = r has norm 1),
backpropagates through time and reports

    norms[k] = ||dL/dh_{T-k}||,   k = 0 .. T   (k = steps back from the end)

i.e. how much the loss at the end still "feels" the state k steps earlier,
relative to the last one (norms[0] = 1). A gradient that has shrunk to 1e-12
can no longer teach the network anything about step T - k: the network
cannot learn to remember it.

The cells:

* ``"rnn"``: h_t = act(x_t W_ih^T + h_{t-1} W_hh^T), act = tanh or the identity
  ("linear"), with W_hh = scale · Q and Q a random orthogonal matrix: all its
  singular values equal ``scale`` (its spectral radius is ``scale``). Then
  dL/dh_{t-1} = (dL/dh_t * act'(pre_t)) W_hh, a product of k Jacobians: for
  the linear cell the norm is exactly scale^k, and tanh' <= 1 only shrinks it.
* ``"lstm"``: course_lib's ``nn.LSTMCell`` (driven step by step, its cache
  stack walked back by ``backward``), each gate's block of ``weight_hh`` =
  scale · Q, and the forget gate's bias set to ``forget_bias`` (the others 0):
  sigmoid(forget_bias) is the forget gate's typical value, the fraction of
  the cell state (and of its gradient) kept per step.

Within the accepted ranges (steps <= 200, scale <= 2.5) the largest norm,
the linear RNN's 2.5^200 ~ 1e80, stays far from float64's 1e308; a gradient
below 1e-300 has underflowed and is drawn at the bottom of the axis.

:class:`GradientThroughTimeExplorer` puts sliders in front of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from ..nn import LSTMCell
from ..plotting import COLORS
from ._base import Explorer
from .activations import UNDERFLOW, _fmt, _log_safe, _power_of_ten, _safe_norm, _snapped_limits

__all__ = ["CELLS", "MAX_STEPS", "GradientThroughTime", "gradient_through_time",
           "GradientThroughTimeFigure", "draw_gradient_through_time", "GradientThroughTimeExplorer"]

CELLS = ("rnn", "lstm")
ACTIVATIONS = ("tanh", "linear")
MAX_STEPS, MAX_SCALE, MAX_HIDDEN = 200, 2.5, 128
FORGET_BIAS_RANGE = (-4.0, 6.0)
REPORT_BACK = 100  # the status line reports the gradient from this many steps back


def _orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal (n, n) matrix: Q of the QR decomposition of a Gaussian matrix, signs fixed."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # the sign fix makes Q uniformly distributed (Haar)


@dataclass(frozen=True)
class GradientThroughTime:
    """What :func:`gradient_through_time` measured."""

    cell: str
    steps: int
    scale: float
    activation: str       # "tanh" or "linear" (the RNN's); "tanh" for the LSTM
    forget_bias: float    # the LSTM's; ignored by the RNN
    norms: np.ndarray     # (steps + 1,) ||dL/dh_{T-k}|| for k = 0 .. steps; norms[0] = 1

    @property
    def label(self) -> str:
        if self.cell == "lstm":
            return f"LSTM, forget bias {self.forget_bias:g} (f ≈ {1 / (1 + math.exp(-self.forget_bias)):.2f})"
        return f"RNN ({self.activation}), scale {self.scale:g}"

    @property
    def back(self) -> int:
        """How many steps back the status line looks: 100, or the whole sequence if it is shorter."""
        return min(REPORT_BACK, self.steps)

    def ratio(self, k: int | None = None) -> float:
        """||dL/dh_{T-k}|| / ||dL/dh_T|| (k defaults to :attr:`back`)."""
        return float(self.norms[self.back if k is None else k])

    @property
    def regime(self) -> str:
        """"vanishing" (< 1e-3 of the last), "exploding" (> 1e3) or "kept"."""
        r = self.ratio()
        if r < 1e-3:
            return "vanishing"
        if r > 1e3:
            return "exploding"
        return "kept"

    def summary(self) -> str:
        """One plain-text line: the cell and how much of the gradient survives :attr:`back` steps."""
        r = self.ratio()
        where = (f"{self.back} steps back" if self.back == REPORT_BACK
                 else f"{self.back} step{'s' if self.back > 1 else ''} back (the first step)")
        if r < UNDERFLOW:
            amount = "below 1e-300: it underflowed, the end of float64's range"
        elif r < 1.0:
            amount = f"{_fmt(r)} of the last"
        else:
            amount = f"{_fmt(r)} × the last"
        return f"{self.regime}: {self.label}: the gradient from {where} is {amount}"


def _check_args(cell, steps, scale, activation, forget_bias, hidden) -> None:
    if cell not in CELLS:
        raise ValueError(f"gradient_through_time: cell must be one of {CELLS}, got {cell!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"gradient_through_time: activation must be one of {ACTIVATIONS}, got {activation!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"gradient_through_time: steps must be an int in 1..{MAX_STEPS}, got {steps!r}")
    if not (isinstance(scale, (int, float)) and 0 < scale <= MAX_SCALE):
        raise ValueError(f"gradient_through_time: scale must be in (0, {MAX_SCALE}], got {scale!r}")
    lo, hi = FORGET_BIAS_RANGE
    if not (isinstance(forget_bias, (int, float)) and lo <= forget_bias <= hi):
        raise ValueError(f"gradient_through_time: forget_bias must be in [{lo}, {hi}], got {forget_bias!r}")
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or not 1 <= hidden <= MAX_HIDDEN:
        raise ValueError(f"gradient_through_time: hidden must be an int in 1..{MAX_HIDDEN}, got {hidden!r}")


def gradient_through_time(cell: str = "rnn", steps: int = 100, scale: float = 1.0, activation: str = "tanh",
                          forget_bias: float = 1.0, hidden: int = 32, input_size: int = 4,
                          seed: int = 0) -> GradientThroughTime:
    """||dL/dh_{T-k}|| for k = 0 .. steps, for the last-step loss described in the module docstring.

    The weights and inputs depend only on ``seed`` (and the sizes), not on the
    other settings, so moving one slider changes one thing.
    """
    _check_args(cell, steps, scale, activation, forget_bias, hidden)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, 1, input_size))                 # (T, N=1, input)
    r = rng.standard_normal((1, hidden))
    r /= np.linalg.norm(r)                                          # dL/dh_T: a unit vector
    norms = np.empty(steps + 1)
    norms[0] = 1.0
    if cell == "rnn":
        w_ih = rng.uniform(-1, 1, (hidden, input_size)) / math.sqrt(hidden)
        w_hh = scale * _orthogonal(hidden, rng)                    # (H, H), every singular value = scale
        hs = np.zeros((steps + 1, 1, hidden))                      # h_0 .. h_T
        for t in range(steps):                                     # forward: one step after another
            pre = x[t] @ w_ih.T + hs[t] @ w_hh.T
            hs[t + 1] = np.tanh(pre) if activation == "tanh" else pre
        dh = r
        for k in range(1, steps + 1):                              # backward: from h_T towards h_0
            t = steps - k + 1                                      # dh is dL/dh_t
            dpre = dh * (1.0 - hs[t] ** 2) if activation == "tanh" else dh
            dh = dpre @ w_hh                                       # dL/dh_{t-1}
            norms[k] = _safe_norm(dh)  # np.linalg.norm squares: 0 below 1e-154
    else:
        lstm = LSTMCell(input_size, hidden, generator=rng)
        q = np.concatenate([_orthogonal(hidden, rng) for _ in range(4)])  # (4H, H): one block per gate
        lstm.weight_hh.data[...] = scale * q
        lstm.bias_ih.data[...] = 0.0
        lstm.bias_hh.data[...] = 0.0
        lstm.bias_ih.data[hidden:2 * hidden] = forget_bias         # gate order i, f, g, o: f is block 1
        state = None
        for t in range(steps):                                     # forward: each call pushes a cache
            state = lstm(x[t], state)
        grad = (r, None)                                           # the loss uses h_T, not c_T
        for k in range(1, steps + 1):                              # backward: each call pops one, the last first
            _, grad = lstm.backward(grad, input_grad=False)        # grad = (dL/dh_{t-1}, dL/dc_{t-1})
            norms[k] = _safe_norm(grad[0])
    return GradientThroughTime(cell, int(steps), float(scale), activation if cell == "rnn" else "tanh",
                               float(forget_bias), norms)


# --------------------------------------------------------------------------- drawing
def _limits(state: GradientThroughTime) -> tuple:
    """(x_max, (log10 lo, log10 hi)), snapped so that few backgrounds are needed."""
    x_max = next(s for s in (20, 50, 100, MAX_STEPS) if state.steps <= s)
    return x_max, _snapped_limits(_log_safe(state.norms)[0])


class GradientThroughTimeFigure:
    """One panel: log10 ||dL/dh_{T-k}|| against k. ``update(state)`` moves the line and the limits."""

    def __init__(self, fig) -> None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

        fig.set_layout_engine("none")
        self.fig = fig
        self.ax = fig.subplots(gridspec_kw=dict(left=0.09, right=0.98, bottom=0.16, top=0.9))
        self.ax.axhline(0.0, color="0.6", linewidth=1, linestyle=":")
        (self.line,) = self.ax.plot([], [], marker="o", ms=2.5, color=COLORS[0])
        (self.zero,) = self.ax.plot([], [], "x", ms=7, mew=2, color=COLORS[3], label="underflow (< 1e-300)")
        (self.mark,) = self.ax.plot([], [], "o", ms=9, mfc="none", mew=2, color=COLORS[3])
        self.legend = self.ax.legend(loc="upper right", fontsize=10)
        self.animated = [self.line, self.zero, self.mark, self.legend]
        self.ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10], integer=True))
        self.ax.yaxis.set_minor_locator(NullLocator())
        self.ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        self.ax.set_xlabel("k: steps back from the last step T")
        self.ax.set_ylabel("||dL/dh_{T-k}|| / ||dL/dh_T||")
        self.ax.set_title("the gradient that reaches the state k steps back (loss on the last step only)")

    def update(self, state: GradientThroughTime) -> tuple:
        k = np.arange(state.steps + 1)
        shown, zero = _log_safe(state.norms)
        log_n = np.log10(shown)
        self.line.set_data(k, log_n)
        self.zero.set_data(k[zero], log_n[zero])
        self.legend.set_visible(bool(zero.any()))
        self.mark.set_data([state.back], [log_n[state.back]])
        limits = x_max, (lo, hi) = _limits(state)
        self.ax.set_xlim(-0.02 * x_max, x_max * 1.02)
        self.ax.set_ylim(lo, hi)
        return limits


def draw_gradient_through_time(ax, states: list[GradientThroughTime]) -> None:
    """Several settings on one log axis (the static figure under the explorer)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    values = []
    for i, st in enumerate(states):
        shown, _ = _log_safe(st.norms)
        values.append(shown)
        ax.semilogy(np.arange(st.steps + 1), shown, color=COLORS[i % len(COLORS)], linewidth=2, label=st.label)
    allv = np.concatenate(values)
    lo, hi = _snapped_limits(allv)
    ax.set_ylim(10.0 ** lo, 10.0 ** hi)
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.axhline(1.0, color="0.6", linewidth=1, linestyle=":")
    ax.set_xlabel("k: steps back from the last step T")
    ax.set_ylabel("||dL/dh_{T-k}|| / ||dL/dh_T||")
    ax.legend(loc="lower left", fontsize=10)


class GradientThroughTimeExplorer(Explorer):
    """Sequence length, recurrent scale, activation, cell and forget-gate bias against ||dL/dh_{T-k}||.

    ``GradientThroughTimeExplorer()`` returns the widget; ``.state`` is the latest
    :class:`GradientThroughTime`. The activation applies to the RNN, the
    forget bias to the LSTM; the other control is greyed out.
    """

    fig_width = 10.0
    fig_height = 3.8
    fig_dpi = 80

    def __init__(self, cell: str = "rnn", steps: int = 100, scale: float = 1.0, activation: str = "tanh",
                 forget_bias: float = 1.0, hidden: int = 32, seed: int = 0) -> None:
        self.hidden, self.seed = hidden, seed
        style = {"description_width": "110px"}
        layout = widgets.Layout(width="400px")
        lo, hi = FORGET_BIAS_RANGE
        controls = {
            "cell": widgets.ToggleButtons(options=[("RNN", "rnn"), ("LSTM", "lstm")], value=cell,
                                          description="cell", style=style),
            "steps": widgets.IntSlider(value=steps, min=1, max=MAX_STEPS, description="sequence length T",
                                       continuous_update=False, style=style, layout=layout),
            "scale": widgets.FloatSlider(value=scale, min=0.5, max=MAX_SCALE, step=0.05,
                                         description="scale of W_hh", continuous_update=False,
                                         style=style, layout=layout),
            "activation": widgets.ToggleButtons(options=list(ACTIVATIONS), value=activation,
                                                description="RNN activation", style=style),
            "forget_bias": widgets.FloatSlider(value=forget_bias, min=lo, max=hi, step=0.5,
                                               description="LSTM forget bias", continuous_update=False,
                                               style=style, layout=layout),
        }
        super().__init__(controls, columns=2)

    def compute(self, cell, steps, scale, activation, forget_bias):
        self.controls["activation"].disabled = cell != "rnn"
        self.controls["forget_bias"].disabled = cell != "lstm"
        return gradient_through_time(cell, steps, scale, activation, forget_bias, hidden=self.hidden,
                                     seed=self.seed)

    def setup(self, fig, state: GradientThroughTime) -> GradientThroughTimeFigure:
        return GradientThroughTimeFigure(fig)

    def update(self, panel: GradientThroughTimeFigure, state: GradientThroughTime) -> list:
        panel.update(state)
        return panel.animated

    def background_key(self, state: GradientThroughTime) -> tuple:
        return _limits(state)

    def status_text(self, state: GradientThroughTime) -> str:
        colour = {"kept": "#009E73", "vanishing": "#0072B2", "exploding": "#D55E00"}[state.regime]
        regime, _, rest = state.summary().partition(": ")
        return f"<b style='color:{colour}'>{regime}</b>: {rest}"
