"""PaliGemma: the image tokens come first, before ``<bos>``, as one ``(S/p, S/p)`` block per image.

- The processor expands each ``<image>`` at the start of the text into ``(S/p)²`` image tokens
  (``config.image_token_id``; ``S = vision_config.image_size``, ``p = patch_size``), then adds
  ``<bos>`` after the last image and ``\\n`` after the prompt. Several images sit back to back in
  one run, so the run is cut every ``(S/p)²`` tokens. Each block is row-major over the image
  squashed to ``S x S``: the grid covers the whole image.
- The forward needs ``token_type_ids``: 0 on the prefix (image and prompt, attended
  bidirectionally), **1** on the answer, as ``generate`` extends it. The processor's ``labels``
  are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from .base import Family, Media, View, block_starts, count_mismatch, row_major, runs, token_id


class PaliGemma(Family):
    name = "PaliGemma"
    model_types = ("paligemma",)
    # the processor puts <bos> after the images and "\n" after the prompt itself
    default_template = "{images}{prompt}"
    image_placeholder: ClassVar[str] = "<image>"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        side = int(config.vision_config.image_size) // int(config.vision_config.patch_size)
        n = side * side
        found = runs(input_ids == token_id(config, "image_token_id"))
        starts = block_starts(found, n, "(image_size / patch_size)² does not match the processor's image_seq_length.")
        if len(starts) != len(media.sizes):
            raise count_mismatch("image", len(starts), len(media.sizes), self.placeholder(processor))
        return [
            View(image=i, kind="image", grid=(side, side), positions=tuple(row_major(s, side, side)))
            for i, s in enumerate(starts)
        ]

    def extend_inputs(self, inputs: Mapping[str, Any], n_answer: int) -> dict[str, Any]:
        out = super().extend_inputs(inputs, n_answer)
        types = out.get("token_type_ids")
        if types is not None:
            out["token_type_ids"] = torch.cat([types, types.new_ones(types.shape[0], n_answer)], dim=1)
        return out
