"""LLaVA-specific family tests: anyres unpadding both ways, newline columns, anyres_max downsampling, padded and
cropped boxes, Pixtral rows with several images, OneVision video orientation, count mismatches.

Test names contain ``family`` so that ``pytest -k famil`` selects them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import image, patch_local
from fixtures_llava import (
    llava,
    llava_model,
    llava_next,
    llava_onevision,
    llava_pixtral,
    onevision_model,
    onevision_video,
    video_frames,
)
from test_families import _edited, _expected_cells

from tam_widget import explain, explain_inputs
from tam_widget.explanation import Explanation
from tam_widget.families.llava import crop_box, pad_box

PROMPT = "Describe the pictures."


def _run_pair(model: Any, run: Any) -> tuple[Explanation, torch.Tensor, torch.Tensor]:
    """``run(edited: bool)`` twice with attention off; the final-norm outputs of both passes."""
    recorded: list[torch.Tensor] = []
    with patch_local(model), torch.no_grad():
        hook = model.get_decoder().norm.register_forward_hook(lambda m, a, o: recorded.append(o[0].detach().clone()))
        try:
            base = run(False)
            run(True)
        finally:
            hook.remove()
    return base, recorded[0], recorded[1]


def _changed(h0: torch.Tensor, h1: torch.Tensor, positions: tuple[int, ...], grid: tuple[int, ...]) -> np.ndarray:
    pos = torch.tensor(positions)
    diff = (h0[pos] - h1[pos]).abs().amax(dim=-1).reshape(grid)
    return (diff > 1e-4 * h0.abs().max()).numpy()


def _assert_oriented(model: Any, processor: Any, images: list[np.ndarray]) -> Explanation:
    """Editing the top-right ninth of every image changes exactly the cells of each view that cover it."""
    exp, h0, h1 = _run_pair(
        model, lambda e: explain(model, processor, [_edited(i) if e else i for i in images], PROMPT, answer="ok")
    )
    for view in exp.views:
        changed = _changed(h0, h1, view.positions, view.grid)
        may, must = _expected_cells(view, *images[view.image].shape[:2])
        assert must.any(), f"{view.kind} {view.grid} of image {view.image}: no cell inside the edit"
        assert not (changed & ~may).any(), f"{view.kind} {view.grid} of image {view.image}: outside changed\n{changed}"
        assert changed[must].all(), f"{view.kind} {view.grid} of image {view.image}: inside unchanged\n{changed}"
    return exp


def _newlines(exp: Explanation, image_id: int) -> set[int]:
    """Image-token positions of the input that are in no view."""
    ids = torch.tensor(exp.token_ids[: exp.answer_start])
    seen = {p for v in exp.views for p in v.positions}
    return set(torch.nonzero(ids == image_id).reshape(-1).tolist()) - seen


def test_family_llava_next_unpads_rows_and_columns() -> None:
    """A wide image loses padding rows, a tall one padding columns; newlines follow each kept row."""
    fx = llava_next()
    wide, tall = image(84, 112, seed=3), image(112, 84, seed=4)
    exp = _assert_oriented(fx.model, fx.processor, [wide, tall])
    assert [(v.image, v.kind, v.grid) for v in exp.views] == [
        (0, "base", (4, 4)),
        (0, "image", (6, 8)),
        (1, "base", (4, 4)),
        (1, "image", (8, 6)),
    ]
    for v in exp.views:
        np.testing.assert_allclose(v.box, (0, 0, 1, 1), atol=1e-9)  # the kept rows/columns are the image
    grids = [v for v in exp.views if v.kind == "image"]
    ends = {v.positions[r * v.grid[1] + v.grid[1] - 1] + 1 for v in grids for r in range(v.grid[0])}
    assert _newlines(exp, fx.model.config.image_token_id) == ends


def test_family_llava_next_box_is_what_unpadding_keeps() -> None:
    """The kept token rows can reach past the image (83 px high: 6 rows = 84 px) or fall short of it (60 px high,
    at y = 26..86 of the canvas: unpadding keeps rows 2..5, y = 28..84)."""
    from tam_widget.families.llava_next import anyres_grid

    config = llava_next().model.config
    gh, gw, box = anyres_grid(config, 83, 112)  # on the 112 x 112 canvas from y = 14 to 97
    assert (gh, gw) == (6, 8)
    np.testing.assert_allclose(box, (0, 0, 1, 84 / 83))
    gh, gw, box = anyres_grid(config, 60, 112)
    assert (gh, gw) == (4, 8)
    np.testing.assert_allclose(box, (0, 2 / 60, 1, 58 / 60))
    gh, gw, box = anyres_grid(config, 112, 60)  # the same, transposed
    assert (gh, gw) == (8, 4)
    np.testing.assert_allclose(box, (2 / 60, 0, 58 / 60, 1))


@cache
def _onevision_max1() -> tuple[Any, Any]:
    return onevision_model(aspect="anyres_max_1")


def test_family_llava_onevision_anyres_max_downsamples() -> None:
    """anyres_max_1: the 6 x 8 unpadded grid has ratio sqrt(48 / 16) > 1.1, so it is pooled to 3 x 4."""
    model, proc = _onevision_max1()
    img = image(84, 112, seed=5)
    exp = _assert_oriented(model, proc, [img])
    assert [(v.kind, v.grid) for v in exp.views] == [("base", (4, 4)), ("image", (3, 4))]
    grid = exp.views[1]
    ends = {grid.positions[r * 4 + 3] + 1 for r in range(3)}
    assert _newlines(exp, model.config.image_token_id) == ends


def test_family_llava_onevision_multi_image_sample_is_base_only() -> None:
    """Two images in one sample (nested list): each is padded to a square, base crop only, one newline."""
    fx = llava_onevision()
    imgs = [image(84, 112, seed=6), image(84, 112, seed=7)]
    text = f"<|im_start|>user <image><image>\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
    from PIL import Image

    def run(edited: bool) -> Explanation:
        shown = [_edited(i) if edited else i for i in imgs]
        inputs = fx.processor(text=[text], images=[[Image.fromarray(i) for i in shown]], return_tensors="pt")
        return explain_inputs(fx.model, fx.processor, inputs, images=imgs, prompt=PROMPT, answer="ok")

    exp, h0, h1 = _run_pair(fx.model, run)
    assert [(v.kind, v.grid) for v in exp.views] == [("base", (4, 4)), ("base", (4, 4))]
    assert len(_newlines(exp, fx.model.config.image_token_id)) == 2
    for v in exp.views:
        assert v.box == pad_box(84, 112)
        np.testing.assert_allclose(v.box, (0, -14 / 84, 1, 98 / 84))
        may, must = _expected_cells(v, 84, 112)
        changed = _changed(h0, h1, v.positions, v.grid)
        assert not (changed & ~may).any() and changed[must].all(), changed


def test_family_llava_onevision_video_frames_in_order() -> None:
    """Editing the top-right ninth of one frame changes only that frame's top-right pooled cell."""
    fx = llava_onevision()
    frames = video_frames(n=4)
    k = 2
    edited = frames.copy()
    edited[k] = _edited(frames[k])
    exp, h0, h1 = _run_pair(
        fx.model,
        lambda e: explain_inputs(
            fx.model, fx.processor, onevision_video(fx.processor, edited if e else frames), images=frames, answer="ok"
        ),
    )
    (view,) = exp.views
    assert (view.kind, view.grid, view.box) == ("video", (4, 2, 2), (0, 0, 1, 1))
    changed = _changed(h0, h1, view.positions, view.grid)
    expected = np.zeros((4, 2, 2), dtype=bool)
    expected[k, 0, 1] = True
    np.testing.assert_array_equal(changed, expected)
    ids = exp.token_ids
    assert ids[view.positions[-1] + 1] == fx.model.config.video_token_id  # the one newline, after the last frame
    assert ids[view.positions[-1] + 2] != fx.model.config.video_token_id


