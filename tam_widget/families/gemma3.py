"""Gemma 3: one ``<start_of_image>`` block of ``k x k`` soft tokens per image, plus pan-and-scan crops.

- The prompt placeholder is the boi token ``<start_of_image>``; the processor expands it to
  ``\\n\\n<start_of_image>`` + ``k²`` image tokens (``config.image_token_id``) + ``<end_of_image>\\n\\n``
  with ``k² = config.mm_tokens_per_image``. The image is squashed to the vision tower's square,
  so the ``(k, k)`` grid (row-major) covers the whole image.
- With pan-and-scan (``do_pan_and_scan=True``) the processor cuts a long image into 2 or more
  equal crops along its long side and adds one more block per crop, right after the image's own
  block. Each crop is squashed on its own and is shown as a ``"crop"`` view over its region.
- The forward needs ``token_type_ids`` (1 on image tokens: they attend bidirectionally within
  their block); answer tokens are text (0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from .base import FULL, Box, Family, Media, View, block_starts, count_mismatch, row_major, runs, token_id

# Gemma3Processor.images_kwargs in transformers 5.x: the pan-and-scan settings a processor call uses by default
PAN_AND_SCAN = {
    "pan_and_scan_min_crop_size": 256,
    "pan_and_scan_max_num_crops": 4,
    "pan_and_scan_min_ratio_to_activate": 1.2,
}


def n_crops(h: int, w: int, min_crop_size: int, max_num_crops: int, min_ratio_to_activate: float) -> int:
    """How many crops Gemma3's ``pan_and_scan`` cuts an ``h x w`` image into (0: none)."""
    long, short = max(h, w), min(h, w)
    if long / short < min_ratio_to_activate:
        return 0
    n = min(math.floor(long / short + 0.5), math.floor(long / min_crop_size))
    n = min(max_num_crops, max(2, n))
    crop_h, crop_w = (math.ceil(h / n), w) if h > w else (h, math.ceil(w / n))
    return 0 if min(crop_h, crop_w) < min_crop_size else n


def crop_boxes(h: int, w: int, n: int) -> list[Box]:
    """The regions of ``n`` pan-and-scan crops: ``ceil(side / n)`` long, along the long side (the last one
    cut off by the image edge), left to right or top to bottom; a square image is cut across its width."""
    if n == 0:
        return []
    if h > w:
        size = math.ceil(h / n)
        return [(0.0, i * size / h, 1.0, min((i + 1) * size, h) / h) for i in range(n)]
    size = math.ceil(w / n)
    return [(i * size / w, 0.0, min((i + 1) * size, w) / w, 1.0) for i in range(n)]


class Gemma3(Family):
    name = "Gemma 3"
    model_types = ("gemma3",)
    default_template = "<bos><start_of_turn>user\n{images}{prompt}<end_of_turn>\n<start_of_turn>model\n"
    image_placeholder: ClassVar[str] = "<start_of_image>"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        k = math.isqrt(int(config.mm_tokens_per_image))
        found = runs(input_ids == token_id(config, "image_token_id"))
        blocks = block_starts(
            found, k * k, "config.mm_tokens_per_image does not match the processor's image_seq_length."
        )
        starts = iter(blocks)
        counts = self.crop_counts(media, len(blocks), processor)
        views = []
        for i, ((h, w), n) in enumerate(zip(media.sizes, counts, strict=True)):
            for j, box in enumerate([FULL, *crop_boxes(h, w, n)]):  # the image's own block, then its crops
                positions = tuple(row_major(next(starts), k, k))
                views.append(View(image=i, kind="crop" if j else "image", grid=(k, k), positions=positions, box=box))
        return views

    def crop_counts(self, media: Media, n_blocks: int, processor: Any) -> list[int]:
        """Pan-and-scan crops per image, from the processor's settings; they must account for every block."""
        given = getattr(processor, "images_kwargs", None) or {}
        settings = {key: given.get(key, default) for key, default in PAN_AND_SCAN.items()}
        n_images = len(media.sizes)
        counts = [n_crops(h, w, *settings.values()) if n_blocks > n_images else 0 for h, w in media.sizes]
        if n_images + sum(counts) == n_blocks:
            return counts
        if any(counts):
            raise ValueError(
                f"The input holds {n_blocks} image blocks for {n_images} image(s), but pan-and-scan with the "
                f"processor's settings {settings} gives {n_images + sum(counts)}. Put one {self.image_placeholder!r} "
                "per image; if the processor was called with other pan_and_scan_* settings, set them in "
                "processor.images_kwargs as well."
            )
        raise count_mismatch("image", n_blocks, n_images, self.placeholder(processor))

    def extend_inputs(self, inputs: Mapping[str, Any], n_answer: int) -> dict[str, Any]:
        out = super().extend_inputs(inputs, n_answer)
        types = out.get("token_type_ids")
        if types is not None:
            out["token_type_ids"] = torch.cat([types, types.new_zeros(types.shape[0], n_answer)], dim=1)
        return out
