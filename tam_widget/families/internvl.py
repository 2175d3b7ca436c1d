"""InternVL (the ``-hf`` checkpoints): each image is ``<img>`` + n_tiles x s*s ``<IMG_CONTEXT>`` + ``</img>``.

- ``s = image_size / patch_size * downsample_ratio`` (the pixel shuffle); each tile is an ``(s, s)`` grid,
  row-major, and every tile's tokens are contiguous.
- The processor stretches an image to a canvas of ``cols x rows`` tiles, chosen by GOT-OCR2's
  ``get_optimal_tiled_canvas`` from the image size and the image processor's tile size and min/max patches;
  the tiles follow in row-major order and, when there is more than one, a thumbnail of the whole image
  comes last. The tiles are stitched back into one ``(rows*s, cols*s)`` grid over the whole image (kind
  ``"tiles"``), then the thumbnail (``"thumbnail"``). A one-tile image is one ``"image"`` view.
- A video is ``Frame1: <img>...</img>\\nFrame2: ...``: one tile per frame (the frame resized to the tile),
  one ``(T, s, s)`` view.
- No extra forward inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from .base import Family, Media, View, block_starts, count_mismatch, runs, stitch, token_id


class InternVL(Family):
    name = "InternVL"
    model_types = ("internvl",)
    supports_video = True
    default_template = "<|im_start|>user\n{images}{prompt}<|im_end|>\n<|im_start|>assistant\n"
    image_placeholder: ClassVar[str] = "<IMG_CONTEXT>\n"
    video_placeholder: ClassVar[str] = "<video>\n"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        vision = config.vision_config
        side = int(_pair(vision.image_size)[0] // _pair(vision.patch_size)[0] * config.downsample_ratio)
        per = side * side
        found = runs(input_ids == token_id(config, "image_token_id"))
        block_starts(found, per, "the processor's image_seq_length does not match the model config's tiles.")
        if media.video:
            if not found:
                raise count_mismatch("video", 0, 1, self.placeholder(processor, video=True))
            if any(end - start != per for start, end in found):
                raise ValueError(
                    "A video frame block holds several tiles: the input mixes images and a video. "
                    "Pass either a list of images or one video."
                )
            positions = tuple(p for start, end in found for p in range(start, end))
            return [View(image=0, kind="video", grid=(len(found), side, side), positions=positions)]
        if len(found) != len(media.sizes):
            raise count_mismatch("image", len(found), len(media.sizes), self.placeholder(processor))
        views = []
        for i, ((start, end), size) in enumerate(zip(found, media.sizes, strict=True)):
            n = (end - start) // per
            if n == 1:
                views.append(View(image=i, kind="image", grid=(side, side), positions=tuple(range(start, end))))
                continue
            cols, rows = self.canvas(config, processor, size)
            if cols * rows + 1 != n:
                raise ValueError(
                    f"Image {i} has {n} tiles, but the image processor's settings tile it as "
                    f"{rows}x{cols} + a thumbnail; set min/max_patches on processor.image_processor "
                    "rather than per call."
                )
            starts = [start + k * per for k in range(n)]
            views.append(
                View(
                    image=i,
                    kind="tiles",
                    grid=(rows * side, cols * side),
                    positions=tuple(stitch(starts[:-1], rows, cols, side)),
                )
            )
            views.append(View(image=i, kind="thumbnail", grid=(side, side), positions=tuple(range(starts[-1], end))))
        return views

    def canvas(self, config: Any, processor: Any, size: tuple[int, int]) -> tuple[int, int]:
        """``(cols, rows)`` of tiles for an image of ``size`` (height, width), as the image processor picks them."""
        try:  # transformers 5 (the module without the PIL suffix needs torchvision there)
            from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import get_optimal_tiled_canvas
        except ImportError:  # transformers 4
            from transformers.models.got_ocr2.image_processing_got_ocr2 import get_optimal_tiled_canvas
        ip = getattr(processor, "image_processor", None)
        tile = getattr(ip, "size", None)  # a dict, or a SizeDict in transformers 5
        if tile is None:
            hw = _pair(config.vision_config.image_size)
        else:
            hw = (int(tile["height"]), int(tile["width"])) if isinstance(tile, Mapping) else (tile.height, tile.width)
        lo, hi = int(getattr(ip, "min_patches", 1)), int(getattr(ip, "max_patches", 12))
        cols, rows = get_optimal_tiled_canvas((int(size[0]), int(size[1])), hw, lo, hi)
        return int(cols), int(rows)


def _pair(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (list, tuple)) else (int(value), int(value))
