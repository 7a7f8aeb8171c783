r"""Normalization (正規化): how noisy BatchNorm's batch statistics are, and deep networks with and without it.

Two pure functions and their pictures, for notebook 05.

**Batch statistics against batch size** (:func:`batch_statistics`, the
function behind :class:`BatchSizeExplorer`). A fixed *population* stands for
the activations a layer sees over a whole data set: the 16 pre-activations of
the second layer of a small random network (course_lib ``Linear`` and
``ReLU``) applied to 2048 points of ``make_moons``. One unit (feature) of it
has population mean :math:`\mu` and standard deviation :math:`\sigma`.
BatchNorm never sees :math:`\mu` and :math:`\sigma` while training: it
normalizes with the mean and standard deviation of the current batch. We draw
``n_batches`` training batches of ``batch_size`` samples. Each contains the
same *tracked sample* (sample 0 of the population) and ``batch_size - 1``
others drawn at random, as a shuffled data loader would put it with
different companions at every epoch. For each batch we record

* the batch mean and the (biased) batch standard deviation of the unit, the
  numbers ``BatchNorm1d`` normalizes with in training mode;
* the tracked sample's normalized output in training mode,
  :math:`(x_0 - \mu_B) / \sqrt{\sigma_B^2 + \epsilon}`, which changes with
  its companions;

and, after feeding all batches through the layer in order (PyTorch's default
``momentum=0.1``), its running mean and running variance (the unbiased
estimate, as PyTorch stores), and the tracked sample's output in eval mode,
:math:`(x_0 - \text{running\_mean}) / \sqrt{\text{running\_var} + \epsilon}`.
The *train/eval gap* is the difference of the two outputs for the same
sample. LayerNorm pools the 16 features of each sample instead: its output
for the tracked sample is the same in every batch and in both modes, so its
gap is exactly 0 for every batch size.

A batch of one sample cannot be normalized in training mode: the variance of
one value is 0 and ``BatchNorm1d`` raises (as PyTorch does). The state then
carries the layer's error message and no BatchNorm output.

Everything is vectorised over the batches; the tests check that the numbers
are those of ``course_lib.nn.BatchNorm1d`` and ``LayerNorm`` applied batch by
batch.

**Gradient flow with a normalization layer** (:func:`gradient_flow_with_norm`).
Notebook 02's :func:`~course_lib.explorers.activations.gradient_flow` measures
the gradient reaching each layer of a deep ``Linear -> activation`` stack.
It builds that network itself and has no place for an extra layer, so this
module builds the same network (the same random numbers, the same
initialisation helpers) with a ``BatchNorm1d`` or ``LayerNorm`` between each
``Linear`` and its activation, and returns the same
:class:`~course_lib.explorers.activations.GradientFlow` record. With
``norm="none"`` it *is* ``gradient_flow``.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from ..datasets import make_moons
from ..nn import BatchNorm1d, Identity, LayerNorm, Linear, ReLU
from ..plotting import COLORS
from ._base import Explorer
from .activations import (
    GradientFlow,
    _check_args,
    _initialise,
    _make_activation,
    _safe_norm,
    _safe_std,
    _stuck_fraction,
    gradient_flow,
)

__all__ = [
    "BATCH_SIZES", "N_FEATURES", "Population", "population", "BatchStats", "batch_statistics",
    "noise_vs_batch_size", "BatchStatsPanels", "draw_batch_stats", "draw_noise_vs_batch_size", "BatchSizeExplorer",
    "NORMS", "gradient_flow_with_norm", "draw_flow_comparison",
]

#: the batch sizes the explorer's slider offers (log-spaced, 1 included on purpose)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
N_FEATURES = 16  # C: features (units) per sample
N_POPULATION = 2048
EPS = 1e-5  # BatchNorm1d's and LayerNorm's default
MOMENTUM = 0.1  # BatchNorm1d's default
MAX_BATCH = 1024

# fixed axis ranges (in units of the population's standard deviation), so that moving
# the slider changes the histograms, not the axes
MEAN_RANGE = (-3.0, 3.0)
STD_RANGE = (0.0, 3.0)
GAP_RANGE = (-3.0, 3.0)


# =========================================================================== the population
@dataclass(frozen=True)
class Population:
    """Activations a layer sees over a whole data set: ``values`` (N_POPULATION, N_FEATURES)."""

    values: np.ndarray  # (N, C)
    unit: int  # the feature the histograms follow

    @property
    def mean(self) -> float:
        """The unit's mean over the whole population (what BatchNorm would like to subtract)."""
        return float(self.values[:, self.unit].mean())

    @property
    def std(self) -> float:
        """The unit's (biased) standard deviation over the whole population."""
        return float(self.values[:, self.unit].std())


