"""Explorers for notebook 07 (autoregression, 自己回帰): how a language model chooses and writes.

* :class:`SamplingExplorer`: temperature, top-k and top-p sliders in front of
  one next-token distribution (the 15 most likely tokens as bars, the ones the
  filters remove in grey) and a sampled continuation, seeded so that every
  slider position always gives the same text.
* :class:`StepGenerator`: a "next token" button that writes one token per
  click and shows the candidates with their probabilities; "reset" starts over.

Both take a *model function* ``model_fn(window) -> logits`` with ``window`` of
shape (..., context_size) (see :mod:`course_lib.lm`) and a tokenizer. Without
arguments they use :func:`default_language_model`, an add-alpha bigram model of
the English corpus (fast to build, no training).

The pure function :func:`next_token_view` does the computing; the widgets only
draw its result.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np

from ..lm import bigram_log_probs, count_bigrams, generate, table_model
from ..nn.functional import softmax
from ..plotting import COLORS
from ..sampling import apply_temperature, next_token_probs, sample_next
from ..text import load_corpus, load_vocab
from ._base import Explorer

__all__ = [
    "NextTokenView", "next_token_view", "default_language_model", "token_label",
    "NextTokenBars", "StepHistoryBars", "draw_next_token_bars", "draw_step_history",
    "SamplingExplorer", "StepGenerator", "DEFAULT_PROMPTS",
]

#: Prompts of the English corpus offered by the SamplingExplorer ("" = the start of a sentence).
DEFAULT_PROMPTS = ("", "the", "the small", "the dog", "the dog eats", "a girl drinks", "the cat sleeps in the")

_KEPT, _REMOVED, _MODEL = COLORS[0], "0.80", "0.15"


# ---------------------------------------------------------------------------- the pure part
@dataclass(frozen=True, eq=False)
class NextTokenView:
    """One next-token distribution before and after temperature and filtering.

    The ``n_show`` most likely tokens (by the model's own ranking, which
    temperature does not change) are described one entry each:
    """

    ids: np.ndarray         # (n_show,) token ids, most likely first
    p_model: np.ndarray     # (n_show,) the model's probabilities (temperature 1, no filter)
    p_tempered: np.ndarray  # (n_show,) after temperature, before top-k / top-p
    p_final: np.ndarray     # (n_show,) what sampling uses: 0 for removed tokens
    kept: np.ndarray        # (n_show,) bool: not removed by top-k / top-p
    probs: np.ndarray       # (V,) the full final distribution
    n_kept: int             # tokens with p_final > 0, over the whole vocabulary
    entropy: float          # of the final distribution, in nats (0: only one choice)
    temperature: float
    top_k: int | None
    top_p: float | None

    @property
    def vocab_size(self) -> int:
        return int(self.probs.shape[0])


def next_token_view(logits, temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None, n_show: int = 15) -> NextTokenView:
    """Describe the next-token distribution of ``logits`` (V,) under the given sampling settings.

    ``top_k=None`` / ``top_p=None`` switch that filter off. The final
    distribution is exactly the one :func:`course_lib.sampling.sample_next`
    draws from.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(f"next_token_view expects logits of shape (V,), got {logits.shape}")
    if isinstance(n_show, bool) or not isinstance(n_show, (int, np.integer)) or n_show < 1:
        raise ValueError(f"next_token_view: n_show must be an int >= 1, got {n_show!r}")
    n_show = min(int(n_show), logits.shape[0])
    p_model_all = softmax(logits)
    p_temp_all = softmax(apply_temperature(logits, temperature))
    probs = next_token_probs(logits, temperature, top_k, top_p)  # (V,)
    order = np.argsort(-logits, kind="stable")[:n_show]           # most likely first (ties: lower id)
    nz = probs[probs > 0]
    entropy = max(float(-np.sum(nz * np.log(nz))), 0.0) + 0.0  # + 0.0: never print "-0.00"
    return NextTokenView(
        ids=order, p_model=p_model_all[order], p_tempered=p_temp_all[order], p_final=probs[order],
        kept=probs[order] > 0, probs=probs, n_kept=int(np.count_nonzero(probs)), entropy=entropy,
        temperature=float(temperature), top_k=top_k, top_p=top_p,
    )


@functools.lru_cache(maxsize=4)
def _default_model(alpha: float):
    tok = load_vocab("en", "word")
    sequences = [tok.encode(s) for s in load_corpus("en", "train")]
    log_probs = bigram_log_probs(count_bigrams(sequences, tok.vocab_size), alpha)
    return table_model(log_probs), tok, 1


