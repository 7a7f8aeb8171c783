#!/usr/bin/env python3
"""Train the grid of runs behind notebook 04's explorer and store it in data/ (see data/README.md).

    python tools/make_regularization_runs.py            # writes data/regularization_runs.npz
    python tools/make_regularization_runs.py --out F    # writes F instead
    python tools/make_regularization_runs.py --check 5  # retrains 5 settings, compares with data/, writes nothing

Every combination of course_lib.explorers.regularization.GRID (training-set
size x width x weight decay x dropout) is trained with ``train_run``: fixed
seeds, float64, one BLAS thread (set here), so the same numpy gives the same
file. The whole grid takes a few minutes on one core. tests/test_explorer_regularization.py
retrains one setting and compares it exactly with the stored one.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported: deterministic, single-threaded sums

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from course_lib.explorers.regularization import (  # noqa: E402
    DATA_PATH, RegularizationRuns, quantize_run, train_run,
)


def check(path: Path, count: int) -> int:
    """Retrain ``count`` settings spread over the grid and compare them with the stored runs."""
    runs = RegularizationRuns.load(path)
    shape = tuple(len(v) for v in runs.grid.values())
    all_idx = list(np.ndindex(*shape))
    picks = [all_idx[int(i)] for i in np.linspace(0, len(all_idx) - 1, count).round()]
    bad = 0
    for idx in picks:
        setting = {k: runs.grid[k][j] for k, j in zip(runs.grid, idx)}
        fresh = quantize_run(train_run(config=runs.config, **setting))
        stored = runs.run(**setting)
        same = all(np.array_equal(getattr(fresh, f), getattr(stored, f))
                   for f in ("train_loss", "val_loss", "train_correct", "val_correct", "prob", "weight_norm"))
        bad += not same
        print(f"{'same' if same else 'DIFFERS'}: {setting}")
    print("all checked runs match" if not bad else f"{bad} run(s) differ")
    return 1 if bad else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_PATH, help="output file (default: data/regularization_runs.npz)")
    parser.add_argument("--check", type=int, metavar="N", help="retrain N settings and compare, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.out, args.check)

    start = time.perf_counter()

    def progress(i, total, setting):
        if i % 20 == 0 or i == total:
            print(f"{i:4d}/{total} runs, {time.perf_counter() - start:6.1f} s (last: {setting})", flush=True)

    runs = RegularizationRuns.generate(progress=progress)
    path = runs.save(args.out)
    print(f"wrote {path} ({path.stat().st_size:,} bytes) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
