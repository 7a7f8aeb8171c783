"""Fixtures for the browser tests: one JupyterLab server and one Chromium for the whole run.

    make test-browser                      # every notebooks/*.ipynb
    make test-browser BROWSER_ARGS="-k 01_"
    make gallery                           # same, plus docs/gallery/<notebook>__<explorer>.png

Options: --gallery DIR (write the gallery), --screenshots DIR (all screenshots,
default build/browser/), --chromium PATH (default $CHROMIUM or /usr/bin/chromium).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labdriver import CHROMIUM_FLAGS, ROOT, LabServer


def pytest_addoption(parser):
    group = parser.getgroup("browser", "JupyterLab in Chromium")
    group.addoption("--gallery", metavar="DIR", default=None,
                    help="write one screenshot per explorer to DIR/<notebook>__<explorer>.png")
    group.addoption("--screenshots", metavar="DIR", default=str(ROOT / "build" / "browser"),
                    help="where every screenshot of the run goes (default: build/browser)")
    group.addoption("--chromium", metavar="PATH", default=os.environ.get("CHROMIUM") or "/usr/bin/chromium",
                    help="the system Chromium Playwright drives (never a downloaded one)")
    group.addoption("--notebooks-dir", metavar="DIR", default=str(ROOT / "notebooks"),
                    help="folder whose *.ipynb are tested (a temporary copy is opened)")


def pytest_generate_tests(metafunc):
    if "notebook" in metafunc.fixturenames:
        folder = Path(metafunc.config.getoption("--notebooks-dir"))
        paths = sorted(folder.glob("*.ipynb"))
        metafunc.parametrize("notebook", paths, ids=[p.stem for p in paths])


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    path = Path(pytestconfig.getoption("--screenshots"))
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def gallery_dir(pytestconfig):
    value = pytestconfig.getoption("--gallery")
    if value is None:
        yield None
        return
    path = Path(value)
    if not path.is_absolute():
        path = ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    yield path
    # pictures of notebooks that no longer exist (renamed or removed) leave the gallery
    stems = {p.stem for p in Path(pytestconfig.getoption("--notebooks-dir")).glob("*.ipynb")}
    for png in path.glob("*__*.png"):
        if png.name.split("__", 1)[0] not in stems:
            png.unlink()


@pytest.fixture(scope="session")
def lab(pytestconfig):
    server = LabServer(Path(pytestconfig.getoption("--notebooks-dir")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(pytestconfig):
    from playwright.sync_api import sync_playwright

    chromium = pytestconfig.getoption("--chromium")
    if not Path(chromium).is_file():
        pytest.exit(f"no Chromium at {chromium}: run `make test-browser` (installs it as root with apt-get) "
                    f"or pass --chromium PATH", returncode=1)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()
