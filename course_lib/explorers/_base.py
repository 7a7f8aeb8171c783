"""The pattern every explorer follows.

    class MyExplorer(Explorer):
        def compute(self, depth, activation):      # pure: values -> state
            return gradient_flow(depth, activation)
        def draw(self, fig, state):                # state -> picture
            ...
        def status_text(self, state):              # state -> one line
            return f"..."

    MyExplorer(controls={"depth": IntSlider(...), ...})  # displayable widget

A change to any control recomputes the state, redraws the figure off screen
(matplotlib's Agg, object API: no pyplot state, no flicker) and replaces the
PNG in an ``Image`` widget. Tests set ``control.value`` and read ``state``,
``status.value`` and ``image.value`` without a browser.

Drawing a whole figure takes longer than the 0.1 s a redraw may take. A fast
explorer therefore splits ``draw`` in two and lets the base class reuse one
figure (see :class:`~course_lib.plotting.BlitFigure`)::

        def setup(self, fig, state):               # once: the whole picture
            ax = fig.subplots()
            ...                                    # axes, labels, legend: the static part
            (line,) = ax.plot(state.x, state.y)
            return {"line": line}                  # what update needs
        def update(self, artists, state):          # every redraw: only what moves
            artists["line"].set_data(state.x, state.y)
            return [artists["line"]]               # the artists that move, in drawing order

The static part is drawn once and kept as pixels; each redraw pastes them
back and draws only the artists ``update`` returns. If the static part
depends on the state (an axis range, tick labels), ``background_key(state)``
names how it looks: one background is kept per key. ``figure_key(state)``
gives states with a different layout their own figure (e.g. one per landscape).
"""
from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from ..plotting import BlitFigure, course_rc, figure_to_png, new_figure


class Explorer(widgets.VBox):
    """Base class: subclasses implement ``compute``, ``status_text`` and either ``draw``
    or (fast) ``setup`` and ``update``."""

    #: figure size in inches and dpi of the rendered picture (800 px wide by default)
    fig_width: float = 10.0
    fig_height: float = 4.0
    fig_dpi: int = 80
    #: how many backgrounds (static parts, about 1 MB each) a fast explorer keeps per figure
    max_backgrounds: int = 12

    def __init__(self, controls: dict, columns: int = 2) -> None:
        self.controls = dict(controls)
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{int(self.fig_width * self.fig_dpi)}px", max_width="100%"))
        self.status = widgets.HTML(value="")
        self.state = None
        self.redraw_count = 0
        #: fast explorers: figure_key -> (BlitFigure, what setup returned)
        self.figures: dict = {}
        boxes = list(self.controls.values())
        # rows wrap on narrow screens (a laptop with the file browser open) instead of overflowing
        rows = [widgets.HBox(boxes[i:i + columns], layout=widgets.Layout(flex_flow="row wrap"))
                for i in range(0, len(boxes), columns)]
        super().__init__(children=[*rows, self.image, self.status])
        for w in boxes:
            w.observe(self._on_change, names="value")
        self.redraw()

    # --- to implement --------------------------------------------------------------
    def compute(self, **values):  # pragma: no cover - abstract
        raise NotImplementedError

    def status_text(self, state) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, fig, state) -> None:
        """The picture of ``state`` on a fresh ``fig`` (default: ``setup`` then ``update``)."""
        self.update(self.setup(fig, state), state)

    # --- to implement for fast redraws (optional) ----------------------------------
    def setup(self, fig, state):  # pragma: no cover - abstract
        """Draw the picture of ``state`` on ``fig`` (it has an Agg canvas); return what ``update`` needs."""
        raise NotImplementedError

    def update(self, artists, state) -> list:  # pragma: no cover - abstract
        """Put ``state`` into the ``artists`` that ``setup`` returned; return the artists that
        move, always the same ones, in drawing order."""
        raise NotImplementedError

    def background_key(self, state):
        """A value naming the static part of the picture for ``state`` (None: it never changes)."""
        return None

    def figure_key(self, state):
        """A value naming the figure ``state`` is drawn on (None: one figure for every state)."""
        return None

    # --- machinery -----------------------------------------------------------------
    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def render_png(self, state) -> bytes:
        with course_rc():
            if type(self).update is Explorer.update:    # no setup/update: a fresh figure each time
                fig = new_figure(self.fig_width, self.fig_height, self.fig_dpi)
                self.draw(fig, state)
                return figure_to_png(fig)
            key = self.figure_key(state)
            if key not in self.figures:                 # the first time: build the figure
                fig = new_figure(self.fig_width, self.fig_height, self.fig_dpi)
                blit = BlitFigure(fig, self.max_backgrounds)
                self.figures[key] = (blit, self.setup(fig, state))
            blit, artists = self.figures[key]
            moving = self.update(artists, state)
            return blit.png(moving, self.background_key(state))

    def redraw(self) -> None:
        # Every slider position must work: numerical trouble is shown in the
        # status line by compute(), never leaked to the reader as a warning.
        with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            warnings.simplefilter("error")
            state = self.compute(**self.values())
        self.state = state
        self.image.value = self.render_png(state)
        self.status.value = self.status_text(state)
        self.redraw_count += 1

    def _on_change(self, change) -> None:
        self.redraw()
