"""The one small protocol every attribution method follows, and what a run hands it.

A method is one object with a ``name`` and ``run(captured, **options)``. White-box methods read
the hidden states and the LM head; black-box ones call ``captured.score`` on masked images. The
result is the method's own plain object; how it is saved and sent to the browser is the
method's business too (``to_state`` / ``from_state`` / ``wire_arrays``), so the explanation, its
file format and the wire stay the same whichever methods ran.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from ..core.layout import VisionLayout

Scorer = Callable[[np.ndarray], np.ndarray]  # (B, H, W, 3) uint8 masked images -> (B, T) probabilities
JSON = dict[str, Any]


@dataclass(frozen=True)
class Captured:
    """What one run of the model captured, for any method."""

    hidden: torch.Tensor  # (L, c) last-layer hidden states after the final norm, on the model's device
    lm_head: torch.Tensor  # (V, c) the LM head's weight
    lm_head_bias: torch.Tensor | None  # (V,) or None
    token_ids: torch.Tensor  # (L,) int64: the input, then the answer
    layout: VisionLayout  # where the vision tokens are and their grids
    prompt_positions: Sequence[int]  # (P,) the user's prompt tokens
    answer_start: int  # L0
    images: Sequence[np.ndarray]  # uint8 (H, W, 3) per image, or one (T, H, W, 3) video
    score: Scorer | None = None  # black-box methods: probabilities of the explained tokens
    candidates: torch.Tensor | None = None  # token ids whose maps to keep too: the top-k of every answer step
    explained_positions: Sequence[int] | None = None  # black-box methods: the positions ``score`` reads
    layer_hidden: Mapping[int, torch.Tensor] = field(default_factory=dict)  # (L, c) per extra layer, normed
    n_layers: int | None = None  # the decoder's layer count, when layers were captured


@runtime_checkable
class Method(Protocol):
    """An attribution method: computes its result from a :class:`Captured` run."""

    name: str
    title: str  # how the page and the docs name it
    # (optional class attributes, read with getattr: ``needs_scorer`` - explain builds ``captured.score``;
    # ``explain_options`` - the names of explain()'s own keywords the method takes, e.g. TAM's kernel;
    # ``streamable`` - the wire arrays a notebook page may take in row blocks (display/stream.py): each either
    # one row per item, of which an item's map reads rows 0..item, or read only by the candidate maps)

    def run(self, captured: Captured, **options: Any) -> Any:
        """The method's result for every explained item."""
        ...

    def to_state(self, result: Any) -> tuple[dict[str, torch.Tensor], JSON]:
        """``(tensors, header)`` that :meth:`from_state` turns back into ``result`` (safetensors + JSON)."""
        ...

    def from_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> Any:
        """The result saved by :meth:`to_state`."""
        ...

    def wire_arrays(self, result: Any, exp: Any = None) -> tuple[dict[str, np.ndarray], JSON]:
        """``(arrays, extra)``: the little-endian arrays the browser recomputes views from, and small JSON.
        ``exp``: the :class:`~tam_widget.Explanation` being shown (its views and items), when there is one."""
        ...
