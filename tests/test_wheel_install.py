"""A built wheel, installed into a fresh venv outside the checkout, finds every data file.

This is the install a Colab cell, a JupyterHub image or ``pip install git+...`` does
(not the editable install of ``make lab``). The test

1. copies the checkout's package sources (no .venv, no build/, no notebooks) to a
   temporary folder and builds a wheel from the copy with pip, as ``pip install .``
   would (build isolation on: setuptools comes from the package index, like a learner's);
2. creates a fresh venv without pip and installs the wheel into it with ``--no-deps``;
   numpy, matplotlib and ipywidgets come from the running interpreter through a ``.pth``
   line (a plain path: its own ``.pth`` files, among them the editable install of the
   checkout, are *not* processed, so the checkout's course_lib stays invisible);
3. from a working directory outside the checkout, imports course_lib from the new venv
   and loads every corpus, vocabulary, image set and precomputed explorer run the notebooks use,
   and compares them with what the checkout loads.

It takes about 15 seconds (building the wheel); it needs the package index that
``make setup`` needs anyway.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

import course_lib.text as text
from course_lib.text.lexicon import LANGS
from course_lib._data import CHECKOUT_DATA_DIR
from course_lib.datasets import load_digits
from course_lib.explorers.regularization import RegularizationRuns

ROOT = Path(__file__).resolve().parents[1]
# What a wheel is built from (pyproject.toml decides what goes in; this only keeps the copy small).
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "course_lib", "data"]

# Run inside the fresh venv: print everything the notebooks load, as JSON.
PROBE = textwrap.dedent(
    """
    import hashlib, json
    import course_lib
    import course_lib.text as t
    from course_lib.text.lexicon import LANGS
    from course_lib._data import data_dir
    from course_lib.explorers.regularization import DATA_PATH, RegularizationRuns

    def digest(lines):
        return hashlib.sha256("\\n".join(lines).encode("utf-8")).hexdigest()

    out = {"course_lib": course_lib.__file__, "data_dir": str(data_dir()),
           "files": sorted(p.name for p in data_dir().iterdir()), "corpora": {}, "vocabs": {}}
    for lang in LANGS:
        for split in ("train", "valid"):
            out["corpora"][f"{lang}/{split}"] = digest(t.load_corpus(lang, split))
        for level in ("word", "char"):
            out["vocabs"][f"{lang}/{level}"] = t.load_vocab(lang, level).itos
    from course_lib.datasets import load_digits
    X, y = load_digits()
    out["digits"] = [hashlib.sha256(X.tobytes()).hexdigest(), hashlib.sha256(y.tobytes()).hexdigest()]
    runs = RegularizationRuns.load()
    out["runs_path"] = str(DATA_PATH)
    out["runs"] = {name: hashlib.sha256(a.tobytes()).hexdigest() for name, a in sorted(runs.arrays.items())}
    print(json.dumps(out))
    """
)


def _digest_lines(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
          "-w", str(dist), str(src)])
    (whl,) = dist.glob("*.whl")
    return whl


def test_wheel_ships_every_data_file_once(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.removeprefix("course_lib/data/") for n in names if n.startswith("course_lib/data/"))
    assert shipped == sorted(p.name for p in CHECKOUT_DATA_DIR.iterdir() if p.is_file())
    # One copy: nothing of data/ lands anywhere else in the wheel (e.g. site-packages/data/).
    assert not [n for n in names if n.startswith("data/")]


def test_installed_wheel_loads_every_data_file_from_anywhere(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = _venv_python(venv)
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", str(wheel)])
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (purelib / "course_dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    proc = _run([str(py), "-c", PROBE], cwd=elsewhere, env=env)
    got = json.loads(proc.stdout)

    installed_pkg = purelib / "course_lib"
    assert Path(got["course_lib"]).parent == installed_pkg, got["course_lib"]
    assert Path(got["data_dir"]) == installed_pkg / "data"
    assert Path(got["runs_path"]).parent == installed_pkg / "data"
    assert got["files"] == sorted(p.name for p in CHECKOUT_DATA_DIR.iterdir() if p.is_file())

    for lang in LANGS:
        for split in ("train", "valid"):
            assert got["corpora"][f"{lang}/{split}"] == _digest_lines(text.load_corpus(lang, split)), (lang, split)
        for level in ("word", "char"):
            assert got["vocabs"][f"{lang}/{level}"] == text.load_vocab(lang, level).itos, (lang, level)
    X, y = load_digits()
    assert got["digits"] == [hashlib.sha256(X.tobytes()).hexdigest(), hashlib.sha256(y.tobytes()).hexdigest()]
    runs = RegularizationRuns.load()
    assert got["runs"] == {n: hashlib.sha256(a.tobytes()).hexdigest()
                           for n, a in sorted(runs.arrays.items())}
