"""Overfitting and regularization (過学習と正則化): the runs behind notebook 04's explorer.

One small experiment, repeated on a grid of settings::

    data   make_moons(500, noise=0.3), split 300 train / 200 validation;
           the first n_train training points are used (nested: 20 ⊂ 40 ⊂ ...)
    model  make_mlp(width, dropout): Linear(2, H) → ReLU → Dropout(p)
                                     → Linear(H, H) → ReLU → Dropout(p) → Linear(H, 2)
    train  AdamW(lr=0.01), weight decay on the weight matrices only (not the
           biases), full batch, 300 epochs, cross-entropy loss

:func:`train_run` trains one setting and records, after every epoch, the
training and validation loss (both measured in eval mode, dropout off) and how
many points of each set are classified correctly, and at the end the
predicted probability of class 1 on a grid of the plane (the decision
boundary, 決定境界).

Training a few hundred small networks takes minutes, far too slow for a
slider, so ``tools/make_regularization_runs.py`` trains the whole grid once
and stores it in ``data/regularization_runs.npz`` (see data/README.md).
:class:`RegularizationRuns` loads it; :func:`regularization_state`, the pure
function behind the sliders, looks one setting up and summarises it;
:class:`RegularizationExplorer` draws it::

    runs = RegularizationRuns.load()
    state = regularization_state(runs, n_train=20, width=128, weight_decay=0.0, dropout=0.0)
    state.best_epoch, state.final_val_loss      # early stopping's epoch, the loss at the end
    RegularizationExplorer(runs)                 # the widget (the notebook displays it)
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import NullLocator

from .._data import data_file
from ..datasets import make_moons, train_val_split
from ..nn import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from ..optim import AdamW
from ..plotting import COLORS
from ._base import Explorer

__all__ = [
    "RunConfig", "DEFAULT_CONFIG", "GRID", "DATA_PATH",
    "regularization_data", "make_mlp", "weight_decay_groups", "boundary_points", "boundary_prob", "boundary_lines",
    "train_run", "Run",
    "quantize_run", "RegularizationRuns", "RegularizationState", "regularization_state",
    "draw_curves", "curves_legend", "draw_boundary", "draw_settings", "RegularizationExplorer",
]

# In the checkout's data/, or in the copy inside an installed wheel (course_lib/_data.py).
DATA_PATH = data_file("regularization_runs.npz")


@dataclass(frozen=True)
class RunConfig:
    """Everything that is the same for every run of the grid."""

    n_samples: int = 500          # moons drawn in all, before the split
    noise: float = 0.3            # standard deviation of the noise added to the moons
    val_fraction: float = 0.4     # 200 of the 500 points are held out for validation
    data_seed: int = 0            # make_moons(seed=...)
    split_seed: int = 0           # train_val_split(seed=...)
    init_seed: int = 0            # np.random.default_rng(init_seed): weights, then dropout masks
    epochs: int = 300
    lr: float = 0.01
    grid_size: int = 40           # the decision boundary is sampled on grid_size x grid_size points
    x_range: tuple[float, float] = (-2.0, 3.0)
    y_range: tuple[float, float] = (-1.6, 2.1)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_CONFIG = RunConfig()

#: the settings stored in data/regularization_runs.npz (one run for each combination)
GRID = {
    "n_train": (20, 40, 80, 160, 300),
    "width": (8, 32, 128),
    "weight_decay": (0.0, 0.3, 1.0, 3.0, 10.0),
    "dropout": (0.0, 0.1, 0.3, 0.5),
}


# ---------------------------------------------------------------------------- one run
def regularization_data(config: RunConfig = DEFAULT_CONFIG):
    """``(X_train, y_train, X_val, y_val)``: 300 training and 200 validation moons by default.

    ``X_*`` have shape (N, 2) (float64) and ``y_*`` shape (N,) (int64, class 0 or 1).
    A run on ``n_train`` points uses ``X_train[:n_train]``.
    """
    X, y = make_moons(config.n_samples, noise=config.noise, seed=config.data_seed)
    return train_val_split(X, y, val_fraction=config.val_fraction, seed=config.split_seed)


def make_mlp(width: int, dropout: float = 0.0, generator: np.random.Generator | None = None) -> Sequential:
    """The 2 → width → width → 2 ReLU network of the experiment, with dropout after each hidden layer.

    With ``dropout == 0`` the Dropout layers are left out (the same weights are
    drawn either way, in the order the Linear layers are created). The
    Dropout layers draw their masks from ``generator`` too.
    """
    layers = [Linear(2, width, generator=generator), ReLU()]
    if dropout > 0:
        layers.append(Dropout(dropout, generator=generator))
    layers += [Linear(width, width, generator=generator), ReLU()]
    if dropout > 0:
        layers.append(Dropout(dropout, generator=generator))
    layers.append(Linear(width, 2, generator=generator))
    return Sequential(*layers)


def weight_decay_groups(model, weight_decay: float) -> list[dict]:
    """Two parameter groups, as in GPT training: decay the weight matrices, not the biases."""
    params = [p for _, p in model.named_parameters()]
    return [
        {"params": [p for p in params if p.data.ndim >= 2], "weight_decay": float(weight_decay)},
        {"params": [p for p in params if p.data.ndim < 2], "weight_decay": 0.0},
    ]


def boundary_points(config: RunConfig = DEFAULT_CONFIG):
    """``(xs, ys, points)``: the grid on which the decision boundary is sampled.

    ``xs`` (G,), ``ys`` (G,) and ``points`` (G*G, 2), row-major: point ``i*G + j``
    is ``(xs[j], ys[i])``, so ``prob.reshape(G, G)[i, j]`` belongs to it.
    """
    xs = np.linspace(*config.x_range, config.grid_size)
    ys = np.linspace(*config.y_range, config.grid_size)
    gx, gy = np.meshgrid(xs, ys)  # (G, G) each
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


def boundary_prob(model, config: RunConfig = DEFAULT_CONFIG) -> np.ndarray:
    """P(class 1) of a 2-class ``model`` on :func:`boundary_points`, shape (G, G); eval mode.

    The model is left in eval mode. The decision boundary is where the probability is 0.5.
    """
    model.eval()
    _, _, points = boundary_points(config)
    logits = model(points)                      # (G*G, 2)
    z = logits[:, 1] - logits[:, 0]             # softmax of 2 classes = sigmoid of the difference
    prob = 0.5 * (1.0 + np.tanh(0.5 * z))       # sigmoid(z), without overflow for any z
    return prob.reshape(config.grid_size, config.grid_size)


@dataclass(frozen=True)
class Run:
    """What one training run recorded. Epoch 0 is before the first update."""

    train_loss: np.ndarray     # (epochs + 1,) cross-entropy on the training set, eval mode
    val_loss: np.ndarray       # (epochs + 1,) the same on the validation set
    train_correct: np.ndarray  # (epochs + 1,) training points classified correctly
    val_correct: np.ndarray    # (epochs + 1,) validation points classified correctly
    prob: np.ndarray           # (G, G) P(class 1) after the last epoch, on boundary_points()
    weight_norm: float         # sqrt of the sum of squared weight-matrix entries after the last epoch


def _check_setting(n_train, width, weight_decay, dropout, n_pool: int) -> None:
    if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or not 2 <= n_train <= n_pool:
        raise ValueError(f"train_run: n_train must be an int in [2, {n_pool}], got {n_train!r}")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width <= 0:
        raise ValueError(f"train_run: width must be a positive int, got {width!r}")
    if not np.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"train_run: weight_decay must be a number >= 0, got {weight_decay!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"train_run: dropout must be in [0, 1), got {dropout!r}")


def train_run(n_train: int, width: int, weight_decay: float, dropout: float,
              config: RunConfig = DEFAULT_CONFIG) -> Run:
    """Train one network of the grid (float64, full batch) and record its curves.

    The same ``config.init_seed`` is used for every setting, so two runs with
    the same width start from the same weights and differ only by what the
    sliders change.
    """
    X_pool, y_pool, X_val, y_val = regularization_data(config)
    _check_setting(n_train, width, weight_decay, dropout, len(X_pool))
    X, y = X_pool[:n_train], y_pool[:n_train]  # (n, 2), (n,)
    X_eval = np.concatenate([X, X_val])        # (n + n_val, 2): both sets in one forward pass
    generator = np.random.default_rng(config.init_seed)
    model = make_mlp(width, dropout, generator=generator)
    optimizer = AdamW(weight_decay_groups(model, weight_decay), lr=config.lr)
    criterion = CrossEntropyLoss()

    n_rec = config.epochs + 1
    train_loss, val_loss = np.empty(n_rec), np.empty(n_rec)
    train_correct = np.empty(n_rec, dtype=np.int64)
    val_correct = np.empty(n_rec, dtype=np.int64)

    def record(epoch: int) -> None:
        model.eval()
        logits = model(X_eval)                  # (n + n_val, 2)
        train_loss[epoch] = criterion(logits[:n_train], y)
        val_loss[epoch] = criterion(logits[n_train:], y_val)
        pred = logits.argmax(axis=1)
        train_correct[epoch] = np.sum(pred[:n_train] == y)
        val_correct[epoch] = np.sum(pred[n_train:] == y_val)
        model.train()

    record(0)
    for epoch in range(1, n_rec):
        optimizer.zero_grad()
        logits = model(X)                       # (n, 2), dropout active
        criterion(logits, y)
        model.backward(criterion.backward(), input_grad=False)  # X is data: no dLoss/dX needed
        optimizer.step()
        record(epoch)

    prob = boundary_prob(model, config)
    weight_norm = float(np.sqrt(sum(np.sum(p.data**2) for p in model.parameters() if p.data.ndim >= 2)))
    return Run(train_loss=train_loss, val_loss=val_loss, train_correct=train_correct,
               val_correct=val_correct, prob=prob, weight_norm=weight_norm)


def quantize_run(run: Run) -> Run:
    """The run as stored: losses in float16, counts in uint16, probabilities in 1/255 steps (uint8).

    Enough for a picture, and it keeps the file small. Comparing a fresh run
    with a stored one means comparing ``quantize_run(fresh)`` with it.
    """
    return Run(
        train_loss=run.train_loss.astype(np.float16),
        val_loss=run.val_loss.astype(np.float16),
        train_correct=run.train_correct.astype(np.uint16),
        val_correct=run.val_correct.astype(np.uint16),
        prob=np.round(np.asarray(run.prob) * 255).astype(np.uint8),
        weight_norm=float(np.float32(run.weight_norm)),
    )


# ---------------------------------------------------------------------------- the stored grid
_ARRAYS = {  # name in the file -> (dtype, per-run shape suffix: "E" = epochs + 1, "G" = grid)
    "train_loss": (np.float16, "E"),
    "val_loss": (np.float16, "E"),
    "train_correct": (np.uint16, "E"),
    "val_correct": (np.uint16, "E"),
    "prob": (np.uint8, "GG"),
    "weight_norm": (np.float32, ""),
}


@dataclass
class RegularizationRuns:
    """Every run of a grid of settings, as stored in ``data/regularization_runs.npz``.

    ``grid`` maps each setting's name to its values (as :data:`GRID`); each
    array in ``arrays`` has one axis per setting, in that order, then the
    per-run axes (epochs, or the boundary grid).
    """

    grid: dict
    config: RunConfig
    arrays: dict = field(repr=False)

    # -- building -------------------------------------------------------------------
    @classmethod
    def generate(cls, grid: dict | None = None, config: RunConfig = DEFAULT_CONFIG,
                 progress=None) -> "RegularizationRuns":
        """Train every combination of ``grid`` (default :data:`GRID`) with :func:`train_run`.

        ``progress`` (optional) is called as ``progress(i, total, setting)`` after each run.
        """
        grid = {k: tuple(v) for k, v in (GRID if grid is None else grid).items()}
        if list(grid) != list(GRID):
            raise ValueError(f"RegularizationRuns: the grid needs the settings {list(GRID)}, got {list(grid)}")
        shape = tuple(len(v) for v in grid.values())
        e, g = config.epochs + 1, config.grid_size
        suffix = {"E": (e,), "GG": (g, g), "": ()}
        arrays = {name: np.zeros(shape + suffix[s], dtype=dt) for name, (dt, s) in _ARRAYS.items()}
        total = int(np.prod(shape))
        for i, idx in enumerate(np.ndindex(*shape)):
            setting = {k: grid[k][j] for k, j in zip(grid, idx)}
            run = quantize_run(train_run(config=config, **setting))
            for name in _ARRAYS:
                arrays[name][idx] = getattr(run, name)
            if progress is not None:
                progress(i + 1, total, setting)
        return cls(grid=grid, config=config, arrays=arrays)

    def save(self, path=DATA_PATH) -> Path:
        path = Path(path)
        meta = {f"grid_{k}": np.asarray(v, dtype=np.float64) for k, v in self.grid.items()}
        cfg = {f"config_{k}": np.asarray(v) for k, v in self.config.as_dict().items()}
        np.savez_compressed(path, **meta, **cfg, **self.arrays)
        return path

    @classmethod
    def load(cls, path=None) -> "RegularizationRuns":
        """Read the stored runs (default: ``data/regularization_runs.npz``)."""
        path = Path(DATA_PATH if path is None else path)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: regenerate it with `python tools/make_regularization_runs.py` "
                "(a few minutes; see data/README.md)"
            )
        with np.load(path) as f:
            grid = {}
            for k in GRID:
                values = f[f"grid_{k}"]
                grid[k] = tuple(int(v) for v in values) if k in ("n_train", "width") else tuple(float(v) for v in values)
            kwargs = {}
            for fld in fields(RunConfig):
                v = f[f"config_{fld.name}"]
                kwargs[fld.name] = tuple(float(x) for x in v) if v.ndim else v.item()
            arrays = {name: f[name] for name in _ARRAYS}
        return cls(grid=grid, config=RunConfig(**kwargs), arrays=arrays)

    # -- looking up -----------------------------------------------------------------
    def index(self, n_train, width, weight_decay, dropout) -> tuple[int, int, int, int]:
        """Position of one setting in the grid; a value that was not trained is a ValueError."""
        idx = []
        for name, value in zip(self.grid, (n_train, width, weight_decay, dropout)):
            values = self.grid[name]
            hits = [i for i, v in enumerate(values) if np.isclose(v, value, rtol=1e-9, atol=1e-12)]
            if not hits:
                raise ValueError(f"{name}={value!r} was not precomputed; choose one of {list(values)}")
            idx.append(hits[0])
        return tuple(idx)

    def run(self, n_train, width, weight_decay, dropout) -> Run:
        """The stored (quantized) :class:`Run` of one setting."""
        idx = self.index(n_train, width, weight_decay, dropout)
        values = {name: self.arrays[name][idx] for name in _ARRAYS}
        values["weight_norm"] = float(values["weight_norm"])
        return Run(**values)

    @property
    def n_val(self) -> int:
        return int(round(self.config.n_samples * self.config.val_fraction))


# ---------------------------------------------------------------------------- the pure function
@dataclass(frozen=True)
class RegularizationState:
    """One slider setting, looked up and summarised."""

    n_train: int
    width: int
    weight_decay: float
    dropout: float
    epochs: np.ndarray          # (E,) 0, 1, ..., config.epochs
    train_loss: np.ndarray      # (E,) float64
    val_loss: np.ndarray        # (E,) float64
    train_acc: np.ndarray       # (E,) fraction of training points classified correctly
    val_acc: np.ndarray         # (E,)
    prob: np.ndarray            # (G, G) P(class 1) after training, in [0, 1]
    weight_norm: float
    best_epoch: int             # argmin of the validation loss: where early stopping would stop
    best_val_loss: float
    best_val_acc: float
    final_train_loss: float
    final_val_loss: float
    gap: float                  # final_val_loss - final_train_loss: the generalization gap
    verdict: str                # "overfitting", "underfitting" or "good fit"

    @property
    def label(self) -> str:
        return (f"n_train={self.n_train}, width={self.width}, "
                f"weight decay={self.weight_decay:g}, dropout={self.dropout:g}")


#: classification of a run (used in the status line and the tests)
OVERFIT_RISE = 1.5      # final validation loss at least 1.5 x its minimum: overfitting
UNDERFIT_LOSS = 0.30    # training loss still above this at the end: underfitting


def _verdict(final_train: float, final_val: float, best_val: float) -> str:
    if final_val >= OVERFIT_RISE * best_val:
        return "overfitting"
    if final_train >= UNDERFIT_LOSS:
        return "underfitting"
    return "good fit"


def regularization_state(runs: RegularizationRuns, n_train: int, width: int, weight_decay: float,
                         dropout: float) -> RegularizationState:
    """Look one setting up in ``runs`` and summarise it (the function behind the explorer's sliders)."""
    run = runs.run(n_train, width, weight_decay, dropout)
    train_loss = run.train_loss.astype(np.float64)
    val_loss = run.val_loss.astype(np.float64)
    train_acc = run.train_correct.astype(np.float64) / n_train
    val_acc = run.val_correct.astype(np.float64) / runs.n_val
    best = int(np.argmin(val_loss))  # the first minimum, as early stopping keeps the first best
    final_train, final_val = float(train_loss[-1]), float(val_loss[-1])
    return RegularizationState(
        n_train=int(n_train), width=int(width), weight_decay=float(weight_decay), dropout=float(dropout),
        epochs=np.arange(len(train_loss)), train_loss=train_loss, val_loss=val_loss,
        train_acc=train_acc, val_acc=val_acc, prob=run.prob.astype(np.float64) / 255.0,
        weight_norm=run.weight_norm, best_epoch=best, best_val_loss=float(val_loss[best]),
        best_val_acc=float(val_acc[best]), final_train_loss=final_train, final_val_loss=final_val,
        gap=final_val - final_train, verdict=_verdict(final_train, final_val, float(val_loss[best])),
    )


# ---------------------------------------------------------------------------- drawing
LOSS_YLIM = (1e-6, 10.0)   # log axis of the loss curves: from memorised (the lowest stored loss is 5.6e-6)
                           # to badly wrong
TRAIN_COLOR, VAL_COLOR = COLORS[0], COLORS[3]
CLASS_COLORS = (COLORS[0], COLORS[1])


def draw_curves(ax, train_loss, val_loss, title: str = "", legend: bool = True) -> dict:
    """Training and validation loss against the epoch (log scale), the lowest validation loss marked.

    ``train_loss`` and ``val_loss`` have one value per epoch, epoch 0 first.
    ``legend=True`` puts the legend in the lower left corner, where one
    run's curves leave room; figures that show other runs (a memorising
    network's training loss runs along the bottom) use :func:`curves_legend`
    instead. Returns the artists that change with the run:
    ``{"train", "val", "best", "title"}``.
    """
    train_loss, val_loss = np.asarray(train_loss, dtype=np.float64), np.asarray(val_loss, dtype=np.float64)
    epochs = np.arange(len(train_loss))
    best = int(np.argmin(val_loss))
    floor = LOSS_YLIM[0]  # a loss below 1e-6 is drawn at the bottom edge rather than off the axes
    (train,) = ax.plot(epochs, np.maximum(train_loss, floor), color=TRAIN_COLOR, label="training loss")
    (val,) = ax.plot(epochs, np.maximum(val_loss, floor), color=VAL_COLOR, label="validation loss")
    (best_point,) = ax.plot([best], [max(val_loss[best], floor)], marker="o", markersize=9, color=VAL_COLOR,
                            markeredgecolor="k", linestyle="none", label="lowest validation loss")
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())  # one tick per decade: clearer, and much faster to lay out
    ax.set_ylim(*LOSS_YLIM)
    ax.set_xlim(0, epochs[-1])
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    title_artist = ax.set_title(title, fontsize=11)
    if legend:
        ax.legend(loc="lower left", fontsize=10)
    return {"train": train, "val": val, "best": best_point, "title": title_artist}


