"""InternVL, Idefics3 and SmolVLM: tile arrangements against the image processors, video frame order, errors.

The generic tests (test_families.py) check the fixtures' views and their orientation; these check the tile
arrangement over many aspect ratios against what the image processors themselves produce.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import image, patch_local
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


def hidden(fx: Any, run: Any) -> tuple[Any, torch.Tensor]:
    """The explanation ``run()`` returns and the last-layer states it saw, with attention off."""
    recorded: list[torch.Tensor] = []
    with patch_local(fx.model), torch.no_grad():
        hook = fx.model.get_decoder().norm.register_forward_hook(lambda m, a, o: recorded.append(o[0].clone()))
        try:
            exp = run()
        finally:
            hook.remove()
    return exp, recorded[0]


def changed(h0: torch.Tensor, h1: torch.Tensor, view: View) -> np.ndarray:
    pos = torch.tensor(view.positions)
    return ((h0[pos] - h1[pos]).abs().amax(-1) > 1e-4 * h0.abs().max()).reshape(view.grid).numpy()


def top_right_only(cells: np.ndarray) -> bool:
    """An edit of the top-right ninth of a 4x4 grid: cell (0, 3) changes, nothing beyond rows 0-1, cols 2-3."""
    outside = cells.copy()
    outside[:2, 2:] = False
    return bool(cells[0, 3]) and not outside.any()


@pytest.mark.parametrize("name", sorted(FIXTURES_TILED))
def test_family_tiled_video_frames_in_order(name: str) -> None:
    fx = FIXTURES_TILED[name]()
    make = internvl_video if name == "internvl" else idefics3_video
    frames = video_frames()
    edited = frames.copy()
    edited[2, : frames.shape[1] // 3, -(frames.shape[2] // 3) :] = 255  # the top-right ninth of the last frame
    runs = [make(fx, f) for f in (frames, edited)]
    (e0, h0), (e1, h1) = (
        hidden(fx, lambda r=r: explain_inputs(fx.model, fx.processor, r[0], images=r[1], answer="ok")) for r in runs
    )
    (view,) = e0.views
    assert e1.views == e0.views and view.grid == (3, SIDE, SIDE)
    cells = changed(h0, h1, view)
    assert not cells[:2].any(), cells
    assert top_right_only(cells[2]), cells[2]


def test_family_idefics3_untiled_image_is_one_view() -> None:
    fx = FIXTURES_TILED["idefics3"]()
    proc = idefics3_processor(smol=False, longest_edge=TILE)
    img = image(96, 120)
    edited = img.copy()
    edited[:32, -40:] = 255
    (e0, h0), (_, h1) = (
        hidden(fx, lambda i=i: explain(fx.model, proc, i, "Describe.", answer="ok")) for i in (img, edited)
    )
    assert [(v.kind, v.grid, v.box) for v in e0.views] == [("image", (SIDE, SIDE), (0.0, 0.0, 1.0, 1.0))]
    assert top_right_only(changed(h0, h1, e0.views[0]))


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
