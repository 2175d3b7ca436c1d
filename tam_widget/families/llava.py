"""LLaVA-1.5, and Pixtral-12B style LLaVA (a ``LlavaForConditionalGeneration`` with a ``pixtral`` vision tower).

- LLaVA-1.5 (CLIP or SigLIP tower): image ``i`` is a block of ``side x side`` ``<image>`` tokens
  (``config.image_token_id``, ``side = image_size // patch_size``), row-major; with
  ``vision_feature_select_strategy="full"`` and a CLS-token tower the block starts with one more,
  non-spatial token. The image processor resizes the shortest edge and center-crops a square (after
  padding the image to a square when ``do_pad`` is set), so the grid covers the central square of the
  image, computed from the image processor's settings.
- Pixtral: image ``i`` is ``gh`` rows of ``gw`` ``[IMG]`` tokens, each row followed by ``[IMG_BREAK]``,
  the last by ``[IMG_END]`` (neither is an image token). ``(gh, gw) = image_sizes[i] // patch_size``
  (no spatial merge in LLaVA): the image is resized to a multiple of the patch, so the grid covers it all.
- Several images: the model fills the image tokens in sequence order, image after image, so the
  ``k``-th image token is found by counting, even where two blocks touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .base import FULL, Box, Family, Media, View, count_mismatch, runs, token_id


class Llava(Family):
    name = "LLaVA-1.5"
    model_types = ("llava",)
    default_template = "USER: {images}\n{prompt} ASSISTANT:"

    def template(self, processor: Any, video: bool = False) -> tuple[str, str]:
        if self.placeholder(processor) == "[IMG]":  # a Pixtral processor: Mistral's instruction layout
            return "<s>[INST]{images}{prompt}[/INST]", "[IMG]"
        return super().template(processor, video)

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        mask = input_ids == token_id(config, "image_token_id", "image_token_index")
        if getattr(config.vision_config, "model_type", "") == "pixtral":
            return pixtral_views(config, inputs, mask, media, self.placeholder(processor))
        side = int(config.vision_config.image_size) // int(config.vision_config.patch_size)
        pos = torch.nonzero(mask).reshape(-1).tolist()
        n_given = len(media.sizes)
        cls = int(getattr(config, "vision_feature_select_strategy", "default") == "full")
        per = side * side + (cls if len(pos) == n_given * (side * side + 1) else 0)
        if len(pos) != n_given * per:
            raise count_mismatch("image", len(pos) // (side * side), n_given, self.placeholder(processor))
        ip = getattr(processor, "image_processor", None)
        return [
            View(i, "image", (side, side), tuple(pos[i * per + per - side * side : (i + 1) * per]), crop_box(ip, h, w))
            for i, (h, w) in enumerate(media.sizes)
        ]


def crop_box(ip: Any, h: int, w: int) -> Box:
    """The part of an ``h x w`` image a CLIP-style processor keeps: pad to a square (LLaVA's ``do_pad``),
    resize (shortest edge, or to a fixed size), then center-crop, in whole pixels as transformers does
    (the long side truncated, the crop offset floored)."""
    if ip is None:
        return FULL
    x0, y0, x1, y1 = FULL
    cur_h, cur_w = h, w
    if getattr(ip, "do_pad", False) and hasattr(ip, "pad_to_square"):
        x0, y0, x1, y1 = pad_box(h, w)
        cur_h = cur_w = max(h, w)
    size, crop = getattr(ip, "size", None), getattr(ip, "crop_size", None)
    if getattr(ip, "do_resize", False) and size is not None:
        if size.get("shortest_edge"):
            cur_h, cur_w = _shortest_edge(cur_h, cur_w, int(size["shortest_edge"]))
        elif size.get("height") and size.get("width"):
            cur_h, cur_w = int(size["height"]), int(size["width"])
    if getattr(ip, "do_center_crop", False) and crop is not None and crop.get("height"):
        x0, x1 = _window(x0, x1, cur_w, int(crop["width"]))
        y0, y1 = _window(y0, y1, cur_h, int(crop["height"]))
    return (x0, y0, x1, y1)


def _shortest_edge(h: int, w: int, edge: int) -> tuple[int, int]:
    """transformers' ``get_resize_output_image_size``: the short side to ``edge``, the long side truncated."""
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(edge * long / short)
    return (new_long, edge) if w <= h else (edge, new_long)


def _window(lo: float, hi: float, n: int, crop: int) -> tuple[float, float]:
    """The part of ``[lo, hi]`` (spanning ``n`` pixels) a centre crop of ``crop`` pixels keeps; beyond it
    where the crop is larger (transformers pads then): the offset is ``(n - crop) // 2`` either way."""
    start = (n - crop) // 2
    return lo + (hi - lo) * start / n, lo + (hi - lo) * (start + crop) / n


def pad_box(h: int, w: int) -> Box:
    """The square that ``pad_to_square`` (image centred, as transformers pads) makes of an ``h x w`` image."""
    s = max(h, w)
    x0, y0 = -((s - w) // 2) / w, -((s - h) // 2) / h
    return (x0, y0, x0 + s / w, y0 + s / h)


def pixtral_views(
    config: Any, inputs: Mapping[str, Any], mask: torch.Tensor, media: Media, placeholder: str
) -> list[View]:
    """Pixtral layout: one run of image tokens per row of patches, ``image_sizes`` giving each image's rows."""
    sizes = inputs.get("image_sizes")
    if sizes is None:
        raise ValueError("The processor output has no 'image_sizes'; pass what the Pixtral processor returns.")
    p = int(config.vision_config.patch_size) * int(getattr(config, "spatial_merge_size", 1) or 1)
    grids = [(int(h) // p, int(w) // p) for h, w in torch.as_tensor(sizes).reshape(-1, 2).tolist()]
    rows = runs(mask)
    if len(grids) != len(media.sizes):
        raise count_mismatch("image", len(grids), len(media.sizes), placeholder)
    if [e - s for s, e in rows] != [gw for gh, gw in grids for _ in range(gh)]:
        raise ValueError(
            f"The rows of image tokens in the input ({[e - s for s, e in rows]}) do not match the image sizes "
            f"{grids} (rows x columns): the input ids and image sizes come from different processor calls."
        )
    views, k = [], 0
    for i, (gh, gw) in enumerate(grids):
        pos = [q for s, e in rows[k : k + gh] for q in range(s, e)]
        views.append(View(i, "image", (gh, gw), tuple(pos)))
        k += gh
    return views
