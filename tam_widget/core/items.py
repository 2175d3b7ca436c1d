"""Which items TAM explains, which class each one uses, and which text each one sees.

Pure index logic on token ids and positions (no hidden states), following the table
*The explained items* of the TAM specification: items ``0..P-1`` are the prompt tokens,
items ``P..P+N-1`` the answer tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ItemPlan:
    n_prompt: int  # P
    n_answer: int  # N
    token_ids: torch.Tensor  # (T,) the token shown for each item
    classes: torch.Tensor  # (T,) LM-head row of each item; item 0 is -1 until resolved by argmax
    relevance_positions: torch.Tensor  # (T,) where entry k of any R_v is measured
    n_visible: torch.Tensor  # (T,) item v's text relevance covers items 0..n_visible[v]-1
    context: torch.Tensor  # (T, T) bool: item k is interference for item v (ECI)
    argmax_first: bool  # item 0's class is the model's own prediction at q_0 (reference quirk 2)

    @property
    def n_items(self) -> int:
        """``T = P + N``: the number of explained items."""
        return self.n_prompt + self.n_answer


def plan_items(
    token_ids: torch.Tensor,
    prompt_positions: torch.Tensor,
    answer_start: int,
    token_texts: Sequence[str] | None = None,
    reference_quirks: bool = True,
) -> ItemPlan:
    """Build the item plan; ``token_ids`` is ``(L,)``, ``prompt_positions`` is ``(P,)``.

    ``reference_quirks=True`` (the default) is TAM as published. ``False`` is the corrected
    variant: item ``P`` uses the first generated token, item 0 the token at ``q_0``, and every
    item's text relevance covers only strictly earlier items.
    """
    ids = token_ids.reshape(-1).cpu().long()
    q = prompt_positions.reshape(-1).cpu().long()
    length, n_prompt = ids.numel(), q.numel()
    n_answer = length - answer_start
    answer = torch.arange(answer_start, length)
    shown = torch.cat([q, answer])  # position of the token each item displays
    classes = ids[shown].clone()
    if reference_quirks and n_answer > 0:
        classes[n_prompt] = ids[answer_start - 1]  # quirk 1: the last input token's id
    argmax_first = reference_quirks and n_prompt > 0
    if argmax_first:
        classes[0] = -1  # quirk 2: resolved from the logits at q_0
    relevance_positions = torch.cat([q, answer - 1])
    n_items = n_prompt + n_answer
    v = torch.arange(n_items)[:, None]
    k = torch.arange(n_items)[None, :]
    # quirk 3: prompt items and item P see all prompt items; otherwise strictly earlier items
    n_visible = torch.clamp(v[:, 0], min=n_prompt) if reference_quirks else v[:, 0].clone()
    texts = _text_keys(ids[shown], None if token_texts is None else [token_texts[int(p)] for p in shown])
    context = (k < v) & (texts[None, :] != texts[:, None])
    return ItemPlan(n_prompt, n_answer, ids[shown], classes, relevance_positions, n_visible, context, argmax_first)


def _text_keys(ids: torch.Tensor, texts: list[str] | None) -> torch.Tensor:
    """One integer per item such that equal keys mean equal token text."""
    if texts is None:
        return ids
    index: dict[str, int] = {}
    return torch.tensor([index.setdefault(t, len(index)) for t in texts], dtype=torch.long)
