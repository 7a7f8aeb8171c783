"""Explorer for notebook 06: a word's nearest neighbours, and the word space as training goes on.

The embedding table of one training run is stored at regular points of
training (:class:`course_lib.word_vectors.WordVectorRun`). Everything the
explorer shows is computed once, when it is built, by pure functions:

    space = embedding_space(run)            # similarities, 2-D maps, quality, for every snapshot
    view = neighbour_view(space, "dog", s)  # the k nearest neighbours of "dog" at snapshot s

A redraw only draws ``view`` (bars of cosine similarities, the 2-D map with
the word and its neighbours marked). Japanese words are drawn by their
English translation, so no CJK font is needed; the dropdown and the status
line show the Japanese itself.

    EmbeddingExplorer({"en": run_en, "ja": run_ja})   # the widget (the notebook displays it)
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from ..plotting import freeze_layout
from ..random import resolve
from ..word_vectors import (
    CLASS_COLORS, WordVectorRun, align_2d, content_words, cosine_similarity,
    nearest_neighbour_indices, pca, random_cluster_quality, train_word_vectors, word_label,
)
from ..text.lexicon import CLASS_NAMES, translate_word
from ._base import Explorer

__all__ = [
    "EmbeddingSpace", "embedding_space", "NeighbourView", "neighbour_view",
    "place_labels", "leader_segments", "label_points", "draw_neighbour_bars", "draw_word_map", "draw_view", "class_legend_handles", "EmbeddingExplorer",
]

LANG_NAMES = {"en": "English", "ja": "日本語"}


# ---------------------------------------------------------------------------- pure functions
@dataclass(frozen=True)
class EmbeddingSpace:
    """One run's word space at every snapshot.

    ``words`` (n content words of the grammar, in id order), their plot
    ``labels`` (English) and ``classes``; ``epochs`` (S,); ``sims`` (S, n, n):
    cosine similarities; ``coords`` (S, n, 2): PCA of the unit-length vectors,
    each snapshot rotated to match the last one; ``quality`` (S,): cluster
    quality; ``random_quality``: the mean cluster quality of random vectors of
    the same size; ``limit``: half-width of the map's axes (the same for all).
    """

    lang: str
    words: list
    labels: list
    classes: list
    epochs: np.ndarray
    sims: np.ndarray
    coords: np.ndarray
    quality: np.ndarray
    random_quality: float
    limit: float

    @property
    def n_words(self) -> int:
        return len(self.words)


def embedding_space(run: WordVectorRun, trials: int = 50,
                    generator: np.random.Generator | None = None) -> EmbeddingSpace:
    """Precompute similarities, aligned 2-D maps and cluster quality for every snapshot of ``run``."""
    words, ids, classes = content_words(run.itos, run.lang)
    if len(words) < 3:
        raise ValueError("embedding_space: the run's vocabulary has fewer than 3 words of the grammar")
    tables = np.asarray(run.snapshots, dtype=np.float64)[:, ids]          # (S, n, D)
    unit = tables / np.maximum(np.linalg.norm(tables, axis=2, keepdims=True), 1e-12)
    sims = np.stack([cosine_similarity(t) for t in tables])               # (S, n, n)
    final = pca(unit[-1], 2).coords                                       # (n, 2)
    coords = np.stack([align_2d(pca(u, 2).coords, final) for u in unit[:-1]] + [final])  # (S, n, 2)
    labels_arr = np.array(classes)
    quality = np.array([np.mean(labels_arr[nearest_neighbour_indices(s)] == labels_arr) for s in sims])
    rand = random_cluster_quality(labels_arr, tables.shape[2], trials, resolve(generator))
    limit = float(np.max(np.abs(coords))) * 1.08
    return EmbeddingSpace(lang=run.lang, words=words, labels=[word_label(w, run.lang) for w in words],
                          classes=list(classes), epochs=np.asarray(run.epochs, dtype=np.float64), sims=sims,
                          coords=coords, quality=quality, random_quality=float(rand.mean()), limit=limit)


@dataclass(frozen=True)
class NeighbourView:
    """What the explorer shows for one (word, snapshot): the ``k`` nearest neighbours and their similarities."""

    lang: str
    word: str
    index: int            # the word's row in the space
    snapshot: int
    epoch: float
    neighbours: list      # [(word, cosine similarity), ...], most similar first
    neighbour_idx: np.ndarray  # (k,) their rows
    quality: float        # cluster quality of the whole space at this snapshot
    random_quality: float


def neighbour_view(space: EmbeddingSpace, word: str, snapshot: int = -1, k: int = 8) -> NeighbourView:
    """The ``k`` nearest neighbours (by cosine, the word itself left out) of ``word`` at ``snapshot``."""
    if word not in space.words:
        raise KeyError(f"neighbour_view: {word!r} is not a word of the {space.lang} space")
    n_snap = len(space.epochs)
    if not -n_snap <= snapshot < n_snap:
        raise IndexError(f"neighbour_view: snapshot must be in [0, {n_snap - 1}], got {snapshot}")
    snapshot %= n_snap
    k = min(int(k), space.n_words - 1)
    i = space.words.index(word)
    sims = space.sims[snapshot, i]
    order = np.array([j for j in np.argsort(-sims, kind="stable") if j != i][:k])
    return NeighbourView(lang=space.lang, word=word, index=i, snapshot=snapshot,
                         epoch=float(space.epochs[snapshot]),
                         neighbours=[(space.words[j], float(sims[j])) for j in order], neighbour_idx=order,
                         quality=float(space.quality[snapshot]), random_quality=space.random_quality)


# ---------------------------------------------------------------------------- drawing
#: half-size in pixels of a plain dot, for label placement
DOT_RADIUS = 3.5


def place_labels(points, anchors, sizes, pad: float = 4.0, max_radius: float = 90.0, *, bounds=None,
                 gap: float = 2.0, dot_radius=DOT_RADIUS) -> np.ndarray:
    """Where to put text labels so that they overlap neither each other nor the points (greedy).

    Everything is in display pixels. ``points`` (n, 2): every dot on the
    plot; ``anchors`` (m,): the indices of the dots to label; ``sizes`` (m, 2):
    the width and height of each label. Labels are placed one at a time, each
    at the first free spot among 8 directions at growing distances from its
    dot (or, if none is free, where it overlaps least); dots in crowded
    places are labelled first. ``bounds`` ``(x0, y0, x1, y1)``: the area the
    labels must stay in (e.g. the axes); a label sticks out only if no spot
    inside is possible. ``gap``: the free margin kept between two labels.
    ``dot_radius``: half-size of each dot, one number or one per point (a
    big marker keeps labels further away). Returns the offsets (m, 2) from
    each dot to the centre of its label, in the order of ``anchors``.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    anchors = np.asarray(anchors, dtype=np.int64).reshape(-1)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    dirs = np.array([(1, 0), (1, 1), (-1, 1), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, -1)], dtype=np.float64)
    dot = np.broadcast_to(np.asarray(dot_radius, dtype=np.float64), (len(points),))
    boxes = [np.concatenate([p - r, p + r]) for p, r in zip(points, dot)]  # (x0, y0, x1, y1) of every dot
    placed: list[np.ndarray] = []
    offsets = np.zeros((len(anchors), 2))
    # crowded dots first: they have the fewest free spots nearby
    dist = np.linalg.norm(points[anchors][:, None, :] - points[None, :, :], axis=2)  # (m, n)
    crowd = (dist < 25.0).sum(axis=1)
    for m in np.argsort(-crowd, kind="stable"):
        i = anchors[m]
        p, (w, h) = points[i], sizes[m]
        others = np.array([b for j, b in enumerate(boxes) if j != i] + placed).reshape(-1, 4)
        best, best_overlap = None, np.inf
        for r in np.arange(dot[i] + pad - DOT_RADIUS, max_radius + 1e-9, 6.0):   # clear of its own dot
            centres = p + dirs * np.array([r + w / 2, r + h / 2])            # (8, 2)
            cand = np.concatenate([centres - [w / 2, h / 2], centres + [w / 2, h / 2]], axis=1)  # (8, 4)
            ox = np.clip(np.minimum(cand[:, None, 2], others[None, :, 2]) - np.maximum(cand[:, None, 0], others[None, :, 0]), 0, None)
            oy = np.clip(np.minimum(cand[:, None, 3], others[None, :, 3]) - np.maximum(cand[:, None, 1], others[None, :, 1]), 0, None)
            overlap = (ox * oy).sum(axis=1)                                       # (8,)
            if bounds is not None:   # the part of a label outside the bounds counts ten times
                iw = np.clip(np.minimum(cand[:, 2], bounds[2]) - np.maximum(cand[:, 0], bounds[0]), 0, None)
                ih = np.clip(np.minimum(cand[:, 3], bounds[3]) - np.maximum(cand[:, 1], bounds[1]), 0, None)
                outside = w * h - iw * ih
                overlap = overlap + 10.0 * np.where(outside > 1e-6, outside, 0.0)   # (no rounding residue)
            j = int(np.argmin(overlap))
            if overlap[j] < best_overlap:
                best, best_overlap = centres[j] - p, overlap[j]
            if best_overlap == 0:
                break
        offsets[m] = best
        half = np.array([w / 2 + gap, h / 2 + gap])                  # later labels keep the gap
        placed.append(np.concatenate([p + best - half, p + best + half]))
    return offsets


