"""Optimizers (最適化アルゴリズム), learning-rate schedules and gradient clipping.

PyTorch's names, arguments, defaults and update rules (``torch.optim``)::

    from course_lib.optim import AdamW, WarmupCosineLR, clip_grad_norm_
    opt = AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    sched = WarmupCosineLR(opt, warmup_steps=100, total_steps=2000)
    for step in range(2000):
        opt.zero_grad()
        ...forward, loss, backward...
        clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()

``clip_grad_norm_`` lives in ``torch.nn.utils`` in PyTorch. The toy 2-D
landscapes and :func:`optimizer_trajectory` (the pure function behind the
optimizer explorer) are course additions.
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .landscapes import LANDSCAPES, Landscape, get_landscape, ill_conditioned_quadratic, rosenbrock, saddle
from .lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, LRScheduler, WarmupCosineLR, warmup_cosine_lr
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .trajectory import OPTIMIZER_NAMES, Trajectory, optimizer_trajectory

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW",
    "lr_scheduler", "LRScheduler", "LambdaLR", "LinearLR", "CosineAnnealingLR", "WarmupCosineLR",
    "warmup_cosine_lr",
    "clip_grad_norm_", "clip_grad_value_",
    "Landscape", "LANDSCAPES", "get_landscape", "ill_conditioned_quadratic", "rosenbrock", "saddle",
    "optimizer_trajectory", "Trajectory", "OPTIMIZER_NAMES",
]
