"""How a family's processor makes one image's pixel values, and how a batch of them enters one forward.

A :class:`PixelFormat` per family (:data:`PIXEL_FORMATS`, :func:`pixel_format`): Qwen2-VL, Qwen2.5-VL
and Qwen3-VL flatten each image's patches and stack them, with one ``image_grid_thw`` row per image.
:func:`element_index` finds, where the processor's pipeline is per pixel and per channel, which pixel
channel each element of the pixel values comes from (the batched scorer's input-space masking,
:mod:`.scoring`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..families import Family


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
