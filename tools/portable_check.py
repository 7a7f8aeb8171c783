#!/usr/bin/env python3
"""The portable check: strict nbval on the notebooks under other BLAS kernels and numpy SIMD paths.

    python tools/portable_check.py                      # every notebook, every configuration
    python tools/portable_check.py notebooks/05_normalization.ipynb
    python tools/portable_check.py --warn-only          # report fragile cells, exit 0 (make notebooks)
    python tools/portable_check.py --list               # only show the configurations this machine runs

Why: a learner's laptop runs another OpenBLAS kernel (or MKL, or Accelerate) and other
numpy SIMD code than the machine that saved the notebooks. Their sums are added in another
order, so the last bits differ. A printed number that a long or chaotic computation
amplifies then differs too, and strict nbval (``make test``) fails on that laptop.
``make test`` checks the saved outputs on *this* machine's kernel; this script re-runs the
same strict nbval (same sanitizer, nothing widened) once per configuration:

* ``kernel=<name>``: OpenBLAS forced onto another CPU kernel with ``OPENBLAS_CORETYPE``
  (at least ``--kernels`` of them, default 2, each different from the kernel ``make test``
  used and from each other). Kernels are probed first in a throw-away process, because a
  kernel the CPU lacks either falls back to another one (``Prescott`` runs ``Katmai``) or
  dies with an illegal instruction (``SkylakeX`` without AVX-512): both are handled, only
  kernels that really run and are distinct are used.
* ``numpy-baseline-simd``: numpy's dispatched SIMD paths (AVX2, AVX-512, ...) switched off
  with ``NPY_DISABLE_CPU_FEATURES``, so elementwise ops and reductions take the baseline path.
* ``blas-threads=2``: two BLAS threads, as in ``make lab`` on a multi-core laptop.

Each configuration's pytest log goes to ``build/portable/<config>.log``. Exit status: 0 when
every configuration passes (or with ``--warn-only``), 1 when a cell's output differs, 2 when
this machine cannot run the required number of other kernels (e.g. numpy without OpenBLAS).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
LOG_DIR = ROOT / "build" / "portable"
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# OPENBLAS_CORETYPE names to try, in order of preference (the first distinct ones that run are used).
# x86-64: an AVX2 kernel, an AVX kernel, an SSE4.2 kernel, the AVX-512 kernels, then the oldest SSE3 one.
KERNEL_CANDIDATES = {
    "x86_64": ["Haswell", "Sandybridge", "Nehalem", "SkylakeX", "CooperLake", "Zen", "Prescott"],
    "aarch64": ["NEOVERSEN1", "CORTEXA57", "ARMV8", "NEOVERSEV1", "THUNDERX2T99", "CORTEXA72"],
}
KERNEL_CANDIDATES["AMD64"] = KERNEL_CANDIDATES["x86_64"]
KERNEL_CANDIDATES["arm64"] = KERNEL_CANDIDATES["aarch64"]

_PROBE = ("import numpy as np\n"
          "a = np.arange(1.0, 65.0).reshape(8, 8)\n"
          "print('probe-ok', float((a @ a).sum()))\n")
_CORE_LINE = re.compile(r"Core:\s*(\S+)")


@dataclass
class Config:
    name: str
    env: dict = field(default_factory=dict)
    unset: tuple = ()
    note: str = ""


def _probe(extra_env: dict | None = None) -> tuple[bool, str | None]:
    """Run numpy in a fresh process; return (ran fine, OpenBLAS core it reports or None)."""
    env = {**os.environ, **THREAD_ENV, "OPENBLAS_VERBOSE": "2", **(extra_env or {})}
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, None
    found = _CORE_LINE.search(proc.stdout + proc.stderr)
    return (proc.returncode == 0 and "probe-ok" in proc.stdout), (found.group(1) if found else None)


def native_kernel() -> str | None:
    """The OpenBLAS kernel numpy uses here as the environment stands (None: not OpenBLAS)."""
    ok, core = _probe()
    if not ok:
        raise SystemExit("portable_check: numpy does not import in this interpreter")
    return core


def other_kernels(native: str | None, wanted: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Up to ``wanted`` (OPENBLAS_CORETYPE value, core that runs) pairs, all distinct from ``native``."""
    chosen, notes, seen = [], [], {native}
    for name in KERNEL_CANDIDATES.get(platform.machine(), []):
        if len(chosen) == wanted:
            break
        ok, core = _probe({"OPENBLAS_CORETYPE": name})
        if not ok:
            notes.append(f"{name}: does not run on this CPU (skipped)")
        elif core is None:
            notes.append(f"{name}: numpy's BLAS did not report a kernel (skipped)")
        elif core in seen:
            notes.append(f"{name}: runs kernel {core}, already covered (skipped)")
        else:
            chosen.append((name, core))
            seen.add(core)
    return chosen, notes