def curves_legend(fig, ax, fontsize: float = 11):
    """The legend of :func:`draw_curves` (drawn on ``ax``) in one row above the whole figure.

    Outside the axes no curve can run under it, whatever the run. Needs a
    figure with constrained layout (it makes room for the row).
    """
    handles, labels = ax.get_legend_handles_labels()
    return fig.legend(handles, labels, loc="outside upper center", ncols=len(handles), fontsize=fontsize)


def boundary_lines(prob, config: RunConfig = DEFAULT_CONFIG) -> list[np.ndarray]:
    """The decision boundary: the curves where ``prob`` (G, G) crosses 0.5, each an (k, 2) array of points.

    An empty list when the network never crosses 0.5 (it predicts one class everywhere).
    Computed with contourpy, the contouring library inside matplotlib.
    """
    import contourpy

    xs, ys, _ = boundary_points(config)
    return list(contourpy.contour_generator(xs, ys, np.asarray(prob, dtype=np.float64)).lines(0.5))


#: confidence bands of the background: P(class 1) below 0.1, 0.1-0.25, ..., above 0.9
PROB_LEVELS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def _two_class_cmap():
    """Six flat bands from class 0's colour through white to class 1's (flat colours keep PNGs small)."""
    from matplotlib.colors import BoundaryNorm, LinearSegmentedColormap, ListedColormap

    smooth = LinearSegmentedColormap.from_list("two_classes", [CLASS_COLORS[0], "white", CLASS_COLORS[1]])
    centres = 0.5 * (np.array(PROB_LEVELS[:-1]) + np.array(PROB_LEVELS[1:]))
    cmap = ListedColormap(smooth(centres), name="two_class_bands")
    return cmap, BoundaryNorm(PROB_LEVELS, cmap.N)


