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

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import params
from ..families import Family, family_for
from .capture import lm_head
from .passes import eval_mode, model_lock, to_device


class PixelFormat:
    """How one family's processor makes pixel values, and how a batch of them enters one forward."""

    keys: tuple[str, ...] = ()  # the forward inputs it builds (replacing the processor's own)

    def process(self, processor: Any, images: Sequence[np.ndarray], **options: Any) -> tuple[torch.Tensor, Any]:
        """``(pixels, meta)``: ``(B, ...)`` float32 pixel values per image, and what is shared (a grid)."""
        raise NotImplementedError

    def forward_inputs(self, pixels: torch.Tensor, meta: Any) -> dict[str, torch.Tensor]:
        """The forward inputs of ``B`` images' ``(B, ...)`` pixel values."""
        raise NotImplementedError


class QwenPixels(PixelFormat):
    """Qwen2-VL / 2.5-VL / 3-VL: ``(patches, C*t*p*p)`` per image, stacked; one ``image_grid_thw`` row each."""

    keys = ("pixel_values", "image_grid_thw")

    def process(self, processor: Any, images: Sequence[np.ndarray], **options: Any) -> tuple[torch.Tensor, Any]:
        """The image processor on the images (as PIL, like ``explain``), patches regrouped per image."""
        maker = getattr(processor, "image_processor", None) or processor
        out = maker(images=[Image.fromarray(a) for a in images], return_tensors="pt", **options)
        pixels, grid = torch.as_tensor(out["pixel_values"]).float(), torch.as_tensor(out["image_grid_thw"])
        grid = grid.reshape(-1, 3)
        if bool((grid != grid[:1]).any()):
            raise ValueError(f"The masked images were resized to different grids {grid.tolist()}; keep one size.")
        return pixels.reshape(len(images), -1, pixels.shape[-1]), grid[:1]

    def forward_inputs(self, pixels: torch.Tensor, meta: Any) -> dict[str, torch.Tensor]:
        """``pixel_values`` of all the images' patches, and the grid repeated once per image."""
        return {"pixel_values": pixels.reshape(-1, pixels.shape[-1]), "image_grid_thw": meta.expand(len(pixels), 3)}


PIXEL_FORMATS: dict[str, PixelFormat] = {"Qwen2-VL": QwenPixels(), "Qwen3-VL": QwenPixels()}


def pixel_format(family: Family) -> PixelFormat:
    """The family's :class:`PixelFormat`, or a NotImplementedError naming the family."""
    fmt = PIXEL_FORMATS.get(family.name)
    if fmt is None:
        raise NotImplementedError(
            f"Batched scoring of masked images is not implemented for the {family.name} family (implemented: "
            f"{', '.join(PIXEL_FORMATS)}). Add a PixelFormat for it to tam_widget.runtime.scoring.PIXEL_FORMATS."
        )
    return fmt


class BatchScorer:
    """``scorer(images)``: ``(B, H, W, 3)`` uint8 masked images -> ``(B, T)`` float32 probabilities.

    Requests above ``batch_size`` images are split into several forwards. ``images_scored`` and
    ``forward_calls`` count the work, ``processed`` the images that went through the processor
    (the others were masked in the model's input space); ``input_space`` says whether that path
    is on for this image. Scoring holds the model's lock and runs it in eval mode, as a pass does.
    """

    def __init__(self, model: Any, processor: Any, image: np.ndarray, fmt: PixelFormat, seq: dict[str, Any]) -> None:
        self.model, self.processor, self.image, self.fmt = model, processor, image.copy(), fmt
        self.batch_size = 1
        self.images_scored = self.forward_calls = self.processed = 0
        self.input_space = False
        self._seq = seq  # ids (1, L), rows (T,), targets (T,), extras, dtype: on the model's device
        self._device: torch.device = seq["ids"].device
        pixels, self._meta = fmt.process(processor, [image])
        self._one = pixels.shape[1:]
        self._image_px = pixels[0].to(self._device).reshape(-1)
        self._black_px = fmt.process(processor, [np.zeros_like(image)])[0][0].to(self._device).reshape(-1)
        self._flat = self.image.reshape(-1)
        self._index: torch.Tensor | None = None  # pixel-value element -> flat (H, W, 3) index, when exact

    @property
    def n_tokens(self) -> int:
        """``T``: how many tokens each image is scored on."""
        return int(self._seq["targets"].numel())

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """The explained tokens' probabilities for each masked image (one forward per ``batch_size`` images)."""
        x = self._check(images)
        out = np.zeros((len(x), self.n_tokens), dtype=np.float32)
        with model_lock(self.model), eval_mode(self.model), torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                chunk = x[start : start + self.batch_size]
                out[start : start + len(chunk)] = self._forward(self.pixel_values(chunk)).numpy()
                self.images_scored += len(chunk)
                self.forward_calls += 1
        return out

    def pixel_values(self, images: np.ndarray) -> torch.Tensor:
        """``(B, ...)`` float32 pixel values of the images, on the model's device (input space where exact)."""
        x = self._check(images)
        if self._index is None:
            return self._processed(x)
        flat = x.reshape(len(x), -1)
        kept = flat == self._flat
        fits = (kept | (flat == 0)).all(axis=1)  # every channel the image's or black
        chosen = torch.from_numpy(kept).to(self._device)[:, self._index]
        out = torch.where(chosen, self._image_px, self._black_px).reshape(len(x), *self._one)
        if not fits.all():
            out[torch.from_numpy(~fits).to(self._device)] = self._processed(x[~fits])
        return out

    def find_input_space(self) -> bool:
        """Mask in the model's input space from now on if the processor is per pixel channel for this
        image: :func:`element_index` finds the layout, and a masked probe must match bit for bit."""
        index = element_index(self.fmt, self.processor, self.image.shape)
        self._index = None
        if index is not None and index.numel() == self._image_px.numel():
            self._index = index.to(self._device)
            keep = np.random.default_rng(0).random((2, *self.image.shape)) < 0.5
            probe = np.where(keep, self.image, 0).astype(np.uint8)
            probe[1] = 0
            exact = torch.equal(self.pixel_values(probe), self._processed(probe))
            self.processed -= len(probe)
            self._index = self._index if exact else None
        self.input_space = self._index is not None
        return self.input_space

    def _processed(self, x: np.ndarray) -> torch.Tensor:
        pixels, meta = self.fmt.process(self.processor, list(x))
        if pixels.shape[1:] != self._one or not torch.equal(torch.as_tensor(meta), torch.as_tensor(self._meta)):
            raise ValueError("A scored image gave other pixel-value shapes than the image: keep the image's size.")
        self.processed += len(x)
        return pixels.to(self._device)

    def _forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, s = len(pixels), self._seq
        ids = s["ids"].expand(b, -1)
        logits = self.model(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            logits_to_keep=s["rows"],
            use_cache=False,
            **{k: v.expand(b, *v.shape[1:]) for k, v in s["extras"].items()},
            **self.fmt.forward_inputs(pixels.to(s["dtype"]), self._meta),
        ).logits
        if tuple(logits.shape[:2]) != (b, self.n_tokens):
            raise RuntimeError(f"The model returned logits of shape {tuple(logits.shape)}: it ignored logits_to_keep.")
        probs = torch.softmax(logits, dim=-1)  # in the model's dtype, as the reference
        return probs.gather(-1, s["targets"].expand(b, -1)[..., None])[..., 0].float().cpu()

    def _check(self, images: Any) -> np.ndarray:
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.shape[1:] != self.image.shape:
            got = f"shape {images.shape} {images.dtype}" if isinstance(images, np.ndarray) else type(images).__name__
            raise ValueError(
                f"images must be a (B, {', '.join(map(str, self.image.shape))}) uint8 array of masked copies of the "
                f"image, got {got}. Stack single images with np.stack(...)."
            )
        return images


