"""``compute_tam``: every item's Token Activation Map in one pass over the hidden states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .. import params
from .activation import argmax_class, class_logits, class_rows, position_logits
from .candidates import candidate_set, extra_classes
from .eci import interference
from .items import plan_items
from .layout import VisionLayout
from .result import TAMResult


@dataclass(frozen=True)
class TAMInputs:
    """The tensors a model hands to :func:`compute_tam`, kept together (golden and synthetic cases)."""

    hidden: torch.Tensor  # (L, c)
    lm_head: torch.Tensor  # (V, c)
    token_ids: torch.Tensor  # (L,)
    vision: VisionLayout
    prompt_positions: torch.Tensor  # (P,)
    answer_start: int

    def compute(self, **kwargs: Any) -> TAMResult:
        """:func:`compute_tam` on these inputs; keyword options pass through."""
        return compute_tam(
            self.hidden, self.lm_head, self.token_ids, self.vision, self.prompt_positions, self.answer_start, **kwargs
        )


def compute_tam(
    hidden: torch.Tensor,
    lm_head: torch.Tensor,
    token_ids: Sequence[int] | torch.Tensor,
    vision: VisionLayout,
    prompt_positions: Sequence[int] | torch.Tensor,
    answer_start: int,
    *,
    lm_head_bias: torch.Tensor | None = None,
    token_texts: Sequence[str] | None = None,
    reference_quirks: bool = True,
    kernel: int = 3,
    candidates: Sequence[int] | torch.Tensor | None = None,
) -> TAMResult:
    """Compute TAM for all ``T = P + N`` items at once.

    ``hidden``: ``(L, c)`` last-layer hidden states after the final norm, any float dtype, any
    device; ``lm_head``: ``(V, c)`` (its bias, if any, as ``lm_head_bias``); ``token_ids``:
    ``(L,)``; ``vision``: the vision positions and grids; ``prompt_positions``: ``(P,)`` the
    user's prompt tokens; ``answer_start``: ``L0``; ``token_texts``: one string per position,
    used for the repeated-word rule (token-id equality when omitted); ``candidates``: token ids
    (e.g. the top-k of every answer step) whose maps :meth:`TAMResult.class_maps` can show at any
    item, one more LM-head row each, read at the vision and relevance positions only.

    The work is one full-vocabulary row (the argmax at ``q_0``), the ``(T, c) x (c, n_v + T)``
    products of the class rows with the vision and relevance hidden states, written straight into
    ``A`` and ``R``, and ``E = Omega @ A``; all of it stays on ``hidden``'s device. Peak extra memory:
    the result (``A``, ``E``: ``T x n_v``; ``Omega``, ``R``: ``T x T``, float32) plus the ``(T, c)``
    class rows, the ``(T, T)`` context mask and ``O(4096 x c)`` for gathered or converted hidden states.
    """
    kernel = params.kernel(kernel)
    hidden, lm_head = hidden.detach(), lm_head.detach()  # inference only (worker threads do not see no_grad)
    lm_head_bias = lm_head_bias.detach() if lm_head_bias is not None else None
    ids = torch.as_tensor(token_ids).reshape(-1).long().cpu()
    q = torch.as_tensor(prompt_positions).reshape(-1).long().cpu()
    _validate(hidden, lm_head, ids, vision, q, answer_start, token_texts, lm_head_bias)
    plan = plan_items(ids, q, answer_start, token_texts, reference_quirks)
    classes = plan.classes.clone()
    if plan.argmax_first:
        classes[0] = argmax_class(hidden[int(q[0])], lm_head, lm_head_bias)
    device = hidden.device
    A, R_all = _activations(hidden, lm_head, lm_head_bias, classes, vision.positions, plan.relevance_positions)
    context = plan.context.to(device)
    E, s, omega = interference(A, R_all, context)
    has_context = context.any(dim=1)
    extra = None
    if candidates is not None:
        ids_u = extra_classes(candidates, classes, lm_head.shape[0])
        used = torch.cat([vision.positions, plan.relevance_positions]).to(device)
        cand = torch.relu(class_logits(hidden[used], lm_head, ids_u, lm_head_bias))
        bad = ids_u[(~torch.isfinite(cand).all(dim=0)).cpu()]
        if bad.numel():
            raise ValueError(f"The LM head gives NaN or inf for candidate token ids {bad.tolist()[:10]}.")
        extra = candidate_set(cand, vision.n_tokens, ids_u)
    return TAMResult(
        A=A,
        E=E,
        omega=omega,
        scale=torch.where(has_context, s, torch.nan),
        R=R_all,
        n_visible=plan.n_visible.to(device),
        classes=classes.to(device),
        token_ids=plan.token_ids.to(device),
        layout=vision,
        n_prompt=plan.n_prompt,
        n_answer=plan.n_answer,
        kernel=kernel,
        candidates=extra,
    )


def _activations(
    hidden: torch.Tensor,
    lm_head: torch.Tensor,
    bias: torch.Tensor | None,
    classes: torch.Tensor,
    vision: torch.Tensor,
    relevance: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``A``: ``(T, n_v)`` and ``R``: ``(T, T)`` (``R[v, k]``: item ``v``'s class at item ``k``'s
    relevance position), ``relu`` of the logits, checked finite first."""
    rows = class_rows(lm_head, classes, hidden.device)
    if bias is not None:
        bias = bias[classes.to(bias.device)].to(hidden.device, torch.float32)
    A = position_logits(hidden, rows, vision, bias)
    R = position_logits(hidden, rows, relevance, bias)
    _check_finite(A, R, vision, relevance)
    return A.clamp_(min=0), R.clamp_(min=0)


