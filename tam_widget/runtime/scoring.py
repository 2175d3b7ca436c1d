"""Score many masked images in one teacher-forced forward batch: the black-box methods' only model access.

:func:`make_scorer` returns a :class:`BatchScorer`, a :data:`~tam_widget.methods.base.Scorer`:
``(B, H, W, 3)`` uint8 masked images -> ``(B, T)`` float32 probabilities of the ``T`` explained
tokens, as EAGLE's reference scores one image (spec §1.2), but ``B`` images per forward:

- ``input_ids``: the stored full sequence (prompt with its expanded image placeholders, then the
  whole answer) repeated ``B`` times; ``attention_mask`` all ones; the family's per-token extras
  (Qwen's ``mm_token_type_ids``) extended over the answer; the pixel values of each masked image.
- Only the explained positions reach the LM head (``logits_to_keep`` = the positions before the
  explained tokens): a ``(B, T, V)`` logits tensor, never one over the whole sequence. Softmax
  over the vocabulary in the model's dtype, the explained ids' probabilities read, then float32.

What does not change between masks is built once: the ids and extras, and the processor's pixel
values of the image and of an all-black image. When the processor's pipeline is per pixel and
per channel for this image (no resize: the image is already at the processor's size), each
element of the pixel values comes from one pixel channel; the scorer finds which (one processor
call per byte of the index, rescale and normalise off) and then builds a masked image's pixel
values as ``where(kept, pixel_values(image), pixel_values(black))``, the masking in the model's
input space. A masked-image probe must match the processor bit for bit, else (and for any image
that is not the image with some channels zeroed) the processor runs on the images, batched.

Which processor call makes one image's pixel values and how a batch of them enters one forward
is the family's :class:`PixelFormat` (:data:`PIXEL_FORMATS`); Qwen2-VL, Qwen2.5-VL and Qwen3-VL
flatten each image's patches and stack them, with one ``image_grid_thw`` row per image.
"""

# Imported "as" themselves: names this module held before it was split, which the diagnosis and the tests
# still import from here.
from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .. import params
from ..families import Family, family_for
from .batch_scorer import BatchScorer as BatchScorer
from .batch_size import CPU_DEFAULT_BATCH as CPU_DEFAULT_BATCH
from .batch_size import auto_batch_size as auto_batch_size
from .batch_size import bytes_per_image as bytes_per_image
from .capture import lm_head
from .passes import to_device
from .pixel_formats import PIXEL_FORMATS as PIXEL_FORMATS
from .pixel_formats import PixelFormat as PixelFormat
from .pixel_formats import QwenPixels as QwenPixels
from .pixel_formats import element_index as element_index
from .pixel_formats import pixel_format as pixel_format


