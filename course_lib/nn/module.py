"""Module: the protocol every layer follows, and the containers built on it.

The contract (the same for every layer in the course):

* ``forward(x)`` computes the output and keeps what ``backward`` will need
  (the *cache*).
* ``backward(grad_out)`` takes dLoss/dOutput (same shape as the output),
  **adds** dLoss/dParameter into each ``Parameter.grad`` and **returns**
  dLoss/dInput (same shape as the input). It never modifies its arguments.
* ``backward(grad_out, input_grad=False)`` adds exactly the same parameter
  gradients but skips dLoss/dInput and returns ``None``. Use it on the first
  layer of a network whose input is data: nobody needs the gradient of the
  data, so there is no reason to compute it (for a ``Linear`` layer that saves
  one matrix product). PyTorch does the same: it does not compute the gradient
  of a tensor that does not require one. ``Sequential`` hands ``input_grad`` to
  its **first** child only; the later ones always need their input gradient.
  The default ``input_grad=True`` is the plain call above; any value other
  than ``True`` or ``False`` is a ``TypeError``.
* Calling a module is calling ``forward``: ``y = layer(x)``.

Caches. A module keeps the cache of its **last** forward call only: a
second forward replaces it. That is all a layer needs when it runs once per
forward pass, and it covers the two other ways a network reuses weights:

* tied weights (the same matrix in two places): share the ``Parameter``
  between two modules; each keeps its own cache, and the gradients add up in
  ``Parameter.grad``;
* a residual branch ``y = x + f(x)``: the owner calls ``f`` once and adds
  ``f.backward(g)`` to ``g`` itself.

A module called **several times** in one forward pass whose calls are
backpropagated one by one, such as an RNN cell driven by a loop over time
steps (``nn.RNNCell``, ``nn.LSTMCell``), keeps a **stack** of caches instead:
each ``forward`` pushes one, each ``backward`` pops the latest. So the backward
calls go in the reverse order of the forward calls, step T first, exactly the
order backpropagation through time walks; a backward without a matching
forward raises. ``clear_cache()`` drops forward calls that will not be
backpropagated (generating text step by step). ``nn.RNN``/``nn.LSTM`` run the
whole time loop inside one forward call, so their one cache holds every step.

Several inputs and outputs. A module whose forward takes several arrays (an
RNN's input ``x`` and initial state ``hx``) or returns several (its output and
final state) gets its ``grad_out`` in the shape of what forward returned (a
tuple, with ``None`` for an output the loss does not use) and returns one
gradient per input, in a tuple in the order of forward's arguments;
``input_grad=False`` puts ``None`` in the place of the first (the data).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from .parameter import Parameter


class Module:
    """Base class of all layers (PyTorch: ``torch.nn.Module``).

    Parameters and sub-modules assigned as attributes are registered
    automatically, in assignment order, so ``named_parameters()`` yields
    dotted names such as ``"0.weight"`` or ``"blocks.1.fc.bias"``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        params, modules = d["_parameters"], d["_modules"]
        if name in params or name in modules:  # re-registered below, at the end, if still one
            params.pop(name, None)
            modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (``None`` registers nothing, as for ``bias=False``)."""
        if param is None:
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out, input_grad: bool = True):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "", memo: set | None = None) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(name, module)`` for this module and every sub-module, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        yield from self._modules.items()

    def children(self) -> Iterator["Module"]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, Parameter)``. A shared Parameter is yielded once, under its first name."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, mod in mods:
            for name, p in mod._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def num_parameters(self) -> int:
        """Total number of scalar parameters (shared ones counted once)."""
        return sum(p.data.size for p in self.parameters())

    # ------------------------------------------------------------------ state
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=True``) or evaluation mode, recursively. Returns ``self``."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train() expects a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``. Dropout turns off; BatchNorm uses running statistics."""
        return self.train(False)

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter (and buffer) keyed by dotted name."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = p.data.copy()
        for mod_name, mod in self.named_modules():
            for bname in getattr(mod, "_buffer_names", ()):
                out[f"{mod_name}.{bname}" if mod_name else bname] = np.array(getattr(mod, bname), copy=True)
        return out

    def load_state_dict(self, state: dict) -> None:
        """Copy values from ``state`` (as made by ``state_dict``) into this module, checking names and shapes."""
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        params = dict(self.named_parameters())
        for name, value in state.items():
            value = np.asarray(value)
            if value.shape != own[name].shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: '{name}' expects shape {own[name].shape}, got {value.shape}"
                )
            if name in params:
                params[name].data[...] = value
            else:
                mod_name, _, bname = name.rpartition(".")
                mod = dict(self.named_modules())[mod_name]
                getattr(mod, bname)[...] = value

    def to(self, dtype) -> "Module":
        """Cast every parameter (and its gradient) to ``dtype`` in place. Returns ``self``."""
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{type(self).__name__}.to() expects a floating dtype, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = p.grad.astype(dtype)
        for m in self.modules():
            for bname in getattr(m, "_buffer_names", ()):
                buf = getattr(m, bname)
                if isinstance(buf, np.ndarray) and np.issubdtype(buf.dtype, np.floating):
                    object.__setattr__(m, bname, buf.astype(dtype))
        return self

    def double(self) -> "Module":
        """Cast to float64 (as for gradient checks)."""
        return self.to(np.float64)

    def float(self) -> "Module":
        """Cast to float32 (as for faster training)."""
        return self.to(np.float32)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: a one-line extra_repr and no children stay on one line;
        # otherwise extra_repr and each child get an indented line of their own.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            child_lines.append(f"({name}): {child_repr}")
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    # ------------------------------------------------------------------ helpers for layers
    def _require_cache(self, cache):
        """Raise the course's standard error when backward comes before forward."""
        if cache is None:
            raise RuntimeError(f"{self._name()}: backward() called before forward()")
        return cache

    def _check_grad_out(self, grad_out, expected_shape) -> np.ndarray:
        grad_out = np.asarray(grad_out)
        if grad_out.shape != tuple(expected_shape):
            raise ValueError(
                f"{self._name()}.backward expects grad_out of the output's shape "
                f"{tuple(expected_shape)}, got {grad_out.shape}"
            )
        return grad_out

    def _check_input_grad(self, input_grad) -> None:
        """``input_grad`` must be exactly True or False (1, None or "no" are mistakes, not switches)."""
        if input_grad is not True and input_grad is not False:
            raise TypeError(
                f"{self._name()}.backward expects input_grad to be True or False, got {input_grad!r}"
            )

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def clear_cache(self) -> None:
        """Empty the cache stacks of this module's sub-modules (an RNN cell's forward calls not yet
        backpropagated). A module with one cache keeps it: its next forward replaces it anyway."""
        for child in self.children():
            child.clear_cache()


