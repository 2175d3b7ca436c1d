"""What a view opens on: the item (:func:`first_item`), the decoder layer (:func:`default_layer`) and a
comparison's row (:func:`default_row`); the widget, the exported page and the comparisons share them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .signal import NOISE_FLOOR, strength

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..explanation import Explanation


def default_layer(explanation: Explanation) -> int:
    """The layer shown first: the last (``-1`` when the explanation kept no other)."""
    return explanation.layers[-1] if _layers(explanation) else -1


def _layers(explanation: Any) -> list[int]:
    """The explanation's kept layers, ``[]`` for one without (or without TAM)."""
    return list(getattr(explanation, "layers", []) or [])


def first_item(explanation: Explanation) -> int:
    """The item shown first: the answer token with the strongest visual signal (the largest raw-map peak,
    :func:`~tam_widget.display.signal.strength`), special tokens (the end of turn) left out; the first
    answer token when every answer token is below the noise floor or there is no TAM result; item 0
    without an answer. When the method shown first explained only some answer tokens (its result's
    ``positions``, EAGLE's ``tokens=``), the item is one of those."""
    if not explanation.n_answer:
        return 0
    start = explanation.n_prompt
    positions = explanation.item_positions
    answer = list(range(start, start + explanation.n_answer))
    # a method that explained only some tokens (EAGLE's tokens=...) opens on one of them
    named = set(getattr(explanation.result, "positions", ()) or ())
    answer = [i for i in answer if positions[i] in named] or answer
    first = answer[0]
    s = strength(explanation)
    if s is None:
        return first
    special = explanation.special
    shown = [i for i in answer if not special[positions[i]] and s[i] >= NOISE_FLOOR]
    return max(shown, key=lambda i: (s[i], -i)) if shown else first  # ties: the earliest


def default_row(comparison: Comparison) -> int:
    """The row of side a's first item (:func:`first_item`) in a comparison (CompareWidget's and the what-if's)."""
    item = first_item(comparison.a)
    return next((k for k, r in enumerate(comparison.rows) if r.a == item), 0)