def default_language_model(alpha: float = 0.1):
    """``(model_fn, tokenizer, context_size)`` of an add-alpha bigram model of the English corpus."""
    return _default_model(float(alpha))


def token_label(token: str) -> str:
    """How a token is written on a plot or in the status line (a newline as ⏎, a space as ␣)."""
    return {"\n": "⏎", " ": "␣"}.get(token, token)


# ---------------------------------------------------------------------------- drawing
_Y_LEVELS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.05)


def _y_top(needed: float) -> float:
    """The smallest of a few fixed axis heights that fits ``needed`` (few heights: few backgrounds to cache)."""
    return next((level for level in _Y_LEVELS if level >= needed), _Y_LEVELS[-1])


def _bar_axis(view: NextTokenView | None, itos, ymax: float | None = None, tick_labels: bool = True) -> tuple:
    """The slowly changing part of a :class:`NextTokenBars` chart: ``(token labels, top of the y axis)``.

    The labels are the tokens under the bars (none when ``tick_labels`` is
    False); the top is ``ymax``, or the smallest of a few fixed heights that
    fits the bars. An explorer draws the chart's axes once per value of this
    pair (its ``background_key``).
    """
    if view is None:
        return (), 1.05
    labels = tuple(token_label(itos[i]) for i in view.ids) if tick_labels else ()
    if ymax is None:
        heights = np.where(view.kept, view.p_final, view.p_tempered)
        ymax = _y_top(float(max(heights.max(), view.p_model.max())) * 1.1)
    return labels, float(ymax)


class NextTokenBars:
    """The bar chart of a :class:`NextTokenView`, built once on ``ax`` and updated in place.

    Kept tokens are coloured bars at their sampling probability; removed
    tokens are grey bars at the probability they had before filtering; a black
    tick marks the model's own probability (temperature 1, no filter).

    ``update`` shows a view: it sets the token labels and the y range
    (:func:`_bar_axis`, which change rarely) and the artists in :attr:`dynamic`
    (bars, ticks, title, and the token labels when ``dynamic_labels``), which
    change on every slider move.
    """

    def __init__(self, ax, n_bars: int, legend: bool = True, dynamic_labels: bool = False) -> None:
        self.ax, self.n = ax, int(n_bars)
        x = np.arange(self.n)
        self.bars = list(ax.bar(x, np.zeros(self.n), color=_KEPT, width=0.75, edgecolor=_KEPT))
        self.labels = _label_texts(ax, self.n) if dynamic_labels else None
        (self.ticks,) = ax.plot(x, np.zeros(self.n), linestyle="none", marker="_", markersize=17,
                                markeredgewidth=2.2, color=_MODEL, zorder=3)
        ax.set_xticks(x, [""] * self.n, rotation=50, ha="right", rotation_mode="anchor")
        ax.xaxis.grid(False)
        ax.set_xlim(-0.6, self.n - 0.4)
        ax.set_ylabel("probability")
        self.title = ax.set_title("", y=1.01)
        self.dynamic = [*self.bars, self.ticks, self.title, *(self.labels or [])]
        if legend:
            from matplotlib.lines import Line2D
            from matplotlib.patches import Patch
            ax.legend(handles=[Patch(color=_KEPT, label="can be sampled"),
                               Patch(facecolor=_REMOVED, edgecolor="0.6", label="removed by top-k / top-p"),
                               Line2D([], [], linestyle="none", marker="_", markersize=14, markeredgewidth=2.2,
                                      color=_MODEL, label="model at T = 1, no filter")],
                      loc="upper right", fontsize=9, framealpha=0.9)

    def update(self, view: NextTokenView | None, itos, title: str | None = None, ymax: float | None = None) -> None:
        """Show ``view`` (``None`` hides every bar)."""
        labels, top = _bar_axis(view, itos, ymax, tick_labels=self.labels is None)
        self.ax.set_xticklabels(list(labels) + [""] * (self.n - len(labels)))
        self.ax.set_ylim(0, top)
        if title is not None:
            self.title.set_text(title)
        if self.labels is not None:
            _set_label_texts(self.labels, [] if view is None else [token_label(itos[i]) for i in view.ids])
        if view is None:
            for bar in self.bars:
                bar.set_visible(False)
            self.ticks.set_ydata(np.full(self.n, np.nan))
            return
        m = len(view.ids)
        heights = np.where(view.kept, view.p_final, view.p_tempered)
        for i, bar in enumerate(self.bars):
            bar.set_visible(i < m)
            if i < m:
                bar.set_height(float(heights[i]))
                colour = _KEPT if view.kept[i] else _REMOVED
                bar.set_facecolor(colour)
                bar.set_edgecolor(colour if view.kept[i] else "0.6")
        y = np.full(self.n, np.nan)
        y[:m] = view.p_model
        self.ticks.set_ydata(y)


