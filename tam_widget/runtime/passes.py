"""The one pass: ``model.generate`` (or one teacher-forced forward) with the capture hooks on.

:func:`run` returns a :class:`Pass`: the whole sequence, the last-layer hidden state of every
position, the top candidates and the chosen token's probability at every answer step, all from
that single pass.

Two things make a pass safe to repeat and to share. The model runs in eval mode for the pass
(dropout off, so two identical calls give identical maps) and gets its own modes back after it,
also when the pass raises. The capture hooks sit on the model's own modules, so two passes on
one model at the same time would each capture the other's forwards: a per-model lock
(:func:`model_lock`) makes them take turns. Both are :mod:`.pass_guard`'s; the tokens a pass reads
and where its answer stops (``answer_token_ids``, ``check_context``, ``stop_ids``, ``answer_length``,
``to_device``) are :mod:`.pass_tokens`'s. Their names are re-exported here.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..families.base import Family
from .capture import Capture, softcap_of
from .pass_guard import _LOCKS as _LOCKS
from .pass_guard import eval_mode as eval_mode
from .pass_guard import model_lock as model_lock
from .pass_tokens import answer_length as answer_length
from .pass_tokens import answer_token_ids as answer_token_ids
from .pass_tokens import check_context as check_context
from .pass_tokens import stop_ids as stop_ids
from .pass_tokens import to_device as to_device


@dataclass(frozen=True)
class Pass:
    """What one pass produced, trimmed to the explained sequence of ``L`` positions."""

    sequence: torch.Tensor  # (L,) int64 on the CPU: input, then the kept answer
    hidden: torch.Tensor  # (L, c) last-layer hidden states after the final norm, on the model's device
    top_probs: torch.Tensor  # (N, k) the k most likely tokens' probabilities at each answer step
    top_ids: torch.Tensor  # (N, k)
    mode: str  # "generate" or "teacher-forced"
    seconds: float
    stopped: bool  # generation reached an end-of-sequence token (kept as the last answer token with reference quirks)
    chosen_probs: torch.Tensor  # (N,) float32 on the CPU: the full-vocabulary probability of each answer token
    was_training: bool  # the model was in train mode before the pass (it ran in eval mode, then got its modes back)
    layer_hidden: dict[int, torch.Tensor] = field(default_factory=dict)  # (L, c) per extra layer, after the final norm


def run(
    model: Any,
    family: Family,
    inputs: dict[str, Any],
    tokenizer: Any,
    *,
    answer: str | Sequence[int] | None,
    max_new_tokens: int,
    top_k: int,
    generate_kwargs: Mapping[str, Any],
    reference_quirks: bool = True,
    layers: Sequence[int] = (),
) -> Pass:
    """Generate (``answer=None``) or teacher-force ``answer``, capturing every position once.

    With ``reference_quirks`` (TAM as published) a generated end-of-sequence token is an answer
    token like any other, as the reference explains it; without, the answer stops before it.
    Passes on one model take turns (:func:`model_lock`) and run in eval mode. ``layers``: decoder
    layers whose outputs are captured too, in the same pass (after the final norm).
    """
    L0 = int(inputs["input_ids"].shape[1])
    cap = Capture(model, top_k=top_k, softcap=softcap_of(model.config), layers=layers)
    stopped = False
    with model_lock(model), eval_mode(model) as was_training:
        t0 = time.perf_counter()
        if answer is None:
            seq, _ = generate(model, inputs, cap, max_new_tokens, dict(generate_kwargs))
            stop = stop_ids(model, generate_kwargs)
            n_keep, stopped = answer_length(seq[L0:], stop, keep_stop=reference_quirks)
        else:
            seq, n_keep = teacher_force(model, family, inputs, cap, tokenizer, answer)
        seconds = time.perf_counter() - t0
    L = L0 + n_keep
    hidden = _fit(cap.hidden(), L)
    probs, ids = cap.top()
    return Pass(
        sequence=seq[:L],
        hidden=hidden,
        top_probs=probs[:n_keep],
        top_ids=ids[:n_keep],
        mode="generate" if answer is None else "teacher-forced",
        seconds=seconds,
        stopped=stopped,
        chosen_probs=cap.chosen()[:n_keep],
        was_training=was_training,
        layer_hidden={layer: _fit(h, L) for layer, h in cap.layer_hidden().items()},
    )


def _fit(hidden: torch.Tensor, L: int) -> torch.Tensor:
    """``hidden`` trimmed or zero-padded to ``L`` rows: generate never runs the last token through the
    model (it is only an item, never a context)."""
    if hidden.shape[0] >= L:
        return hidden[:L]
    return torch.cat([hidden, hidden.new_zeros(L - hidden.shape[0], hidden.shape[1])])


def generate(
    model: Any, inputs: dict[str, Any], cap: Capture, max_new_tokens: int, kwargs: dict[str, Any]
) -> tuple[torch.Tensor, int]:
    """``(sequence, n_new)``: ``model.generate`` (greedy unless told otherwise) with ``cap``'s hooks on."""
    for bad in ("num_beams", "num_return_sequences"):
        if int(kwargs.get(bad, 1)) != 1:
            raise ValueError(
                f"{bad}={kwargs[bad]} is not supported: tam_widget explains one greedy or sampled "
                "sequence. Leave it at 1."
            )
    if kwargs.get("output_hidden_states"):
        raise ValueError("Do not pass output_hidden_states: tam_widget captures the last layer itself.")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}.")
    L0 = inputs["input_ids"].shape[1]
    check_context(model, L0 + max_new_tokens, "the prompt plus max_new_tokens", "lower max_new_tokens")
    kwargs = {"do_sample": False, **kwargs}
    with cap, torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, **kwargs)
    seq = out.sequences if hasattr(out, "sequences") else out
    seq = seq[0].cpu()
    n_new = seq.numel() - L0
    if n_new < 1:
        raise RuntimeError("The model generated no token; nothing to explain.")
    cap.settle(seq[-1:])  # the last step's token is never fed back
    got = sum(c.shape[0] for c in cap.chunks)
    if got != L0 + n_new - 1:
        raise RuntimeError(
            f"Captured {got} hidden states for {L0 + n_new - 1} positions: the final norm ran an unexpected number "
            "of times (speculative or chunked decoding?). Generate with default settings."
        )
    return seq, n_new


def teacher_force(
    model: Any, family: Family, inputs: dict[str, Any], cap: Capture, tokenizer: Any, answer: str | Sequence[int]
) -> tuple[torch.Tensor, int]:
    """``(sequence, n)``: one forward over the input followed by ``answer``, ``cap``'s hooks on."""
    answer_ids = answer_token_ids(tokenizer, answer)
    ids = inputs["input_ids"]
    n = len(answer_ids)
    check_context(model, ids.shape[1] + n, "the prompt plus the answer", "shorten the answer or the prompt")
    seq = torch.cat([ids, torch.tensor([answer_ids], device=ids.device, dtype=ids.dtype)], dim=1)
    fwd = family.extend_inputs(inputs, n)
    fwd.update(input_ids=seq, attention_mask=torch.ones_like(seq))
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        fwd["logits_to_keep"] = n + 1
    cap.head_rows = n + 1
    cap.chosen_ids = seq[0, ids.shape[1] :]
    with cap, torch.inference_mode():
        model(**fwd, use_cache=False)
    if cap.top_p:  # rows L0-1 .. L-1; the last predicts beyond the answer
        cap.top_p, cap.top_ids = [cap.top_p[0][:n]], [cap.top_ids[0][:n]]
    return seq[0].cpu(), n
