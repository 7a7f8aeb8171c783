"""Every notebook in JupyterLab in a real Chromium, as a learner would use it.

For each ``notebooks/*.ipynb`` (a temporary copy, opened in a fresh workspace):

1. clear the outputs, run all cells (``notebook:run-all-cells``), wait for an idle kernel;
2. no error output anywhere on the page, no error or warning from the kernel (also from
   widget callbacks, read from the kernel websocket), every cell executed;
3. every explorer (a VBox of control rows + PNG ``Image`` + ``HTML`` status) rendered: its
   picture loaded and its status line is not empty; each cell tagged nbval-ignore-output
   that creates an explorer shows one;
4. at a projector size (1280x720 = 1920x1080 at 150 %, and 1920x1080 at 100 %) and a
   laptop size (1366x768): nothing cut off (picture and controls inside the notebook's
   output area), a screenshot of the page and of the explorer;
5. every slider: Home and End with the keyboard on the focused handle (picture and status
   change), then dragged back with the mouse (picture changes); every dropdown: first and
   last option (picture changes), then back; every button clicked (picture or status
   changes); sliders disabled at first are tried again after the dropdowns moved.

With ``--gallery DIR`` the explorer screenshots (laptop size, settings as the notebook
leaves them) are also written to ``DIR/<notebook>__<explorer>.png``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from labdriver import (
    JS_FIND_EXPLORERS,
    JS_GEOMETRY,
    JS_KERNEL_IDLE,
    JS_PAGE_ERRORS,
    JS_RUN_ALL,
    KernelMonitor,
    cells_tagged,
    explorer_names,
    explorer_selector,
    widget_cells,
)

RUN_TIMEOUT = 240        # s: open + run all cells of one notebook
RENDER_TIMEOUT = 60      # s: widgets appear after the kernel's comm messages
CHANGE_TIMEOUT = 30      # s: one redraw after a control moved (a busy 2-core machine)
BUTTON_TIMEOUT = 10      # s: a button that changes nothing is tried again later
SETTLE = 0.35            # s: picture and status unchanged this long, kernel idle -> settled

LAPTOP = "laptop-1366x768"
VIEWPORTS = {  # name -> CSS pixels
    "projector-1280x720": (1280, 720),   # a 1920x1080 projector at 150 % scaling
    "projector-1920x1080": (1920, 1080),
    LAPTOP: (1366, 768),                 # last: interactions and the gallery use it
}
# Measured and photographed but not asserted: a small projector (XGA) or half a screen, with
# JupyterLab's file browser open. The report (build/browser/<notebook>.json) and the test's
# output say what does not fit there.
INFO_VIEWPORTS = {"small-1024x768": (1024, 768)}
# ipywidgets gives every widget a 2 px margin (--jp-widgets-margin) and shrinks an Image to
# max-width 100 % of its box, so a shrunk picture overhangs the output area by those 2+2 px,
# which are hidden and show nothing. More than that is a picture or a control cut off.
TOLERANCE_PX = 4.0
# A picture shrunk below this fraction of its PNG width has labels too small to read
# (11 pt ticks at 80 dpi are 12 px at full size).
MIN_SCALE = 0.8

JS_STATE = """
(box) => {
  const img = Array.from(box.children).find(c => c.matches('img.widget-image'));
  const html = Array.from(box.children).find(c => c.matches('.widget-html'));
  return {src: img ? (img.getAttribute('src') || '') : '',
          loaded: !!img && img.complete && img.naturalWidth > 0,
          status: html ? html.innerText.trim() : null};
}
"""

JS_CHANGED = """
([box, before]) => {
  const img = Array.from(box.children).find(c => c.matches('img.widget-image'));
  const html = Array.from(box.children).find(c => c.matches('.widget-html'));
  const src = img ? (img.getAttribute('src') || '') : '';
  const status = html ? html.innerText.trim() : null;
  return img && img.complete && img.naturalWidth > 0 && (src !== before.src || status !== before.status);
}
"""


class Explorer:
    """One explorer on the page, driven through its DOM."""

    def __init__(self, page, index: int, name: str, problems: list[str], log: list[str]):
        self.page, self.index, self.name = page, index, name
        self.box = page.locator(explorer_selector(index))
        self.problems, self.log = problems, log

    # --- state ---------------------------------------------------------------------
    def state(self) -> dict:
        return self.box.evaluate(JS_STATE)

    def kernel_idle(self) -> bool:
        return self.page.evaluate(JS_KERNEL_IDLE)

    def wait_changed(self, before: dict, timeout: float = CHANGE_TIMEOUT) -> bool:
        try:
            self.page.wait_for_function(JS_CHANGED, arg=[self.box.element_handle(), before],
                                        timeout=timeout * 1000, polling=50)
            return True
        except Exception:  # playwright TimeoutError
            return False

    def settle(self, timeout: float = CHANGE_TIMEOUT) -> dict:
        """Wait until the kernel is idle and the picture and status stopped changing."""
        deadline = time.monotonic() + timeout
        last = self.state()
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.state()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif now["loaded"] and time.monotonic() - stable_since >= SETTLE and self.kernel_idle():
                return now
        self.problems.append(f"{self.name}: the explorer did not settle within {timeout} s")
        return last

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.name}: {message}")

    # --- controls ------------------------------------------------------------------
    def sliders(self):
        return self.box.locator(".widget-slider")

    @staticmethod
    def _slider_label(slider) -> str:
        label = slider.locator(".widget-label")
        return label.first.inner_text().strip() if label.count() else ""

    @staticmethod
    def _slider_disabled(slider) -> bool:
        return slider.locator(".noUi-target[disabled], .slider[disabled]").count() > 0

    def _value(self, handle) -> float:
        return float(handle.get_attribute("aria-valuenow"))

    def _wait_value(self, handle, target: float, what: str) -> bool:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if abs(self._value(handle) - target) <= 1e-9 * max(1.0, abs(target)):
                return True
            time.sleep(0.05)
        self.fail(f"{what}: the slider shows {self._value(handle)}, expected {target}")
        return False

    def exercise_slider(self, slider, i: int) -> None:
        label = self._slider_label(slider)
        what = f"slider {label!r}" if label else f"slider {i} (no description)"
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        vmin, vmax = float(handle.get_attribute("aria-valuemin")), float(handle.get_attribute("aria-valuemax"))
        v0 = self._value(handle)
        start = self.settle()

        # keyboard: Home, then End, on the focused handle
        handle.focus()
        self.page.keyboard.press("Home")
        if not self._wait_value(handle, vmin, f"{what} Home"):
            return
        if abs(v0 - vmin) > 1e-12 and not self.wait_changed(start):
            self.fail(f"{what}: Home (value {v0} -> {vmin}) did not change the picture or the status")
        home = self.settle()
        self.page.keyboard.press("End")
        if not self._wait_value(handle, vmax, f"{what} End"):
            return
        if not self.wait_changed(home):
            self.fail(f"{what}: End did not change the picture or the status (min and max look the same)")
        end = self.settle()
        if home["src"] == end["src"]:
            self.fail(f"{what}: the picture is the same at both ends of the slider")
        if home["status"] == end["status"]:
            self.fail(f"{what}: the status line is the same at both ends: {end['status'][:160]!r}")

        # mouse: drag the handle back to where it started (the middle if it started at the end)
        frac = (v0 - vmin) / (vmax - vmin) if vmax > vmin else 0.5
        if frac > 0.95:
            frac = 0.5
        track = slider.locator(".noUi-base").first.bounding_box()
        box = handle.bounding_box()
        if track is None or box is None:
            self.fail(f"{what}: the slider is not visible, cannot drag it")
            return
        x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        x1 = track["x"] + frac * track["width"]
        self.page.mouse.move(x0, y0)
        self.page.mouse.down()
        self.page.mouse.move(x1, y0, steps=8)
        self.page.mouse.up()
        if not self.wait_changed(end):
            self.fail(f"{what}: dragging the handle with the mouse did not change the picture or the status")
        dragged = self.settle()
        v1 = self._value(handle)
        if not v1 < vmax:
            self.fail(f"{what}: the mouse drag did not move the slider (still {v1})")
        if dragged["src"] == end["src"]:
            self.fail(f"{what}: the mouse drag did not change the picture")
        self.log.append(f"{self.name}: {what}: Home {vmin:g} / End {vmax:g} / dragged to {v1:g} (started at {v0:g})")
        self.page.mouse.move(0, 0)  # no hover highlight in later screenshots

    def exercise_dropdown(self, select) -> None:
        label = select.evaluate("s => (s.parentElement.querySelector('.widget-label') || {}).innerText || ''").strip()
        what = f"dropdown {label or '(unlabelled)'!r}"
        select.scroll_into_view_if_needed()
        n = select.locator("option").count()
        if n < 2:
            self.log.append(f"{self.name}: {what}: only {n} option, nothing to select")
            return
        i0 = select.evaluate("s => s.selectedIndex")
        before = self.settle()
        select.select_option(index=0)
        if i0 != 0 and not self.wait_changed(before):
            self.fail(f"{what}: selecting the first option did not change the picture or the status")
        first = self.settle()
        select.select_option(index=n - 1)
        if not self.wait_changed(first):
            self.fail(f"{what}: selecting the last option did not change the picture or the status")
        last = self.settle()
        if first["src"] == last["src"]:
            self.fail(f"{what}: the picture is the same for the first and the last option")
        texts = select.evaluate("s => Array.from(s.options).map(o => o.text)")
        self.log.append(f"{self.name}: {what}: {texts[0]!r} and {texts[-1]!r} ({n} options)")

    def restore_dropdown(self, select, index: int) -> None:
        if select.evaluate("s => s.selectedIndex") != index:
            before = self.state()
            select.select_option(index=index)
            self.wait_changed(before)
            self.settle()

    def exercise_buttons(self) -> None:
        buttons = self.box.locator("button.widget-button:not(.widget-toggle-button)")
        count = buttons.count()
        if not count:
            return
        pending = list(range(count))
        for attempt in range(2):  # a button may do nothing in the current state (reset at the start)
            still = []
            for i in pending:
                button = buttons.nth(i)
                text = button.inner_text().strip() or f"button {i}"
                before = self.settle()
                button.click()
                if self.wait_changed(before, timeout=BUTTON_TIMEOUT):
                    self.settle()
                    self.log.append(f"{self.name}: button {text!r} clicked: the picture or status changed")
                else:
                    still.append(i)
            pending = still
            if not pending:
                return
        for i in pending:
            text = buttons.nth(i).inner_text().strip()
            self.fail(f"button {text!r}: clicking it changed neither the picture nor the status")

    def exercise_checkboxes(self) -> None:
        boxes = self.box.locator(".widget-checkbox input[type=checkbox]")
        for i in range(boxes.count()):
            cb = boxes.nth(i)
            for _ in range(2):  # toggle, then back
                before = self.settle()
                cb.click()
                if not self.wait_changed(before):
                    self.fail(f"checkbox {i}: clicking it did not change the picture or the status")
            self.settle()

    def exercise_choices(self) -> None:
        """ToggleButtons and RadioButtons: first and last choice."""
        groups = self.box.locator(".widget-toggle-buttons, .widget-radio-box")
        for g in range(groups.count()):
            items = groups.nth(g).locator("button, input[type=radio]")
            n = items.count()
            if n < 2:
                continue
            before = self.settle()
            items.nth(0).click()
            self.wait_changed(before, timeout=BUTTON_TIMEOUT)
            first = self.settle()
            items.nth(n - 1).click()
            if not self.wait_changed(first):
                self.fail(f"choice group {g}: the first and the last choice look the same")
            self.settle()
            self.log.append(f"{self.name}: choice group {g}: first and last of {n} choices clicked")

    def exercise(self) -> None:
        sliders = self.sliders()
        skipped = []
        for i in range(sliders.count()):
            s = sliders.nth(i)
            if self._slider_disabled(s):
                skipped.append(i)
                continue
            self.exercise_slider(s, i)
        selects = self.box.locator(".widget-dropdown select")
        for i in range(selects.count()):
            self.exercise_dropdown(selects.nth(i))
        # sliders that were disabled at the start, now that every dropdown sits on its last option
        for i in skipped:
            s = sliders.nth(i)
            if self._slider_disabled(s):
                self.log.append(f"{self.name}: slider {self._slider_label(s) or i!r} stays disabled; not moved")
            else:
                self.exercise_slider(s, i)
        self.exercise_checkboxes()
        self.exercise_choices()
        self.exercise_buttons()
        unknown = self.box.evaluate("""b => Array.from(b.querySelectorAll(
            '.widget-text input, .widget-textarea textarea, .widget-play, .widget-colorpicker, .widget-datepicker'))
            .length""")
        if unknown:
            self.log.append(f"{self.name}: {unknown} control(s) of a kind these tests do not move (text, play, ...)")


# ------------------------------------------------------------------------------------------


def _open_and_run(page, lab, notebook: Path) -> dict:
    page.goto(lab.notebook_url(f"notebooks/{notebook.name}", workspace=f"t{notebook.stem}"),
              wait_until="domcontentloaded", timeout=RUN_TIMEOUT * 1000)
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-NotebookPanel .jp-Cell')",
                           timeout=RUN_TIMEOUT * 1000, polling=200)
    return page.evaluate(JS_RUN_ALL, {"timeoutMs": RUN_TIMEOUT * 1000})


def _find_explorers(page, expected_cells: set[int], timeout: float = RENDER_TIMEOUT) -> list[dict]:
    """Wait until each expected cell shows an explorer whose picture has loaded."""
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = page.evaluate(JS_FIND_EXPLORERS)
        loaded = all(page.locator(explorer_selector(e["index"])).evaluate(JS_STATE)["loaded"] for e in found)
        if expected_cells <= {e["cell"] for e in found} and loaded:
            break
        time.sleep(0.25)
    return found


def _layout_problems(name: str, viewport: str, geo: dict) -> list[str]:
    problems = []
    img, out, nb = geo["img"], geo["output"], geo["notebook"]
    limit_right = min(out["right"], nb["right"], geo["viewport"]["width"])
    if img["right"] > limit_right + TOLERANCE_PX or img["left"] < out["left"] - TOLERANCE_PX:
        problems.append(
            f"{name} at {viewport}: the picture ({img['left']:.0f}..{img['right']:.0f} px) is wider than the "
            f"notebook's output area ({out['left']:.0f}..{limit_right:.0f} px): cut off or scrolled "
            f"(fix: max-width 100% on the Image layout in course_lib/explorers/_base.py)")
    for c in geo["controls"]:
        r = c["rect"]
        if r["right"] > limit_right + TOLERANCE_PX:
            problems.append(f"{name} at {viewport}: a control ({c['cls'].split()[-1]}) ends at {r['right']:.0f} px, "
                            f"past the output area's right edge {limit_right:.0f} px")
    if geo["boxScrollWidth"] > geo["boxClientWidth"] + TOLERANCE_PX:
        problems.append(f"{name} at {viewport}: the explorer scrolls sideways "
                        f"({geo['boxScrollWidth']} px of content in {geo['boxClientWidth']} px)")
    scale = img["width"] / geo["naturalWidth"] if geo["naturalWidth"] else 0.0
    if scale < MIN_SCALE:
        problems.append(f"{name} at {viewport}: the picture is shown at {scale:.0%} of its size "
                        f"({img['width']:.0f} of {geo['naturalWidth']} px): labels too small to read")
    if geo["minControlFontPx"] is not None and geo["minControlFontPx"] < 11:
        problems.append(f"{name} at {viewport}: control labels are {geo['minControlFontPx']} px, too small to read")
    return problems


def test_there_are_notebooks(pytestconfig):
    folder = Path(pytestconfig.getoption("--notebooks-dir"))
    assert sorted(folder.glob("*.ipynb")), f"no notebooks in {folder}"


def test_notebook_in_jupyterlab(notebook: Path, lab, browser, screenshot_dir: Path, gallery_dir):
    started = time.monotonic()
    width, height = VIEWPORTS[LAPTOP]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = context.new_page()
    monitor = KernelMonitor()
    monitor.attach(page)
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    problems: list[str] = []
    log: list[str] = []
    report: dict = {"notebook": notebook.name, "explorers": {}}
    explorers: list[Explorer] = []
    run_s = float("nan")
    n_kernel_messages = 0
    # the copy JupyterLab opened (the original may be edited while the tests run)
    opened = lab.root / "notebooks" / notebook.name
    try:
        result = _open_and_run(page, lab, notebook)
        report["run_all"] = result
        if not result.get("ok"):
            problems.append(f"run all cells: {result.get('why') or result}")
        run_s = time.monotonic() - started

        # --- errors anywhere on the page -------------------------------------------
        allowed = cells_tagged(opened, "raises-exception")  # the error is the lesson there

        def page_errors_now() -> list[str]:
            return [f"cell {e['cell']}: {e['text']}" for e in page.evaluate(JS_PAGE_ERRORS)
                    if e["cell"] not in allowed]

        problems += page_errors_now()
        # from here on the kernel websocket shows what no output area shows: errors and
        # warnings raised in widget callbacks (JupyterLab sends them to its log console)
        n_kernel_messages = len(monitor.problems)

        # --- explorers -------------------------------------------------------------
        names = explorer_names(opened)
        expected = {i for i in widget_cells(opened) if i in names}
        # after a failed run the missing explorers will not come: do not wait for them
        found = _find_explorers(page, expected, RENDER_TIMEOUT if result.get("ok") else 5)
        missing = sorted(expected - {e["cell"] for e in found})
        for i in missing:
            problems.append(f"cell {i} creates {names[i][0]} but no explorer (controls + picture + status) appeared")
        per_cell: dict[int, int] = {}
        taken: set[str] = set()
        for e in found:
            k = per_cell.get(e["cell"], 0)
            per_cell[e["cell"]] = k + 1
            cell_names = names.get(e["cell"], [])
            name = cell_names[k] if k < len(cell_names) else (cell_names[0] if cell_names else f"cell{e['cell']}")
            base, j = name, 2
            while name in taken:
                name, j = f"{base}_{j}", j + 1
            taken.add(name)
            explorers.append(Explorer(page, e["index"], name, problems, log))
        for ex in explorers:
            st = ex.state()
            if not st["loaded"]:
                ex.fail("its picture never loaded (img without a PNG)")
            if not st["status"]:
                ex.fail("its status line is empty")

        # --- viewports: nothing cut off; screenshots -------------------------------
        noted: dict[tuple, list[str]] = {}  # dropdowns too narrow for their choice (a note, not a failure)
        for viewport, (w, h) in [*INFO_VIEWPORTS.items(), *VIEWPORTS.items()]:
            page.set_viewport_size({"width": w, "height": h})
            page.wait_for_timeout(400)  # Lumino relayout after the resize
            vdir = screenshot_dir / viewport
            vdir.mkdir(exist_ok=True)
            for ex in explorers:
                ex.box.evaluate("b => b.scrollIntoView({block: 'center'})")
                page.wait_for_timeout(100)
                geo = ex.box.evaluate(JS_GEOMETRY)
                report["explorers"].setdefault(ex.name, {})[viewport] = geo
                for sel in geo["selects"]:
                    if sel["textWidth"] > sel["available"] + 1:
                        key = (ex.name, sel["label"], sel["text"], round(sel["textWidth"]), round(sel["available"]))
                        noted.setdefault(key, []).append(viewport)
                if viewport in INFO_VIEWPORTS:
                    log += [f"(not asserted) {p}" for p in _layout_problems(ex.name, viewport, geo)]
                else:
                    problems += _layout_problems(ex.name, viewport, geo)
                stem = f"{notebook.stem}__{ex.name}"
                page.screenshot(path=str(vdir / f"{stem}__page.png"))
                ex.box.screenshot(path=str(vdir / f"{stem}.png"), animations="disabled")
            if not explorers:
                page.screenshot(path=str(vdir / f"{notebook.stem}__page.png"))
        for (name, label, text, need, have), where in noted.items():
            log.append(f"{name}: dropdown {label!r} cuts its choice {text!r} ({need} px of text in {have} px) "
                       f"at {', '.join(where)}")
        if gallery_dir is not None:
            for old in gallery_dir.glob(f"{notebook.stem}__*.png"):
                old.unlink()
            for ex in explorers:
                ex.box.screenshot(path=str(gallery_dir / f"{notebook.stem}__{ex.name}.png"), animations="disabled")

        t_viewports = time.monotonic()
        # --- move every control -----------------------------------------------------
        for ex in explorers:
            ex.exercise()
            ex.box.screenshot(path=str(screenshot_dir / LAPTOP / f"{notebook.stem}__{ex.name}__after.png"),
                              animations="disabled")

        # --- errors again, after all the interaction --------------------------------
        problems += [p for p in page_errors_now() if p not in problems]
        problems += [f"in a widget callback: {p}" for p in monitor.problems[n_kernel_messages:]]
        problems += [f"uncaught JavaScript error in the page: {e}" for e in page_errors]
        report.update(seconds_run_all=round(run_s, 1), seconds_total=round(time.monotonic() - started, 1),
                      seconds_interaction=round(time.monotonic() - t_viewports, 1),
                      log=log, problems=problems)
    finally:
        (screenshot_dir / f"{notebook.stem}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        context.close()
        lab.delete_all_sessions()
    print(f"{notebook.name}: {len(explorers)} explorer(s), run all {run_s:.1f} s, "
          f"total {time.monotonic() - started:.1f} s")
    for line in log:
        print("  " + line)
    if problems:
        pytest.fail(f"{notebook.name}:\n  " + "\n  ".join(problems), pytrace=False)