def draw_next_token_bars(ax, view: NextTokenView, itos, title: str | None = None,
                         legend: bool = True, ymax: float | None = None) -> NextTokenBars:
    """Draw ``view`` on ``ax`` (see :class:`NextTokenBars`); returns the chart for later updates."""
    chart = NextTokenBars(ax, len(view.ids), legend=legend)
    chart.update(view, itos, title, ymax)
    return chart


class StepHistoryBars:
    """One bar per generated token: the probability the model gave it when it was drawn."""

    def __init__(self, ax, max_tokens: int) -> None:
        self.ax, self.n = ax, max(int(max_tokens), 8)
        x = np.arange(self.n)
        self.bars = list(ax.bar(x, np.zeros(self.n), color=COLORS[2], width=0.7))
        self.labels = _label_texts(ax, self.n)
        ax.set_xticks(x, [""] * self.n)
        ax.xaxis.grid(False)
        ax.set_xlim(-0.6, self.n - 0.4)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("p(chosen token)")
        self.title = ax.set_title("", y=1.01)
        self.hint = ax.text(0.5, 0.5, 'press "next token"', ha="center", va="center",
                            transform=ax.transAxes, color="0.4")
        self.dynamic = [*self.bars, self.title, self.hint, *self.labels]

    def update(self, tokens, probs, title: str | None = None) -> None:
        tokens, probs = list(tokens), list(probs)
        m = min(len(tokens), self.n)
        _set_label_texts(self.labels, [token_label(t) for t in tokens[:m]])
        for i, bar in enumerate(self.bars):
            bar.set_height(float(probs[i]) if i < m else 0.0)
        self.hint.set_visible(m == 0)
        if title is not None:
            self.title.set_text(title)


def draw_step_history(ax, tokens, probs, title: str | None = None, max_tokens: int | None = None) -> StepHistoryBars:
    """Draw the probabilities of the generated ``tokens`` on ``ax``; returns the chart."""
    chart = StepHistoryBars(ax, max_tokens if max_tokens is not None else len(tokens))
    chart.update(list(tokens), list(probs), title)
    return chart


def _label_texts(ax, n: int) -> list:
    """n text artists under the bars, written like rotated tick labels but cheap to update."""
    from matplotlib.transforms import blended_transform_factory, offset_copy

    base = blended_transform_factory(ax.transData, ax.transAxes)  # x in data, y in axes units
    transform = offset_copy(base, fig=ax.figure, y=-6, units="points")
    size = matplotlib.rcParams["xtick.labelsize"]
    return [ax.text(i, 0.0, "", transform=transform, rotation=50, ha="right", va="top",
                    rotation_mode="anchor", fontsize=size, clip_on=False) for i in range(n)]


def _set_label_texts(texts: list, names: list) -> None:
    for i, t in enumerate(texts):
        t.set_text(names[i] if i < len(names) else "")


def _fix_label_positions(ax, pixels: float = 44.0) -> None:
    """Fixed places for the axis labels (and titles, placed with y=1.01): matplotlib then skips
    measuring every tick label to place them, a large part of a redraw. The y label goes
    ``pixels`` to the left of the axes (room for tick labels such as "0.25")."""
    fig = ax.figure
    width_px = ax.get_position().width * fig.get_figwidth() * fig.dpi
    ax.yaxis.set_label_coords(-pixels / width_px, 0.5)
    ax.xaxis.set_label_coords(0.5, -0.3)


