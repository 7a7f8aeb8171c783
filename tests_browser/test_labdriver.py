"""The browser harness's own helpers (no browser needed): websocket frames, explorer names."""
from __future__ import annotations

import json

import nbformat
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

from labdriver import KernelMonitor, _parse_ws_frame, cells_tagged, explorer_names, widget_cells


def _frame(msg_type: str, content: dict, channel: str = "iopub") -> bytes:
    msg = {"header": {"msg_type": msg_type}, "parent_header": {"msg_type": "comm_msg"},
           "metadata": {}, "content": content}
    return serialize_msg_to_ws_v1(msg, channel, pack=lambda d: json.dumps(d).encode())


def test_parse_v1_and_legacy_frames():
    channel, header, content = _parse_ws_frame(_frame("stream", {"name": "stderr", "text": "x"}))
    assert (channel, header["msg_type"], content["text"]) == ("iopub", "stream", "x")
    legacy = json.dumps({"channel": "iopub", "header": {"msg_type": "error"}, "content": {"ename": "E"}})
    assert _parse_ws_frame(legacy)[1:] == ({"msg_type": "error"}, {"ename": "E"})
    assert _parse_ws_frame(b"\x00garbage") is None


def test_kernel_monitor_keeps_errors_and_warnings_only():
    mon = KernelMonitor()
    mon._on_frame(_frame("stream", {"name": "stdout", "text": "Traceback is just a word here"}))
    mon._on_frame(_frame("stream", {"name": "stderr", "text": "progress 3/10"}))
    mon._on_frame(_frame("stream", {"name": "stderr", "text": "x.py:3: RuntimeWarning: overflow"}))
    mon._on_frame(_frame("error", {"ename": "ValueError", "evalue": "boom\nmore", "traceback": ["\x1b[31mline\x1b[0m"]}))
    mon._on_frame(_frame("error", {"ename": "ValueError", "evalue": "on shell"}, channel="shell"))
    assert len(mon.problems) == 2
    assert "RuntimeWarning: overflow" in mon.problems[0]
    assert mon.problems[1] == "kernel error ValueError: boom\nline"


def test_explorer_names_and_tags(tmp_path):
    nb = nbformat.v4.new_notebook()
    cells = [
        nbformat.v4.new_markdown_cell("# 09 · x"),
        nbformat.v4.new_code_cell("from course_lib.explorers.generation import SamplingExplorer, StepGenerator"),
        nbformat.v4.new_code_cell("StepGenerator(seed=1)  # not LinearFitExplorer()"),
        nbformat.v4.new_code_cell("explorer = LinearFitExplorer()\nexplorer"),
        nbformat.v4.new_code_cell("explorer.redraw()\nprint(1)"),
        nbformat.v4.new_code_cell("raise ValueError"),
    ]
    cells[2].metadata["tags"] = ["nbval-ignore-output"]
    cells[3].metadata["tags"] = ["nbval-ignore-output"]
    cells[5].metadata["tags"] = ["raises-exception"]
    nb.cells = cells
    path = tmp_path / "09_x.ipynb"
    nbformat.write(nb, path)
    assert explorer_names(path) == {2: ["StepGenerator"], 3: ["LinearFitExplorer"]}
    assert widget_cells(path) == [2, 3]
    assert cells_tagged(path, "raises-exception") == {5}