def dispatched_simd_features() -> list[str]:
    """numpy's dispatched SIMD targets that this CPU has (what NPY_DISABLE_CPU_FEATURES can switch off)."""
    code = ("from numpy._core._multiarray_umath import __cpu_dispatch__ as d, __cpu_features__ as f\n"
            "print(' '.join(x for x in d if f.get(x)))\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **THREAD_ENV})
    except subprocess.TimeoutExpired:
        return []
    return proc.stdout.split() if proc.returncode == 0 else []


def configurations(n_kernels: int) -> tuple[list[Config], list[str], str | None]:
    native = native_kernel()
    notes = [f"kernel used by make test here: {native or 'not OpenBLAS (no OPENBLAS_CORETYPE to vary)'}"
             f" (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')})"]
    configs = []
    kernels, kernel_notes = other_kernels(native, n_kernels) if native else ([], [])
    notes += kernel_notes
    for name, core in kernels:
        label = f"kernel={core}" if core == name else f"kernel={core} (OPENBLAS_CORETYPE={name})"
        configs.append(Config(f"kernel-{core}", {"OPENBLAS_CORETYPE": name}, note=label))
    features = dispatched_simd_features()
    if features:
        configs.append(Config("numpy-baseline-simd", {"NPY_DISABLE_CPU_FEATURES": " ".join(features)},
                              note=f"numpy SIMD off: NPY_DISABLE_CPU_FEATURES={' '.join(features)}"))
    else:
        notes.append("numpy has no dispatched SIMD path on this CPU to switch off")
    configs.append(Config("blas-threads-2", {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2",
                                             "MKL_NUM_THREADS": "2"}, note="2 BLAS threads (as make lab)"))
    return configs, notes, native


def _nbval_command(notebooks: list[Path]) -> list[str]:
    return [sys.executable, "-m", "pytest", *map(str, notebooks), "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q", "-rf",
            "--color=no", "-o", "addopts="]


_FAILED = re.compile(r"^FAILED (\S+::Cell \d+)")
_SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).*?) in [\d.]+s", re.MULTILINE)


def run_all(configs: list[Config], notebooks: list[Path], jobs: int) -> dict[str, tuple[int, list[str], str]]:
    """Run strict nbval once per configuration, ``jobs`` at a time; returns {name: (rc, failed cells, summary)}."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    pending, running, results = list(configs), [], {}
    while pending or running:
        while pending and len(running) < jobs:
            cfg = pending.pop(0)
            env = {**os.environ, **THREAD_ENV, **cfg.env}
            log = open(LOG_DIR / f"{cfg.name}.log", "w", encoding="utf-8")
            print(f"  started  {cfg.note}", flush=True)
            proc = subprocess.Popen(_nbval_command(notebooks), cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            running.append((cfg, proc, log, time.perf_counter()))
        time.sleep(0.5)
        for item in list(running):
            cfg, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            text = (LOG_DIR / f"{cfg.name}.log").read_text(encoding="utf-8", errors="replace")
            failed = [m.group(1) for line in text.splitlines() if (m := _FAILED.match(line))]
            summary = _SUMMARY.findall(text)
            results[cfg.name] = (proc.returncode, failed, summary[-1] if summary else "no summary")
            print(f"  finished {cfg.note}: {results[cfg.name][2]} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--kernels", type=int, default=2, help="other OpenBLAS kernels to run (default 2)")
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)),
                        help="configurations run at the same time (default: 2, or 1 on one core)")
    parser.add_argument("--warn-only", action="store_true",
                        help="print the fragile cells but exit 0 (used by make notebooks)")
    parser.add_argument("--list", action="store_true", help="print the configurations and stop")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [p for p in notebooks if not p.is_file()]
    if missing or not notebooks:
        print("portable_check: no such notebook: " + (", ".join(map(str, missing)) or str(NOTEBOOKS)),
              file=sys.stderr)
        return 1
    configs, notes, _ = configurations(args.kernels)
    print("== Portable check: strict nbval under other BLAS kernels and numpy SIMD paths")
    for n in notes:
        print(f"  {n}")
    n_kernel_configs = sum(c.name.startswith("kernel-") for c in configs)
    short = n_kernel_configs < args.kernels
    if short:
        print(f"  only {n_kernel_configs} other OpenBLAS kernel(s) run here; {args.kernels} are required",
              file=sys.stderr)
    print("  configurations: " + "; ".join(c.note for c in configs), flush=True)
    if args.list:
        return 0

    results = run_all(configs, notebooks, args.jobs)
    fragile: dict[str, list[str]] = {}
    broken = []
    for cfg in configs:
        rc, failed, summary = results[cfg.name]
        for cell in failed:
            fragile.setdefault(cell, []).append(cfg.note)
        if rc != 0 and not failed:
            broken.append(f"{cfg.note}: pytest exited {rc} ({summary}); see {LOG_DIR / (cfg.name + '.log')}")
    n_ok = sum(results[c.name][0] == 0 for c in configs)
    print()
    if fragile:
        print("Cells whose saved output differs under another configuration (a learner's machine would fail"
              " strict nbval there; print a robust conclusion instead, see the course guide, section 9):")
        for cell, where in fragile.items():
            print(f"  {os.path.relpath(cell.split('::')[0], ROOT)}::{cell.split('::')[1]}: {'; '.join(where)}")
        print(f"  logs with the diffs: {LOG_DIR.relative_to(ROOT)}/")
    for b in broken:
        print(f"  {b}")
    print(f"portable: {n_ok} passed, {len(configs) - n_ok} failed")
    if args.warn_only:
        if fragile or broken:
            print("WARNING: the outputs above are not portable; fix them before you commit.")
        return 0
    if fragile or broken:
        return 1
    return 2 if short else 0


if __name__ == "__main__":
    sys.exit(main())