def test_family_llava_crop_box_follows_the_image_processor() -> None:
    fx = llava()
    ip = fx.processor.image_processor
    np.testing.assert_allclose(crop_box(ip, 84, 112), (0.125, 0, 0.875, 1))  # shortest edge, then central square
    np.testing.assert_allclose(crop_box(ip, 112, 84), (0, 0.125, 1, 0.875))
    assert crop_box(None, 84, 112) == (0.0, 0.0, 1.0, 1.0)


def test_family_llava_tall_image_and_padded_square() -> None:
    """Center crop of a tall image, and LLaVA's pad-to-square (the box then reaches past the image)."""
    from transformers import LlavaImageProcessorPil

    fx = llava()
    exp = _assert_oriented(fx.model, fx.processor, [image(112, 84, seed=8)])
    np.testing.assert_allclose(exp.views[0].box, (0, 0.125, 1, 0.875))
    ip = LlavaImageProcessorPil(do_pad=True, size={"shortest_edge": 56}, crop_size={"height": 56, "width": 56})
    model, proc = llava_model(ip)
    exp = _assert_oriented(model, proc, [image(84, 112, seed=9)])
    np.testing.assert_allclose(exp.views[0].box, (0, -1 / 6, 1, 7 / 6))


def test_family_llava_pixtral_rows_of_two_touching_images() -> None:
    """Two Pixtral images: each row of [IMG] ends in [IMG_BREAK], each image in [IMG_END]; both oriented."""
    fx = llava_pixtral()
    exp = _assert_oriented(fx.model, fx.processor, [image(84, 112, seed=10), image(84, 84, seed=11)])
    assert [(v.kind, v.grid) for v in exp.views] == [("image", (6, 8)), ("image", (6, 6))]
    proc = fx.processor
    for v in exp.views:
        h, w = v.grid
        after = [exp.token_ids[v.positions[r * w + w - 1] + 1] for r in range(h)]
        assert after == [proc.image_break_token_id] * (h - 1) + [proc.image_end_token_id]