def _ellipsis(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _explorer_axes(fig, n_axes: int, width_ratios, margins: dict, fixed: bool) -> list:
    """The explorers' axes, side by side.

    ``fixed=True`` (the widget's own figure): fixed margins and the axis labels
    at fixed places (:func:`_fix_label_positions`), so that a new background
    draws fast. Otherwise (a static copy) the figure's layout engine places
    the axes; the margins are used when it has none.
    """
    if fixed:
        fig.set_layout_engine("none")
    elif fig.get_layout_engine() is None:
        fig.subplots_adjust(**margins)
    grid = fig.subplots(1, n_axes, width_ratios=width_ratios, squeeze=False, gridspec_kw=margins if fixed else None)
    axes = list(grid[0])
    if fixed:
        for ax in axes:
            _fix_label_positions(ax)
    return axes


# ---------------------------------------------------------------------------- explorer (a)
@dataclass(frozen=True, eq=False)
class SamplingState:
    prompt: str
    context_ids: tuple          # the full context: <bos> * context_size + the prompt's ids
    view: NextTokenView
    seed: int
    continuation_ids: tuple     # the sampled continuation (<eos> included when written)
    continuation: str           # ... as text


def _resolve_model(owner: str, model_fn, tokenizer, context_size):
    """The explorer's ``(model_fn, tokenizer, context_size)``: all three given, or none (the default bigram)."""
    if model_fn is None:
        if tokenizer is not None or context_size is not None:
            raise ValueError(f"{owner}: give model_fn, tokenizer and context_size together "
                             "(or none of them for the default bigram model)")
        model_fn, tokenizer, context_size = default_language_model()
    elif tokenizer is None or context_size is None:
        raise ValueError(f"{owner}: with a model_fn, also give its tokenizer and context_size")
    return model_fn, tokenizer, int(context_size)


class SamplingExplorer(Explorer):
    """Temperature, top-k and top-p in front of one next-token distribution.

    Controls: the prompt (a Dropdown), ``temperature`` (log slider), ``top_k``
    (its maximum, the vocabulary size, means off), ``top_p`` (1.0 means off)
    and ``seed``. The continuation is generated with
    ``np.random.default_rng(seed)``, so one slider position always writes the
    same text.
    """

    fig_width = 10.0
    fig_height = 4.3
    fig_margins = {"left": 0.08, "right": 0.98, "bottom": 0.27, "top": 0.88}
    max_backgrounds = 24  # one per (prompt's token labels, y range)

    def __init__(self, model_fn=None, tokenizer=None, context_size: int | None = None,
                 prompts=None, max_new_tokens: int = 20, n_show: int = 15,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 seed: int = 0) -> None:
        self.model_fn, self.tokenizer, self.context_size = _resolve_model(
            "SamplingExplorer", model_fn, tokenizer, context_size)
        tokenizer = self.tokenizer
        self.max_new_tokens, self.n_show = int(max_new_tokens), int(n_show)
        prompts = list(DEFAULT_PROMPTS if prompts is None else prompts)
        if not prompts:
            raise ValueError("SamplingExplorer: prompts must not be empty")
        V = tokenizer.vocab_size
        options = [(p if p else "(start of a sentence)", p) for p in prompts]
        style = {"description_width": "90px"}
        controls = {
            "prompt": widgets.Dropdown(options=options, value=prompts[0], description="context", style=style),
            "temperature": widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=np.log10(5.0),
                                                  step=0.05, description="temperature", readout_format=".2f",
                                                  style=style),
            "top_k": widgets.IntSlider(value=V if top_k is None else top_k, min=1, max=V,
                                       description="top-k", style=style),
            "top_p": widgets.FloatSlider(value=1.0 if top_p is None else top_p, min=0.05, max=1.0,
                                         step=0.05, description="top-p", readout_format=".2f", style=style),
            "seed": widgets.IntSlider(value=seed, min=0, max=9, description="seed", style=style),
        }
        super().__init__(controls, columns=3)

    def context_ids(self, prompt: str) -> list[int]:
        return [self.tokenizer.bos_id] * self.context_size + self.tokenizer.encode(prompt)

    def compute(self, prompt: str, temperature: float, top_k: int, top_p: float, seed: int) -> SamplingState:
        k = None if top_k >= self.tokenizer.vocab_size else int(top_k)
        p = None if top_p >= 1.0 else float(top_p)
        ids = self.context_ids(prompt)
        logits = np.asarray(self.model_fn(np.array(ids[-self.context_size:])), dtype=np.float64)  # (V,)
        view = next_token_view(logits, temperature, k, p, self.n_show)
        new = generate(self.model_fn, ids, self.max_new_tokens, temperature, k, p,
                       generator=np.random.default_rng(seed), context_size=self.context_size,
                       eos_id=self.tokenizer.eos_id)
        text = self.tokenizer.decode(new)
        return SamplingState(prompt, tuple(ids), view, int(seed), tuple(new), text)

    def _context_text(self, prompt: str) -> str:
        return "<bos>" + (" " + prompt if prompt else "")

    def draw(self, fig, state: SamplingState) -> None:
        """The same picture on a fresh figure (e.g. a static copy in the notebook)."""
        self.update(self._charts(fig, fixed=False), state)

    def setup(self, fig, state: SamplingState) -> tuple:
        return self._charts(fig, fixed=True)

    def _charts(self, fig, fixed: bool) -> tuple:
        (ax,) = _explorer_axes(fig, 1, None, self.fig_margins, fixed)
        return (NextTokenBars(ax, self.n_show),
                fig.text(0.01, 0.015, "", fontsize=11, ha="left", va="bottom", color=COLORS[3]))

    def update(self, charts: tuple, state: SamplingState) -> list:
        bars, sample = charts
        v = state.view
        settings = (f"T = {v.temperature:.2f}, top-k {v.top_k if v.top_k else 'off'}, "
                    f"top-p {f'{v.top_p:.2f}' if v.top_p else 'off'}")
        bars.update(v, self.tokenizer.itos,
                    title=f'next token after "{_ellipsis(self._context_text(state.prompt), 45)}"  ({settings})')
        sample.set_text(_ellipsis(f"sample (seed {state.seed}): {state.prompt} ▸ {state.continuation}", 110))
        return [*bars.dynamic, sample]

    def background_key(self, state: SamplingState) -> tuple:
        return _bar_axis(state.view, self.tokenizer.itos)  # the token labels and the y range

    def status_text(self, state: SamplingState) -> str:
        v = state.view
        return (f"{v.n_kept} of {v.vocab_size} tokens can be drawn · entropy {v.entropy:.2f} nats · "
                f"sample with seed {state.seed}: <b>{_escape(state.prompt)} ▸ {_escape(state.continuation)}</b>")