_POPULATIONS: dict[tuple[int, int], Population] = {}


def population(seed: int = 0, unit: int = 0) -> Population:
    """The pre-activations of layer 2 of ``Linear(2, 16) -> ReLU -> Linear(16, 16)`` on ``make_moons(2048)``.

    Deterministic; computed once per ``(seed, unit)`` and cached (the array is read-only).
    """
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < N_FEATURES:
        raise ValueError(f"population: unit must be an int in [0, {N_FEATURES - 1}], got {unit!r}")
    key = (int(seed), int(unit))
    if key not in _POPULATIONS:
        X, _ = make_moons(N_POPULATION, noise=0.1, seed=seed)  # (N, 2)
        rng = np.random.default_rng(seed)
        layer1, layer2 = Linear(2, N_FEATURES, generator=rng), Linear(N_FEATURES, N_FEATURES, generator=rng)
        values = layer2(ReLU()(layer1(X)))  # (N, C)
        values.flags.writeable = False
        _POPULATIONS[key] = Population(values, int(unit))
    return _POPULATIONS[key]


# =========================================================================== batch statistics
@dataclass(frozen=True)
class BatchStats:
    """What :func:`batch_statistics` measured for one batch size.

    Arrays have one entry per training batch. For ``batch_size == 1`` they are
    empty except ``batch_mean`` (the mean of one value is that value), and
    ``bn_error`` holds BatchNorm1d's message.
    """

    batch_size: int
    n_batches: int
    unit: int
    pop_mean: float  # mu: the unit's mean over the population
    pop_std: float  # sigma: its standard deviation over the population
    sample_value: float  # x_0: the tracked sample's value of the unit
    batch_mean: np.ndarray  # (n_batches,) the unit's mean in each batch
    batch_std: np.ndarray  # (n_batches,) its biased std in each batch (empty for batch size 1)
    running_mean: float  # BatchNorm1d.running_mean after all batches (nan for batch size 1)
    running_var: float  # BatchNorm1d.running_var after all batches (nan for batch size 1)
    bn_train: np.ndarray  # (n_batches,) the tracked sample's BatchNorm output in training mode
    bn_eval: float  # its BatchNorm output in eval mode (nan for batch size 1)
    ln_train: float  # its LayerNorm output (training mode; the same in every batch)
    ln_eval: float  # its LayerNorm output in eval mode (equal to ln_train)
    bn_error: str | None  # BatchNorm1d's error message, when it cannot train

    @property
    def bn_gap(self) -> np.ndarray:
        """Training-mode minus eval-mode BatchNorm output of the tracked sample, per batch."""
        return self.bn_train - self.bn_eval

    @property
    def ln_gap(self) -> float:
        """Training-mode minus eval-mode LayerNorm output: exactly 0."""
        return self.ln_train - self.ln_eval

    @property
    def mean_spread(self) -> float:
        """Std over the batches of the batch mean, in units of sigma (theory: 1 / sqrt(batch_size))."""
        return float(self.batch_mean.std() / self.pop_std)

    @property
    def std_spread(self) -> float:
        """Std over the batches of the batch std, in units of sigma (nan for batch size 1)."""
        return float(self.batch_std.std() / self.pop_std) if self.batch_std.size else math.nan

    @property
    def gap_rms(self) -> float:
        """Root mean square of the BatchNorm train/eval gap (nan for batch size 1)."""
        return float(np.sqrt(np.mean(self.bn_gap ** 2))) if self.bn_train.size else math.nan

    def summary(self) -> str:
        """One plain-text line with the numbers the explorer shows."""
        B = self.batch_size
        head = (f"batch size {B}: the batch mean of unit {self.unit} varies by ±{self.mean_spread:.2f}σ "
                f"from batch to batch (theory 1/√{B} = {1 / math.sqrt(B):.2f}σ)")
        if self.bn_error is not None:
            return (f"{head}; BatchNorm1d cannot train on it: {_error_text(self.bn_error)}; "
                    f"LayerNorm works (train = eval, gap 0)")
        return (f"{head}; batch std varies by ±{self.std_spread:.2f}σ; the same sample's BatchNorm output "
                f"differs between train and eval mode by {self.gap_rms:.2f} (rms); LayerNorm: "
                f"{abs(self.ln_gap):.2f}")


