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
from family_fixtures import image
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

from tam_widget import explain, explain_inputs
from tam_widget.explanation import Explanation
from tam_widget.families.llava import crop_box, pad_box
from tam_widget.testing import orientation

PROMPT = "Describe the pictures."


def _assert_oriented(model: Any, processor: Any, images: list[np.ndarray]) -> Explanation:
    """Every view of ``explain`` on ``images`` is oriented, exactly (``orientation.check``)."""

    def run(shown: list[np.ndarray]) -> Explanation:
        return explain(model, processor, shown, PROMPT, answer="ok")

    return orientation.check(model, run, images, reach=orientation.filter_reach(processor))


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

    def run(shown: list[np.ndarray]) -> Explanation:
        inputs = fx.processor(text=[text], images=[[Image.fromarray(i) for i in shown]], return_tensors="pt")
        return explain_inputs(fx.model, fx.processor, inputs, images=shown, prompt=PROMPT, answer="ok")

    exp = orientation.check(fx.model, run, imgs, reach=orientation.filter_reach(fx.processor))
    assert [(v.kind, v.grid) for v in exp.views] == [("base", (4, 4)), ("base", (4, 4))]
    assert len(_newlines(exp, fx.model.config.image_token_id)) == 2
    for v in exp.views:
        assert v.box == pad_box(84, 112)
        np.testing.assert_allclose(v.box, (0, -14 / 84, 1, 98 / 84))


def test_family_llava_onevision_video_frames_in_order() -> None:
    """Editing a block of one frame changes only that frame's cells of the block (frames 70 x 90 squashed to
    56 x 56, pooled to 2 x 2 cells of 28 px)."""
    fx = llava_onevision()

    def run(shown: list[np.ndarray]) -> Explanation:
        video = shown[0]
        return explain_inputs(fx.model, fx.processor, onevision_video(fx.processor, video), images=video, answer="ok")

    exp = orientation.check(fx.model, run, [video_frames(n=4)], cell_px=28, reach=2.0, frames=[2])
    (view,) = exp.views
    assert (view.kind, view.grid, view.box) == ("video", (4, 2, 2), (0, 0, 1, 1))
    ids = exp.token_ids
    assert ids[view.positions[-1] + 1] == fx.model.config.video_token_id  # the one newline, after the last frame
    assert ids[view.positions[-1] + 2] != fx.model.config.video_token_id


def test_family_llava_crop_box_follows_the_image_processor() -> None:
    fx = llava()
    ip = fx.processor.image_processor
    # shortest edge to 56 (the long side truncated: 112 -> 74), then the central 56 from (74 - 56) // 2 = 9
    np.testing.assert_allclose(crop_box(ip, 84, 112), (9 / 74, 0, 65 / 74, 1))
    np.testing.assert_allclose(crop_box(ip, 112, 84), (0, 9 / 74, 1, 65 / 74))
    assert crop_box(None, 84, 112) == (0.0, 0.0, 1.0, 1.0)


def _sampling_error(ip: Any, h: int, w: int, box: tuple[float, ...]) -> float:
    """How far, in source pixels, the image processor's output pixels were sampled from where ``box`` says.

    Each pixel of the test image holds its own coordinates (red ``kx * x``, green ``ky * y``, blue 255 to tell
    the image from padding). Resampling reproduces a linear ramp exactly away from the borders, so an output
    pixel's value is the source position of its centre, rounded to whole levels (``0.5 / k`` source pixels).
    ``box`` predicts that position: output pixel ``j`` of ``n`` samples at ``x0 * w + (j + 0.5) (x1 - x0) w / n
    - 0.5``. Returns the worst gap beyond the rounding."""
    kx, ky = 255 // max(w - 1, 1), 255 // max(h - 1, 1)  # spread the ramps over the uint8 range
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([kx * xx, ky * yy, np.full_like(xx, 255)], -1).astype(np.uint8)
    pixels = ip([img], return_tensors="np")["pixel_values"][0].astype(np.float64)
    v = (pixels * np.asarray(ip.image_std)[:, None, None] + np.asarray(ip.image_mean)[:, None, None]) * 255
    inside = v[2] > 254.5
    core = inside.copy()  # 3 output pixels away from padding and from the output's borders
    for d in (1, 2, 3):
        for axis in (0, 1):
            core &= np.roll(inside, d, axis) & np.roll(inside, -d, axis)
    core[:3], core[-3:], core[:, :3], core[:, -3:] = False, False, False, False
    rows, cols = np.nonzero(core)
    x0, y0, x1, y1 = box
    worst = 0.0
    for got, k, j, n, lo, hi, size in (
        (v[0][core], kx, cols, v.shape[2], x0, x1, w),
        (v[1][core], ky, rows, v.shape[1], y0, y1, h),
    ):
        want = lo * size + (j + 0.5) * (hi - lo) * size / n - 0.5
        worst = max(worst, float(np.abs(got / k - want).max()) - 0.5 / k)
    return worst


@pytest.mark.parametrize("pad", [False, True], ids=["crop", "pad"])
def test_family_llava_box_is_where_the_processor_samples(pad: bool) -> None:
    """``crop_box`` against the image processor itself, over many aspect ratios: every output pixel was sampled
    where the box says, to within the uint8 rounding of the measurement (and 0.02 px of resampling arithmetic).

    The processor truncates the resized long side to whole pixels and floors the crop offset; a box computed
    without that (e.g. 74.67 rows instead of 74) is off by up to half a source pixel and fails here."""
    from transformers import LlavaImageProcessorPil

    ip = (
        LlavaImageProcessorPil(do_pad=True, size={"shortest_edge": 56}, crop_size={"height": 56, "width": 56})
        if pad
        else llava().processor.image_processor
    )
    for h, w in [(84, 112), (112, 84), (100, 100), (60, 155), (150, 60), (57, 200), (90, 64), (70, 90)]:
        box = crop_box(ip, h, w)
        error = _sampling_error(ip, h, w, box)
        assert error <= 0.02, f"{h}x{w}: crop_box {np.round(box, 4)} is {error:.3f} px off"


def test_family_llava_tall_image_and_padded_square() -> None:
    """Center crop of a tall image, and LLaVA's pad-to-square (the box then reaches past the image)."""
    from transformers import LlavaImageProcessorPil

    fx = llava()
    exp = _assert_oriented(fx.model, fx.processor, [image(112, 84, seed=8)])
    np.testing.assert_allclose(exp.views[0].box, (0, 9 / 74, 1, 65 / 74))
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
    from tam_widget.families import family_for
    from tam_widget.runtime.media import as_media, to_pil
    from tam_widget.runtime.prompt import build_text

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
