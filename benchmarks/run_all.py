#!/usr/bin/env python3
"""Speed of the course, measured side by side in one run (never asserted on).

    python benchmarks/run_all.py                 # everything
    python benchmarks/run_all.py --steps 100     # more training steps

Prints
  1. the BLAS library, its CPU kernel and thread settings (they decide the numbers);
  2. the median redraw time of every explorer in ``course_lib.explorers`` (goal <= 0.1 s);
  3. one training step of a 784-256-256-10 ReLU MLP (batch 128, float32):
     forward + cross-entropy + backward + SGD update, in course_lib and, when
     ``import torch`` works, in PyTorch with the same weights, and their ratio;
  4. the same for notebook 08's CNN (Adam, float64);
  5. the same for notebook 09's LSTM language model (truncated BPTT, clipping, AdamW, float32).
See benchmarks/README.md for how to read and reproduce the numbers.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import importlib
import inspect
import os
import pkgutil
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REDRAW_GOAL = 0.1  # seconds
TORCH_PIN = "torch==2.13.0"


# ============================================================================ environment
def _openblas_info() -> dict | None:
    """Config string, CPU kernel and threads of the OpenBLAS that numpy loaded (as threadpoolctl reports)."""
    libs_dir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libs_dir / "lib*openblas*.so*"))) + sorted(glob.glob(str(libs_dir / "lib*openblas*.dylib"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "64_"), ("openblas_", "")):
            try:
                get_config = getattr(lib, f"{prefix}get_config{suffix}")
                get_core = getattr(lib, f"{prefix}get_corename{suffix}")
                get_threads = getattr(lib, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            get_config.restype = get_core.restype = ctypes.c_char_p
            return {"library": Path(path).name, "config": get_config().decode(),
                    "kernel": get_core().decode(), "threads": int(get_threads())}
    return None


def blas_threads() -> int:
    """How many threads numpy's BLAS uses (best effort)."""
    try:
        from threadpoolctl import threadpool_info
        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            return int(blas[0]["num_threads"])
    except ImportError:
        pass
    info = _openblas_info()
    if info:
        return info["threads"]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def print_environment() -> None:
    print("== Environment")
    print(f"python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs")
    print("thread env: " + ", ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in THREAD_VARS))
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            print(f"threadpoolctl: {info.get('user_api')} {info.get('internal_api')} {info.get('version')} "
                  f"kernel={info.get('architecture')} threads={info.get('num_threads')} ({Path(info['filepath']).name})")
    except ImportError:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        print(f"numpy BLAS (threadpoolctl not installed): {blas.get('name')} {blas.get('version')}")
        info = _openblas_info()
        if info:
            print(f"  loaded: {info['config']}; kernel in use: {info['kernel']}; threads: {info['threads']}")
    print()


# ============================================================================ explorers
def discover_explorers():
    """Every Explorer subclass defined in a ``course_lib.explorers.*`` module, plus
    public functions named ``*_explorer`` (they must return an Explorer to be timed).

    Yields ``(label, factory)`` or ``(label, error message)`` for modules that do not import.
    """
    import course_lib.explorers as pkg
    from course_lib.explorers import Explorer

    found = []
    for mod_info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        name = f"{pkg.__name__}.{mod_info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # report, keep going: explorers are written in parallel
            found.append((name, f"import failed: {type(exc).__name__}: {exc}"))
            continue
        for attr, obj in sorted(vars(module).items()):
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj) and issubclass(obj, Explorer) and obj is not Explorer:
                found.append((f"{name}.{attr}", obj))
            elif inspect.isfunction(obj) and attr.endswith("_explorer"):
                found.append((f"{name}.{attr}()", obj))
    return found


def _van_der_corput(k: int) -> float:
    """0.5, 0.25, 0.75, 0.125, ...: spreads successive values over [0, 1]."""
    x, denom = 0.0, 1.0
    while k:
        denom *= 2
        k, bit = divmod(k, 2)
        x += bit / denom
    return x


