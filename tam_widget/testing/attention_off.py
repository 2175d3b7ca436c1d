"""The model side of the orientation check: a forward with every attention output zeroed
(:func:`position_local`), the final norm's output it makes (:func:`final_states`), and which cells of
a view differ between two such passes (:func:`changed_cells`). See :mod:`tam_widget.testing.orientation`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from ..families.base import View


@contextlib.contextmanager
def position_local(model: Any) -> Iterator[None]:
    """Within the block every attention output of ``model`` (vision tower and language model) is zero."""

    def zero(module: Any, args: Any, out: Any) -> Any:
        return (torch.zeros_like(out[0]), *out[1:]) if isinstance(out, tuple) else torch.zeros_like(out)

    hooks = [m.register_forward_hook(zero) for m in model.modules() if type(m).__name__.endswith("Attention")]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def final_states(model: Any, run: Callable[[], Any], norm: Any = None) -> tuple[Any, torch.Tensor]:
    """``run()`` with attention off: its result, and the final norm's output ``(L, H)`` of its first forward."""
    recorded: list[torch.Tensor] = []
    module = norm if norm is not None else model.get_decoder().norm
    handle = module.register_forward_hook(lambda m, a, o: recorded.append(o[0].detach().float().cpu().clone()))
    try:
        with position_local(model), torch.no_grad():
            out = run()
    finally:
        handle.remove()
    if not recorded:
        raise RuntimeError("The final norm never ran: run() made no forward pass of this model.")
    return out, recorded[0]


def changed_cells(before: torch.Tensor, after: torch.Tensor, view: View, rtol: float = 1e-4) -> np.ndarray:
    """Which cells of ``view`` (shape ``view.grid``) hold different final states in the two passes."""
    pos = torch.tensor(view.positions)
    diff = (before[pos] - after[pos]).abs().amax(dim=-1).reshape(view.grid)
    return (diff > rtol * before.abs().max()).numpy()
