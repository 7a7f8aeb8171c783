"""Plot helpers: one course style, and figures rendered to PNG bytes for explorers."""
from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["COURSE_RC", "course_style", "course_rc", "new_figure", "figure_to_png", "COLORS"]

#: Sizes chosen to stay readable on a projector.
COURSE_RC = {
    "figure.dpi": 100,
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.0,
}

#: Colour-blind-friendly palette (Okabe & Ito), used for classes and methods.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def course_style() -> None:
    """Apply the course's matplotlib style (call once at the top of a notebook)."""
    matplotlib.rcParams.update(COURSE_RC)
    matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=COLORS)


def course_rc():
    """Context manager applying the course style to figures and axes created inside it."""
    return matplotlib.rc_context(COURSE_RC)


def new_figure(width: float = 10.0, height: float = 4.0, dpi: int = 80) -> Figure:
    """A standalone Figure (object API, no pyplot state) for rendering off screen."""
    with matplotlib.rc_context(COURSE_RC):
        fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Render ``fig`` with the Agg backend and return the PNG bytes."""
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context(COURSE_RC):
        fig.savefig(buf, format="png")
    return buf.getvalue()
