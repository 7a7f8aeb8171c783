"""Vanishing and exploding gradients (勾配消失・勾配爆発) in a deep MLP.

The pure function :func:`gradient_flow` builds ``depth`` blocks of
``Linear(width, width)`` followed by an activation, initialises the weights
with one of four schemes (times ``scale``), runs a batch of standard-normal
inputs forward, sends a fixed random gradient back from the output and
reports, for every layer ``k = 1 .. depth``:

* ``grad_norm[k-1]``: the norm of dL/dz_k, the gradient that reaches layer k
  (z_k = h_{k-1} W_k^T + b_k is its pre-activation; this is the ``grad_out``
  its Linear receives, and dL/dW_k = (dL/dz_k)^T h_{k-1} is built from it);
* ``weight_grad_norm[k-1]``: the Frobenius norm of dL/dW_k itself;
* ``act_std[k-1]``: the standard deviation of the layer's activations h_k;
* ``stuck[k-1]``: the fraction of units that pass (almost) no gradient:
  saturated sigmoid/tanh outputs, or ReLU/GELU units that are off for every
  input in the batch ("dead").

The loss is L = sum(h_depth * R) / batch with a fixed R ~ N(0, 1), so
dL/dh_depth = R / batch: a stand-in for whatever loss sits on top, which keeps
the backward pass independent of how large the output has become.

Everything runs in float64 with course_lib's ``Linear`` and activation
modules and ``course_lib.nn.init``. Within the accepted ranges (depth <= 50,
scale <= 4, width <= 256) even the worst case, ReLU with N(0, 1) weights times
4, stays below about 1e90, far from float64's 1e308: explosions are shown as
the huge numbers they are, never as overflow warnings or NaN. Gradients that
underflow (below 1e-300, float64's range ends near 1e-308) are counted and drawn
at the bottom of the log axis.

:class:`VanishingGradientsExplorer` puts sliders in front of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from ..nn import GELU, Linear, ReLU, Sigmoid, Tanh, init as nn_init
from ..plotting import COLORS, COURSE_RC, figure_to_png
from ._base import Explorer

__all__ = [
    "ACTIVATIONS", "INITS", "GradientFlow", "gradient_flow",
    "GradientFlowFigure", "draw_gradient_flow", "draw_comparison", "VanishingGradientsExplorer",
]

#: activation name -> course_lib module class (the explorer uses GELU(approximate="tanh"), GPT-2's)
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "gelu": GELU}

#: init key -> label shown in the explorer
INITS = {
    "default": "PyTorch default",
    "xavier": "Xavier/Glorot",
    "kaiming": "Kaiming/He",
    "normal": "N(0, 1)",
}

#: what "stuck" means for each activation (used in titles and the status line)
STUCK_LABELS = {
    "sigmoid": "% saturated (s < 0.01 or s > 0.99)",
    "tanh": "% saturated (|tanh| > 0.99)",
    "relu": "% dead units (0 for every input)",
    "gelu": "% dead units (z < -3 for every input)",
}

STUCK_SHORT = {"sigmoid": "saturated", "tanh": "saturated", "relu": "dead units", "gelu": "dead units"}

MAX_DEPTH, MAX_SCALE, MAX_WIDTH, MAX_BATCH = 50, 4.0, 256, 1024
VANISHING, EXPLODING = 1e-3, 1e3  # thresholds on the first/last gradient ratio
EXPLODING_STD = 1e3  # activation std beyond which the forward pass is "exploding"
UNDERFLOW = 1e-300  # float64 ends near 1e-308: below this a gradient has underflowed


def _safe_norm(a: np.ndarray) -> float:
    """Euclidean norm that cannot overflow: ||a|| = m * ||a / m|| with m = max |a|."""
    m = float(np.max(np.abs(a))) if a.size else 0.0
    if m == 0.0:
        return 0.0
    return m * float(np.sqrt(np.sum((a / m) ** 2)))


def _safe_std(a: np.ndarray) -> float:
    m = float(np.max(np.abs(a)))
    if m == 0.0:
        return 0.0
    return m * float(np.std(a / m))


def _fmt(v: float) -> str:
    """1 significant digit in scientific notation for far-from-1 numbers, else 2 decimals."""
    if v == 0.0:
        return "0"
    if math.isinf(v):
        return "infinite"
    if 1e-2 <= abs(v) < 1e3:
        return f"{v:.2f}"
    return f"{v:.0e}"


@dataclass(frozen=True)
class GradientFlow:
    """What :func:`gradient_flow` measured; arrays are indexed by layer (layer 1 first)."""

    depth: int
    activation: str
    init: str
    scale: float
    grad_norm: np.ndarray  # (depth,) ||dL/dz_k||: the gradient that reaches layer k (its Linear's grad_out)
    weight_grad_norm: np.ndarray  # (depth,) ||dL/dW_k||, Frobenius: what the optimizer uses
    act_std: np.ndarray  # (depth,) std of h_k over the batch and the units
    stuck: np.ndarray  # (depth,) fraction in [0, 1]

    @property
    def n_underflow(self) -> int:
        """How many layers received a gradient below 1e-300: float64 underflow (0 or nearly), as good as 0."""
        return int(np.sum(self.grad_norm < UNDERFLOW))

    @property
    def ratio(self) -> float:
        """||dL/dz_1|| / ||dL/dz_depth||: about 1 is healthy; 0 or inf when one of them underflowed to 0."""
        first, last = float(self.grad_norm[0]), float(self.grad_norm[-1])
        if last == 0.0:
            return math.inf if first > 0.0 else 0.0
        return first / last

    @property
    def regime(self) -> str:
        """"exploding", "vanishing" or "healthy"."""
        if self.ratio > EXPLODING or float(np.max(self.act_std)) > EXPLODING_STD:
            return "exploding"
        if self.ratio < VANISHING or self.n_underflow > 0:
            return "vanishing"
        return "healthy"

    def summary(self) -> str:
        """One plain-text line: the regime and the numbers behind it."""
        r = self.ratio
        if self.depth == 1:
            head = "one layer: nothing to vanish yet"
        elif self.n_underflow:
            head = (f"the gradient underflowed below 1e-300, the end of float64's range, "
                    f"in {self.n_underflow} of {self.depth} layers")
        elif r < 1.0:
            head = f"first-layer gradient is {_fmt(r)} of the last"
        else:
            head = f"first-layer gradient is {_fmt(r)} × the last"
        parts = [f"{self.regime}: {head}"]
        top = float(np.max(self.act_std))
        if top > EXPLODING_STD:
            k = int(np.argmax(self.act_std)) + 1
            parts.append(f"activations reach std {_fmt(top)} at layer {k}")
        else:
            parts.append(f"activation std {_fmt(float(self.act_std[0]))} (layer 1) -> "
                         f"{_fmt(float(self.act_std[-1]))} (layer {self.depth})")
        if float(self.stuck[-1]) > 0.0:
            parts.append(f"{STUCK_SHORT[self.activation]} at layer {self.depth}: {100 * float(self.stuck[-1]):.0f}%")
        return "; ".join(parts)


def _check_args(depth, activation, init, scale, width, batch) -> None:
    for name, v, hi in (("depth", depth, MAX_DEPTH), ("width", width, MAX_WIDTH), ("batch", batch, MAX_BATCH)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= hi:
            raise ValueError(f"gradient_flow: {name} must be an int in [1, {hi}], got {v!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"gradient_flow: activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    if init not in INITS:
        raise ValueError(f"gradient_flow: init must be one of {list(INITS)}, got {init!r}")
    if not (isinstance(scale, (int, float, np.floating)) and 0.0 < scale <= MAX_SCALE):
        raise ValueError(f"gradient_flow: scale must be a number in (0, {MAX_SCALE}], got {scale!r}")


def _initialise(layer: Linear, init: str, scale: float, rng: np.random.Generator) -> None:
    """Apply the scheme to ``layer.weight`` (in place, with course_lib.nn.init), then multiply by ``scale``.

    "default" keeps Linear's own PyTorch initialisation, bias included; the other
    schemes set the bias to 0, as is usual with them.
    """
    if init == "xavier":
        nn_init.xavier_uniform_(layer.weight, generator=rng)  # std sqrt(2 / (fan_in + fan_out))
    elif init == "kaiming":
        nn_init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=rng)  # std sqrt(2 / fan_in)
    elif init == "normal":
        nn_init.normal_(layer.weight, 0.0, 1.0, generator=rng)
    if init != "default":
        nn_init.zeros_(layer.bias)
    layer.weight.data *= scale


def _stuck_fraction(activation: str, z: np.ndarray, h: np.ndarray) -> float:
    if activation == "sigmoid":
        return float(np.mean((h < 0.01) | (h > 0.99)))
    if activation == "tanh":
        return float(np.mean(np.abs(h) > 0.99))
    if activation == "relu":
        return float(np.mean(np.all(h == 0.0, axis=0)))  # units off for the whole batch
    return float(np.mean(np.all(z < -3.0, axis=0)))  # gelu


def _make_activation(name: str):
    # GELU with GPT-2's tanh approximation: it differs from the exact GELU by less
    # than 1e-3 and is several times faster than the erf, which keeps redraws instant.
    return GELU(approximate="tanh") if name == "gelu" else ACTIVATIONS[name]()


def gradient_flow(depth: int, activation: str, init: str, scale: float = 1.0,
                  width: int = 64, batch: int = 64, seed: int = 0) -> GradientFlow:
    """Gradient norm and activation statistics per layer of a ``depth``-layer MLP.

    depth: number of (Linear(width, width), activation) blocks, 1 .. 50.
    activation: "sigmoid", "tanh", "relu" or "gelu" (GPT-2's tanh-approximated GELU).
    init: "default" (PyTorch's Linear init), "xavier" (xavier_uniform_),
          "kaiming" (kaiming_normal_ for ReLU) or "normal" (N(0, 1));
          every scheme is used as written, whatever the activation.
    scale: multiplies every weight after initialisation, in (0, 4].
    Deterministic: the same arguments give the same numbers.
    """
    _check_args(depth, activation, init, scale, width, batch)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))  # (B, W)
    upstream = rng.standard_normal((batch, width)) / batch  # dL/dh_depth, (B, W)

    linears, acts = [], []
    for _ in range(depth):
        lin = Linear(width, width, generator=rng)
        _initialise(lin, init, float(scale), rng)
        linears.append(lin)
        acts.append(_make_activation(activation))

    act_std = np.empty(depth)
    stuck = np.empty(depth)
    h = x
    for k in range(depth):  # forward, block by block, recording statistics
        z = linears[k](h)  # (B, W) pre-activation of layer k+1
        h = acts[k](z)  # (B, W) its activation
        act_std[k] = _safe_std(h)
        stuck[k] = _stuck_fraction(activation, z, h)

    grad_norm = np.empty(depth)
    g = upstream  # dL/dh_depth
    for k in reversed(range(depth)):  # backward, from the top, recording what reaches each layer
        g = acts[k].backward(g)  # dL/dz: the grad_out that Linear k+1 receives
        grad_norm[k] = _safe_norm(g)
        # dL/dh of the layer below; fills weight.grad. The first layer's input x is data: skip its dL/dx
        g = linears[k].backward(g, input_grad=k > 0)
    weight_grad_norm = np.array([_safe_norm(lin.weight.grad) for lin in linears])
    return GradientFlow(int(depth), activation, init, float(scale), grad_norm, weight_grad_norm, act_std, stuck)


# --------------------------------------------------------------------------- drawing
def _log_safe(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values for a log axis, and the mask of those that underflowed.

    Values below 1e-300 (0 included: the float64 range ends near 1e-308) are
    drawn at a floor two decades under the smallest value that is left.
    """
    ok = values >= UNDERFLOW
    if ok.all():
        return values, ~ok
    floor = max(float(values[ok].min()) / 100, 1e-305) if ok.any() else 1e-302
    return np.where(ok, values, floor), ~ok


def _decade_limits(values: np.ndarray) -> tuple[float, float]:
    """Log-axis limits on whole decades, at least two decades apart."""
    lo = math.floor(math.log10(float(values.min())))
    hi = math.ceil(math.log10(float(values.max())))
    if float(values.min()) < 2 * 10.0 ** lo:  # keep the points off the frame
        lo -= 1
    if float(values.max()) > 0.5 * 10.0 ** hi:
        hi += 1
    if hi - lo < 2:
        lo, hi = lo - 1, hi + 1
    return 10.0 ** lo, 10.0 ** hi


def _snapped_limits(values: np.ndarray, step: int = 10) -> tuple[int, int]:
    """Limits for log10(values) on multiples of ``step`` decades, at least ``2 * step`` apart.

    Few distinct limits means few distinct backgrounds for the explorer to cache,
    and a scale that stays put while a slider moves a little.
    """
    lo = math.floor((math.log10(float(values.min())) - 0.3) / step) * step
    hi = math.ceil((math.log10(float(values.max())) + 0.3) / step) * step
    if hi - lo < 2 * step:
        lo, hi = lo - step, hi + step
    return lo, hi


def _power_of_ten(v, _pos=None) -> str:
    return f"1e{int(round(v)):+03d}"  # the axis holds log10 values: 5 -> "1e+05"


def _flow_limits(state: GradientFlow) -> tuple:
    """The axis ranges and the third title for ``state``: ``(x_max, ylim_grad, ylim_std, title)``.

    The limits snap to a few values (x: 10, 30 or 50 layers; y: multiples of
    10 decades), so that the explorer needs few backgrounds and the scale
    stays put while a slider moves a little.
    """
    x_max = next(x for x in GradientFlowFigure.X_SPANS if state.depth <= x)
    lim_g = _snapped_limits(_log_safe(state.grad_norm)[0])
    lim_s = _snapped_limits(_log_safe(state.act_std)[0])
    return x_max, lim_g, lim_s, STUCK_LABELS[state.activation].split(" (")[0]


class GradientFlowFigure:
    """Three panels for one setting: gradient per layer, activation std, % stuck.

    Built once on ``fig``; ``update(state)`` sets the lines, limits and titles
    (:func:`_flow_limits`). ``animated`` lists the artists that change with
    every setting; the rest (axes, ticks, titles) changes only with the
    limits, which is what the explorer's fast redraw relies on. The two left
    panels plot log10 of the values on a linear axis labelled as powers of
    ten (same picture as a log axis, simpler ticks).
    """

    X_SPANS = (10, 30, MAX_DEPTH)  # the x axis ends at the first of these that holds all the layers

    def __init__(self, fig) -> None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

        self.fig = fig
        fig.set_layout_engine("none")
        margins = dict(left=0.065, right=0.99, bottom=0.17, top=0.88, wspace=0.28)
        self.ax_g, self.ax_s, self.ax_d = fig.subplots(1, 3, gridspec_kw=margins)
        (self.g_line,) = self.ax_g.plot([], [], marker="o", ms=3, color=COLORS[0])
        (self.g_zero,) = self.ax_g.plot([], [], "x", ms=8, mew=2, color=COLORS[3], label="underflow (< 1e-300)")
        (self.s_line,) = self.ax_s.plot([], [], marker="o", ms=3, color=COLORS[2])
        (self.d_line,) = self.ax_d.plot([], [], marker="o", ms=3, color=COLORS[1])
        self.legend = self.ax_g.legend(loc="lower right", fontsize=10)
        self.animated = [self.g_line, self.g_zero, self.s_line, self.d_line, self.legend]
        nice = dict(nbins=5, steps=[1, 2, 5, 10], integer=True)
        for ax in (self.ax_g, self.ax_s):
            ax.yaxis.set_major_locator(MaxNLocator(**nice))  # whole decades: 1e-20, 1e-10, 1e+00, ...
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        self.ax_d.set_ylim(-3, 103)
        self.ax_d.set_yticks([0, 25, 50, 75, 100])
        for ax in (self.ax_g, self.ax_s, self.ax_d):
            ax.xaxis.set_major_locator(MaxNLocator(**nice))
            ax.xaxis.set_minor_locator(NullLocator())
        self.titles = []
        for ax, text in ((self.ax_g, "gradient reaching layer k, ||dL/dz_k||"),
                         (self.ax_s, "std of the activations h_k"), (self.ax_d, "")):
            box = ax.get_position()
            self.titles.append(fig.text((box.x0 + box.x1) / 2, box.y1 + 0.03, text, ha="center",
                                        va="bottom", fontsize=COURSE_RC["axes.titlesize"]))
        fig.text(0.5, 0.01, "layer k (1 = nearest the input)", ha="center", va="bottom",
                 fontsize=COURSE_RC["axes.labelsize"])

    def update(self, state: GradientFlow) -> tuple:
        """Set lines, limits and titles for ``state``; returns its :func:`_flow_limits`."""
        layers = np.arange(1, state.depth + 1)
        g, zero = _log_safe(state.grad_norm)
        s, _ = _log_safe(state.act_std)
        log_g, log_s = np.log10(g), np.log10(s)
        self.g_line.set_data(layers, log_g)
        self.g_zero.set_data(layers[zero], log_g[zero])
        self.legend.set_visible(bool(zero.any()))
        self.s_line.set_data(layers, log_s)
        self.d_line.set_data(layers, 100 * state.stuck)
        limits = x_max, lim_g, lim_s, title = _flow_limits(state)
        self.ax_g.set_ylim(*lim_g)
        self.ax_s.set_ylim(*lim_s)
        for ax in (self.ax_g, self.ax_s, self.ax_d):
            ax.set_xlim(0.5, x_max + 0.5)
        self.titles[2].set_text(title)
        return limits

    def png(self, state: GradientFlow) -> bytes:
        """PNG bytes of the figure for ``state`` (drawn in full)."""
        self.update(state)
        return figure_to_png(self.fig)


def draw_gradient_flow(fig, state: GradientFlow) -> GradientFlowFigure:
    """Draw one setting on ``fig`` (three panels); returns the panels (``.png(state)`` renders another)."""
    panels = GradientFlowFigure(fig)
    panels.update(state)
    return panels


def draw_comparison(fig, states: list[GradientFlow]) -> None:
    """Several settings on shared axes, the explorer's three panels: gradient, activation std, % stuck."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax_g, ax_s, ax_d = fig.subplots(1, 3)
    for ax, attr in ((ax_g, "grad_norm"), (ax_s, "act_std")):
        shown_all = []
        for i, st in enumerate(states):
            label = f"{st.activation} + {INITS[st.init]}" + ("" if st.scale == 1.0 else f" x{st.scale:g}")
            shown, _ = _log_safe(getattr(st, attr))
            shown_all.append(shown)
            ax.semilogy(np.arange(1, st.depth + 1), shown, marker="o", ms=3,
                        color=COLORS[i % len(COLORS)], label=label)
        ax.set_ylim(*_decade_limits(np.concatenate(shown_all)))
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
        ax.yaxis.set_minor_formatter(NullFormatter())
    for i, st in enumerate(states):
        ax_d.plot(np.arange(1, st.depth + 1), 100 * st.stuck, marker="o", ms=3, color=COLORS[i % len(COLORS)])
    ax_d.set_ylim(-3, 103)
    ax_d.set_yticks([0, 25, 50, 75, 100])
    ax_g.set_title("gradient reaching layer k")
    ax_g.set_ylabel("||dL/dz_k||")
    ax_g.set_xlabel("layer k (1 = nearest the input)")
    ax_s.set_title("std of activations h_k")
    ax_s.set_ylabel("std(h_k)")
    ax_s.set_xlabel("layer k")
    ax_d.set_title("units passing no gradient")
    ax_d.set_ylabel("% saturated or dead")
    ax_d.set_xlabel("layer k")
    ax_g.legend(loc="best", fontsize=10)


class VanishingGradientsExplorer(Explorer):
    """Depth, activation, initialisation and scale against the gradient each layer receives.

    ``VanishingGradientsExplorer()`` returns the widget (display it in a notebook);
    ``.state`` is the latest :class:`GradientFlow`.
    """

    fig_width = 11.0
    fig_height = 3.6
    fig_dpi = 80

    def __init__(self, depth: int = 30, activation: str = "sigmoid", init: str = "default",
                 scale: float = 1.0, width: int = 64, batch: int = 64, seed: int = 0) -> None:
        self.width, self.batch, self.seed = width, batch, seed
        style = {"description_width": "90px"}
        layout = widgets.Layout(width="380px")
        controls = {
            "depth": widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth",
                                       continuous_update=False, style=style, layout=layout),
            "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=activation,
                                           description="activation", style=style, layout=layout),
            "init": widgets.Dropdown(options=[(label, key) for key, label in INITS.items()], value=init,
                                     description="init", style=style, layout=layout),
            "scale": widgets.FloatLogSlider(value=scale, base=2, min=-2, max=2, step=0.25,
                                            description="init scale", continuous_update=False,
                                            style=style, layout=layout),
        }
        super().__init__(controls, columns=2)

    def compute(self, depth, activation, init, scale):
        return gradient_flow(depth, activation, init, scale, width=self.width, batch=self.batch, seed=self.seed)

    def setup(self, fig, state: GradientFlow) -> GradientFlowFigure:
        return GradientFlowFigure(fig)

    def update(self, panels: GradientFlowFigure, state: GradientFlow) -> list:
        panels.update(state)
        return panels.animated

    def background_key(self, state: GradientFlow) -> tuple:
        return _flow_limits(state)  # the axes' ranges and titles: the static part

    def status_text(self, state: GradientFlow) -> str:
        colour = {"healthy": "#009E73", "vanishing": "#0072B2", "exploding": "#D55E00"}[state.regime]
        regime, _, rest = state.summary().partition(": ")
        return f"<b style='color:{colour}'>{regime}</b>: {rest}"
