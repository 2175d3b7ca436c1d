"""Other classes' maps at an item: "why this token and not that one".

A class's raw TAM map depends on the class only (the vision tokens come before every item), and
its text activations on the class and the items' relevance positions only; just the ECI context
(earlier items with another token) depends on the item. So the candidates of every answer step
are kept once, as a set of classes with their raw maps and text activations, and
:meth:`tam_widget.core.TAMResult.class_maps` turns any of them into the map it has at any item,
with the item's own ECI, normalisation and filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class CandidateSet:
    """Classes besides the items' own, with what their maps are computed from.

    ``classes``: ``(U,)`` int64, sorted and distinct, none of them an item's class (those are read
    from the items); ``A``: ``(U, n_v)`` raw maps; ``R``: ``(U, T)`` activations at every item's
    relevance position (``R[u, k]`` as ``TAMResult.R[v, k]`` for an item of class ``classes[u]``).
    """

    classes: torch.Tensor
    A: torch.Tensor
    R: torch.Tensor

    @property
    def n_classes(self) -> int:
        """``U``: how many classes the set holds."""
        return int(self.classes.numel())

    def index(self, classes: torch.Tensor) -> torch.Tensor:
        """Row of each class in this set, ``-1`` where it is not held."""
        classes = classes.to(self.classes.device)
        at = torch.searchsorted(self.classes, classes).clamp(max=max(self.n_classes - 1, 0))
        found = self.classes[at] == classes if self.n_classes else torch.zeros_like(classes, dtype=torch.bool)
        return torch.where(found, at, torch.full_like(at, -1))

    def to(self, device: str | torch.device) -> CandidateSet:
        """A copy on ``device``."""
        return CandidateSet(self.classes.to(device), self.A.to(device), self.R.to(device))


def extra_classes(candidates: Sequence[int] | torch.Tensor, classes: torch.Tensor, vocab: int) -> torch.Tensor:
    """The distinct candidate ids that are not already item classes, sorted; ``ValueError`` outside ``[0, vocab)``."""
    ids = torch.as_tensor(candidates).reshape(-1).long().cpu()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
        raise ValueError(
            f"candidates must be token ids in [0, {vocab}) (rows of the LM head), got values from "
            f"{int(ids.min())} to {int(ids.max())}."
        )
    ids = torch.unique(ids)
    kept: torch.Tensor = ids[~torch.isin(ids, classes.cpu())]
    return kept


def candidate_set(act: torch.Tensor, n_vision: int, classes: torch.Tensor) -> CandidateSet:
    """The set from ``act``: ``(n_v + T, U)`` class activations at the vision, then the relevance positions."""
    return CandidateSet(classes.to(act.device), act[:n_vision].T.contiguous(), act[n_vision:].T.contiguous())
