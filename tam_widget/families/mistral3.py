"""Mistral3 (Mistral Small 3.x): each image is rows of ``[IMG]`` tokens, each row closed by ``[IMG_BREAK]``.

- Image ``i`` is resized (aspect kept, each side rounded up to a multiple of ``p·m``; ``p`` the
  vision patch size, ``m = config.spatial_merge_size``) to ``inputs["image_sizes"][i] = (H, W)``.
  The processor writes ``H/(p·m)`` rows of ``W/(p·m)`` ``[IMG]`` tokens (``config.image_token_id``),
  each followed by ``[IMG_BREAK]``, except the last, which ends with ``[IMG_END]``.
- ``[IMG_BREAK]`` and ``[IMG_END]`` are not image tokens and belong to no view, so each run of
  ``[IMG]`` is one grid row. The ``(H/(p·m), W/(p·m))`` grid covers the whole image.
- No extra forward inputs beyond ``pixel_values`` and ``image_sizes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, ClassVar

import torch

from .base import Family, Media, View, count_mismatch, runs, token_id


class Mistral3(Family):
    name = "Mistral3"
    model_types = ("mistral3",)
    default_template = "<s>[INST]{images}{prompt}[/INST]"
    image_placeholder: ClassVar[str] = "[IMG]"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        sizes = inputs.get("image_sizes")
        if sizes is None:
            raise ValueError("The processor output has no 'image_sizes'; pass what the Mistral3 processor returns.")
        step = int(config.vision_config.patch_size) * int(config.spatial_merge_size)
        grids = [(h // step, w // step) for h, w in torch.as_tensor(sizes).reshape(-1, 2).tolist()]
        if len(grids) != len(media.sizes):
            raise count_mismatch("image", len(grids), len(media.sizes), self.placeholder(processor))
        rows = runs(input_ids == token_id(config, "image_token_id"))  # one run per grid row
        if len(rows) != sum(gh for gh, _ in grids):
            raise ValueError(
                f"The input holds {len(rows)} rows of [IMG] tokens but image_sizes describe "
                f"{sum(gh for gh, _ in grids)}; the input ids and image_sizes come from different calls."
            )
        views, first = [], 0
        for i, (gh, gw) in enumerate(grids):
            mine, first = rows[first : first + gh], first + gh
            if any(b - a != gw for a, b in mine) or any(nxt[0] != prev[1] + 1 for prev, nxt in pairwise(mine)):
                raise ValueError(
                    f"The [IMG] tokens of image {i} do not form {gh} rows of {gw}, one break token "
                    "apart; the input ids and image_sizes come from different calls."
                )
            views.append(
                View(image=i, kind="image", grid=(gh, gw), positions=tuple(p for a, b in mine for p in range(a, b)))
            )
        return views
