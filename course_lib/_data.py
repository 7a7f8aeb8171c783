"""Where the course's data files are, however course_lib was installed.

The files live in the checkout's ``data/`` folder (the one a reader browses, with
its provenance in ``data/README.md``). There is only that one copy in the
repository: building a wheel (``pip install .``, ``pip install git+...``, a
JupyterHub image) copies ``data/`` into the package as ``course_lib/data/``
(see ``setup.py``), and :func:`data_dir` finds it there with
:mod:`importlib.resources`. In a checkout or an editable install
(``pip install -e .``, what ``make lab`` does) there is no ``course_lib/data/``
and the checkout's ``data/`` is used.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["CHECKOUT_DATA_DIR", "data_dir", "data_file"]

# The checkout's folder: course_lib/ and data/ are siblings.
CHECKOUT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def data_dir() -> Path:
    """The folder holding the course's data files: the installed copy, else the checkout's ``data/``."""
    installed = resources.files("course_lib") / "data"
    if installed.is_dir():
        # A wheel installs unzipped, so the resource is a real folder on disk.
        return Path(str(installed))
    return CHECKOUT_DATA_DIR


def data_file(name: str) -> Path:
    """The path of the data file ``name`` (e.g. ``"corpus_en_train.txt"``), in :func:`data_dir`."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"data_file: expects a bare file name such as 'vocab_en.json', got {name!r}")
    return data_dir() / name
