"""PyTorch's import path for gradient clipping: ``torch.nn.utils.clip_grad_norm_``."""
from ..optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
