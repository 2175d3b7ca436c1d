"""InternVL, Idefics3 and SmolVLM: tile arrangements against the image processors, video frame order, errors.

The generic tests (test_families.py) check the fixtures' views and their orientation; these check the tile
arrangement over many aspect ratios against what the image processors themselves produce.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import image
from fixtures_tiled import (
    FIXTURES_TILED,
    SIDE,
    TILE,
    idefics3_processor,
    idefics3_video,
    internvl_video,
    video_frames,
)
from PIL import Image

from tam_widget import FAMILIES, explain, explain_inputs
from tam_widget.families.base import Media, View
from tam_widget.testing import orientation

SIZES = [(128, 192), (192, 128), (64, 256), (100, 100), (60, 66), (300, 90), (90, 300), (200, 150)]


def views_of(name: str, proc: Any, images: list[np.ndarray], text: str, **kw: Any) -> tuple[list[View], Any]:
    fx = FIXTURES_TILED[name]()
    inputs = proc(text=[text], images=[Image.fromarray(i) for i in images], return_tensors="pt", **kw)
    media = Media(sizes=tuple((i.shape[0], i.shape[1]) for i in images))
    views = FAMILIES[name].views(fx.model.config, inputs, inputs["input_ids"][0], media, proc)
    return views, inputs


@pytest.mark.parametrize("hw", SIZES)
def test_family_internvl_tiles_are_the_image_processors(hw: tuple[int, int]) -> None:
    proc = FIXTURES_TILED["internvl"]().processor
    img = image(*hw)
    views, inputs = views_of("internvl", proc, [img], "<IMG_CONTEXT>\nDescribe.")
    n = proc.image_processor([img], crop_to_patches=True)["num_patches"][0]
    if n == 1:
        assert [(v.kind, v.grid) for v in views] == [("image", (SIDE, SIDE))]
        return
    tiles, thumb = views
    assert (tiles.kind, thumb.kind, thumb.grid) == ("tiles", "thumbnail", (SIDE, SIDE))
    rows, cols = tiles.grid[0] // SIDE, tiles.grid[1] // SIDE
    assert rows * cols + 1 == n
    # the tiles, laid out as the view says, are the image stretched to that canvas; the thumbnail comes last
    pixels = inputs["pixel_values"]
    ip = proc.image_processor
    canvas = ip([img], size={"height": rows * TILE, "width": cols * TILE}, return_tensors="pt")["pixel_values"][0]
    stitched = pixels[:-1].reshape(rows, cols, 3, TILE, TILE).permute(2, 0, 3, 1, 4).reshape(canvas.shape)
    torch.testing.assert_close(stitched, canvas)
    torch.testing.assert_close(pixels[-1], ip([img], return_tensors="pt")["pixel_values"][0])


@pytest.mark.parametrize(
    ("name", "longest_edge"),
    [("idefics3", TILE), ("idefics3", 2 * TILE), ("idefics3", 3 * TILE), ("smolvlm", 3 * TILE)],
)
def test_family_idefics3_tiles_are_the_image_processors(name: str, longest_edge: int) -> None:
    proc = idefics3_processor(smol=name == "smolvlm", longest_edge=longest_edge)
    imgs = [image(*hw, seed=k) for k, hw in enumerate(SIZES)]
    views, _ = views_of(name, proc, imgs, "User:" + "<image>" * len(imgs) + "Describe.")
    info = proc.image_processor([imgs], return_row_col_info=True)
    expected = []
    for rows, cols in zip(info["rows"][0], info["cols"][0], strict=True):
        tiled = [("tiles", (rows * SIDE, cols * SIDE)), ("global", (SIDE, SIDE))]
        expected += tiled if rows else [("image", (SIDE, SIDE))]
    assert [(v.kind, v.grid) for v in views] == expected
    assert any(k == "tiles" for k, _ in expected) == (longest_edge > TILE)


@pytest.mark.parametrize("name", sorted(FIXTURES_TILED))
def test_family_tiled_video_frames_in_order(name: str) -> None:
    """Editing a block of one frame changes only that frame's cells of the block."""
    fx = FIXTURES_TILED[name]()
    make = internvl_video if name == "internvl" else idefics3_video

    def run(shown: list[np.ndarray]) -> Any:
        inputs, frames, _ = make(fx, shown[0])
        return explain_inputs(fx.model, fx.processor, inputs, images=frames, answer="ok")

    exp = orientation.check(fx.model, run, [video_frames()], frames=[2], **fx.orientation_options())
    assert [(v.kind, v.grid) for v in exp.views] == [("video", (3, SIDE, SIDE))]


def test_family_idefics3_untiled_image_is_one_view() -> None:
    fx = FIXTURES_TILED["idefics3"]()
    proc = idefics3_processor(smol=False, longest_edge=TILE)

    def run(shown: list[np.ndarray]) -> Any:
        return explain(fx.model, proc, shown, "Describe.", answer="ok")

    exp = orientation.check(fx.model, run, [image(96, 120)], **fx.orientation_options())
    assert [(v.kind, v.grid, v.box) for v in exp.views] == [("image", (SIDE, SIDE), (0.0, 0.0, 1.0, 1.0))]


@pytest.mark.parametrize("name", sorted(FIXTURES_TILED))
def test_family_tiled_image_count_mismatch(name: str) -> None:
    fx = FIXTURES_TILED[name]()
    mark = FAMILIES[name].image_placeholder
    inputs = fx.processor(
        text=[mark * 2 + "Two."], images=[Image.fromarray(i) for i in fx.images[:2]], return_tensors="pt"
    )
    with pytest.raises(ValueError, match="holds 2 image block"):
        FAMILIES[name].views(fx.model.config, inputs, inputs["input_ids"][0], Media(sizes=((128, 192),)), fx.processor)


def test_family_internvl_tiles_from_other_settings_are_refused() -> None:
    proc = FIXTURES_TILED["internvl"]().processor
    with pytest.raises(ValueError, match="min/max_patches"):
        views_of("internvl", proc, [image(128, 192)], "<IMG_CONTEXT>\nDescribe.", max_patches=2)


def test_family_idefics3_processor_takes_no_video() -> None:
    fx = FIXTURES_TILED["idefics3"]()
    with pytest.raises(ValueError, match="takes no video"):
        explain(fx.model, fx.processor, video_frames(), "What happens?", answer="ok")