def draw_boundary(ax, prob, X_train, y_train, X_val=None, y_val=None,
                  config: RunConfig = DEFAULT_CONFIG, title: str = "") -> dict:
    """P(class 1) as a background in confidence bands, the 0.5 contour (the decision boundary) and the points.

    ``prob`` (G, G) is sampled on :func:`boundary_points` (``boundary_prob(model)``).
    Training points are large dots with a black edge; validation points
    (optional) small and faint. Returns ``{"image", "contour", "train", "title"}``.
    """
    prob = np.asarray(prob, dtype=np.float64)
    extent = (*config.x_range, *config.y_range)
    cmap, norm = _two_class_cmap()
    image = ax.imshow(prob, origin="lower", extent=extent, cmap=cmap, norm=norm,
                      alpha=0.45, aspect="auto", interpolation="bilinear")
    contour = LineCollection(boundary_lines(prob, config), colors="k", linewidths=1.5)
    ax.add_collection(contour)
    if X_val is not None:
        ax.scatter(X_val[:, 0], X_val[:, 1], s=8, c=[CLASS_COLORS[c] for c in y_val], alpha=0.35,
                   linewidths=0)
    train = ax.scatter(X_train[:, 0], X_train[:, 1], s=30, c=[CLASS_COLORS[c] for c in y_train],
                       edgecolors="k", linewidths=0.8, zorder=3)
    ax.set_xlim(*config.x_range)
    ax.set_ylim(*config.y_range)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    title_artist = ax.set_title(title, fontsize=11)
    return {"image": image, "contour": contour, "train": train, "title": title_artist}


