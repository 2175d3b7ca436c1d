"""LLaVA-OneVision: LLaVA-NeXT's base view and anyres grid, the grid shrunk to at most ~N crops; videos.

- Image ``i``: as LLaVA-NeXT (base ``side x side``, then the unpadded grid, each row followed by a
  newline token), except that with ``vision_aspect_ratio="anyres_max_N"`` a grid of ``gh x gw`` with
  ``ratio = sqrt(gh * gw / (N * side^2)) > 1.1`` is bilinearly resized to
  ``(int(gh // ratio), int(gw // ratio))`` before the newline column is added (same box).
- Several images in one sample (``batch_num_images[b] > 1``): each image is padded to a square and
  only the base crop is made: ``side x side`` tokens and one newline; the box is that square.
- Video: ``<video>`` tokens (``config.video_token_id``), one run: each frame's ``side x side`` grid
  bilinearly pooled to ``ceil(side / 2)`` square, frames one after the other, then ONE newline token.
  The video processor squashes frames to ``S x S``, so each frame's grid covers the whole frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from .base import FULL, Box, Media, View, count_mismatch, runs, token_id
from .llava import pad_box
from .llava_next import LlavaNext, anyres_grid


class LlavaOnevision(LlavaNext):
    name = "LLaVA-OneVision"
    model_types = ("llava_onevision",)
    supports_video = True
    default_template = "<|im_start|>user {images}\n{prompt}<|im_end|>\n<|im_start|>assistant\n"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        if not media.video:
            return super().views(config, inputs, input_ids, media, processor)
        found = runs(input_ids == token_id(config, "video_token_id", "video_token_index"))
        if len(found) != 1:
            raise count_mismatch("video", len(found), 1, self.placeholder(processor, video=True))
        g = math.ceil(int(config.vision_config.image_size) // int(config.vision_config.patch_size) / 2)
        pixels = inputs.get("pixel_values_videos")
        t = int(pixels.shape[1]) if isinstance(pixels, torch.Tensor) and pixels.ndim == 5 else media.n_frames
        start, end = found[0]
        if end - start != t * g * g + 1:
            raise ValueError(
                f"The video run holds {end - start} tokens, but {t} frames of {g}x{g} and a newline need "
                f"{t * g * g + 1}: the input ids and pixel values come from different processor calls."
            )
        return [View(0, "video", (t, g, g), tuple(range(start, start + t * g * g)))]

    def layout(
        self, config: Any, inputs: Mapping[str, Any], index: int, h: int, w: int
    ) -> tuple[Box, tuple[int, int], Box]:
        counts = inputs.get("batch_num_images")
        if counts is not None:  # the model crops only images that are alone in their sample
            alone = [int(n) == 1 for n in torch.as_tensor(counts).reshape(-1).tolist() for _ in range(int(n))]
            if index < len(alone) and not alone[index]:
                return pad_box(h, w), (0, 0), FULL
        gh, gw, box = anyres_grid(config, h, w)
        side = int(config.vision_config.image_size) // int(config.vision_config.patch_size)
        most = int(str(getattr(config, "vision_aspect_ratio", "anyres_max_9")).removeprefix("anyres_max_"))
        ratio = math.sqrt(gh * gw / (most * side * side))
        if ratio > 1.1:
            gh, gw = int(gh // ratio), int(gw // ratio)
        return FULL, (gh, gw), box