def _validate(
    hidden: torch.Tensor,
    lm_head: torch.Tensor,
    ids: torch.Tensor,
    vision: VisionLayout,
    q: torch.Tensor,
    answer_start: int,
    token_texts: Sequence[str] | None,
    bias: torch.Tensor | None,
) -> None:
    if hidden.ndim != 2 or lm_head.ndim != 2:
        raise ValueError(
            f"hidden must be (L, c) and lm_head (V, c); got {tuple(hidden.shape)} and {tuple(lm_head.shape)}. "
            "Drop the batch dimension (hidden[0]) and pass lm_head.weight."
        )
    if not hidden.is_floating_point() or not lm_head.is_floating_point():
        raise ValueError(f"hidden and lm_head must be floating point, got {hidden.dtype} and {lm_head.dtype}.")
    length, width = hidden.shape
    if lm_head.shape[1] != width:
        raise ValueError(
            f"hidden has width {width} but lm_head rows have width {lm_head.shape[1]}: "
            "pass the LM head of the same model."
        )
    if bias is not None and bias.shape != (lm_head.shape[0],):
        raise ValueError(f"lm_head_bias must be ({lm_head.shape[0]},), got {tuple(bias.shape)}.")
    if ids.numel() != length:
        raise ValueError(f"token_ids has {ids.numel()} entries but hidden has {length} positions; they must match.")
    if token_texts is not None and len(token_texts) != length:
        raise ValueError(
            f"token_texts has {len(token_texts)} entries but there are {length} positions; give one per position."
        )
    if not 1 <= answer_start <= length:
        raise ValueError(f"answer_start must be in [1, {length}] (the first answer position), got {answer_start}.")
    vis, n_answer = vision.positions, length - answer_start
    if q.numel() + n_answer == 0:
        raise ValueError("Nothing to explain: no prompt positions and no answer tokens.")
    if vis.numel() and int(vis.max()) >= answer_start:
        raise ValueError(
            f"Vision position {int(vis.max())} is not before the answer start {answer_start}: vision tokens must be "
            "part of the input. Check that the positions and grids come from the same processor output."
        )
    if q.numel():
        if int(q.min()) < 0 or int(q.max()) >= answer_start:
            raise ValueError(f"Prompt positions must lie in [0, {answer_start}) (before the answer), got {q.tolist()}.")
        clash = sorted(set(q.tolist()) & set(vis.tolist()))
        if clash:
            raise ValueError(
                f"Positions {clash[:8]} are both prompt and vision positions; the two sets must be disjoint."
            )


def _check_finite(A: torch.Tensor, R: torch.Tensor, vision: torch.Tensor, relevance: torch.Tensor) -> None:
    """NaN or inf in a used hidden state always reaches its class logits, so check those: one sum
    each (a non-finite entry makes it non-finite), then the columns only when one is not."""
    if bool(torch.isfinite(A.sum() + R.sum())):
        return
    bad_cols = [pos[(~torch.isfinite(x).all(dim=0)).cpu()] for x, pos in ((A, vision), (R, relevance))]
    bad = sorted(set(torch.cat(bad_cols).tolist()))
    if not bad:
        return  # the sums overflowed, no entry did
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    raise ValueError(
        f"The hidden states hold NaN or inf at positions {bad[:10]}{more}. This usually means the model "
        "overflowed (float16): load it in bfloat16 or float32 and explain again."
    )
