"""``explain``'s arguments checked before any work, each with a message that says what to do.

The numbers (``kernel``, ``top_k``, ``max_new_tokens``...) are checked by :mod:`tam_widget.params`;
this module checks what needs the model, the processor or the tokenizer: a wrapped model, a
missing or mismatched processor, an empty or unrepresentable prompt, answer tokens outside the
vocabulary or holding image placeholders, generation options that would be silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from . import params
from .families.base import Family


def unwrap_check(model: Any) -> None:
    """A TypeError for a model wrapped by DataParallel / DistributedDataParallel (or anything with ``.module``)."""
    inner = getattr(model, "module", None)
    if isinstance(model, torch.nn.Module) and isinstance(inner, torch.nn.Module) and not hasattr(model, "config"):
        raise TypeError(
            f"model is a {type(model).__name__} wrapper: explain the model inside it, "
            "tam_widget.explain(model.module, ...). tam_widget runs one sequence on one device."
        )


def processor_check(processor: Any) -> Any:
    """The processor's tokenizer, or a TypeError when ``processor`` is not a processor."""
    if processor is None or isinstance(processor, (str, bytes)) or not callable(processor):
        raise TypeError(
            f"processor must be the model's processor, e.g. AutoProcessor.from_pretrained(<the same checkpoint>); "
            f"got {processor!r:.60}."
        )
    tokenizer = getattr(processor, "tokenizer", processor)
    if not hasattr(tokenizer, "decode") or not hasattr(tokenizer, "convert_ids_to_tokens"):
        raise TypeError(
            f"processor {type(processor).__name__} has no tokenizer: pass the model's processor "
            "(AutoProcessor.from_pretrained(<the same checkpoint>))."
        )
    return tokenizer


def prompt_check(prompt: Any, tokenizer: Any) -> str:
    """``prompt`` if it is a non-empty string the tokenizer can represent."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string (the question asked about the image), got {type(prompt).__name__}.")
    if not prompt.strip():
        raise ValueError(
            "prompt is empty: TAM explains each answer token against the prompt's tokens, so pass the words you ask "
            "with, e.g. 'Describe the image.' (with explain_inputs, prompt_positions= names them instead)."
        )
    unk = getattr(tokenizer, "unk_token_id", None)
    if isinstance(unk, int) and unk in tokenizer(prompt, add_special_tokens=False)["input_ids"]:
        lost = [w for w in prompt.split() if unk in tokenizer(w, add_special_tokens=False)["input_ids"]]
        raise ValueError(
            f"prompt holds words this tokenizer cannot represent (they become {tokenizer.unk_token!r}): {lost[:5]}. "
            "The model never sees them; rephrase the prompt with words its tokenizer knows."
        )
    return prompt


def answer_ids_check(ids: Sequence[Any], vocab: int, vision_ids: Sequence[int]) -> list[int]:
    """Teacher-forced answer ids: integers in ``[0, vocab)``, none of them an image or video placeholder."""
    out = [
        params.integer(f"answer[{i}]", t, 0, vocab - 1, " Answer token ids index the vocabulary.")
        for i, t in enumerate(ids)
    ]
    placeholders = sorted({t for t in out if t in set(vision_ids)})
    if placeholders:
        raise ValueError(
            f"answer holds image/video placeholder token(s) {placeholders}: an answer is text the model writes; "
            "images go in images_or_video."
        )
    return out


def answer_text_check(answer: str, family: Family, processor: Any) -> str:
    """A teacher-forced answer text with no image placeholder in it."""
    marks = {family.placeholder(processor, False), family.image_placeholder.strip()}
    marks |= {family.placeholder(processor, True)} if family.supports_video else set()
    found = sorted(m for m in marks - {""} if m in answer)
    if found:
        raise ValueError(
            f"answer contains the image placeholder(s) {found}: an answer is text the model writes; "
            "images go in images_or_video."
        )
    return answer


def generate_options_check(answer: Any, options: Mapping[str, Any]) -> None:
    """With ``answer=`` there is no generation: generation options would be silently ignored."""
    if answer is not None and options:
        raise ValueError(
            f"{sorted(options)} are options of model.generate, but answer= is given, so nothing is generated "
            "(one teacher-forced forward). Remove them, or drop answer= to generate."
        )


def vocab_size(model: Any) -> int:
    """The number of rows of the model's LM head (its vocabulary as the logits see it)."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    return int(weight.shape[0]) if isinstance(weight, torch.Tensor) else 0


