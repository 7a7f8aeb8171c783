"""Optimizer: the base class every optimizer in ``course_lib.optim`` builds on.

An optimizer owns a list of *parameter groups*. Each group is a dict holding
``"params"`` (a list of :class:`~course_lib.nn.Parameter`) and the
hyperparameters used for those parameters (``"lr"``, ``"weight_decay"``, ...).
One group is the usual case; several groups give different settings to
different parameters, e.g. no weight decay on biases and normalization gains,
as GPT training does::

    decay    = [p for name, p in model.named_parameters() if p.data.ndim >= 2]
    no_decay = [p for name, p in model.named_parameters() if p.data.ndim < 2]
    opt = AdamW([{"params": decay, "weight_decay": 0.1},
                 {"params": no_decay, "weight_decay": 0.0}], lr=3e-4)

A training step is always the same three lines (as in PyTorch)::

    opt.zero_grad()          # forget the previous gradients
    loss = ...; backward     # layers ADD dLoss/dParameter into p.grad
    opt.step()               # update every p.data IN PLACE from p.grad

``state`` is a dict keyed by Parameter holding what an optimizer remembers
between steps (momentum buffers, Adam's moment estimates, the step count).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

from ..nn.parameter import Parameter


class Optimizer:
    """Base class of all optimizers (PyTorch: ``torch.optim.Optimizer``).

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        The parameters to optimize (e.g. ``model.parameters()``), or a list of
        dicts, each with a ``"params"`` entry and optional per-group settings
        that override ``defaults``.
    defaults : dict
        Default hyperparameters, used by every group that does not set them.

    Subclasses implement :meth:`step` and :meth:`_check_group` (which raises
    ``ValueError`` for a bad hyperparameter). Differences from PyTorch, all
    deliberate:

    * ``Parameter.grad`` is always an array (zeros after ``zero_grad()``), so a
      parameter is skipped only when ``requires_grad`` is False (PyTorch skips
      ``grad is None``).
    * Hyperparameters of every group are validated, not only the constructor's
      arguments, and a parameter listed twice in one group is an error (PyTorch
      only warns).
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        name = type(self).__name__
        if isinstance(params, Parameter):
            raise TypeError(
                f"{name}: params should be an iterable of Parameters or dicts, but got a "
                "single Parameter (wrap it in a list: [param])"
            )
        if hasattr(params, "named_parameters"):
            raise TypeError(
                f"{name}: params should be an iterable of Parameters or dicts, but got "
                f"{type(params).__name__} (did you mean model.parameters()?)"
            )
        if isinstance(params, set):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, but "
                "the ordering of parameters in sets changes between runs. Please use a list instead."
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (PyTorch: same name).

        Missing settings are filled from ``defaults``. Useful to unfreeze layers
        while training: ``opt.add_param_group({"params": head.parameters(), "lr": 1e-4})``.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        group = dict(param_group)  # our own copy: never mutate the caller's dict
        params = group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, but "
                "the ordering of parameters in sets changes between runs. Please use a list instead."
            )
        params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{name}: optimizer can only optimize Parameters, "
                    f"but one of the params is {type(p).__module__}.{type(p).__name__}"
                )
        if len(params) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group contains the same Parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group["params"] = params

        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError if a hyperparameter of ``group`` is invalid (subclasses)."""

    # ------------------------------------------------------------------ the API
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset ``.grad`` of every parameter to zeros (call it before each backward).

        ``set_to_none`` is accepted for PyTorch compatibility and ignored: a
        course_lib gradient is always an array, so "reset" means zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad()

    def step(self, closure: Callable[[], float] | None = None):  # pragma: no cover - abstract
        """Update every parameter once from its ``.grad``; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _params_with_grad(self, group: dict[str, Any]) -> list[Parameter]:
        """The parameters of ``group`` that take part in a step."""
        return [p for p in group["params"] if p.requires_grad]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------- checks
def _check_nonnegative(optimizer: str, value, what: str) -> None:
    """PyTorch-style check: ``not 0.0 <= value`` also rejects NaN."""
    if not 0.0 <= value:
        raise ValueError(f"{optimizer}: Invalid {what}: {value}")
