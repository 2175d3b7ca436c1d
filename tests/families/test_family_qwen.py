"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL specifics: video frame groups, several images, M-RoPE, count errors.

Test names contain ``family`` so that ``pytest -k famil`` selects them.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import Fixture, image
from fixtures_qwen import FIXTURES_QWEN, frames_for, video_inputs

from tam_widget import FAMILIES, explain, explain_inputs
from tam_widget.families.base import Media
from tam_widget.runtime.media import as_media
from tam_widget.testing import orientation


@pytest.fixture(params=sorted(FIXTURES_QWEN))
def fx(request: pytest.FixtureRequest) -> Fixture:
    return FIXTURES_QWEN[request.param]()


def _cell(fx: Fixture) -> int:
    """Pixels per token side: patch size times merge size."""
    vc = fx.model.config.vision_config
    return int(vc.patch_size * vc.spatial_merge_size)


def test_family_qwen_video_orientation(fx: Fixture) -> None:
    """Editing a block of the second frame group's frames changes only that group's cells of the block."""
    frames = frames_for(fx)

    def run(shown: list[np.ndarray]) -> Any:
        return explain_inputs(fx.model, fx.processor, video_inputs(fx, shown[0]), images=shown[0], answer="ok")

    exp = orientation.check(fx.model, run, [frames], frames=[2, 3], **fx.orientation_options())
    [view] = exp.views
    assert (view.kind, view.grid) == ("video", (2, *fx.views[0][1]))


def test_family_qwen_two_images_in_order(fx: Fixture) -> None:
    """Two images of different sizes: one view each, in prompt order, each oriented on its own image."""
    cell = _cell(fx)
    images = [fx.images[0], image(2 * cell, 3 * cell, seed=5)]

    def run(shown: list[np.ndarray]) -> Any:
        return explain(fx.model, fx.processor, shown, fx.prompt, answer="ok")

    views = orientation.check(fx.model, run, images, **fx.orientation_options()).views
    assert [(v.image, v.kind, v.grid) for v in views] == [(0, "image", fx.views[0][1]), (1, "image", (2, 3))]
    assert max(views[0].positions) < min(views[1].positions)
    for v in views:  # each image is one contiguous run, row-major
        assert list(v.positions) == list(range(v.positions[0], v.positions[0] + len(v.positions)))


def _rope_positions(fx: Fixture, inputs: dict[str, Any]) -> torch.Tensor:
    """``(3, L)`` temporal/height/width M-RoPE positions the model itself computes for ``inputs``."""
    get = fx.model.model.get_rope_index
    accepted = inspect.signature(get).parameters
    kwargs = {k: v for k, v in inputs.items() if k in accepted and k != "input_ids"}
    position_ids, _ = get(inputs["input_ids"], **kwargs)
    return torch.as_tensor(position_ids)[:, 0]


def test_family_qwen_grid_matches_rope_index(fx: Fixture) -> None:
    """The model's own 3-D positions: height/width minus their minimum are each cell's row/col, frame by frame."""
    family = FAMILIES[fx.model.config.model_type]
    cell = _cell(fx)
    imgs = [fx.images[0], image(2 * cell, 3 * cell, seed=5)]
    image_inputs = dict(
        fx.processor(
            text=[family.default_template.format(images=family.image_placeholder * 2, prompt=fx.prompt)],
            images=imgs,
            return_tensors="pt",
        )
    )
    frames = frames_for(fx)
    cases = [(image_inputs, as_media(imgs)[1]), (video_inputs(fx, frames), as_media(frames)[1])]
    for inputs, media in cases:
        pos = _rope_positions(fx, inputs)
        views = family.views(fx.model.config, inputs, inputs["input_ids"][0], media, fx.processor)
        assert len(views) == (1 if media.video else 2)
        for view in views:
            gh, gw = view.grid[-2:]
            frame_ts = []
            for frame in torch.tensor(view.positions).reshape(-1, gh * gw):
                t, h, w = pos[:, frame]
                rows, cols = torch.arange(gh).repeat_interleave(gw), torch.arange(gw).repeat(gh)
                assert torch.equal(h - h.min(), rows) and torch.equal(w - w.min(), cols)
                assert (t == t[0]).all()
                frame_ts.append(int(t[0]))
            assert frame_ts == sorted(set(frame_ts))  # frame groups in time order


def test_family_qwen_count_mismatch(fx: Fixture) -> None:
    """Inputs that hold a different number of images or videos than were given raise a clear error."""
    family = FAMILIES[fx.model.config.model_type]
    inputs = dict(
        fx.processor(
            text=[family.default_template.format(images=family.image_placeholder, prompt=fx.prompt)],
            images=fx.images,
            return_tensors="pt",
        )
    )
    with pytest.raises(ValueError, match=r"1 image placeholder\(s\) but 2 image\(s\)"):  # the user's own layout
        explain(fx.model, fx.processor, fx.images * 2, family.image_placeholder + fx.prompt, answer="ok")
    with pytest.raises(ValueError, match=r"holds 1 image block\(s\) but 2 image\(s\) were given"):
        explain_inputs(fx.model, fx.processor, inputs, images=fx.images * 2, answer="ok")
    ids = inputs["input_ids"][0]
    two_grids = {**inputs, "image_grid_thw": inputs["image_grid_thw"].repeat(2, 1)}  # grids from another call
    with pytest.raises(ValueError, match="different processor calls"):
        family.views(fx.model.config, two_grids, ids, Media(sizes=((1, 1),)), fx.processor)
    video = video_inputs(fx, frames_for(fx))
    vids, media = video["input_ids"][0], Media(sizes=((1, 1),), video=True, n_frames=4)
    with pytest.raises(ValueError, match=r"holds 2 video block\(s\) but 1 video\(s\) were given"):
        family.views(
            fx.model.config,
            {**video, "video_grid_thw": video["video_grid_thw"].repeat(2, 1)},
            vids,
            media,
            fx.processor,
        )
    longer = video["video_grid_thw"] * torch.tensor([2, 1, 1])  # more frame groups than the ids hold
    with pytest.raises(ValueError, match="different processor calls"):
        family.views(fx.model.config, {**video, "video_grid_thw": longer}, vids, media, fx.processor)
    with pytest.raises(ValueError, match="no 'video_grid_thw'"):
        family.views(fx.model.config, inputs, ids, media, fx.processor)


def test_family_qwen_video_patches_match_image_processor(fx: Fixture) -> None:
    """A still video (every frame the same) gives the image processor's patches: the hand-built order is right."""
    from fixtures_qwen import video_patches

    frame = fx.images[0]
    tp = fx.model.config.vision_config.temporal_patch_size
    pixels, thw = video_patches(np.stack([frame] * tp), fx.processor, fx.model.config)
    ref = fx.processor.image_processor(images=[frame], return_tensors="pt")
    assert thw == ref["image_grid_thw"][0].tolist()
    torch.testing.assert_close(pixels, torch.as_tensor(ref["pixel_values"]), atol=1e-5, rtol=0)
