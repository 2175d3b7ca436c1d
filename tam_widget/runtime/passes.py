"""The one pass: ``model.generate`` (or one teacher-forced forward) with the capture hooks on.

:func:`run` returns a :class:`Pass`: the whole sequence, the last-layer hidden state of every
position, the top candidates and the chosen token's probability at every answer step, all from
that single pass.

Two things make a pass safe to repeat and to share. The model runs in eval mode for the pass
(dropout off, so two identical calls give identical maps) and gets its own modes back after it,
also when the pass raises. The capture hooks sit on the model's own modules, so two passes on
one model at the same time would each capture the other's forwards: a per-model lock
(:func:`model_lock`) makes them take turns.
"""

from __future__ import annotations

import inspect
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from ..families.base import Family
from .capture import Capture, softcap_of


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


_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The lock that serialises passes on ``model`` (re-entrant: a thread may nest passes on it)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


@contextmanager
def eval_mode(model: Any) -> Iterator[bool]:
    """Run the block with ``model`` in eval mode; yield whether it was training. Every module's own
    mode comes back afterwards (also when the block raises), so a partly frozen model stays so."""
    modules = list(model.modules()) if isinstance(model, torch.nn.Module) else []
    modes = [m.training for m in modules]
    was_training = bool(getattr(model, "training", False))
    if modules:
        model.eval()
    try:
        yield was_training
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.training = mode


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


def answer_token_ids(tokenizer: Any, answer: str | Sequence[int]) -> list[int]:
    """The answer's token ids: ``answer`` tokenised without special tokens, or the ids given."""
    if isinstance(answer, str):
        if not answer.strip():
            raise ValueError("answer is empty: pass the text to explain, or answer=None to let the model generate.")
        answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
    else:
        answer_ids = [int(t) for t in answer]
    if not answer_ids:
        raise ValueError(f"answer {answer!r} holds no tokens: pass some text, or answer=None to generate.")
    return answer_ids


def check_context(model: Any, length: int, what: str, fix: str) -> None:
    """A ValueError when ``length`` tokens exceed the model's context."""
    config = model.config
    limit = None
    for holder in (getattr(config, "text_config", None), config):
        limit = getattr(holder, "max_position_embeddings", None) if holder is not None else None
        if isinstance(limit, int):
            break
    if isinstance(limit, int) and length > limit:
        raise ValueError(f"{what} is {length} tokens, beyond the model's context of {limit}: {fix}.")


def stop_ids(model: Any, generate_kwargs: Mapping[str, Any]) -> set[int]:
    """The end-of-sequence ids ``generate`` stopped on: those passed to it, else the model's own."""
    given = generate_kwargs.get("eos_token_id")
    if given is None and generate_kwargs.get("generation_config") is not None:
        given = getattr(generate_kwargs["generation_config"], "eos_token_id", None)
    holders = (
        [given]
        if given is not None
        else [
            getattr(cfg, "eos_token_id", None) if cfg is not None else None
            for cfg in (
                getattr(model, "generation_config", None),
                getattr(model.config, "text_config", None),
                model.config,
            )
        ]
    )
    stop: set[int] = set()
    for value in holders:
        if isinstance(value, torch.Tensor):
            value = value.reshape(-1).tolist()
        stop.update([int(value)] if isinstance(value, int) else [int(v) for v in value or []])
    return stop


def answer_length(new: torch.Tensor, stop: set[int], *, keep_stop: bool = True) -> tuple[int, bool]:
    """``(kept, stopped)``: how many generated tokens the answer keeps, and whether one is end-of-sequence.

    The answer runs to the first end-of-sequence token, which it keeps with ``keep_stop`` (the
    reference explains it: it is a token the model chose) and leaves out without."""
    for i, t in enumerate(new.tolist()):
        if t in stop:
            return (i + 1 if keep_stop else i), True
    return new.numel(), False


def to_device(inputs: Mapping[str, Any], device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    """Every tensor of ``inputs`` on ``device``; floating ones also in ``dtype`` (the model's)."""
    out: dict[str, Any] = {}
    for k, v in inputs.items():
        if isinstance(v, torch.Tensor):
            v = v.to(device, dtype) if v.is_floating_point() else v.to(device)
        out[k] = v
    return out