def ids_in_vocabulary(input_ids: torch.Tensor, model: Any) -> None:
    """A ValueError when the processed input holds ids beyond the model's vocabulary (another model's processor)."""
    vocab = vocab_size(model)
    top = int(input_ids.max()) if input_ids.numel() else -1
    if vocab and top >= vocab:
        raise ValueError(
            f"The processed input holds token id {top}, beyond this model's vocabulary of {vocab}: the processor "
            "belongs to another model. Load both from the same checkpoint."
        )


def has_image_tokens(input_ids: torch.Tensor, vision_ids: Sequence[int]) -> None:
    """A ValueError when the processed input holds none of the model's image or video tokens."""
    if vision_ids and not {int(t) for t in torch.unique(input_ids).tolist()} & set(vision_ids):
        raise ValueError(
            f"The processed input holds none of this model's image tokens (ids {sorted(vision_ids)}): the processor "
            "belongs to another model, or the prompt's placeholders are another model's. Load both from the same "
            "checkpoint and let tam_widget place the images (no placeholders in the prompt)."
        )


def tokens_check(tokens: Any) -> Any:
    """``tokens``: ``None`` (the whole answer), an answer index, a list of them, or a word (str)."""
    if tokens is None or isinstance(tokens, str):
        if isinstance(tokens, str) and not tokens.strip():
            raise ValueError("tokens must not be an empty word; pass None to explain the whole answer.")
        return tokens
    items = [tokens] if not isinstance(tokens, Sequence) else list(tokens)
    if not items or any(isinstance(t, bool) or not isinstance(t, int) for t in items):
        raise TypeError(
            "tokens must be None (the whole answer), an answer token's index (0 is the first answer token), "
            f"a list of indices, or a word; got {tokens!r}."
        )
    return items


def explained_positions(tokens: Any, texts: Sequence[str], words: Sequence[int], L0: int) -> list[int]:
    """The sequence positions ``tokens`` (checked by :func:`tokens_check`) names in the answer
    ``texts[L0:]``: every answer token; indices (negative from the end); or a word's tokens, at its
    first occurrence in the answer (matched stripped and case-insensitive, tokens of one word
    joined). ``ValueError`` when an index is out of range or the word is not in the answer."""
    n = len(texts) - L0
    if tokens is None:
        return list(range(L0, len(texts)))
    if isinstance(tokens, str):
        want = tokens.strip().lower()
        groups: dict[int, list[int]] = {}
        for p in range(L0, len(texts)):
            groups.setdefault(words[p], []).append(p)
        for positions in groups.values():
            if "".join(texts[p] for p in positions).strip().lower() == want:
                return positions
        answer = "".join(texts[L0:])
        raise ValueError(f"tokens: the word {tokens!r} is not in the answer {answer!r}; pass an answer index instead.")
    bad = [t for t in tokens if not -n <= t < n]
    if bad:
        raise ValueError(f"tokens {bad} are outside the answer's {n} tokens (indices 0 … {n - 1}, or negative).")
    return sorted({L0 + (t % n) for t in tokens})


def layers_check(layers: Any, n_layers: int) -> list[int]:
    """``layers``: ``None`` (the last layer only), ``"all"``, or decoder layer indices (negative from
    the end). Returns the kept layers other than the last (whose maps are always computed), sorted."""
    if layers is None:
        return []
    if isinstance(layers, str):
        if layers != "all":
            raise ValueError(f"layers must be None, 'all' or a list of layer indices, got {layers!r}.")
        return list(range(n_layers - 1))
    items = [layers] if not isinstance(layers, Sequence) else list(layers)
    if not items or any(isinstance(i, bool) or not isinstance(i, int) for i in items):
        raise TypeError(f"layers must be None, 'all' or a list of decoder layer indices, got {layers!r}.")
    bad = [i for i in items if not -n_layers <= i < n_layers]
    if bad:
        raise ValueError(
            f"layers {bad} are outside this model's {n_layers} decoder layers: use indices in "
            f"[{-n_layers}, {n_layers - 1}] (negative from the end), or 'all'."
        )
    return sorted({i % n_layers for i in items} - {n_layers - 1})