def element_index(fmt: PixelFormat, processor: Any, shape: tuple[int, ...]) -> torch.Tensor | None:
    """For each pixel-value element of an image of ``shape``, the flat ``(H, W, 3)`` index it comes from.

    Found by processing images that hold the index's bytes, rescale and normalise off (one call
    per byte). ``None`` when an element is not one pixel channel (a resize, a channel mix) or the
    processor refuses the options."""
    n = int(np.prod(shape))
    idx = np.arange(n, dtype=np.int64)
    total = torch.zeros(0, dtype=torch.long)
    for k in range(max(1, (max(n - 1, 1).bit_length() + 7) // 8)):
        digit = ((idx >> (8 * k)) & 255).astype(np.uint8).reshape(shape)
        try:
            got = fmt.process(processor, [digit], do_rescale=False, do_normalize=False)[0][0].double()
        except (TypeError, ValueError):
            return None
        if not torch.equal(got, got.round()) or bool(((got < 0) | (got > 255)).any()):
            return None
        total = (got.long() << (8 * k)) + (total if k else 0)
    return total.reshape(-1) if bool((total < n).all()) else None


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


CPU_DEFAULT_BATCH = 8  # images per forward on the CPU when psutil cannot say how much memory is free


def auto_batch_size(model: Any, seq_len: int, pixel_shape: Sequence[int], n_tokens: int) -> int:
    """Images per forward from free memory: on CUDA half of ``torch.cuda.mem_get_info``'s free bytes over
    :func:`bytes_per_image` (at most 128); on the CPU a quarter of psutil's available memory (at most
    32), or :data:`CPU_DEFAULT_BATCH` without psutil."""
    weight: torch.Tensor = lm_head(model).weight  # type: ignore[assignment]
    per = bytes_per_image(model.config, seq_len, pixel_shape, n_tokens, weight.element_size())
    if weight.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(weight.device)
        return int(max(1, min(128, free // 2 // per)))
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return CPU_DEFAULT_BATCH
    return int(max(1, min(32, psutil.virtual_memory().available // 4 // per)))


def bytes_per_image(config: Any, seq_len: int, pixel_shape: Sequence[int], n_tokens: int, itemsize: int) -> int:
    """A rough bound on one image's share of a scoring forward (no gradients, so one layer's activations
    at a time): a decoder layer's activations and attention scores, a vision layer's over the image's
    patches (``pixel_shape[0]``), the pixel values, the kept logits and their softmax; doubled."""
    text, vision = getattr(config, "text_config", None) or config, getattr(config, "vision_config", None)
    h, vocab = int(getattr(text, "hidden_size", 1024)), int(getattr(text, "vocab_size", 32000))
    inter, heads = int(getattr(text, "intermediate_size", 4 * h)), int(getattr(text, "num_attention_heads", 16))
    width = int(getattr(vision, "embed_dim", None) or getattr(vision, "hidden_size", None) or 1024)
    v_heads, patches = int(getattr(vision, "num_heads", 16)), int(pixel_shape[0])
    elements = seq_len * (4 * h + 3 * inter) + heads * seq_len**2 + patches * 10 * width + v_heads * patches**2
    return int(2 * ((elements + 2 * n_tokens * vocab) * itemsize + 8 * int(np.prod(pixel_shape))))
