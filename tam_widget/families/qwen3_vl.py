"""Qwen3-VL: as Qwen2-VL for images, but a video is one run per frame group.

- Image ``i``: a run of ``<|image_pad|>`` filling ``image_grid_thw[i] = (1, h, w)`` patches
  (16 px) merged ``m x m``: an ``(h/m, w/m)`` grid, row-major, over the whole (resized) image.
- Video: each of the ``t`` frame groups of ``video_grid_thw = (t, h, w)`` is its own run,
  ``<x.x seconds><|vision_start|>`` + ``(h/m)*(w/m)`` ``<|video_pad|>`` + ``<|vision_end|>``, the
  timestamp text between the runs; the view stacks the runs into one ``(t, h/m, w/m)`` grid.
- The vision tower also feeds the first LM layers (deepstack); that changes no position.
- The forward needs ``mm_token_type_ids`` (1 image, 2 video, 0 text); answer tokens are text.
"""

from __future__ import annotations

from .qwen2_vl import Qwen2VL


class Qwen3VL(Qwen2VL):
    name = "Qwen3-VL"
    model_types = ("qwen3_vl",)

    def runs_per_input(self, t: int, video: bool) -> int:
        return t if video else 1