def leader_segments(points, anchors, offsets, sizes, min_gap: float = 6.0, dot_radius=None) -> list:
    """Leader lines (display pixels) from each labelled dot to the nearest edge of its label,
    for the labels that sit more than ``min_gap`` pixels away from their dot; the others get none.
    With ``dot_radius`` (one number or one per point, as in :func:`place_labels`) a leader starts at
    the edge of the marker, and ``min_gap`` counts from a dot of :data:`DOT_RADIUS` (a big marker
    needs a label further away to get a leader). Returns a list of ``((x0, y0), (x1, y1))``."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    radii = None if dot_radius is None else np.broadcast_to(np.asarray(dot_radius, dtype=np.float64), (len(points),))
    segments = []
    for i, off, (w, h) in zip(anchors, np.asarray(offsets, dtype=np.float64).reshape(-1, 2), sizes):
        p = points[i]
        centre = p + off
        edge = np.clip(p, centre - [w / 2, h / 2], centre + [w / 2, h / 2])  # the box's point nearest to the dot
        dist = np.hypot(*(edge - p))
        if radii is None:
            if dist > min_gap:
                segments.append((tuple(p), tuple(edge)))
        elif dist - radii[i] > min_gap - DOT_RADIUS:
            start = p + (edge - p) * (radii[i] / dist)                          # on the marker's edge
            segments.append((tuple(start), tuple(edge)))
    return segments


def label_points(ax, xy, texts, indices=None, fontsize: float = 10, bold: int | None = None,
                 dot_radius=DOT_RADIUS) -> list:
    """Label the dots ``xy`` (n, 2, data coordinates) of ``ax`` without overlaps and inside the axes,
    with a thin leader line where a label had to move away from its dot. ``indices``: which dots to
    label (default all); ``bold``: one index to emphasise; ``dot_radius``: half-size of the dots in
    pixels (one number, or one per dot). The labels are placed (:func:`place_labels`) each time the
    figure is drawn, when the layout and so the pixel positions are final: anything added to the
    figure afterwards (a legend, a title) cannot push them onto each other. Returns the annotations."""
    xy = np.asarray(xy, dtype=np.float64)
    indices = list(range(len(xy))) if indices is None else list(indices)
    annots = [ax.annotate(texts[i], xy[i], xytext=(0.0, 0.0), textcoords="offset pixels", ha="center",
                          va="center", zorder=5, in_layout=False,   # inside the axes: no layout work
                          fontsize=fontsize + (1 if i == bold else 0), fontweight="bold" if i == bold else "normal")
              for i in indices]
    leaders = LineCollection([], colors="0.55", linewidths=0.6, zorder=1.5)
    ax.add_collection(leaders, autolim=False)
    ax.add_artist(_LabelPlacer(xy, indices, annots, leaders, dot_radius))
    return annots


class _LabelPlacer(Artist):
    """Draws nothing: when its axes are drawn it goes first (lowest zorder) and moves the labels of
    :func:`label_points` and their leader lines to the places :func:`place_labels` finds now."""

    def __init__(self, xy, indices, annots, leaders, dot_radius) -> None:
        super().__init__()
        self.set_zorder(-10)
        self.set_in_layout(False)
        self.xy, self.indices, self.annots, self.leaders, self.dot_radius = xy, indices, annots, leaders, dot_radius

    def draw(self, renderer) -> None:
        ax = self.axes
        points = ax.transData.transform(self.xy)                                 # (n, 2) pixels
        sizes = []
        for t in self.annots:
            bb = t.get_window_extent(renderer)
            sizes.append((bb.width + 2, bb.height))
        offsets = place_labels(points, self.indices, sizes, bounds=ax.bbox.extents, dot_radius=self.dot_radius)
        for t, off in zip(self.annots, offsets):
            t.xyann = tuple(off)
        to_data = ax.transData.inverted()
        self.leaders.set_segments([to_data.transform(np.array(seg)) for seg in
                                   leader_segments(points, self.indices, offsets, sizes, dot_radius=self.dot_radius)])
        self.stale = False


def class_legend_handles(classes=CLASS_NAMES) -> list:
    """Legend entries: one coloured dot per word class."""
    return [Line2D([], [], marker="o", linestyle="none", markersize=8, markerfacecolor=CLASS_COLORS[c],
                   markeredgecolor="0.3", label=c) for c in classes]


#: how many neighbours get a text label on the map (the bars name all of them)
MAP_LABELS = 3
BAR_XLIM = (-0.05, 1.45)
#: marker areas (points squared) on the map: every word, a circled neighbour, the chosen word's star
DOT_AREA, RING_AREA, STAR_AREA = 28, 90, 260


def _map_dot_radii(n: int, highlight: int | None, neighbours, dpi: float) -> np.ndarray:
    """Half-sizes in pixels of the markers of the map (n,), which labels keep clear of."""
    to_px = dpi / 72.0
    radii = np.full(n, max(DOT_RADIUS, np.sqrt(DOT_AREA) / 2 * to_px + 0.5))
    if highlight is not None:
        radii[list(neighbours)] = np.sqrt(RING_AREA) / 2 * to_px + 0.6
        radii[highlight] = np.sqrt(STAR_AREA) / 2 * to_px
    return radii


def _bar_text(label: str, sim: float) -> str:
    return f"{label} {sim:.2f}"


def _bars_axes(ax, k: int) -> None:
    """The fixed parts of the bar chart: limits, the zero line, labels."""
    ax.set_xlim(*BAR_XLIM)
    ax.set_ylim(k - 0.5, -0.5)           # the nearest at the top
    ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticks(np.arange(k), [str(r) for r in range(1, k + 1)])
    ax.set_ylabel("rank")
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlabel("cosine similarity")
    ax.grid(axis="y", visible=False)


def _bars_title(space: EmbeddingSpace, view: NeighbourView) -> str:
    return f"nearest to '{space.labels[view.index]}'" + (" (Japanese run)" if view.lang == "ja" else "")


def draw_neighbour_bars(ax, space: EmbeddingSpace, view: NeighbourView) -> None:
    """Horizontal bars: the cosine similarity of each neighbour, coloured by its class, named at the bar's end."""
    k = len(view.neighbours)
    idx = view.neighbour_idx
    _bars_axes(ax, k)
    for y, (j, (_, sim)) in enumerate(zip(idx, view.neighbours)):
        ax.barh(y, sim, color=CLASS_COLORS[space.classes[j]], edgecolor="0.3", linewidth=0.8)
        ax.text(max(sim, 0.0) + 0.02, y, _bar_text(space.labels[j], sim), va="center", fontsize=11)
    ax.set_title(_bars_title(space, view))