# ---------------------------------------------------------------------------- explorer (b)
@dataclass(frozen=True, eq=False)
class StepState:
    ids: tuple              # everything so far: <bos> * context_size + prompt + generated tokens
    n_prompt: int           # how many of ids are the starting context
    view: NextTokenView     # the candidates for the next token, at the current temperature
    chosen_probs: tuple     # probability of each generated token when it was drawn
    finished: bool          # <eos> was written or max_new_tokens reached
    log_prob: float         # sum of log chosen_probs: the chain rule

    @property
    def generated(self) -> tuple:
        return self.ids[self.n_prompt:]


class StepGenerator(Explorer):
    """Write one token per click of "next token"; "reset" starts again from the prompt.

    Each click draws the next token from the distribution shown (temperature
    from the slider) with a generator seeded by ``seed`` at every reset, so a
    sequence of clicks always writes the same text. Left: the ``n_candidates``
    most likely next tokens; right: the probability each chosen token had.
    The buttons are ``next_button`` and ``reset_button`` (``button.click()``
    works without a browser); :meth:`step` and :meth:`reset` do the same in code.
    """

    fig_width = 10.0
    fig_height = 4.0
    fig_margins = {"left": 0.085, "right": 0.98, "bottom": 0.22, "top": 0.82, "wspace": 0.24}

    def __init__(self, model_fn=None, tokenizer=None, context_size: int | None = None, prompt: str = "",
                 max_new_tokens: int = 16, n_candidates: int = 10, temperature: float = 1.0,
                 seed: int = 0) -> None:
        self.model_fn, self.tokenizer, self.context_size = _resolve_model(
            "StepGenerator", model_fn, tokenizer, context_size)
        tokenizer = self.tokenizer
        self.max_new_tokens, self.n_candidates, self.seed = int(max_new_tokens), int(n_candidates), int(seed)
        self.start_ids = [tokenizer.bos_id] * self.context_size + tokenizer.encode(prompt)
        self._ids = list(self.start_ids)
        self._chosen: list[float] = []
        self._rng = np.random.default_rng(self.seed)
        self.next_button = widgets.Button(description="next token", button_style="primary", icon="play")
        self.reset_button = widgets.Button(description="reset", icon="undo")
        controls = {
            "temperature": widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=np.log10(5.0),
                                                  step=0.05, description="temperature", readout_format=".2f",
                                                  style={"description_width": "90px"}),
        }
        super().__init__(controls)
        self.children = (widgets.HBox([self.next_button, self.reset_button]), *self.children)
        self.next_button.on_click(self._on_next)
        self.reset_button.on_click(self._on_reset)

    # the pure part: the state is a function of the tokens so far and the temperature
    def compute(self, temperature: float) -> StepState:
        window = np.array(self._ids[-self.context_size:])
        logits = np.asarray(self.model_fn(window), dtype=np.float64)  # (V,)
        view = next_token_view(logits, temperature, n_show=self.n_candidates)
        n_new = len(self._ids) - len(self.start_ids)
        finished = n_new >= self.max_new_tokens or (n_new > 0 and self._ids[-1] == self.tokenizer.eos_id)
        log_prob = float(np.sum(np.log(np.maximum(self._chosen, 1e-300)))) if self._chosen else 0.0
        return StepState(tuple(self._ids), len(self.start_ids), view, tuple(self._chosen), finished, log_prob)

    def step(self) -> int | None:
        """Draw and append one token (what a click on "next token" does). Returns its id, or None when finished."""
        state = self.state
        if state.finished:
            return None
        logits = np.asarray(self.model_fn(np.array(self._ids[-self.context_size:])), dtype=np.float64)
        next_id = int(sample_next(logits, state.view.temperature, generator=self._rng))
        self._chosen.append(float(state.view.probs[next_id]))
        self._ids.append(next_id)
        self.redraw()
        return next_id

    def reset(self) -> None:
        """Back to the prompt, with the generator seeded again."""
        self._ids = list(self.start_ids)
        self._chosen = []
        self._rng = np.random.default_rng(self.seed)
        self.redraw()

    def _on_next(self, _button) -> None:
        self.step()

    def _on_reset(self, _button) -> None:
        self.reset()

    def redraw(self) -> None:
        super().redraw()
        self.next_button.disabled = bool(self.state.finished)

    def text(self, state: StepState | None = None) -> str:
        """The context and what was written so far: "<bos> ▸ the dog sleeps"."""
        state = self.state if state is None else state
        tok = self.tokenizer
        prompt = ("<bos> " + tok.decode(list(state.ids[:state.n_prompt]), skip_special=True)).strip()
        new = tok.decode(list(state.generated))
        return f"{prompt} ▸ {new}" if new else f"{prompt} ▸"

    def draw(self, fig, state: StepState) -> None:
        """The same picture on a fresh figure (e.g. a static copy in the notebook)."""
        self.update(self._charts(fig, fixed=False), state)

    def setup(self, fig, state: StepState) -> tuple:
        return self._charts(fig, fixed=True)

    def _charts(self, fig, fixed: bool) -> tuple:
        ax_c, ax_h = _explorer_axes(fig, 2, [1.1, 1], self.fig_margins, fixed)
        candidates = NextTokenBars(ax_c, self.n_candidates, legend=False, dynamic_labels=True)
        done = ax_c.text(0.5, 0.55, "", ha="center", va="center", transform=ax_c.transAxes, fontsize=13,
                         bbox={"facecolor": "white", "edgecolor": "0.5", "boxstyle": "round"}, zorder=5)
        history = StepHistoryBars(ax_h, self.max_new_tokens)
        return candidates, done, history, fig.suptitle("", fontsize=12)

    def update(self, charts: tuple, state: StepState) -> list:
        # (the token labels are dynamic and the y range fixed: one background serves every state)
        candidates, done, history, title = charts
        itos = self.tokenizer.itos
        if state.finished:
            ended = state.generated and state.generated[-1] == self.tokenizer.eos_id
            done.set_text(("finished: <eos> written" if ended else f"finished: {self.max_new_tokens} tokens")
                          + "\npress reset")
            candidates.update(None, itos, title="next-token candidates", ymax=1.05)
        else:
            candidates.update(state.view, itos, title=f"candidates for token {len(state.generated) + 1} "
                                                      f"(T = {state.view.temperature:.2f})", ymax=1.05)
        done.set_visible(state.finished)
        history.update([itos[i] for i in state.generated], state.chosen_probs,
                       title=f"chosen so far: log p = {state.log_prob:.2f}")
        title.set_text(_ellipsis(self.text(state), 90))
        return [*candidates.dynamic, done, *history.dynamic, title]

    def status_text(self, state: StepState) -> str:
        n = len(state.generated)
        text = f"{n} token{'s' if n != 1 else ''} written: <b>{_escape(self.text(state))}</b>"
        if n:
            last = self.tokenizer.itos[state.generated[-1]]
            text += f" · last: '{_escape(token_label(last))}' had p = {state.chosen_probs[-1]:.3f}"
            text += f" · log p(text) = {state.log_prob:.2f}"
        if state.finished:
            text += " · <b>finished</b>: press reset"
        else:
            best = self.tokenizer.itos[int(state.view.ids[0])]
            text += f" · most likely next: '{_escape(token_label(best))}' ({state.view.p_final[0]:.3f})"
        return text