@pytest.mark.parametrize("name", ["llava", "llava_pixtral", "llava_next", "llava_onevision"])
def test_family_llava_image_count_mismatch(name: str) -> None:
    fx = {"llava": llava, "llava_pixtral": llava_pixtral, "llava_next": llava_next, "llava_onevision": llava_onevision}[
        name
    ]()
    from tam_widget.explain import build_text
    from tam_widget.families import family_for
    from tam_widget.media import as_media, to_pil

    arrays, media = as_media(fx.images)
    text, _ = build_text(family_for(fx.model), fx.processor, fx.prompt, media)
    inputs = fx.processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    with pytest.raises(ValueError, match=r"1 image block\(s\) but 2 image\(s\)"):
        explain_inputs(fx.model, fx.processor, inputs, images=[*fx.images, *fx.images], answer="ok")


def test_family_llava_next_sizes_from_another_call() -> None:
    fx = llava_next()
    inputs = dict(fx.processor(text=["USER: <image>\nHi ASSISTANT:"], images=[fx.images[0]], return_tensors="pt"))
    inputs["image_sizes"] = torch.tensor([[112, 84]])  # tall instead of wide: 8 x 6 + 8 newlines, not 6 x 8 + 6
    with pytest.raises(ValueError, match="different processor calls"):
        explain_inputs(fx.model, fx.processor, inputs, images=fx.images, answer="ok")


def test_family_llava_onevision_video_frame_count_mismatch() -> None:
    fx = llava_onevision()
    frames = video_frames(n=4)
    inputs = onevision_video(fx.processor, frames)
    inputs["pixel_values_videos"] = inputs["pixel_values_videos"][:, :3]
    with pytest.raises(ValueError, match="different processor calls"):
        explain_inputs(fx.model, fx.processor, inputs, images=frames, answer="ok")
    two = onevision_video(fx.processor, frames)
    two["input_ids"] = torch.cat([two["input_ids"], two["input_ids"]], dim=1)
    two["attention_mask"] = torch.ones_like(two["input_ids"])
    with pytest.raises(ValueError, match=r"2 video block\(s\) but 1 video"):
        explain_inputs(fx.model, fx.processor, two, images=frames, answer="ok")
