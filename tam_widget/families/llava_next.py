"""LLaVA-NeXT: a low-resolution base view, then the high-resolution "anyres" grid with a newline column.

Image ``i`` is one block of ``<image>`` tokens (``config.image_token_id``), in this order:

- the base crop: the whole image squashed to ``S x S`` (the tower's ``image_size``), ``side x side``
  tokens row-major (``side = S // patch_size``), kind ``"base"``;
- the anyres grid: the image resized to fit the best of ``config.image_grid_pinpoints`` (aspect kept),
  padded to it, cut into ``S x S`` crops and put back together as one ``(nph * side, npw * side)`` grid,
  whose padding rows (or columns) are then dropped: ``gh x gw`` tokens, each row followed by the learned
  ``image_newline`` token. Newline tokens carry the image token id but are in no view. ``nph, npw`` and
  ``gh, gw`` come from transformers' own ``get_anyres_image_grid_shape`` and ``unpad_image`` applied to
  ``image_sizes[i]``; the box is the part of the image the kept rows and columns cover (about all of it).

Several images: the model fills the image tokens in sequence order, image after image, so the
``k``-th image token is found by counting, even where two blocks touch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from .base import FULL, Box, Family, Media, View, count_mismatch, token_id


class LlavaNext(Family):
    name = "LLaVA-NeXT"
    model_types = ("llava_next",)
    default_template = "USER: {images}\n{prompt} ASSISTANT:"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        sizes = inputs.get("image_sizes")
        if sizes is None:
            raise ValueError(f"The processor output has no 'image_sizes'; pass what the {self.name} processor returns.")
        sizes = torch.as_tensor(sizes).reshape(-1, 2).tolist()
        pos = torch.nonzero(input_ids == token_id(config, "image_token_id", "image_token_index")).reshape(-1).tolist()
        if len(sizes) != len(media.sizes):
            raise count_mismatch("image", len(sizes), len(media.sizes), self.placeholder(processor))
        side = int(config.vision_config.image_size) // int(config.vision_config.patch_size)
        layouts = [self.layout(config, inputs, i, int(h), int(w)) for i, (h, w) in enumerate(sizes)]
        need = sum(side * side + (gh * (gw + 1) if gh else 1) for _, (gh, gw), _ in layouts)
        if need != len(pos):
            raise ValueError(
                f"The input holds {len(pos)} image tokens but its {len(sizes)} image(s) of sizes {sizes} need {need}: "
                f"the input ids and image sizes come from different processor calls, or the prompt's "
                f"{self.placeholder(processor)!r} placeholders do not match the images."
            )
        views, k = [], 0
        for i, (base_box, (gh, gw), box) in enumerate(layouts):
            views.append(View(i, "base", (side, side), tuple(pos[k : k + side * side]), base_box))
            k += side * side
            if gh:  # row r, column c of the grid is token r * (gw + 1) + c; column gw is the newline
                grid = tuple(pos[k + r * (gw + 1) + c] for r in range(gh) for c in range(gw))
                views.append(View(i, "image", (gh, gw), grid, box))
            k += gh * (gw + 1) if gh else 1
        return views

    def layout(
        self, config: Any, inputs: Mapping[str, Any], index: int, h: int, w: int
    ) -> tuple[Box, tuple[int, int], Box]:
        """``(base box, (gh, gw), grid box)`` of image ``index``; ``gh = 0`` when only the base crop was made."""
        gh, gw, box = anyres_grid(config, h, w)
        return FULL, (gh, gw), box


def anyres_grid(config: Any, h: int, w: int) -> tuple[int, int, Box]:
    """The unpadded anyres grid ``(gh, gw)`` of an ``h x w`` image and the part of the image it covers."""
    from transformers.models.llava_next.modeling_llava_next import get_anyres_image_grid_shape, unpad_image

    size = int(config.vision_config.image_size)
    side = size // int(config.vision_config.patch_size)
    nph, npw = get_anyres_image_grid_shape([h, w], config.image_grid_pinpoints, size)  # type: ignore[no-untyped-call]
    full_h, full_w = nph * side, npw * side
    gh, gw = unpad_image(torch.empty(0, full_h, full_w), [h, w]).shape[1:]  # type: ignore[no-untyped-call]
    # where the processor put the resized image on its (nph * S, npw * S) canvas: aspect kept, centred
    th, tw = nph * size, npw * size
    if tw / w < th / h:
        nh, nw = min(math.ceil(h * tw / w), th), tw
    else:
        nh, nw = th, min(math.ceil(w * th / h), tw)
    top, left = (th - nh) // 2, (tw - nw) // 2
    cell = size / side  # canvas pixels per token
    y0, x0 = (full_h - gh) // 2 * cell - top, (full_w - gw) // 2 * cell - left
    return gh, gw, (x0 / nw, y0 / nh, (x0 + gw * cell) / nw, (y0 + gh * cell) / nh)
