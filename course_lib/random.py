"""The course's default random generator (PyTorch: ``torch.manual_seed``).

Every function in course_lib that draws random numbers takes
``generator: np.random.Generator | None``. ``None`` means "use the default
generator", which ``manual_seed(seed)`` resets, so a notebook that starts
with ``course_lib.manual_seed(0)`` gives the same numbers on every machine.
"""
from __future__ import annotations

import numpy as np

_default = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the default generator to ``seed`` and return it."""
    global _default
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _default = np.random.default_rng(int(seed))
    return _default


def default_generator() -> np.random.Generator:
    """The generator used when a function is given ``generator=None``."""
    return _default


def resolve(generator: np.random.Generator | None) -> np.random.Generator:
    """``generator`` itself, or the default generator when it is ``None``."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"expected a numpy Generator (np.random.default_rng(seed)), got {type(generator).__name__}"
        )
    return generator