def next_value(widget, k: int):
    """A new value for ``widget`` (the k-th of a sequence that covers its range), or None if unsupported."""
    current = widget.value
    if hasattr(widget, "options") and hasattr(widget, "index"):  # Dropdown, SelectionSlider, ToggleButtons...
        n = len(widget.options)
        return ("index", (widget.index + 1) % n) if n > 1 else None
    if isinstance(current, bool):
        return ("value", not current)
    if not (hasattr(widget, "min") and hasattr(widget, "max")) or isinstance(current, (tuple, list)):
        return None
    lo, hi = widget.min, widget.max
    for j in range(k, k + 64):
        frac = (1.0, 0.0)[j] if j < 2 else _van_der_corput(j - 1)
        if hasattr(widget, "base"):  # FloatLogSlider: min/max are exponents
            v = widget.base ** (lo + frac * (hi - lo))
        elif isinstance(current, int):
            step = getattr(widget, "step", 1) or 1
            v = int(lo + round(frac * (hi - lo) / step) * step)
        else:
            v = lo + frac * (hi - lo)
        if not np.isclose(v, current, rtol=1e-9, atol=0):
            return ("value", v)
    return None


def time_explorer(explorer, n_redraws: int) -> dict:
    controls = list(getattr(explorer, "controls", {}).items())
    counters = {name: 0 for name, _ in controls}
    times, changed, unsupported = [], [], set()
    i = 0
    while len(times) < n_redraws and i < 10 * n_redraws:
        name, widget = controls[i % len(controls)]
        i += 1
        move = next_value(widget, counters[name])
        counters[name] += 1
        if move is None:
            unsupported.add(name)
            if len(unsupported) == len(controls):
                break
            continue
        before = explorer.redraw_count
        t0 = time.perf_counter()
        setattr(widget, *move)
        dt = time.perf_counter() - t0
        if explorer.redraw_count == before:
            unsupported.add(name)  # the change did not trigger a redraw
            continue
        times.append(dt)
        changed.append(name)
    return {"times": times, "controls": sorted(set(changed)), "skipped": sorted(unsupported)}


def bench_explorers(n_redraws: int) -> list[tuple]:
    print(f"== Explorer redraw (median of {n_redraws} redraws, a control changes each time; goal <= {REDRAW_GOAL} s)")
    from course_lib.explorers import Explorer

    rows = []
    found = discover_explorers()
    if not found:
        print("no explorers found in course_lib.explorers yet")
    for label, factory in found:
        if isinstance(factory, str):
            print(f"{label}: {factory}")
            rows.append((label, None, None, factory))
            continue
        try:
            t0 = time.perf_counter()
            explorer = factory()
            build = time.perf_counter() - t0
        except Exception as exc:
            msg = f"could not build with defaults: {type(exc).__name__}: {exc}"
            print(f"{label}: {msg}")
            rows.append((label, None, None, msg))
            continue
        if not isinstance(explorer, Explorer) or not explorer.controls:
            msg = f"returned {type(explorer).__name__}, not an Explorer with controls: skipped"
            print(f"{label}: {msg}")
            rows.append((label, None, None, msg))
            continue
        res = time_explorer(explorer, n_redraws)
        if not res["times"]:
            msg = "no control could be changed: skipped"
            print(f"{label}: {msg}")
            rows.append((label, None, None, msg))
            continue
        med, worst = statistics.median(res["times"]), max(res["times"])
        verdict = "ok" if med <= REDRAW_GOAL else "SLOWER THAN GOAL"
        note = f"controls moved: {', '.join(res['controls'])}"
        if res["skipped"]:
            note += f"; not moved: {', '.join(res['skipped'])}"
        print(f"{label}: median {med * 1000:.1f} ms, max {worst * 1000:.1f} ms, build {build * 1000:.0f} ms, "
              f"n={len(res['times'])} [{verdict}] ({note})")
        rows.append((label, med, worst, verdict))
    print()
    return rows


# ============================================================================ MLP training step
SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01
MLP_GOAL = 0.8  # course_lib / PyTorch, median step time


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    return x, y


def course_lib_step_fn(input_grad: bool = False):
    """course_lib's step. ``input_grad=False`` (what the course's training loops do) skips
    dLoss/dInput of the first layer, as PyTorch does for data that does not require a gradient;
    ``input_grad=True`` computes it too."""
    from course_lib import nn

    g = np.random.default_rng(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(a, b, dtype=np.float32, generator=g))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    crit = nn.CrossEntropyLoss()
    try:
        from course_lib.optim import SGD
        opt = SGD(model.parameters(), lr=LR)
        zero_grad, update, how = opt.zero_grad, opt.step, "course_lib.optim.SGD"
    except ImportError:
        params = list(model.parameters())

        def update():
            for p in params:
                p.data -= LR * p.grad

        zero_grad, how = model.zero_grad, "p.data -= lr * p.grad (course_lib.optim not available)"
    x, y = make_data()

    def step() -> float:
        zero_grad()
        loss = crit(model(x), y)
        model.backward(crit.backward(), input_grad=input_grad)  # False: x is data, skip dLoss/dx
        update()
        return loss

    return step, model, how


