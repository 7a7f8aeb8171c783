"""Interactive explorers: sliders in front of pure, unit-tested course_lib functions.

Each explorer is an ``ipywidgets.VBox`` (controls, a PNG picture, a status
line); the notebook displays it. It computes nothing itself: every redraw
calls a pure function and draws its result.
"""
from ._base import Explorer

__all__ = ["Explorer"]
