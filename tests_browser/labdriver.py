"""Drive JupyterLab in the system Chromium: server, kernel messages, explorer widgets.

Used by the browser tests in this folder (`make test-browser`, `make gallery`).
Nothing here knows the notebooks or explorers by name: notebooks are the files
``notebooks/*.ipynb``; an explorer is what ``course_lib.explorers._base.Explorer``
renders: a VBox whose direct children are rows of controls, an ``Image`` widget
(``img.widget-image``) and an ``HTML`` status line (``.widget-html``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# JupyterLab user settings for the test server (JUPYTERLAB_SETTINGS_DIR):
# no autosave (the page never writes the notebook), no news/update toasts (no
# network, nothing covering the page), no extension manager (it would query PyPI),
# every cell attached to the DOM (windowing 'none') so that the page can be
# searched for errors without scrolling; cells render exactly as with the default.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` on a temporary copy of the course (notebooks/ and data/).

    The copy keeps the repository's layout (``<tmp>/course/notebooks``, ``<tmp>/course/data``)
    so that a notebook's working directory and relative paths are the same as in the repo.
    """

    def __init__(self, notebooks_dir: Path, python: str = sys.executable) -> None:
        self.python = python
        self.tmp = Path(tempfile.mkdtemp(prefix="course-browser-"))
        self.root = self.tmp / "course"
        shutil.copytree(notebooks_dir, self.root / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        if (ROOT / "data").is_dir():
            shutil.copytree(ROOT / "data", self.root / "data")
        self.token = os.urandom(16).hex()
        self.port = free_loopback_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.tmp / "jupyter-lab.log"

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> None:
        settings = self.tmp / "lab-settings"
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # keep the inline backend
        env.update(THREAD_ENV)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "lab-workspaces"),
            JUPYTER_CONFIG_DIR=str(self.tmp / "jupyter-config"),  # no user config leaks in
            JUPYTER_RUNTIME_DIR=str(self.tmp / "jupyter-runtime"),
            PYTHONUNBUFFERED="1",
        )
        cmd = [
            self.python, "-m", "jupyter", "lab",
            "--no-browser",
            "--expose-app-in-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer on {self.base_url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                for session in self.api("GET", "/api/sessions"):
                    self.api("DELETE", f"/api/sessions/{session['id']}")
            except Exception:
                pass
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group (start_new_session)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    # --- REST API ----------------------------------------------------------------------
    def api(self, method: str, path: str):
        req = urllib.request.Request(self.base_url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def delete_all_sessions(self, timeout: float = 20.0) -> None:
        """Shut down every kernel: a notebook's kernel outlives its page."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        deadline = time.monotonic() + timeout
        while self.api("GET", "/api/kernels") and time.monotonic() < deadline:
            time.sleep(0.2)

    def notebook_url(self, relpath: str, workspace: str) -> str:
        # A fresh named workspace per notebook: only this notebook is open in it.
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{relpath}?token={self.token}"


# ------------------------------------------------------------------------------------------
# Kernel messages seen by the page (errors raised in widget callbacks never reach an output
# area: JupyterLab sends them to its log console, so the tests read the websocket).


def _parse_ws_frame(payload) -> tuple[str, dict, dict] | None:
    """(channel, header, content) of one kernel websocket frame, or None."""
    try:
        if isinstance(payload, str):  # legacy JSON protocol
            msg = json.loads(payload)
            return msg.get("channel", ""), msg.get("header", {}), msg.get("content", {})
        data = bytes(payload)  # v1.kernel.websocket.jupyter.org: offsets, then the parts
        n = int.from_bytes(data[0:8], "little")
        if not 6 <= n <= 1024 or 8 * (n + 1) > len(data):  # channel, 4 JSON parts, end (+ buffers)
            return None
        offsets = [int.from_bytes(data[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
        if offsets != sorted(offsets) or offsets[-1] > len(data):
            return None
        parts = [data[offsets[i]:offsets[i + 1]] for i in range(min(n - 1, 5))]
        channel = parts[0].decode("utf-8")
        if channel != "iopub":
            return channel, {}, {}
        return channel, json.loads(parts[1]), json.loads(parts[4])
    except Exception:
        return None


_PROBLEM_TEXT = re.compile(r"Traceback|\b\w*(Error|Warning)\b:")


@dataclass
class KernelMonitor:
    """Collects error messages and suspicious stderr from every kernel websocket of a page."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        if "/api/kernels/" in ws.url:
            ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        parsed = _parse_ws_frame(payload)
        if not parsed:
            return
        channel, header, content = parsed
        kind = header.get("msg_type")
        if kind == "error":
            tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(content.get("traceback", [])))
            first = (content.get("evalue") or "").strip().splitlines()[:1]
            self.problems.append(f"kernel error {content.get('ename')}: {first[0] if first else ''}\n"
                                 + "\n".join(tb.splitlines()[-12:]))
        elif kind == "stream" and content.get("name") == "stderr":
            text = content.get("text", "")
            if _PROBLEM_TEXT.search(text):
                self.problems.append(f"kernel stderr: {text.strip()[:1500]}")


# ------------------------------------------------------------------------------------------
# JavaScript run in the page


JS_RUN_ALL = """
async ({timeoutMs}) => {
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + timeoutMs;
  const app = window.jupyterapp;
  let panel = null;
  while (Date.now() < deadline) {
    const w = app.shell.currentWidget;
    if (w && w.sessionContext && w.content && w.content.widgets) { panel = w; break; }
    await sleep(100);
  }
  if (!panel) return {ok: false, why: 'no notebook panel became current'};
  await panel.context.ready;
  await panel.sessionContext.ready;
  while (Date.now() < deadline) {
    const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (k && k.connectionStatus === 'connected' && k.status === 'idle') break;
    await sleep(100);
  }
  await app.commands.execute('notebook:clear-all-cell-outputs');
  const run = app.commands.execute('notebook:run-all-cells');
  const timer = new Promise(r => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())));
  const result = await Promise.race([run, timer]);
  if (result === 'timeout') return {ok: false, why: 'run-all did not finish in time'};
  // The command's promise can resolve early (after a cell tagged raises-exception, whose error
  // JupyterLab lets pass): wait until every code cell has run, or the kernel stayed idle for 3 s.
  const cells = panel.content.widgets;
  const notRun = () => cells.map((c, i) => (c.model.type === 'code' && c.model.sharedModel.getSource().trim()
                                            && c.model.executionCount === null) ? i : -1).filter(i => i >= 0);
  let idleSince = null;
  while (Date.now() < deadline) {
    const idle = panel.sessionContext.session.kernel.status === 'idle';
    idleSince = idle ? (idleSince || Date.now()) : null;
    if (idle && (notRun().length === 0 || Date.now() - idleSince > 3000)) break;
    await sleep(100);
  }
  const missing = notRun();
  return {ok: missing.length === 0, why: missing.length ? `cells not executed: ${missing}` : '',
          command_result: result, kernel: panel.sessionContext.session.kernel.status, ncells: cells.length};
}
"""

JS_KERNEL_IDLE = """
() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}
"""

# Error outputs and tracebacks anywhere on the page. JupyterLab renders an `error` output and
# a stderr stream with the stderr MIME type; ipywidgets shows "Error displaying widget" when
# a view cannot be created.
JS_PAGE_ERRORS = """
() => {
  const found = [];
  const cellIndex = (el) => {
    const cell = el.closest('.jp-Cell');
    return cell ? Array.from(cell.parentElement.children).filter(c => c.classList.contains('jp-Cell')).indexOf(cell) : -1;
  };
  document.querySelectorAll('.jp-OutputArea-output').forEach(el => {
    const mime = el.getAttribute('data-mime-type') || '';
    const text = (el.innerText || '').trim();
    if (mime === 'application/vnd.jupyter.stderr' && /Traceback|Error|Warning/.test(text))
      found.push({cell: cellIndex(el), text: `stderr/error output: ${text.slice(0, 600)}`});
    if (/Error displaying widget|Could not create a (model|view)|Failed to load model class/.test(text))
      found.push({cell: cellIndex(el), text: `widget error: ${text.slice(0, 300)}`});
  });
  document.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]').forEach(el => {
    const text = (el.innerText || '').trim();
    if (/Traceback/.test(text) && !found.some(f => f.text.includes(text.slice(0, 80))))
      found.push({cell: cellIndex(el), text: `traceback: ${text.slice(0, 600)}`});
  });
  return found;
}
"""

# Every explorer on the page: cell index and how many of them are in that cell.
JS_FIND_EXPLORERS = """
() => {
  const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
  const boxes = Array.from(document.querySelectorAll('.jp-OutputArea-output .widget-vbox')).filter(box =>
      Array.from(box.children).some(c => c.matches('img.widget-image')) &&
      Array.from(box.children).some(c => c.matches('.widget-html')));
  return boxes.map((box, i) => {
    box.setAttribute('data-course-explorer', String(i));
    return {index: i, cell: cells.indexOf(box.closest('.jp-Cell'))};
  });
}
"""

JS_CELL_COUNT = "() => document.querySelectorAll('.jp-Notebook .jp-Cell').length"


def explorer_selector(index: int) -> str:
    return f'[data-course-explorer="{index}"]'


# Geometry of one explorer relative to the notebook area, for the viewport checks.
JS_GEOMETRY = """
(box) => {
  const r = (el) => { const b = el.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height}; };
  const img = Array.from(box.children).find(c => c.matches('img.widget-image'));
  const output = box.closest('.jp-OutputArea-output');
  const notebook = box.closest('.jp-Notebook') || box.closest('.jp-NotebookPanel');
  const controls = Array.from(box.querySelectorAll('.widget-slider, .widget-dropdown, .widget-button, .widget-checkbox, .widget-toggle-buttons, .widget-radio-box'));
  const fontPx = controls.map(c => parseFloat(getComputedStyle(c.querySelector('label, select, button') || c).fontSize));
  return {
    viewport: {width: window.innerWidth, height: window.innerHeight},
    img: r(img), naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    output: r(output), notebook: r(notebook), box: r(box),
    controls: controls.map((c, i) => ({i, cls: c.className, rect: r(c)})),
    minControlFontPx: fontPx.length ? Math.min(...fontPx) : null,
    boxScrollWidth: box.scrollWidth, boxClientWidth: box.clientWidth,
    imgMaxWidth: getComputedStyle(img).maxWidth,
    selects: Array.from(box.querySelectorAll('.widget-dropdown select')).map(s => {
      const st = getComputedStyle(s);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      const text = s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : '';
      const label = (s.parentElement.querySelector('.widget-label') || {}).innerText || '';
      // room for the text: the select's width less its padding (ipywidgets' padding-right holds the arrow)
      const available = s.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
      return {label, text, textWidth: ctx.measureText(text).width, available};
    }),
  };
}
"""


_IMPORT_FROM_EXPLORERS = re.compile(r"from\s+course_lib\.explorers(?:\.\w+)?\s+import\s+\(?([\w\s,]+)\)?")
_CALL = re.compile(r"(?<![\w.])(?:\w+\.)*([A-Za-z_]\w*)\s*\(")


def explorer_names(nb_path: Path) -> dict[int, list[str]]:
    """For each code cell that creates explorers: the names it calls, in order.

    An explorer name is anything imported from ``course_lib.explorers`` (e.g.
    ``StepGenerator``) or any called name containing "explorer" (``LinearFitExplorer``).
    """
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    sources = {i: "\n".join(line.split("#", 1)[0] for line in c.source.splitlines())
               for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    imported = set()
    for src in sources.values():
        for group in _IMPORT_FROM_EXPLORERS.findall(src):
            imported.update(n.split(" as ")[-1].strip() for n in group.replace("\n", ",").split(",") if n.strip())
    out: dict[int, list[str]] = {}
    for i, src in sources.items():
        names = [n for n in _CALL.findall(src)
                 if (n in imported or "explorer" in n.lower()) and not n.startswith("_") and n != "explorer"]
        if names:
            out[i] = names
    return out


def cells_tagged(nb_path: Path, tag: str) -> set[int]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    return {i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])}


def widget_cells(nb_path: Path) -> list[int]:
    """Code cells tagged nbval-ignore-output (the cells that display widgets)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and "nbval-ignore-output" in c.get("metadata", {}).get("tags", [])]
