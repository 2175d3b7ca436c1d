"""The pictures the page gets (display/images.py): one per image and per video grid step, at most 1024 px,
PNG for few colours and JPEG for photos, encoded once and cached on the Explanation, never stale."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from family_fixtures import FIXTURES
from fixtures_qwen import frames_for, video_inputs
from PIL import Image

from tam_widget import Explanation, explain, explain_inputs
from tam_widget.display import images as pictures_module
from tam_widget.display.images import MAX_SIDE, encoded_images, mime


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float64)


@pytest.fixture(scope="module")
def video() -> Explanation:
    """8 random frames -> 4 grid steps of 2 raw frames."""
    fx = FIXTURES["qwen2_vl"]()
    frames = frames_for(fx, 8)
    exp = explain_inputs(
        fx.model, fx.processor, video_inputs(fx, frames), images=frames, prompt="What happens?", answer="ok"
    )
    assert [v.grid[0] for v in exp.views] == [4] and exp.images[0].shape[0] == 8
    return exp


@pytest.fixture(scope="module")
def still() -> Explanation:
    fx = FIXTURES["qwen2_vl"]()
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat")


def test_a_video_sends_one_picture_per_grid_step_the_frame_the_page_shows(video: Explanation) -> None:
    pictures, meta = encoded_images(dataclasses.replace(video))
    frames = video.images[0]
    assert meta == [{"first": 0, "frames": 4, "height": frames.shape[1], "width": frames.shape[2]}]
    for k, data in enumerate(pictures):  # the page shows picture first + k at step k: raw frame 2k
        errors = [np.abs(decode(data) - f).mean() for f in frames]
        assert int(np.argmin(errors)) == 2 * k and errors[2 * k] == 0  # random frames: PNG, exact


def test_views_that_step_differently_through_one_video_get_every_frame(video: Explanation) -> None:
    v = video.views[0]
    other = dataclasses.replace(v, grid=(2, *v.grid[1:]), positions=v.positions[: len(v.positions) // 2])
    _, meta = encoded_images(dataclasses.replace(video, views=[v, other]))
    assert meta[0]["frames"] == 8


def smooth_photo(h: int, w: int) -> np.ndarray:
    """A photo-like picture: smooth shading of many colours plus a little sensor noise."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    rgb = np.stack([np.sin(6 * x + 2 * y), np.cos(5 * y - 3 * x), np.sin(4 * (x + y))], axis=-1)
    noise = np.random.default_rng(0).normal(0, 2, (h, w, 3))
    return np.clip(127.5 + 110 * rgb + noise, 0, 255).astype(np.uint8)


def test_a_picture_jpeg_would_spoil_is_sent_losslessly(still: Explanation) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)  # many colours, no smoothness
    photo = smooth_photo(200, 300)
    pictures, _ = encoded_images(dataclasses.replace(still, images=[noise, photo]))
    assert mime(pictures[0]) == "image/png" and np.array_equal(decode(pictures[0]), noise)
    assert mime(pictures[1]) == "image/jpeg"
    assert pictures_module.psnr(photo, decode(pictures[1]).astype(np.uint8)) >= pictures_module.MIN_PSNR


def test_large_images_are_sent_at_most_max_side_and_few_colours_losslessly(still: Explanation) -> None:
    photo = smooth_photo(1500, 2000)
    flat = np.zeros((300, 200, 3), np.uint8)
    flat[100:200, 50:150] = (255, 0, 0)
    pictures, meta = encoded_images(dataclasses.replace(still, images=[photo, flat]))
    assert [m["frames"] for m in meta] == [1, 1] and (meta[0]["height"], meta[0]["width"]) == (1500, 2000)
    assert Image.open(io.BytesIO(pictures[0])).size == (MAX_SIDE, 768) and mime(pictures[0]) == "image/jpeg"
    assert mime(pictures[1]) == "image/png" and np.array_equal(decode(pictures[1]), flat)  # its own size, exact


def test_pictures_are_encoded_once_and_never_stale(still: Explanation, monkeypatch: pytest.MonkeyPatch) -> None:
    exp = dataclasses.replace(still, images=[still.images[0].copy()])
    calls: list[int] = []
    encode = pictures_module.encode

    def counted(rgb: np.ndarray) -> bytes:
        calls.append(1)
        return encode(rgb)

    monkeypatch.setattr(pictures_module, "encode", counted)
    first, _ = encoded_images(exp)
    again, _ = encoded_images(exp)
    assert len(calls) == 1 and again[0] is first[0]  # the cached bytes
    exp.images[0][0, 0] ^= 255  # edited in place
    edited, _ = encoded_images(exp)
    assert len(calls) == 2 and edited[0] != first[0]
    exp.images = [exp.images[0][::-1].copy()]  # replaced
    encoded_images(exp)
    monkeypatch.setattr(pictures_module, "RULE", ("another rule",))  # a new size or format rule
    encoded_images(exp)
    assert len(calls) == 4 and len(exp._encoded) == 1  # the old entries dropped


def test_the_cache_is_never_saved(still: Explanation, tmp_path: Path) -> None:
    exp = dataclasses.replace(still)
    encoded_images(exp)
    assert exp._encoded and exp == still  # not part of the explanation's value
    back = Explanation.load(exp.save(tmp_path / "e.safetensors"))
    assert back._encoded == {} and "_encoded" not in repr(back)