def torch_step_fn(model_np, threads: int, input_grad: bool = False):
    """PyTorch's step. ``input_grad=True`` also computes dLoss/dInput (PyTorch normally skips it:
    the data does not require a gradient), for comparison with course_lib's ``input_grad=True``."""
    import torch

    torch.set_num_threads(threads)
    mods = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        mods.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods).float()
    with torch.no_grad():  # the very same starting weights as course_lib's model
        for (_, p), (_, tp) in zip(model_np.named_parameters(), model.named_parameters()):
            tp.copy_(torch.from_numpy(p.data.copy()))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    crit = torch.nn.CrossEntropyLoss()
    x, y = make_data()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    xt.requires_grad_(input_grad)

    def step() -> float:
        opt.zero_grad()
        xt.grad = None
        loss = crit(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step, torch.__version__


def time_alternating(steps: dict, n_steps: int, warmup: int) -> dict:
    """Per-step times of every step function, run in alternating blocks of 10 steps so that
    all of them see the same machine load (after ``warmup`` untimed steps each)."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in steps}
    block = 10
    while any(len(t) < n_steps for t in times.values()):
        for name, fn in steps.items():
            for _ in range(min(block, n_steps - len(times[name]))):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return times


def bench_mlp(n_steps: int, warmup: int) -> dict:
    threads = blas_threads()
    print(f"== Training step: MLP {'-'.join(map(str, SIZES))} + ReLU, batch {BATCH}, float32, "
          f"forward + cross-entropy + backward + SGD (median of {n_steps} steps after {warmup} warm-up)")
    ours, model_np, how = course_lib_step_fn()
    steps = {"course_lib": ours}
    try:  # built before any update, from the very same weights
        theirs, torch_version = torch_step_fn(model_np, threads)
        steps["pytorch"] = theirs
        steps["course_lib_dx"] = course_lib_step_fn(input_grad=True)[0]  # the same weights (seed 0)
        steps["pytorch_dx"] = torch_step_fn(model_np, threads, input_grad=True)[0]
    except ImportError:
        print(f"PyTorch not installed: skipped (to compare, install it in this environment: pip install {TORCH_PIN})")
    # the first loss is computed before any update: the two libraries must agree on it
    first = {name: fn() for name, fn in steps.items()}
    print("first-step loss (same weights and data): "
          + ", ".join(f"{name} {loss:.6f}" for name, loss in first.items()))
    print(f"course_lib update: {how}")
    times = time_alternating(steps, n_steps, warmup)
    res = {name: statistics.median(t) for name, t in times.items()}
    labels = {"course_lib": "course_lib (backward(..., input_grad=False))",
              "pytorch": f"PyTorch {torch_version if 'pytorch' in steps else ''} ({threads} intra-op threads)",
              "course_lib_dx": "course_lib, also computing dLoss/dInput (input_grad=True)",
              "pytorch_dx": "PyTorch, also computing dLoss/dInput (x.requires_grad_())"}
    for name, t in times.items():
        label = labels[name]
        print(f"{label}: median {statistics.median(t) * 1000:.2f} ms, min {min(t) * 1000:.2f} ms, "
              f"max {max(t) * 1000:.2f} ms")
    if "pytorch" in res:
        ratio = res["course_lib"] / res["pytorch"]
        best = min(times["course_lib"]) / min(times["pytorch"])
        verdict = "goal <= 0.8: met" if ratio <= MLP_GOAL else "goal <= 0.8: not met"
        print(f"ratio course_lib / PyTorch = {ratio:.2f} by median, {best:.2f} by best step  [{verdict}]")
        same = res["course_lib_dx"] / res["pytorch_dx"]
        print(f"ratio when both also compute dLoss/dInput = {same:.2f} by median")
    print()
    return res


# ============================================================================ CNN training step (notebook 08)
CNN_BATCH = 64
CNN_LR = 0.01
CNN_GOAL = 1.5  # course_lib / PyTorch, median step time


def make_digit_batch(seed: int = 0):
    """One minibatch of the UCI digits, as notebook 08 trains on them: (64, 1, 8, 8) float64."""
    from course_lib.datasets import load_digits

    X, y = load_digits()
    idx = np.random.default_rng(seed).permutation(len(X))[:CNN_BATCH]
    return np.ascontiguousarray(X[idx]), y[idx]


def course_lib_cnn_step_fn():
    """Notebook 08's CNN and training step: float64, Adam (lr 0.01), input_grad=False."""
    from course_lib import nn, optim

    g = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1, generator=g), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3, padding=1, generator=g), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 10, generator=g))
    crit = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=CNN_LR)
    x, y = make_digit_batch()

    def step() -> float:
        opt.zero_grad()
        loss = crit(model(x), y)
        model.backward(crit.backward(), input_grad=False)
        opt.step()
        return loss

    return step, model


