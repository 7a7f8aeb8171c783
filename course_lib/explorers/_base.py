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
"""
from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from ..plotting import course_rc, figure_to_png, new_figure


class Explorer(widgets.VBox):
    """Base class: subclasses implement ``compute``, ``draw`` and ``status_text``."""

    #: figure size in inches and dpi of the rendered picture (800 px wide by default)
    fig_width: float = 10.0
    fig_height: float = 4.0
    fig_dpi: int = 80

    def __init__(self, controls: dict, columns: int = 2) -> None:
        self.controls = dict(controls)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(self.fig_width * self.fig_dpi)}px"))
        self.status = widgets.HTML(value="")
        self.state = None
        self.redraw_count = 0
        boxes = list(self.controls.values())
        rows = [widgets.HBox(boxes[i:i + columns]) for i in range(0, len(boxes), columns)]
        super().__init__(children=[*rows, self.image, self.status])
        for w in boxes:
            w.observe(self._on_change, names="value")
        self.redraw()

    # --- to implement --------------------------------------------------------------
    def compute(self, **values):  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, fig, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def status_text(self, state) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- machinery -----------------------------------------------------------------
    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def render_png(self, state) -> bytes:
        fig = new_figure(self.fig_width, self.fig_height, self.fig_dpi)
        with course_rc():
            self.draw(fig, state)
        return figure_to_png(fig)

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
