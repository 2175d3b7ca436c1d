"""Idefics3 and SmolVLM: tagged tiles ``<fake_token_around_image><row_i_col_j>`` + s*s ``<image>``, then a global view.

- ``s = image_size / patch_size / scale_factor`` (the pixel shuffle); every run of ``<image>`` tokens is one
  ``(s, s)`` grid, row-major.
- An image larger than a tile is scaled (longest edge to the image processor's ``size``) and stretched to
  whole tiles, ``rows x cols`` of them, each run tagged ``<row_i_col_j>``; then
  ``<fake_token_around_image><global-img>`` + s*s tokens of the whole image squashed to one tile. The tiles
  are stitched into one ``(rows*s, cols*s)`` grid over the whole image (kind ``"tiles"``), then comes the
  global view (``"global"``). An image that is not split has the global block only: one ``"image"`` view.
  Rows and columns are read from the tags in the input ids.
- SmolVLM video: per frame ``\\nFrame from MM:SS:`` + one global block of the frame squashed to a tile; the
  frames make one ``(T, s, s)`` view. Idefics3's processor has no video path, but its model reads the same
  frame layout when the inputs are built by hand, so both model types take it.
- No extra forward inputs (``pixel_attention_mask`` is per tile, not per token).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from .base import Family, Media, View, count_mismatch, runs, stitch, token_id

TAG = re.compile(r"<row_(\d+)_col_(\d+)>|<global-img>")
Block = tuple[list[tuple[int, int, int]], int]  # tiles as (row, col, start), start of the global run


class Idefics3(Family):
    name = "Idefics3 / SmolVLM"
    model_types = ("idefics3", "smolvlm")
    supports_video = True
    default_template = "User:{images}{prompt}<end_of_utterance>\nAssistant:"
    image_placeholder: ClassVar[str] = "<image>"
    video_placeholder: ClassVar[str] = "<video>"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        vision = config.vision_config
        side = int(vision.image_size) // int(vision.patch_size) // int(config.scale_factor)
        images = self.blocks(input_ids, runs(input_ids == token_id(config, "image_token_id")), side, processor)
        if media.video:
            if not images and config.model_type == "idefics3":
                raise ValueError(
                    "The Idefics3 processor takes no video. Pass the frames as a list of images, or "
                    "build the SmolVLM frame layout yourself and call explain_inputs."
                )
            if not images:
                raise count_mismatch("video", 0, 1, self.placeholder(processor, video=True))
            if any(tiles for tiles, _ in images):
                raise ValueError(
                    "A video frame was split into tiles: the input mixes images and a video. "
                    "Pass either a list of images or one video."
                )
            positions = tuple(p for _, g in images for p in range(g, g + side * side))
            return [View(image=0, kind="video", grid=(len(images), side, side), positions=positions)]
        if len(images) != len(media.sizes):
            raise count_mismatch("image", len(images), len(media.sizes), self.placeholder(processor))
        views = []
        for i, (tiles, glob) in enumerate(images):
            whole = tuple(range(glob, glob + side * side))
            if not tiles:
                views.append(View(image=i, kind="image", grid=(side, side), positions=whole))
                continue
            rows, cols = max(r for r, _, _ in tiles), max(c for _, c, _ in tiles)
            if [(r, c) for r, c, _ in tiles] != [(r, c) for r in range(1, rows + 1) for c in range(1, cols + 1)]:
                raise ValueError(f"The tiles of image {i} are not a full row-major {rows}x{cols} grid.")
            starts = [start for _, _, start in tiles]
            views.append(
                View(
                    image=i,
                    kind="tiles",
                    grid=(rows * side, cols * side),
                    positions=tuple(stitch(starts, rows, cols, side)),
                )
            )
            views.append(View(image=i, kind="global", grid=(side, side), positions=whole))
        return views

    def blocks(self, input_ids: torch.Tensor, found: list[tuple[int, int]], side: int, processor: Any) -> list[Block]:
        """Each image's tagged tile runs and its global run, read from the tag before every run."""
        tokenizer = getattr(processor, "tokenizer", processor)
        ids = input_ids.tolist()
        out: list[Block] = []
        tiles: list[tuple[int, int, int]] = []
        prev = 0
        for start, end in found:
            if end - start != side * side:
                raise ValueError(
                    f"A run of {end - start} image tokens is not one {side}x{side} tile; the "
                    "processor's image_seq_len does not match the model config."
                )
            text = "".join(t or "" for t in tokenizer.convert_ids_to_tokens(ids[prev:start]))
            tags = TAG.findall(text)
            if not tags:
                raise ValueError(
                    "A run of image tokens has no <row_i_col_j> or <global-img> tag before it; "
                    "the tokenizer lacks the Idefics3 image tags."
                )
            row, col = tags[-1]
            if row:
                tiles.append((int(row), int(col), start))
            else:
                out.append((tiles, start))
                tiles = []
            prev = end
        if tiles:
            raise ValueError("The input ends with image tiles but no <global-img> block.")
        return out
