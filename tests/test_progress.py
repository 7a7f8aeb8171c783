"""Progress: a deterministic one-line summary; outside a notebook, nothing else is printed."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import progress
from course_lib.progress import Progress


def test_prints_only_the_summary_outside_a_notebook(capsys):
    with Progress(total=5, desc="fit") as prog:
        for step in range(5):
            prog.update(loss=1.0 / (step + 1), epoch=step + 1)
    out = capsys.readouterr()
    assert out.out == "fit: 5/5 steps, loss 0.2000, epoch 5\n"
    assert out.err == ""


def test_summary_formats():
    p = Progress(total=10)
    assert p.summary() == "training: 0/10 steps"
    p.update(3, loss=np.float32(0.123456), acc=np.float64(0.5), note="ok")
    assert p.summary() == "training: 3/10 steps, loss 0.1235, acc 0.5000, note ok"
    p.update(100)  # clamped at total
    assert p.done == 10


def test_close_prints_once_and_partial_runs(capsys):
    p = Progress(total=4, desc="epochs", show=False)
    p.update(loss=2.0)
    p.close()
    p.close()
    assert capsys.readouterr().out == "epochs: 1/4 steps, loss 2.0000\n"


def test_unit_names_what_is_counted(capsys):
    # update() once per epoch: the summary says "epochs"; the default stays "steps"
    with Progress(total=3, desc="no normalization", unit="epochs") as prog:
        for epoch in range(3):
            prog.update(loss=1.0 / (epoch + 1))
    assert capsys.readouterr().out == "no normalization: 3/3 epochs, loss 0.3333\n"
    assert Progress(total=2).unit == "steps"
    assert Progress(total=2, unit="batches").summary() == "training: 0/2 batches"


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_bad_unit(bad):
    with pytest.raises(ValueError, match="Progress: unit must be a non-empty str"):
        Progress(total=2, unit=bad)


def test_no_summary_when_the_loop_raises(capsys):
    with pytest.raises(KeyError):
        with Progress(total=3) as prog:
            prog.update()
            raise KeyError("boom")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_bad_total(bad):
    with pytest.raises(ValueError, match="Progress: total must be a positive int, got"):
        Progress(total=bad)


def test_notebook_bar_is_updated_and_summary_printed(monkeypatch, capsys):
    # Pretend to run in a kernel: the bar is displayed once and updated in place.
    import IPython.display

    shown = []
    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    with Progress(total=3, desc="train", min_interval=0.0) as prog:
        for _ in range(3):
            prog.update(loss=0.5)
    assert len(shown) == 1
    bar, label = shown[0].children
    assert bar.value == 3 and bar.max == 3 and bar.bar_style == "success"
    assert label.value == "3/3 · loss 0.5000"
    assert capsys.readouterr().out == "train: 3/3 steps, loss 0.5000\n"


def test_not_in_notebook_here():
    assert progress._in_notebook() is False