def make_scorer(
    model: Any,
    processor: Any,
    image: np.ndarray,
    inputs: Mapping[str, Any],
    sequence_ids: Sequence[int] | torch.Tensor,
    explained_positions: Sequence[int] | torch.Tensor,
    explained_ids: Sequence[int] | torch.Tensor | None = None,
    *,
    family: Family | None = None,
    batch_size: int | None = None,
    input_space: bool = True,
) -> BatchScorer:
    """A :class:`BatchScorer` of ``image``'s masked copies, teacher-forcing ``sequence_ids``.

    ``image``: the ``(H, W, 3)`` uint8 image ``inputs`` (the processor's output for the prompt and
    this one image, batch 1) were made from. ``sequence_ids``: the full sequence, ``inputs``'
    ``input_ids`` then the answer. ``explained_positions``: the explained answer tokens' absolute
    positions in it (answer token ``i`` is at ``len(input_ids) + i``), each predicted by the
    logits one position earlier. ``explained_ids``: the ids read there (default: the tokens at
    those positions; EAGLE's hallucination runs read the correct word instead). ``family``: the
    model's (found from its config by default). ``batch_size``: images per forward (``None``: from
    free memory, :func:`auto_batch_size`). ``input_space=False`` always runs the processor.
    """
    family = family or family_for(model)
    fmt = pixel_format(family)
    if "logits_to_keep" not in inspect.signature(model.forward).parameters:
        raise NotImplementedError(f"{type(model).__name__}.forward takes no logits_to_keep: it cannot be scored.")
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError("image must be the (H, W, 3) uint8 RGB array the inputs were made from.")
    weight: torch.Tensor = lm_head(model).weight  # type: ignore[assignment]
    ids, rows, targets, n_answer = _sequence(inputs, sequence_ids, explained_positions, explained_ids, weight.shape[0])
    extend = family.extend_inputs({k: v for k, v in inputs.items() if k not in fmt.keys}, n_answer)
    extras = {k: v for k, v in extend.items() if isinstance(v, torch.Tensor) and v.shape[:1] == (1,)}
    seq = to_device({"ids": ids, "rows": rows, "targets": targets}, weight.device, weight.dtype)
    seq.update(extras=to_device(extras, weight.device, weight.dtype), dtype=weight.dtype)
    scorer = BatchScorer(model, processor, image, fmt, seq)
    for key, value in fmt.forward_inputs(scorer._image_px.reshape(1, *scorer._one), scorer._meta).items():
        given = inputs.get(key)
        if isinstance(given, torch.Tensor) and (
            given.shape != value.shape or (not given.is_floating_point() and not torch.equal(given.cpu(), value.cpu()))
        ):
            raise ValueError(f"inputs[{key!r}] does not fit image: pass the image the inputs were made from.")
    if input_space:
        scorer.find_input_space()
    scorer.batch_size = (
        auto_batch_size(model, ids.shape[1], scorer._one, len(rows))
        if batch_size is None
        else params.integer("batch_size", batch_size, 1, None, " Pass None to size it from free memory.")
    )
    return scorer


def _sequence(
    inputs: Mapping[str, Any], sequence_ids: Any, positions: Any, explained_ids: Any, vocab: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """``(ids (1, L), rows (T,), targets (T,), n_answer)`` checked: the logits rows before the explained
    tokens, and the ids read there."""
    given = inputs.get("input_ids") if isinstance(inputs, Mapping) else None
    if not isinstance(given, torch.Tensor) or given.ndim != 2 or given.shape[0] != 1:
        raise ValueError("inputs must be the processor's output for one prompt and image: input_ids of shape (1, L0).")
    prompt = given[0].cpu().long()
    seq = _ints("sequence_ids", sequence_ids)
    L0, L = prompt.numel(), seq.numel()
    if L <= L0 or not torch.equal(seq[:L0], prompt):
        raise ValueError(
            f"sequence_ids must be inputs['input_ids'] ({L0} ids) followed by the answer; got {L} ids"
            f"{'' if L <= L0 else ' that do not start with them'}."
        )
    pos = _ints("explained_positions", positions)
    if pos.numel() == 0 or bool(((pos < L0) | (pos >= L)).any()):
        raise ValueError(
            f"explained_positions must be non-empty absolute positions of answer tokens, in [{L0}, {L}) "
            f"(answer token i is at {L0} + i); got {pos.tolist()}."
        )
    ids = seq[pos] if explained_ids is None else _ints("explained_ids", explained_ids)
    if ids.shape != pos.shape or bool(((ids < 0) | (ids >= vocab)).any()):
        raise ValueError(
            f"explained_ids must hold one token id in [0, {vocab}) per explained position ({pos.numel()}); "
            f"got {ids.tolist()}. Leave it None to read the answer's own tokens."
        )
    return seq[None], pos - 1, ids, L - L0


def _ints(name: str, value: Any) -> torch.Tensor:
    """``value`` (a sequence or tensor of integers) as a 1-D int64 CPU tensor, or a TypeError naming it."""
    try:
        out: torch.Tensor | None = torch.as_tensor(
            np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value)
        )
    except (TypeError, ValueError, RuntimeError):
        out = None
    if out is not None and out.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    if out is None or out.is_floating_point() or out.is_complex() or out.dtype == torch.bool:
        raise TypeError(f"{name} must be a sequence of integer token positions or ids, got {value!r:.80}.")
    return out.reshape(-1).long()