def draw_settings(fig, runs: RegularizationRuns, settings: list[dict]) -> None:
    """A static overview: for each setting (a dict of the four slider values) its curves above its boundary.

    As in the explorer, the boundary panels show the training points (large)
    and the validation points (small, faint); one legend row sits on top.
    """
    X_pool, y_pool, X_val, y_val = regularization_data(runs.config)
    axes = fig.subplots(2, len(settings), squeeze=False)
    for k, setting in enumerate(settings):
        st = regularization_state(runs, **setting)
        title = "\n".join([f"n={st.n_train}, width={st.width}", f"wd={st.weight_decay:g}, dropout={st.dropout:g}"])
        draw_curves(axes[0, k], st.train_loss, st.val_loss, title=title, legend=False)
        if k:
            axes[0, k].set_ylabel("")
        n = st.n_train
        draw_boundary(axes[1, k], st.prob, X_pool[:n], y_pool[:n], X_val, y_val, config=runs.config,
                      title=f"val loss {st.final_val_loss:.2f} · val acc {st.val_acc[-1]:.0%}")
    curves_legend(fig, axes[0, 0])


# ---------------------------------------------------------------------------- the widget
class RegularizationExplorer(Explorer):
    """Sliders for training-set size, width, weight decay and dropout over the precomputed runs.

    Left: training and validation loss per epoch, with the lowest validation
    loss marked (where early stopping would stop). Right: the decision
    boundary after the last epoch, the training points (large) and the
    validation points (small, faint). Nothing is trained here: every slider
    position is a lookup in :class:`RegularizationRuns`.

    Speed: the figure is built once (``setup``); a redraw draws only the
    curves, the boundary and the training points (``update``) over the saved
    background: axes, labels, validation points (see
    :class:`~course_lib.plotting.BlitFigure`).
    """

    fig_width = 10.0
    fig_height = 4.5   # room for the legend row on top
    fig_dpi = 80

    def __init__(self, runs: RegularizationRuns | None = None, n_train: int = 20, width: int = 128,
                 weight_decay: float = 0.0, dropout: float = 0.0) -> None:
        self.runs = RegularizationRuns.load() if runs is None else runs
        self.X_pool, self.y_pool, self.X_val, self.y_val = regularization_data(self.runs.config)
        style = {"description_width": "120px"}
        layout = widgets.Layout(width="390px")

        def slider(name, value, description, fmt):
            options = [(fmt(v), v) for v in self.runs.grid[name]]
            value = self.runs.grid[name][self.runs.index(n_train, width, weight_decay, dropout)[list(GRID).index(name)]]
            return widgets.SelectionSlider(options=options, value=value, description=description,
                                           continuous_update=True, style=style, layout=layout)

        controls = {
            "n_train": slider("n_train", n_train, "training points", str),
            "width": slider("width", width, "hidden width", str),
            "weight_decay": slider("weight_decay", weight_decay, "weight decay", lambda v: f"{v:g}"),
            "dropout": slider("dropout", dropout, "dropout p", lambda v: f"{v:g}"),
        }
        super().__init__(controls, columns=2)

    def compute(self, n_train, width, weight_decay, dropout) -> RegularizationState:
        return regularization_state(self.runs, n_train, width, weight_decay, dropout)

    def setup(self, fig, state: RegularizationState) -> dict:
        """The whole picture; returns the artists that change with the setting."""
        ax_curves, ax_boundary = fig.subplots(1, 2)
        artists = draw_curves(ax_curves, state.train_loss, state.val_loss, title="loss per epoch (log scale)",
                              legend=False)
        curves_legend(fig, ax_curves)  # above the figure: the 20-point runs' training loss hugs the bottom
        artists.pop("title")  # the titles never change: the status line carries the numbers
        n = state.n_train
        b = draw_boundary(ax_boundary, state.prob, self.X_pool[:n], self.y_pool[:n], self.X_val, self.y_val,
                          config=self.runs.config,
                          title="decision boundary (big dots: training points)")
        artists.update({"image": b["image"], "contour": b["contour"], "train_points": b["train"]})
        return artists

    def update(self, artists: dict, state: RegularizationState) -> list:
        a = artists
        floor = LOSS_YLIM[0]
        a["train"].set_data(state.epochs, np.maximum(state.train_loss, floor))
        a["val"].set_data(state.epochs, np.maximum(state.val_loss, floor))
        a["best"].set_data([state.best_epoch], [max(state.best_val_loss, floor)])
        a["image"].set_data(state.prob)
        a["contour"].set_segments(boundary_lines(state.prob, self.runs.config))
        n = state.n_train
        a["train_points"].set_offsets(self.X_pool[:n])
        a["train_points"].set_facecolors([CLASS_COLORS[c] for c in self.y_pool[:n]])
        return list(a.values())

    def status_text(self, state: RegularizationState) -> str:
        colour = {"overfitting": "#D55E00", "underfitting": "#0072B2", "good fit": "#009E73"}[state.verdict]
        return (f"<b style='color:{colour}'>{state.verdict}</b> · after {state.epochs[-1]} epochs: "
                f"training loss {state.final_train_loss:.3f} (accuracy {state.train_acc[-1]:.0%}), "
                f"validation loss {state.final_val_loss:.3f} (accuracy {state.val_acc[-1]:.0%}), "
                f"gap {state.gap:+.3f} · lowest validation loss {state.best_val_loss:.3f} at epoch "
                f"{state.best_epoch} (early stopping would keep that model: validation accuracy "
                f"{state.best_val_acc:.0%})")