class Sequential(Module):
    """Run modules one after another; ``backward`` runs them in reverse order.

    ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))`` names its children
    ``"0"``, ``"1"``, ``"2"`` as PyTorch does.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential expects Module arguments, argument {i} is {type(m).__name__}")
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(*mods[idx])
        return mods[idx]

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def backward(self, grad_out, input_grad: bool = True):
        """Backward through the children in reverse order.

        Only the first child gets ``input_grad`` (its input is the Sequential's
        input); every later child must return its input gradient, because the
        child before it needs it. Returns what the first child returns.
        """
        self._check_input_grad(input_grad)
        mods = list(self._modules.values())
        if not mods:  # an empty Sequential is the identity
            return grad_out if input_grad else None
        for m in reversed(mods[1:]):
            grad_out = m.backward(grad_out)
        if input_grad:
            return mods[0].backward(grad_out)  # the plain call: any Module works here
        return mods[0].backward(grad_out, input_grad=False)


class ModuleList(Module):
    """A list of modules whose parameters are registered (PyTorch: ``nn.ModuleList``).

    It has no forward: the owner decides how to call its members.
    """

    def __init__(self, modules=()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList expects Module items, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int) -> Module:
        return list(self._modules.values())[idx]


class Identity(Module):
    """Returns its input unchanged (handy as a placeholder, e.g. 'no normalization')."""

    def forward(self, x):
        return x

    def backward(self, grad_out, input_grad: bool = True):
        self._check_input_grad(input_grad)
        return grad_out if input_grad else None
