"""Feedback for training loops that take more than a couple of seconds.

    with Progress(total=300, desc="training") as prog:
        for epoch in range(300):
            loss = train_one_epoch()
            prog.update(loss=loss)
    # prints e.g. "training: 300/300 steps, loss 0.0421"
    # (Progress(..., unit="epochs") prints "training: 300/300 epochs, ...")

In a notebook a progress bar with the latest metrics appears and is updated in
place (through widget messages, at most about ten times a second). What is
*printed* is only the final summary line, which depends on the computation
alone (no timings), so a strict nbval comparison of the saved notebook passes.
Outside a notebook (tests, scripts) nothing is shown but the summary line.
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["Progress"]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _format_metrics(metrics: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" if isinstance(v, (float, np.floating)) else f"{k} {v}" for k, v in metrics.items())


class Progress:
    """A progress bar for ``total`` steps that ends with one deterministic summary line.

    ``update(n=1, **metrics)`` advances by ``n`` steps and records the latest
    metrics (floats are shown with 4 decimals). ``close()`` (or leaving the
    ``with`` block) prints ``"<desc>: <done>/<total> <unit>, <metrics>"``.
    ``unit`` names what is counted (default ``"steps"``; e.g. ``"epochs"``
    when ``update`` is called once per epoch).
    ``show=False`` hides the bar (the summary is still printed).
    """

    def __init__(self, total: int, desc: str = "training", show: bool = True,
                 min_interval: float = 0.1, unit: str = "steps") -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            raise ValueError(f"Progress: total must be a positive int, got {total!r}")
        if not isinstance(unit, str) or not unit.strip():
            raise ValueError(f"Progress: unit must be a non-empty str such as 'steps' or 'epochs', got {unit!r}")
        self.total, self.desc, self.unit = total, desc, unit
        self.done = 0
        self.metrics: dict = {}
        self.min_interval = min_interval
        self._last_draw = 0.0
        self._closed = False
        self._bar = self._label = None
        if show and _in_notebook():
            import ipywidgets as widgets
            from IPython.display import display

            self._bar = widgets.IntProgress(value=0, min=0, max=total, description=desc)
            self._label = widgets.HTML(value="")
            display(widgets.HBox([self._bar, self._label]))

    def update(self, n: int = 1, **metrics) -> None:
        self.done = min(self.total, self.done + n)
        self.metrics.update(metrics)
        now = time.monotonic()
        if self._bar is not None and (now - self._last_draw >= self.min_interval or self.done == self.total):
            self._last_draw = now
            self._bar.value = self.done
            self._label.value = f"{self.done}/{self.total} · {_format_metrics(self.metrics)}"

    def summary(self) -> str:
        text = f"{self.desc}: {self.done}/{self.total} {self.unit}"
        return f"{text}, {_format_metrics(self.metrics)}" if self.metrics else text

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.value = self.done
            self._label.value = f"{self.done}/{self.total} · {_format_metrics(self.metrics)}"
            self._bar.bar_style = "success" if self.done == self.total else "warning"
        print(self.summary())

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
