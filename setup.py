"""Build hook: ship the checkout's data/ inside the wheel as course_lib/data/.

Everything else about the package is declared in pyproject.toml. The data files are
kept in one place, the top-level data/ folder a reader browses; a wheel (what
`pip install .` and `pip install git+...` build) gets a copy made at build time, which
course_lib._data finds with importlib.resources. Editable installs (`pip install -e .`,
`make lab`) copy nothing: they read data/ in the checkout.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = Path(__file__).resolve().parent / "data"


class build_py_with_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        if not DATA.is_dir():
            raise FileNotFoundError(f"setup.py: the course's data folder {DATA} is missing")
        target = Path(self.build_lib) / "course_lib" / "data"
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        self.mkpath(str(target))
        for src in sorted(DATA.iterdir()):
            if src.is_file():
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": build_py_with_data})
