"""Qwen2-VL and Qwen2.5-VL: one contiguous run of pad tokens per image or video.

- Image ``i`` is a run of ``<|image_pad|>`` (``config.image_token_id``) filling
  ``image_grid_thw[i] = (1, h, w)`` patches merged ``m x m`` (``m = spatial_merge_size``): an
  ``(h/m, w/m)`` grid, row-major. The image is resized (not cropped) to a multiple of ``m``
  patches, so the grid covers the whole image.
- Video ``j`` is a run of ``<|video_pad|>`` filling ``video_grid_thw[j] = (t, h, w)``: ``t``
  frame groups (``temporal_patch_size`` frames each) of ``(h/m, w/m)``, one after the other.
- The forward needs ``mm_token_type_ids`` (1 image, 2 video, 0 text); answer tokens are text.
  Qwen2.5-VL videos also carry ``second_per_grid_ts``, which is kept as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from .base import Family, Media, View, count_mismatch, row_major, runs, token_id


class Qwen2VL(Family):
    name = "Qwen2-VL"
    model_types: ClassVar[tuple[str, ...]] = ("qwen2_vl", "qwen2_5_vl")
    supports_video = True
    default_template = "<|im_start|>user\n{images}{prompt}<|im_end|>\n<|im_start|>assistant\n"
    image_placeholder: ClassVar[str] = "<|vision_start|><|image_pad|><|vision_end|>"
    video_placeholder: ClassVar[str] = "<|vision_start|><|video_pad|><|vision_end|>"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        merge = int(config.vision_config.spatial_merge_size)
        kind = "video" if media.video else "image"
        grids = inputs.get(f"{kind}_grid_thw")
        if grids is None:
            raise ValueError(f"The processor output has no '{kind}_grid_thw'; pass what the Qwen processor returns.")
        grids = torch.as_tensor(grids).reshape(-1, 3).tolist()
        found = runs(input_ids == token_id(config, f"{kind}_token_id"))
        n_given = 1 if media.video else len(media.sizes)
        n_held = len(grids) if media.video else len(found)  # a Qwen3-VL video is several runs
        if n_held != n_given:
            placeholder = self.video_placeholder if media.video else self.image_placeholder
            raise count_mismatch(kind, n_held, n_given, placeholder)
        views = []
        for i, ((t, h, w), starts) in enumerate(zip(grids, self.blocks(found, grids, merge, media.video), strict=True)):
            gh, gw = h // merge, w // merge
            pos = [p for s in starts for p in row_major(s, gh, gw)]
            views.append(View(image=i, kind=kind, grid=(t, gh, gw) if media.video else (gh, gw), positions=tuple(pos)))
        return views

    def runs_per_input(self, t: int, video: bool) -> int:
        """How many runs of pad tokens one input of ``t`` frame groups fills: one, holding every group."""
        return 1

    def blocks(self, found: list[tuple[int, int]], grids: list[list[int]], merge: int, video: bool) -> list[list[int]]:
        """First position of every frame group, per input, from the runs of pad tokens."""
        out, k = [], 0
        for t, h, w in grids:
            per = (h // merge) * (w // merge)
            mine = found[k : k + self.runs_per_input(t, video)]
            k += len(mine)
            if sum(e - s for s, e in mine) != t * per or any((e - s) % per for s, e in mine):
                raise ValueError(
                    f"The vision runs {mine} do not fill the grid {(t, h, w)} merged {merge}x{merge}; "
                    "the input ids and grids come from different processor calls."
                )
            out.append([p for s, e in mine for p in range(s, e, per)])
        if k != len(found):
            raise ValueError(f"{len(found) - k} run(s) of vision tokens have no grid; pass the processor's output.")
        return out

    def extend_inputs(self, inputs: Mapping[str, Any], n_answer: int) -> dict[str, Any]:
        out = super().extend_inputs(inputs, n_answer)
        types = out.get("mm_token_type_ids")
        if types is not None:
            out["mm_token_type_ids"] = torch.cat([types, types.new_zeros(types.shape[0], n_answer)], dim=1)
        return out