def draw_word_map(ax, space: EmbeddingSpace, snapshot: int, highlight: int | None = None,
                  neighbours=(), label: str = "marked", fontsize: float = 10) -> None:
    """The 2-D PCA map of the space at ``snapshot``: one dot per word, coloured by class.

    ``highlight``: the row of a word drawn as a star, joined to its
    ``neighbours`` (rows, circled). ``label``: ``"marked"`` labels the word
    and its first :data:`MAP_LABELS` neighbours, ``"all"`` every word.
    """
    xy = space.coords[snapshot]
    colors = [CLASS_COLORS[c] for c in space.classes]
    ax.scatter(xy[:, 0], xy[:, 1], s=DOT_AREA, c=colors, edgecolors="0.3", linewidths=0.5, zorder=2)
    neighbours = list(neighbours)
    if highlight is not None:
        ax.add_collection(LineCollection([[xy[highlight], xy[j]] for j in neighbours], colors="0.5",
                                         linewidths=0.8, zorder=1), autolim=False)
        ax.scatter(xy[neighbours, 0], xy[neighbours, 1], s=RING_AREA, facecolors="none",
                   edgecolors="k", linewidths=1.2, zorder=3)
        ax.scatter(*xy[highlight], s=STAR_AREA, marker="*", c=colors[highlight], edgecolors="k", linewidths=1.0,
                   zorder=4)
    lim = space.limit
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.locator_params(nbins=5)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if label == "all":
        to_label = list(range(space.n_words))
    else:
        to_label = [] if highlight is None else [highlight, *neighbours[:MAP_LABELS]]
    if to_label:
        label_points(ax, xy, space.labels, to_label, fontsize=fontsize, bold=highlight,
                     dot_radius=_map_dot_radii(space.n_words, highlight, neighbours, ax.figure.dpi))


