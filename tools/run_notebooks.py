#!/usr/bin/env python3
"""Re-execute notebooks in place, like JupyterLab's "Restart Kernel and Run All Cells".

    python tools/run_notebooks.py                        # every notebooks/*.ipynb
    python tools/run_notebooks.py notebooks/01_linear_layer.ipynb

Each notebook runs in a fresh ``python3`` kernel whose working directory is
``notebooks/`` (as in JupyterLab), with one BLAS/OpenMP thread so that results
and timings are reproducible, a 300 s limit per cell, and widget state saved.
An error in a cell stops that notebook and the script exits non-zero; the file
is then left untouched. A cell tagged ``raises-exception`` may raise.
The wall time of every notebook is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 300  # seconds
KERNEL_NAME = "python3"
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_notebook(path: Path) -> float:
    """Execute one notebook in place; return its wall time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent)}},  # cwd = notebooks/, as in JupyterLab
        allow_errors=False,  # cells tagged raises-exception are still allowed to raise
        store_widget_state=True,
        record_timing=False,  # no timestamps in cell metadata: clean diffs
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.kernelspec = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)

    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"error: no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 1
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print("error: no such notebook: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 1

    os.environ.update(THREAD_ENV)  # inherited by the kernels
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    failed = []
    total = 0.0
    for path in paths:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        try:
            elapsed = run_notebook(path)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            print(f"{name}: FAILED", flush=True)
            print(f"\n{'=' * 70}\n{name}: {type(exc).__name__}\n{exc}\n{'=' * 70}", file=sys.stderr, flush=True)
            failed.append(str(name))
            continue
        total += elapsed
        print(f"{name}: {elapsed:.1f} s", flush=True)
    print(f"{len(paths) - len(failed)}/{len(paths)} notebooks executed in {total:.1f} s")
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
