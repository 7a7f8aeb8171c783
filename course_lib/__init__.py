"""course_lib: the numpy library the course builds, one concept per class.

    from course_lib import nn
    layer = nn.Linear(4, 3)

Names and semantics follow PyTorch so that what you learn here carries over.
"""
from . import lm, nn, optim, sampling, text
from .random import default_generator, manual_seed

__version__ = "0.1.0"
__all__ = ["nn", "optim", "text", "lm", "sampling", "manual_seed", "default_generator"]