def _map_title(view: NeighbourView) -> str:
    return f"epoch {view.epoch:g}: cluster quality {view.quality:.0%} (random vectors {view.random_quality:.0%})"


def draw_view(ax_bars, ax_map, space: EmbeddingSpace, view: NeighbourView) -> None:
    """The explorer's picture for one view on two axes."""
    draw_neighbour_bars(ax_bars, space, view)
    draw_word_map(ax_map, space, view.snapshot, highlight=view.index, neighbours=view.neighbour_idx)
    ax_map.set_title(_map_title(view))


# ---------------------------------------------------------------------------- the widget
def _as_runs(runs) -> dict:
    if runs is None:
        return {"en": train_word_vectors("en"), "ja": train_word_vectors("ja")}
    if isinstance(runs, WordVectorRun):
        return {runs.lang: runs}
    if isinstance(runs, dict):
        return dict(runs)
    return {r.lang: r for r in runs}


class EmbeddingExplorer(Explorer):
    """Pick a word and a point of training; see its nearest neighbours and the whole word space.

    ``runs``: a :class:`~course_lib.word_vectors.WordVectorRun`, or a dict
    ``{"en": run, "ja": run}`` (one training run per language, snapshots
    taken at the same epochs); ``None`` trains both with
    :func:`~course_lib.word_vectors.train_word_vectors` (a few seconds).
    Controls: the language (with two runs), the word, the training epoch.
    Left: the ``k`` nearest neighbours by cosine similarity. Right: the 2-D
    PCA map of every word, coloured by class, with the word (star) and its
    neighbours (circles) marked.
    """

    fig_width = 10.0
    fig_height = 4.8

    def __init__(self, runs=None, word: str = "dog", k: int = 8, lang: str | None = None,
                 epoch: float | None = None) -> None:
        runs = _as_runs(runs)
        if not runs:
            raise ValueError("EmbeddingExplorer: no training run given")
        self.spaces = {name: embedding_space(run, generator=np.random.default_rng(0)) for name, run in runs.items()}
        epochs = [tuple(np.round(s.epochs, 6)) for s in self.spaces.values()]
        if len(set(epochs)) != 1:
            raise ValueError("EmbeddingExplorer: the runs must have snapshots at the same epochs")
        self.k = int(k)
        langs = list(self.spaces)
        lang = langs[0] if lang is None else lang
        if lang not in self.spaces:
            raise ValueError(f"EmbeddingExplorer: no run for language {lang!r} (have {langs})")
        if word not in self.spaces[lang].words:
            word = self.spaces[lang].words[0]
        self._updating = False
        ep = self.spaces[lang].epochs
        start = len(ep) - 1 if epoch is None else int(np.argmin(np.abs(ep - epoch)))
        controls = {}
        if len(langs) > 1:
            controls["lang"] = widgets.ToggleButtons(options=[(LANG_NAMES.get(l, l), l) for l in langs], value=lang,
                                                     description="language")
        controls["word"] = widgets.Dropdown(options=self._word_options(lang), value=word, description="word")
        controls["epoch"] = widgets.SelectionSlider(options=[(f"{e:g}", i) for i, e in enumerate(ep)],
                                                    value=start, description="epoch",
                                                    continuous_update=True,
                                                    layout=widgets.Layout(width="420px"))
        self._lang = lang
        super().__init__(controls, columns=3)

    # --- controls --------------------------------------------------------------------
    def _word_options(self, lang: str) -> list:
        """Dropdown entries grouped by class: ("dog · animal", "dog"), ("子犬 (puppy) · animal", "子犬")."""
        space = self.spaces[lang]
        rank = {c: i for i, c in enumerate(CLASS_NAMES)}
        order = sorted(range(space.n_words), key=lambda j: (rank.get(space.classes[j], 99), space.labels[j]))
        out = []
        for j in order:
            w = space.words[j]
            shown = w if lang == "en" else f"{w} ({space.labels[j]})"
            out.append((f"{shown} · {space.classes[j]}", w))
        return out

    def _translate(self, word: str, src: str, dst: str) -> str:
        try:
            new = translate_word(word, src, dst)
        except KeyError:
            new = None
        words = self.spaces[dst].words
        return new if new in words else ("dog" if dst == "en" and "dog" in words else
                                         "犬" if "犬" in words else words[0])

    def _on_change(self, change) -> None:
        if self._updating:
            return
        if "lang" in self.controls and change["owner"] is self.controls["lang"]:
            old, new = self._lang, change["new"]
            self._updating = True
            try:
                word = self._translate(self.controls["word"].value, old, new)
                self.controls["word"].options = self._word_options(new)
                self.controls["word"].value = word
            finally:
                self._updating = False
            self._lang = new
        self.redraw()

    def values(self) -> dict:
        vals = super().values()
        vals.setdefault("lang", self._lang)
        return vals

    # --- Explorer hooks -------------------------------------------------------------------
    def compute(self, lang: str, word: str, epoch: int) -> NeighbourView:
        return neighbour_view(self.spaces[lang], word, int(epoch), self.k)

    def draw(self, fig, state: NeighbourView) -> None:
        """The explorer's picture drawn from scratch on ``fig`` with :func:`draw_view` (the widget
        itself draws it with :meth:`setup` once and :meth:`update` on every redraw)."""
        ax_bars, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
        draw_view(ax_bars, ax_map, self.spaces[state.lang], state)
        fig.legend(handles=class_legend_handles(), loc="outside right center", fontsize=9, frameon=False)

    def setup(self, fig, state: NeighbourView) -> dict:
        """Create every artist once, with fixed axes (the same for every language and epoch), and run
        the layout once; :meth:`update` then only changes the artists' data. Returns them by name."""
        ax_bars, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
        k = self.k
        # bars: fixed axes; each bar is named at its end ("puppy 0.88")
        _bars_axes(ax_bars, k)
        bars = ax_bars.barh(np.arange(k), np.zeros(k), edgecolor="0.3", linewidth=0.8)
        names = [ax_bars.text(0.0, y, "", va="center", fontsize=11) for y in range(k)]
        bar_title = ax_bars.set_title(" ")
        # map: fixed limits (the largest over every snapshot of every language)
        lim = max(sp.limit for sp in self.spaces.values())
        ax_map.set_xlim(-lim, lim)
        ax_map.set_ylim(-lim, lim)
        ax_map.set_aspect("equal")
        ax_map.locator_params(nbins=5)
        ax_map.set_xlabel("PC 1")
        ax_map.set_ylabel("PC 2")
        links = LineCollection([], colors="0.5", linewidths=0.8, zorder=1)
        ax_map.add_collection(links)
        dots = ax_map.scatter(np.zeros(2), np.zeros(2), s=DOT_AREA, edgecolors="0.3", linewidths=0.5, zorder=2)
        rings = ax_map.scatter(np.zeros(k), np.zeros(k), s=RING_AREA, facecolors="none", edgecolors="k",
                               linewidths=1.2, zorder=3)
        star = ax_map.scatter([0.0], [0.0], s=STAR_AREA, marker="*", edgecolors="k", linewidths=1.0, zorder=4)
        labels = [ax_map.annotate("", (0.0, 0.0), xytext=(0, 0), textcoords="offset pixels", ha="center",
                                  va="center", fontsize=10, zorder=5) for _ in range(MAP_LABELS + 1)]
        leaders = LineCollection([], colors="0.55", linewidths=0.6, zorder=1.5)
        ax_map.add_collection(leaders)
        labels[0].set_fontweight("bold")
        labels[0].set_fontsize(11)
        map_title = ax_map.set_title(" ")
        fig.legend(handles=class_legend_handles(), loc="outside right center", fontsize=9, frameon=False)
        freeze_layout(fig)    # the axes' pixel positions are final: labels can be placed in pixels
        # label sizes in pixels (plain and bold), for placing the labels without overlaps
        renderer = fig.canvas.get_renderer()
        label_sizes = {}
        for sp in self.spaces.values():
            for lab in sp.labels:
                for bold in (False, True):
                    if (lab, bold) not in label_sizes:
                        t = ax_map.text(0, 0, lab, fontsize=11 if bold else 10, fontweight="bold" if bold else "normal")
                        bb = t.get_window_extent(renderer)
                        label_sizes[(lab, bold)] = (bb.width + 2, bb.height)
                        t.remove()
        return dict(ax_map=ax_map, label_sizes=label_sizes, bars=bars.patches, names=names, bar_title=bar_title,
                    links=links, dots=dots, rings=rings, star=star, labels=labels, leaders=leaders,
                    map_title=map_title)

    def update(self, a: dict, view: NeighbourView) -> list:
        """Put ``view`` into the artists of :meth:`setup`; returns the artists that move, in drawing order."""
        space = self.spaces[view.lang]
        colors = [CLASS_COLORS[c] for c in space.classes]
        idx = view.neighbour_idx
        for y, (rect, name) in enumerate(zip(a["bars"], a["names"])):
            if y < len(idx):
                sim = view.neighbours[y][1]
                rect.set_width(sim)
                rect.set_facecolor(colors[idx[y]])
                name.set_text(_bar_text(space.labels[idx[y]], sim))
                name.set_x(max(sim, 0.0) + 0.02)
            else:
                rect.set_width(0.0)
                name.set_text("")
        a["bar_title"].set_text(_bars_title(space, view))
        xy = space.coords[view.snapshot]
        a["dots"].set_offsets(xy)
        a["dots"].set_facecolors(colors)
        a["rings"].set_offsets(xy[idx])
        a["star"].set_offsets(xy[view.index:view.index + 1])
        a["star"].set_facecolors([colors[view.index]])
        a["links"].set_segments([[xy[view.index], xy[j]] for j in idx])
        ax_map = a["ax_map"]
        marked = [view.index, *idx[:MAP_LABELS]]
        sizes = [a["label_sizes"][(space.labels[j], m == 0)] for m, j in enumerate(marked)]
        pixels = ax_map.transData.transform(xy)
        radii = _map_dot_radii(len(xy), view.index, idx, ax_map.figure.dpi)
        offsets = place_labels(pixels, marked, sizes, bounds=ax_map.bbox.extents, dot_radius=radii)
        for text, j, off in zip(a["labels"], marked, offsets):
            text.set_text(space.labels[j])
            text.xy = tuple(xy[j])
            text.xyann = tuple(off)
        to_data = ax_map.transData.inverted()
        a["leaders"].set_segments([to_data.transform(np.array(seg))
                                   for seg in leader_segments(pixels, marked, offsets, sizes, dot_radius=radii)])
        for text in a["labels"][len(marked):]:
            text.set_text("")
        a["map_title"].set_text(_map_title(view))
        return [*a["bars"], *a["names"], a["bar_title"], a["links"], a["leaders"], a["dots"], a["rings"],
                a["star"], *a["labels"], a["map_title"]]

    def status_text(self, state: NeighbourView) -> str:
        space = self.spaces[state.lang]

        def show(w: str) -> str:
            return w if state.lang == "en" else f"{w} ({word_label(w, 'ja')})"

        total = float(space.epochs[-1])
        near = ", ".join(f"{show(w)} {s:.2f}" for w, s in state.neighbours[:4])
        text = (f"epoch {state.epoch:g} of {total:g} · nearest to <b>{show(state.word)}</b>: {near} · "
                f"cluster quality {state.quality:.0%} (random vectors {state.random_quality:.0%})")
        if state.snapshot == 0:
            text += " · <i>before training: the vectors are random</i>"
        return text