def _check_batch_args(batch_size, n_batches) -> None:
    for name, v, hi in (("batch_size", batch_size, MAX_BATCH), ("n_batches", n_batches, 10_000)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= hi:
            raise ValueError(f"batch_statistics: {name} must be an int in [1, {hi}], got {v!r}")


def _running_average(stats: np.ndarray, start: float, momentum: float) -> float:
    """BatchNorm1d's running update applied to ``stats`` in order, from ``start``, in closed form.

    r_k = (1 - m) r_{k-1} + m s_k  =>  r_K = (1 - m)^K r_0 + sum_k m (1 - m)^(K - k) s_k
    """
    K = stats.size
    weights = momentum * (1.0 - momentum) ** np.arange(K - 1, -1, -1)  # (K,): the newest batch weighs most
    return float((1.0 - momentum) ** K * start + weights @ stats)


def _error_text(message: str) -> str:
    """The heart of BatchNorm1d's message: "Expected more than 1 value per channel when training, got ..."."""
    return message.split(": ", 1)[-1].split(" (the ")[0]


def batch_statistics(batch_size: int, n_batches: int = 400, seed: int = 0, unit: int = 0) -> BatchStats:
    """BatchNorm's batch statistics over ``n_batches`` random batches, and the train/eval gap.

    batch_size: samples per batch, 1 .. 1024 (1 is allowed: BatchNorm1d's error is reported).
    n_batches: how many training batches are drawn (and fed to the layer in order).
    seed: fixes the population and the batches; the same arguments give the same numbers.
    unit: the feature whose statistics are followed, 0 .. 15.

    The training batches are ``batch_size`` samples drawn at random (with
    replacement) from the population. The tracked sample (sample 0) is then
    put in each batch in place of its first sample, to see its output with
    ``batch_size - 1`` random companions.
    """
    _check_batch_args(batch_size, n_batches)
    pop = population(seed, unit)
    values = pop.values  # (N, C)
    N, C = values.shape
    B, K = int(batch_size), int(n_batches)
    rng = np.random.default_rng([seed, B])
    column = values[:, unit]  # (N,) the unit over the population
    batch = column[rng.integers(0, N, size=(K, B))]  # (K, B): one training batch per row
    batch_mean = batch.mean(axis=1)  # (K,)

    # LayerNorm: sample 0's statistics over its own C features, whatever the batch
    ln = LayerNorm(C)
    ln_train = float(ln(values[:1])[0, unit])
    ln_eval = float(ln.eval()(values[:1])[0, unit])

    if B == 1:
        try:  # BatchNorm1d in training mode on a batch of one sample: it raises
            BatchNorm1d(C)(values[:1])
            error = None  # pragma: no cover - BatchNorm1d always raises here
        except ValueError as exc:
            error = str(exc)
        empty = np.empty(0)
        return BatchStats(B, K, unit, pop.mean, pop.std, float(column[0]), batch_mean, empty,
                          math.nan, math.nan, empty, math.nan, ln_train, ln_eval, error)

    # training: each batch is normalized with its own mean and biased variance,
    # and the running statistics follow the batches (the variance unbiased)
    batch_var = batch.var(axis=1)  # (K,)
    running_mean = _running_average(batch_mean, 0.0, MOMENTUM)  # starts at 0
    running_var = _running_average(batch_var * B / (B - 1), 1.0, MOMENTUM)  # starts at 1

    # the tracked sample with B - 1 companions: the same batches, sample 0 in first place
    tracked = batch.copy()
    tracked[:, 0] = column[0]
    t_mean, t_var = tracked.mean(axis=1), tracked.var(axis=1)  # (K,) each
    bn_train = (column[0] - t_mean) / np.sqrt(t_var + EPS)  # (K,) its training-mode output
    bn_eval = float((column[0] - running_mean) / math.sqrt(running_var + EPS))  # eval: running statistics
    return BatchStats(B, K, unit, pop.mean, pop.std, float(column[0]), batch_mean, np.sqrt(batch_var),
                      running_mean, running_var, bn_train, bn_eval, ln_train, ln_eval, None)


def noise_vs_batch_size(batch_sizes=BATCH_SIZES[1:], n_batches: int = 400, seed: int = 0,
                        unit: int = 0) -> dict[str, np.ndarray]:
    """For each batch size (2 or more): spread of the batch mean and std, and the rms train/eval gap.

    Returns ``{"batch_size", "mean_spread", "std_spread", "gap_rms"}``, arrays of the same length.
    """
    states = [batch_statistics(int(b), n_batches, seed, unit) for b in batch_sizes]
    if any(s.bn_error for s in states):
        raise ValueError("noise_vs_batch_size: every batch size must be at least 2 (BatchNorm cannot train on 1)")
    return {
        "batch_size": np.array([s.batch_size for s in states]),
        "mean_spread": np.array([s.mean_spread for s in states]),
        "std_spread": np.array([s.std_spread for s in states]),
        "gap_rms": np.array([s.gap_rms for s in states]),
    }


# --------------------------------------------------------------------------- drawing
BINS = 40
HEADROOM = 1.6  # y limit = 1.6 x the tallest bar: the top of each panel is left free for its legend
LINE_TOP = 0.66  # vertical reference lines stop below the legends (fraction of the panel height)


def _density(values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Density histogram on [lo, hi] (BINS bins); values outside are piled into the edge bins."""
    heights, edges = np.histogram(np.clip(values, lo, hi), bins=BINS, range=(lo, hi))
    if values.size:
        heights = heights / (values.size * (edges[1] - edges[0]))
    return heights.astype(float), edges


class BatchStatsPanels:
    """Three panels for one batch size: batch mean, batch std, one sample's train − eval output.

    Built once on three Axes; ``update(state)`` changes the data, texts and
    limits only, so that an explorer redraw does not lay the figure out again.
    """

    def __init__(self, axes, legend: bool = True) -> None:
        from matplotlib.ticker import MaxNLocator, NullLocator

        self.ax_m, self.ax_s, self.ax_g = axes
        zeros = np.zeros(BINS)
        self.m_hist = self.ax_m.stairs(zeros, np.linspace(*MEAN_RANGE, BINS + 1), fill=True, color=COLORS[0],
                                       alpha=0.75, label="batches")
        (self.m_theory,) = self.ax_m.plot([], [], "--", color="k", lw=1.5, label="normal curve, std σ/√B")
        self.m_mu = self.ax_m.axvline(0.0, ymax=LINE_TOP, color=COLORS[3], lw=2, label="population mean μ")
        self.ax_m.set_xlim(*MEAN_RANGE)
        self.ax_m.set_xlabel("(batch mean − μ) / σ")
        self.ax_m.set_ylabel("how often")

        self.s_hist = self.ax_s.stairs(zeros, np.linspace(*STD_RANGE, BINS + 1), fill=True, color=COLORS[2],
                                       alpha=0.75, label="batches")
        self.s_sigma = self.ax_s.axvline(1.0, ymax=LINE_TOP, color=COLORS[3], lw=2, label="population std σ")
        self.ax_s.set_xlim(*STD_RANGE)
        self.ax_s.set_xlabel("batch std / σ")
        self.ax_s.set_title("batch std")
        self.s_note = self.ax_s.text(0.5, 0.5, "one sample per batch:\nits std is 0", transform=self.ax_s.transAxes,
                                     ha="center", va="center", fontsize=11, color=COLORS[3])

        self.g_hist = self.ax_g.stairs(zeros, np.linspace(*GAP_RANGE, BINS + 1), fill=True, color=COLORS[1],
                                       alpha=0.75, label="BatchNorm")
        self.g_ln = self.ax_g.axvline(0.0, ymax=LINE_TOP, color=COLORS[4], lw=3, label="LayerNorm (always 0)")
        self.ax_g.set_xlim(*GAP_RANGE)
        self.ax_g.set_xlabel("y_train − y_eval")
        self.ax_g.set_title("one sample: train − eval output")
        self.g_note = self.ax_g.text(0.5, 0.5, "BatchNorm1d raises in\ntraining mode for B = 1",
                                     transform=self.ax_g.transAxes, ha="center", va="center", fontsize=11,
                                     color=COLORS[3])
        for ax in (self.ax_m, self.ax_s, self.ax_g):
            ax.yaxis.set_major_locator(NullLocator())  # densities: the shape matters, not the scale
            ax.xaxis.set_major_locator(MaxNLocator(6))
        if legend:
            self.ax_m.legend(loc="upper left", fontsize=9)
            self.ax_s.legend(loc="upper right", fontsize=9)
            self.ax_g.legend(loc="upper left", fontsize=9)

    def update(self, state: BatchStats) -> None:
        mu, sigma, B = state.pop_mean, state.pop_std, state.batch_size
        m, _ = _density((state.batch_mean - mu) / sigma, *MEAN_RANGE)
        self.m_hist.set_data(m)
        t = np.linspace(*MEAN_RANGE, 200)
        sd = 1.0 / math.sqrt(B)
        theory = np.exp(-0.5 * (t / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
        self.m_theory.set_data(t, theory)
        self.m_theory.set_visible(B >= 2)  # one sample per batch: the histogram is the population itself
        self.ax_m.set_ylim(0, HEADROOM * max(float(m.max()), float(theory.max()) if B >= 2 else 0.0))
        self.ax_m.set_title(f"batch mean of unit {state.unit} (B = {B})" if B >= 2
                            else f"unit {state.unit}, one sample per batch")

        has_bn = state.bn_error is None
        sh, _ = _density(state.batch_std / sigma, *STD_RANGE)
        self.s_hist.set_data(sh)
        self.s_note.set_visible(not has_bn)
        self.ax_s.set_ylim(0, HEADROOM * float(sh.max()) if has_bn else 1.0)

        gh, _ = _density(state.bn_gap, *GAP_RANGE)
        self.g_hist.set_data(gh)
        self.g_note.set_visible(not has_bn)
        self.g_ln.set_xdata([state.ln_gap, state.ln_gap])
        self.ax_g.set_ylim(0, HEADROOM * float(gh.max()) if has_bn else 1.0)

    def dynamic_artists(self) -> list:
        """What ``update`` changes (or must stay on top of it), in drawing order; the rest never changes."""
        return [self.m_hist, self.m_theory, self.m_mu, self.ax_m.title,
                self.s_hist, self.s_sigma, self.s_note,
                self.g_hist, self.g_ln, self.g_note]


def draw_batch_stats(axes, state: BatchStats, legend: bool = True) -> BatchStatsPanels:
    """Draw one batch size on three Axes; returns the panels for later updates."""
    panels = BatchStatsPanels(axes, legend)
    panels.update(state)
    return panels


def draw_noise_vs_batch_size(axes, table: dict[str, np.ndarray]) -> None:
    """Two panels: spread of the batch statistics (log-log), and the train/eval gap, against batch size."""
    ax_a, ax_b = axes
    b = table["batch_size"]
    ax_a.loglog(b, table["mean_spread"], "o-", color=COLORS[0], label="batch mean")
    ax_a.loglog(b, table["std_spread"], "s-", color=COLORS[2], label="batch std")
    ax_a.loglog(b, 1 / np.sqrt(b), "--", color="k", lw=1.5, label="1/√B")
    ax_a.set_title("noise of BatchNorm's statistics")
    ax_a.set_xlabel("batch size B")
    ax_a.set_ylabel("std over batches / σ")
    ax_a.legend(fontsize=10)
    ax_b.semilogx(b, table["gap_rms"], "o-", color=COLORS[1], label="BatchNorm")
    ax_b.semilogx(b, np.zeros(len(b)), "o-", color=COLORS[4], label="LayerNorm")
    ax_b.set_title("one sample: train vs eval output")
    ax_b.set_xlabel("batch size B")
    ax_b.set_ylabel("rms of y_train − y_eval")
    ax_b.legend(fontsize=10)
    ticks = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    ax_a.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax_a.set_ylim(0.8 * float(min(table["std_spread"].min(), table["mean_spread"].min())),
                  1.25 * float(max(table["std_spread"].max(), table["mean_spread"].max(), 1 / np.sqrt(b[0]))))
    for ax in axes:
        ax.set_xticks(b, [str(int(v)) for v in b])
        ax.minorticks_off()


class BatchSizeExplorer(Explorer):
    """A batch-size slider against the noise of BatchNorm's statistics (LayerNorm has none).

    ``BatchSizeExplorer()`` returns the widget; ``.state`` is the latest :class:`BatchStats`.
    """

    fig_width = 12.0
    fig_height = 3.6
    fig_dpi = 80

    def __init__(self, batch_size: int = 8, n_batches: int = 400, seed: int = 0, unit: int = 0) -> None:
        if batch_size not in BATCH_SIZES:
            raise ValueError(f"BatchSizeExplorer: batch_size must be one of {BATCH_SIZES}, got {batch_size!r}")
        self.n_batches, self.seed, self.unit = n_batches, seed, unit
        controls = {
            "batch_size": widgets.SelectionSlider(
                options=list(BATCH_SIZES), value=batch_size, description="batch size",
                continuous_update=False, style={"description_width": "90px"},
                layout=widgets.Layout(width="520px")),
        }
        super().__init__(controls, columns=1)

    def compute(self, batch_size):
        return batch_statistics(batch_size, self.n_batches, self.seed, self.unit)

    def draw(self, fig, state: BatchStats) -> None:
        """The same three panels on a fresh figure, laid out by the figure (for a static copy)."""
        draw_batch_stats(fig.subplots(1, 3), state)

    def setup(self, fig, state: BatchStats) -> BatchStatsPanels:
        # fixed margins and fixed x axes: the static part (axes, ticks, labels, legends)
        # is drawn once; a redraw draws only the panels' dynamic artists
        fig.set_layout_engine("none")
        return BatchStatsPanels(fig.subplots(1, 3, gridspec_kw=dict(left=0.05, right=0.99, bottom=0.16, top=0.9,
                                                                     wspace=0.22)))

    def update(self, panels: BatchStatsPanels, state: BatchStats) -> list:
        panels.update(state)
        return panels.dynamic_artists()

    def status_text(self, state: BatchStats) -> str:
        text = state.summary()
        if state.bn_error is not None:
            return f"<b style='color:{COLORS[3]}'>BatchNorm1d raised ValueError</b>: {text}"
        return text


# =========================================================================== gradient flow
#: where a normalization layer goes: between each Linear and its activation
NORMS = {
    "none": None,
    "batchnorm": BatchNorm1d,
    "layernorm": LayerNorm,
}


_FLOW_DEFAULTS = inspect.signature(gradient_flow).parameters


def gradient_flow_with_norm(depth: int, activation: str, init: str, scale: float = 1.0, norm: str = "none",
                            width: int | None = None, batch: int | None = None, seed: int = 0) -> GradientFlow:
    """Notebook 02's :func:`gradient_flow`, with ``Linear -> norm -> activation`` blocks.

    ``norm`` is "none" (then this is exactly ``gradient_flow``), "batchnorm"
    (``BatchNorm1d(width)`` in training mode: batch statistics) or "layernorm"
    (``LayerNorm(width)``). The weights are the same as ``gradient_flow``'s for
    the same arguments; the recorded quantities have the same meaning
    (``grad_norm[k-1]`` is the gradient reaching layer k's Linear, ``act_std``
    the std of its activation's output, ``stuck`` measured on the
    activation's input, now the normalized values). ``width`` and ``batch``
    default to ``gradient_flow``'s defaults.
    """
    width = _FLOW_DEFAULTS["width"].default if width is None else width
    batch = _FLOW_DEFAULTS["batch"].default if batch is None else batch
    if norm not in NORMS:
        raise ValueError(f"gradient_flow_with_norm: norm must be one of {list(NORMS)}, got {norm!r}")
    if norm == "none":
        return gradient_flow(depth, activation, init, scale, width=width, batch=batch, seed=seed)
    _check_args(depth, activation, init, scale, width, batch)  # gradient_flow's checks and messages
    rng = np.random.default_rng(seed)  # the same draws, in the same order, as gradient_flow
    x = rng.standard_normal((batch, width))  # (B, W)
    upstream = rng.standard_normal((batch, width)) / batch  # dL/dh_depth, (B, W)
    blocks = []
    for _ in range(depth):
        lin = Linear(width, width, generator=rng)
        _initialise(lin, init, float(scale), rng)
        blocks.append((lin, NORMS[norm](width), _make_activation(activation)))

    act_std, stuck = np.empty(depth), np.empty(depth)
    h = x
    for k, (lin, nrm, act) in enumerate(blocks):
        z = nrm(lin(h))  # (B, W) normalized pre-activation
        h = act(z)
        act_std[k] = _safe_std(h)
        stuck[k] = _stuck_fraction(activation, z, h)
    grad_norm = np.empty(depth)
    g = upstream
    for k in reversed(range(depth)):
        lin, nrm, act = blocks[k]
        g = nrm.backward(act.backward(g))  # dL/dz_k: what layer k's Linear receives
        grad_norm[k] = _safe_norm(g)
        g = lin.backward(g, input_grad=k > 0)  # the first layer's input x is data: no dL/dx needed
    weight_grad_norm = np.array([_safe_norm(lin.weight.grad) for lin, _, _ in blocks])
    return GradientFlow(int(depth), activation, init, float(scale), grad_norm, weight_grad_norm, act_std, stuck)


def draw_flow_comparison(axes, flows: dict[str, GradientFlow], title: str = "", std_scale: str = "auto") -> None:
    """Two panels on ``axes``: the gradient reaching each layer and the activation std, one line per flow.

    The gradient axis is logarithmic. ``std_scale`` is "log", "linear" or
    "auto": linear when every std lies within a factor of 100 of the others
    (a log axis would then only add ticks like 6×10⁻¹), log otherwise.
    """
    if std_scale not in ("auto", "log", "linear"):
        raise ValueError(f"draw_flow_comparison: std_scale must be 'auto', 'log' or 'linear', got {std_scale!r}")
    ax_g, ax_s = axes
    if std_scale == "auto":
        stds = np.concatenate([st.act_std for st in flows.values()])
        positive = stds[stds > 0]
        spread = float(positive.max() / positive.min()) if positive.size else 1.0
        std_scale = "log" if spread > 100.0 or positive.size < stds.size else "linear"
    for i, (label, st) in enumerate(flows.items()):
        layers = np.arange(1, st.depth + 1)
        color = COLORS[i % len(COLORS)]
        g = np.maximum(st.grad_norm, 1e-300)  # a log axis cannot show an exact 0
        ax_g.semilogy(layers, g, marker="o", ms=3, color=color, label=label)
        s = np.maximum(st.act_std, 1e-300) if std_scale == "log" else st.act_std
        ax_s.plot(layers, s, marker="o", ms=3, color=color, label=label)
    ax_s.set_yscale(std_scale)
    if std_scale == "linear":
        ax_s.set_ylim(bottom=0.0)
    prefix = f"{title}: " if title else ""
    ax_g.set_title(f"{prefix}gradient reaching layer $k$")
    ax_g.set_ylabel(r"$\|\partial L / \partial z_k\|$")
    ax_g.set_xlabel("layer $k$ (1 = nearest the input)")
    ax_s.set_title(f"{prefix}std of the activations $h_k$")
    ax_s.set_ylabel("std of $h_k$")
    ax_s.set_xlabel("layer $k$")
    ax_g.legend(fontsize=10)
