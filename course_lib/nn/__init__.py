"""Layers, losses and their plumbing, with PyTorch's names (``torch.nn``)."""
from . import functional, init
from .activation import GELU, ReLU, Sigmoid, Tanh
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Identity, Module, ModuleList, Sequential
from .normalization import BatchNorm1d, LayerNorm, RMSNorm
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .rnn import LSTM, RNN, LSTMCell, RNNCell
from . import utils  # noqa: E402  nn.utils.clip_grad_norm_, as torch.nn.utils (after Parameter: no cycle)

__all__ = [
    "functional", "init", "utils",
    "Parameter", "Module", "Sequential", "ModuleList", "Identity",
    "Linear", "Embedding", "ReLU", "Sigmoid", "Tanh", "GELU",
    "Dropout", "BatchNorm1d", "LayerNorm", "RMSNorm",
    "MSELoss", "CrossEntropyLoss",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
    "RNNCell", "LSTMCell", "RNN", "LSTM",
]
