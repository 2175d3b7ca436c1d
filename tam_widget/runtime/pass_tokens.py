"""The tokens a pass reads and where its answer stops (:mod:`.passes`): the answer's ids for a
teacher-forced pass (:func:`answer_token_ids`), the model's context limit (:func:`check_context`),
the end-of-sequence ids and the kept answer length (:func:`stop_ids`, :func:`answer_length`), and
the inputs on the model's device (:func:`to_device`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch


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
