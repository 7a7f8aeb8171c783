"""tools/portable_check.py: how it picks the configurations it runs, and how it reads pytest's log.

The check itself (strict nbval under other kernels) is `make test-portable`; here the choice of
kernels is tested with a simulated machine, so every branch (a kernel that crashes, one that
falls back to a kernel already covered, numpy without OpenBLAS) is exercised on any CPU.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pc():
    spec = importlib.util.spec_from_file_location("portable_check", ROOT / "tools" / "portable_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["portable_check"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("portable_check", None)


def fake_machine(runs: dict):
    """A _probe for a CPU where OPENBLAS_CORETYPE=name runs core runs[name] (None: crashes)."""
    def probe(extra_env=None):
        name = (extra_env or {}).get("OPENBLAS_CORETYPE", "native")
        core = runs.get(name)
        return (core is not None), core
    return probe


AVX2_MACHINE = {"native": "Haswell", "Haswell": "Haswell", "Zen": "Haswell", "SkylakeX": None,
                "CooperLake": None, "Sandybridge": "Sandybridge", "Nehalem": "Nehalem", "Prescott": "Katmai"}


def test_kernels_differ_from_the_native_one_and_from_each_other(pc, monkeypatch):
    monkeypatch.setattr(pc, "_probe", fake_machine(AVX2_MACHINE))
    monkeypatch.setattr(pc.platform, "machine", lambda: "x86_64")
    chosen, notes = pc.other_kernels("Haswell", wanted=3)
    assert chosen == [("Sandybridge", "Sandybridge"), ("Nehalem", "Nehalem"), ("Prescott", "Katmai")]
    assert any("Haswell: runs kernel Haswell, already covered" in n for n in notes)
    assert any("SkylakeX: does not run on this CPU" in n for n in notes)
    assert any("Zen: runs kernel Haswell, already covered" in n for n in notes)


def test_an_avx512_machine_gets_the_avx2_kernel_first(pc, monkeypatch):
    machine = {**AVX2_MACHINE, "native": "SkylakeX", "SkylakeX": "SkylakeX", "CooperLake": "SkylakeX"}
    monkeypatch.setattr(pc, "_probe", fake_machine(machine))
    monkeypatch.setattr(pc.platform, "machine", lambda: "x86_64")
    chosen, _ = pc.other_kernels("SkylakeX", wanted=2)
    assert chosen == [("Haswell", "Haswell"), ("Sandybridge", "Sandybridge")]


def test_too_few_kernels_is_an_error_not_a_pass(pc, monkeypatch, capsys):
    # numpy without OpenBLAS (MKL, Accelerate): no kernel to vary, so the check cannot prove anything
    monkeypatch.setattr(pc, "_probe", lambda extra_env=None: (True, None))
    monkeypatch.setattr(pc, "dispatched_simd_features", lambda: ["AVX2"])
    monkeypatch.setattr(pc, "run_all", lambda configs, notebooks, jobs: {c.name: (0, [], "1 passed") for c in configs})
    assert pc.main([str(ROOT / "notebooks" / "00_gradients_backprop.ipynb")]) == 2
    assert "only 0 other OpenBLAS kernel(s) run here; 2 are required" in capsys.readouterr().err


def test_a_differing_cell_fails_the_check_and_is_named(pc, monkeypatch, capsys):
    monkeypatch.setattr(pc, "_probe", fake_machine(AVX2_MACHINE))
    monkeypatch.setattr(pc.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(pc, "dispatched_simd_features", lambda: ["X86_V3"])
    cell = f"{ROOT}/notebooks/05_normalization.ipynb::Cell 20"

    def run_all(configs, notebooks, jobs):
        return {c.name: ((1, [cell], "1 failed, 9 passed") if c.name == "kernel-Nehalem" else (0, [], "10 passed"))
                for c in configs}

    monkeypatch.setattr(pc, "run_all", run_all)
    assert pc.main([]) == 1
    out = capsys.readouterr().out
    assert "notebooks/05_normalization.ipynb::Cell 20: kernel=Nehalem" in out
    assert "portable: 3 passed, 1 failed" in out
    assert pc.main(["--warn-only"]) == 0
    assert "WARNING: the outputs above are not portable" in capsys.readouterr().out


def test_configurations_cover_kernels_simd_and_threads(pc, monkeypatch):
    monkeypatch.setattr(pc, "_probe", fake_machine(AVX2_MACHINE))
    monkeypatch.setattr(pc.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(pc, "dispatched_simd_features", lambda: ["X86_V3", "X86_V4"])
    configs, _, native = pc.configurations(2)
    assert native == "Haswell"
    envs = {c.name: c.env for c in configs}
    assert envs["kernel-Sandybridge"] == {"OPENBLAS_CORETYPE": "Sandybridge"}
    assert envs["numpy-baseline-simd"] == {"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4"}
    assert envs["blas-threads-2"]["OPENBLAS_NUM_THREADS"] == "2"


def test_log_parsing(pc):
    log = ("..F..\nFAILED notebooks/07_autoregression.ipynb::Cell 6 - Notebook cell execution failed\n"
           "=========== 1 failed, 226 passed in 66.10s (0:01:06) ===========\n")
    assert [m.group(1) for line in log.splitlines() if (m := pc._FAILED.match(line))] == [
        "notebooks/07_autoregression.ipynb::Cell 6"]
    assert pc._SUMMARY.findall(log) == ["1 failed, 226 passed"]
    assert pc._SUMMARY.findall("227 passed in 60.15s (0:01:00)\n") == ["227 passed"]


def test_the_real_probe_runs_numpy(pc):
    ok, core = pc._probe()
    assert ok
    assert core is None or core.isidentifier()
