"""Plot helpers: one course style, and figures rendered to PNG bytes for explorers.

An explorer shows a matplotlib figure as a PNG picture and draws it again on
every slider move, so drawing must be fast (about 0.1 s for compute + picture):

* :class:`BlitFigure` draws the static part of a figure once and afterwards
  only the artists that move (matplotlib's "blitting");
* :func:`canvas_to_png` turns the pixels into PNG bytes, fast
  (:func:`pixels_to_png`, a minimal PNG writer).
"""
from __future__ import annotations

import struct
import zlib

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "COURSE_RC", "course_style", "course_rc", "new_figure", "figure_to_png", "COLORS",
    "pixels_to_png", "canvas_to_png", "freeze_layout", "BlitFigure",
]

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


def image_axes(*axes) -> None:
    """Prepare axes that show an image: no ticks, no grid, and a full frame.

    The course style hides the top and right spines and draws a grid, which
    suits line plots; an image needs its border (white pixels are part of the
    picture) and no grid lines across it.
    """
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)


def course_rc():
    """Context manager applying the course style to figures and axes created inside it."""
    return matplotlib.rc_context(COURSE_RC)


def new_figure(width: float = 10.0, height: float = 4.0, dpi: int = 80) -> Figure:
    """A standalone Figure (object API, no pyplot state) for rendering off screen."""
    with matplotlib.rc_context(COURSE_RC):
        fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Draw the whole of ``fig`` off screen (matplotlib's Agg) and return the PNG bytes."""
    canvas = _agg_canvas(fig)
    with matplotlib.rc_context(COURSE_RC):
        canvas.draw()
    return canvas_to_png(canvas)


# ---------------------------------------------------------------------------- fast redraws
def pixels_to_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) RGB or (H, W, 4) RGBA image of uint8.

    A PNG file is a signature and three chunks (each: length, type, data, CRC):
    IHDR (size and pixel format), IDAT (the rows, zlib-compressed, each after a
    byte naming its "filter") and IEND. This writer uses no filter and zlib's
    fastest level: about twice as fast as Pillow's writer (which tries five
    filters on every row) for an explorer's picture, at about the same size.
    """
    h, w, channels = pixels.shape
    rows = np.empty((h, 1 + w * channels), dtype=np.uint8)
    rows[:, 0] = 0                                          # filter 0 ("None") for every row
    rows[:, 1:] = pixels.reshape(h, w * channels)
    colour_type = {3: 2, 4: 6}[channels]                    # PNG's codes for RGB and RGBA

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)  # 8 bits per channel, no interlacing
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1))
            + chunk(b"IEND", b""))


def canvas_to_png(canvas_or_fig) -> bytes:
    """PNG bytes of what an Agg canvas (or a figure's canvas) holds now; nothing is drawn.

    The course's figures have an opaque background, so the alpha channel is
    left out (a quarter less to compress).
    """
    canvas = getattr(canvas_or_fig, "canvas", canvas_or_fig)
    rgba = np.asarray(canvas.buffer_rgba())                 # (H, W, 4) uint8, the canvas's own pixels
    opaque = canvas.figure.patch.get_facecolor()[3] == 1.0
    return pixels_to_png(rgba[..., :3] if opaque else rgba)


def _agg_canvas(fig: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas (attached first if the figure has none): it draws into a pixel buffer."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return fig.canvas


def freeze_layout(fig: Figure) -> None:
    """Run the figure's layout (e.g. constrained layout) once, by drawing it, and keep it:
    from then on its axes never move, however the data, titles or ticks change."""
    _agg_canvas(fig).draw()
    fig.set_layout_engine("none")


class BlitFigure:
    """A figure drawn again and again, fast: matplotlib's "blitting".

    Most of an explorer's picture never changes from one slider position to
    the next: axes, ticks, labels, legends, contour lines. A BlitFigure draws
    that static part once and keeps its pixels (a *background*). A redraw
    pastes the background back and draws only the artists that move::

        blit = BlitFigure(fig)             # fig holds the whole picture
        png = blit.png([line, title])      # first call: draws and keeps the background
        line.set_ydata(new_y)              # ... the slider moved
        png = blit.png([line, title])      # background + the two moving artists

    The moving artists are left out of the background, so pass the same ones
    every time, in drawing order (hide one with ``set_visible(False)`` rather
    than leaving it out). When a static part has
    to change (an axis range, tick labels), pass a ``key`` naming how the
    static part looks: each key gets its own background, drawn the first time
    it is needed and kept; at most ``max_backgrounds`` are kept (about 1 MB
    each; the least recently used is dropped).

    The layout runs once, with the first background (:func:`freeze_layout`),
    so the axes stay where they are and every background fits every redraw.
    """

    def __init__(self, fig: Figure, max_backgrounds: int = 12) -> None:
        _agg_canvas(fig)
        self.fig = fig
        self.max_backgrounds = int(max_backgrounds)
        self.backgrounds: dict = {}         # key -> saved pixels, least recently used first

    def png(self, moving, key=None) -> bytes:
        """PNG bytes of the figure: the background for ``key`` with the ``moving`` artists drawn on top."""
        canvas = self.fig.canvas
        background = self.backgrounds.pop(key, None)
        if background is None:
            for artist in moving:
                artist.set_animated(True)       # left out of the background ...
            freeze_layout(self.fig)             # ... which is everything else
            background = canvas.copy_from_bbox(self.fig.bbox)
            for artist in moving:
                artist.set_animated(False)      # (an ordinary figure again, e.g. for savefig)
            if len(self.backgrounds) >= self.max_backgrounds:
                del self.backgrounds[next(iter(self.backgrounds))]
        else:
            canvas.restore_region(background)
        self.backgrounds[key] = background      # (re)inserted last: the most recently used
        for artist in moving:
            self.fig.draw_artist(artist)
        return canvas_to_png(canvas)