def torch_cnn_step_fn(model_np, threads: int):
    import torch

    torch.set_num_threads(threads)
    tn = torch.nn
    model = tn.Sequential(
        tn.Conv2d(1, 8, kernel_size=3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
        tn.Conv2d(8, 16, kernel_size=3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
        tn.Flatten(), tn.Linear(64, 10)).double()
    with torch.no_grad():  # the very same starting weights (same names and shapes as course_lib's)
        theirs = dict(model.named_parameters())
        for name, p in model_np.named_parameters():
            theirs[name].copy_(torch.from_numpy(p.data.copy()))
    opt = torch.optim.Adam(model.parameters(), lr=CNN_LR)
    crit = tn.CrossEntropyLoss()
    x, y = make_digit_batch()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = crit(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def side_by_side(ours, model_np, torch_fn, threads: int, n_steps: int, warmup: int, goal: float,
                 first_note: str = "same weights and data") -> dict:
    """Time course_lib's step next to PyTorch's (when installed): first losses, medians, ratio, goal."""
    steps = {"course_lib": ours}
    try:
        steps["pytorch"] = torch_fn(model_np, threads)
    except ImportError:
        print(f"PyTorch not installed: skipped (to compare, install it in this environment: pip install {TORCH_PIN})")
    first = {name: fn() for name, fn in steps.items()}
    print(f"first-step loss ({first_note}): " + ", ".join(f"{name} {loss:.6f}" for name, loss in first.items()))
    times = time_alternating(steps, n_steps, warmup)
    res = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        label = f"PyTorch ({threads} intra-op threads)" if name == "pytorch" else name
        print(f"{label}: median {statistics.median(t) * 1000:.2f} ms, min {min(t) * 1000:.2f} ms, "
              f"max {max(t) * 1000:.2f} ms")
    if "pytorch" in res:
        ratio = res["course_lib"] / res["pytorch"]
        best = min(times["course_lib"]) / min(times["pytorch"])
        verdict = f"goal <= {goal}: " + ("met" if ratio <= goal else "not met")
        print(f"ratio course_lib / PyTorch = {ratio:.2f} by median, {best:.2f} by best step  [{verdict}]")
    print()
    return res


def bench_cnn(n_steps: int, warmup: int) -> dict:
    threads = blas_threads()
    print(f"== Training step: notebook 08's CNN (Conv2d 1->8, pool, Conv2d 8->16, pool, Linear 64->10), "
          f"batch {CNN_BATCH} of 8x8 digits, float64, Adam (median of {n_steps} steps after {warmup} warm-up)")
    ours, model_np = course_lib_cnn_step_fn()
    return side_by_side(ours, model_np, torch_cnn_step_fn, threads, n_steps, warmup, CNN_GOAL)


# ============================================================================ LSTM language model step (notebook 09)
LSTM_VOCAB, LSTM_EMB, LSTM_HIDDEN = 98, 32, 64
LSTM_BATCH, LSTM_BPTT = 32, 32
LSTM_LR, LSTM_WEIGHT_DECAY, LSTM_CLIP = 1e-2, 0.01, 1.0
LSTM_GOAL = 2.0  # course_lib / PyTorch, median step time


def make_lstm_chunk(seed: int = 0):
    """One (B, T) chunk of random token ids and its targets (the ids shifted by one)."""
    ids = np.random.default_rng(seed).integers(0, LSTM_VOCAB, size=(LSTM_BATCH, LSTM_BPTT + 1))
    return np.ascontiguousarray(ids[:, :-1]), np.ascontiguousarray(ids[:, 1:])


def course_lib_lstm_step_fn():
    """Notebook 09's LSTM language model and the step of ``train_recurrent_lm``: forward from the carried
    state, cross-entropy on the (B*T, V) logits, backward (stops at the chunk's start), clip_grad_norm_, AdamW."""
    from course_lib import nn, optim
    from course_lib.models import RecurrentLanguageModel

    model = RecurrentLanguageModel(vocab_size=LSTM_VOCAB, emb_dim=LSTM_EMB, hidden=LSTM_HIDDEN, cell="lstm",
                                   dtype=np.float32, generator=np.random.default_rng(0))
    crit = nn.CrossEntropyLoss(ignore_index=-100)
    opt = optim.AdamW(model.parameters(), lr=LSTM_LR, weight_decay=LSTM_WEIGHT_DECAY)
    params = list(model.parameters())
    x, y = make_lstm_chunk()
    state = None  # carried from one step to the next, as from one chunk to the next

    def step() -> float:
        nonlocal state
        logits, state = model(x, state)
        loss = crit(logits.reshape(-1, LSTM_VOCAB), y.reshape(-1))
        opt.zero_grad()
        model.backward(crit.backward().reshape(logits.shape))
        optim.clip_grad_norm_(params, LSTM_CLIP)
        opt.step()
        return loss

    return step, model


def torch_lstm_step_fn(model_np, threads: int):
    import torch

    torch.set_num_threads(threads)
    tn = torch.nn

    class TorchRecurrentLM(tn.Module):  # course_lib's RecurrentLanguageModel, the same parameter names
        def __init__(self):
            super().__init__()
            self.emb = tn.Embedding(LSTM_VOCAB, LSTM_EMB)
            self.rnn = tn.LSTM(LSTM_EMB, LSTM_HIDDEN, batch_first=True)
            self.head = tn.Linear(LSTM_HIDDEN, LSTM_VOCAB)

        def forward(self, ids, state=None):
            h, state = self.rnn(self.emb(ids), state)
            return self.head(h), state

    model = TorchRecurrentLM().float()
    with torch.no_grad():  # the very same starting weights (same names and shapes as course_lib's)
        theirs = dict(model.named_parameters())
        for name, p in model_np.named_parameters():
            theirs[name].copy_(torch.from_numpy(p.data.copy()))
    opt = torch.optim.AdamW(model.parameters(), lr=LSTM_LR, weight_decay=LSTM_WEIGHT_DECAY)
    crit = tn.CrossEntropyLoss(ignore_index=-100)
    params = list(model.parameters())
    x, y = make_lstm_chunk()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    state = None

    def step() -> float:
        nonlocal state
        logits, state = model(xt, state)
        state = tuple(s.detach() for s in state)  # truncated BPTT: carry the state, cut the gradient
        loss = crit(logits.reshape(-1, LSTM_VOCAB), yt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        tn.utils.clip_grad_norm_(params, LSTM_CLIP)
        opt.step()
        return loss.item()

    return step


def bench_lstm(n_steps: int, warmup: int) -> dict:
    threads = blas_threads()
    print(f"== Training step: notebook 09's LSTM language model (Embedding {LSTM_VOCAB}->{LSTM_EMB}, "
          f"LSTM {LSTM_EMB}->{LSTM_HIDDEN}, Linear {LSTM_HIDDEN}->{LSTM_VOCAB}), chunk B={LSTM_BATCH} x "
          f"T={LSTM_BPTT} with the state carried over, float32, clip_grad_norm_ {LSTM_CLIP}, AdamW "
          f"(median of {n_steps} steps after {warmup} warm-up)")
    ours, model_np = course_lib_lstm_step_fn()
    return side_by_side(ours, model_np, torch_lstm_step_fn, threads, n_steps, warmup, LSTM_GOAL,
                        "same weights and data, zero initial state")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redraws", type=int, default=15, help="redraws per explorer (default 15)")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps (default 50)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up steps (default 10)")
    parser.add_argument("--skip-explorers", action="store_true")
    parser.add_argument("--skip-mlp", action="store_true")
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--skip-lstm", action="store_true")
    args = parser.parse_args(argv)
    print_environment()
    if not args.skip_explorers:
        bench_explorers(args.redraws)
    if not args.skip_mlp:
        bench_mlp(args.steps, args.warmup)
    if not args.skip_cnn:
        bench_cnn(args.steps, args.warmup)
    if not args.skip_lstm:
        bench_lstm(args.steps, args.warmup)


if __name__ == "__main__":
    main()
