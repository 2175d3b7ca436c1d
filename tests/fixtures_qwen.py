"""Tiny Qwen2-VL, Qwen2.5-VL and Qwen3-VL fixtures (see family_fixtures.py for the helpers and the Fixture fields).

The video processors need torchvision, so video inputs are built here by hand: the frames are
normalised and cut into patches in the order of transformers' ``Qwen2VLVideoProcessor.patchify``,
and the pad tokens are laid out as the processors lay them out (one run per video for
Qwen2/2.5-VL, one ``<t seconds><|vision_start|>…<|vision_end|>`` run per frame group for Qwen3-VL).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import torch
from family_fixtures import TINY_TEXT, Fixture, build, image

from tam_widget.testing.toy import qwen2_vl_config, qwen2_vl_processor

QWEN_TEXT = {
    **TINY_TEXT,
    "max_position_embeddings": 512,
    "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
    "bos_token_id": None,
    "eos_token_id": 257,
    "pad_token_id": 262,
}
QWEN_IDS = {
    "image_token_id": 260,
    "video_token_id": 261,
    "vision_start_token_id": 258,
    "vision_end_token_id": 259,
    "tie_word_embeddings": False,
}
VIDEO_FPS = 1.0  # the rate the hand-built videos claim (Qwen3-VL timestamps, Qwen2.5-VL second_per_grid_ts)


def qwen_processor(processor_cls: Any = None, patch_size: int = 14) -> Any:
    return qwen2_vl_processor(patch_size=patch_size, merge_size=2, processor_cls=processor_cls)


def video_patches(frames: np.ndarray, processor: Any, config: Any) -> tuple[torch.Tensor, list[int]]:
    """``(pixel_values_videos, [t, h, w])`` for ``(T, H, W, 3)`` uint8 frames whose sides are multiples of
    ``patch * merge`` (so no resize), in the patch order of the Qwen video processors."""
    vc, ip = config.vision_config, processor.image_processor
    p, m, tp = vc.patch_size, vc.spatial_merge_size, vc.temporal_patch_size
    x = (frames.astype(np.float32) / 255 - np.asarray(ip.image_mean, np.float32)) / np.asarray(ip.image_std, np.float32)
    T, H, W, C = x.shape
    t, h, w = T // tp, H // p, W // p
    x = x.transpose(0, 3, 1, 2).reshape(t, tp, C, h // m, m, p, w // m, m, p)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)  # (t, h/m, w/m, m, m, C, tp, p, p): merge blocks stay contiguous
    return torch.from_numpy(np.ascontiguousarray(x).reshape(t * h * w, C * tp * p * p)), [t, h, w]


def video_inputs(fixture: Fixture, frames: np.ndarray, prompt: str = "What happens?") -> dict[str, Any]:
    """The model inputs a Qwen processor would make for ``frames`` (``VIDEO_FPS`` frames per second)."""
    config, processor = fixture.model.config, fixture.processor
    pixels, (t, h, w) = video_patches(frames, processor, config)
    m, tp = config.vision_config.spatial_merge_size, config.vision_config.temporal_patch_size
    pad = "<|video_pad|>" * (h // m) * (w // m)
    if config.model_type == "qwen3_vl":  # each group: the mean time of its frames, then its own vision run
        stamps = [(2 * k * tp + tp - 1) / 2 / VIDEO_FPS for k in range(t)]
        body = "".join(f"<{s:.1f} seconds><|vision_start|>{pad}<|vision_end|>" for s in stamps)
    else:
        body = pad * t
    text = f"<|im_start|>user\n<|vision_start|>{body}<|vision_end|>{prompt}<|im_end|>\n<|im_start|>assistant\n"
    ids = processor.tokenizer(text, return_tensors="pt")["input_ids"]
    out = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "pixel_values_videos": pixels,
        "video_grid_thw": torch.tensor([[t, h, w]]),
        "mm_token_type_ids": (ids == config.video_token_id).long() * 2,
    }
    if config.model_type == "qwen2_5_vl":
        out["second_per_grid_ts"] = torch.tensor([tp / VIDEO_FPS])
    return out


def frames_for(fixture: Fixture, n: int = 4, seed: int = 1) -> np.ndarray:
    """``n`` random frames of the fixture image's size."""
    h, w = fixture.images[0].shape[:2]
    return np.stack([image(h, w, seed + k) for k in range(n)])


def with_video(fixture: Fixture) -> Fixture:
    """Add ``extra["video"]``: 4 frames -> 2 frame groups of the image's grid."""

    def video() -> tuple[dict[str, Any], np.ndarray, list[tuple[str, tuple[int, ...]]]]:
        frames = frames_for(fixture)
        return video_inputs(fixture, frames), frames, [("video", (2, *fixture.views[0][1]))]

    fixture.extra["video"] = video
    return fixture


@cache
def qwen2_vl() -> Fixture:
    from transformers import Qwen2VLForConditionalGeneration

    config = qwen2_vl_config(  # the one Qwen2-VL config builder, at the fixtures' tiny size
        hidden=TINY_TEXT["hidden_size"],
        layers=TINY_TEXT["num_hidden_layers"],
        heads=TINY_TEXT["num_attention_heads"],
        kv_heads=TINY_TEXT["num_key_value_heads"],
        vocab=TINY_TEXT["vocab_size"],
        vision_width=32,
        vision_heads=2,
        max_positions=QWEN_TEXT["max_position_embeddings"],
        mrope_section=QWEN_TEXT["rope_parameters"]["mrope_section"],
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config).eval()
    return with_video(
        Fixture(
            "qwen2_vl",
            model,
            qwen_processor(),
            [image(84, 112)],
            "Describe the picture.",
            [("image", (3, 4))],
            cell_px=28,
        )
    )


@cache
def qwen2_5_vl() -> Fixture:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    cfg = {
        "text_config": QWEN_TEXT,
        "vision_config": {
            "depth": 2,
            "hidden_size": 32,
            "out_hidden_size": 64,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [1],
        },
        **QWEN_IDS,
    }
    model = build(Qwen2_5_VLConfig, cfg, Qwen2_5_VLForConditionalGeneration)
    return with_video(
        Fixture(
            "qwen2_5_vl",
            model,
            qwen_processor(Qwen2_5_VLProcessor),
            [image(84, 112)],
            "Describe the picture.",
            [("image", (3, 4))],
            cell_px=28,
        )
    )


@cache
def qwen3_vl() -> Fixture:
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor

    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3], "mrope_interleaved": True}
    text = {**QWEN_TEXT, "head_dim": 16, "rope_parameters": rope}
    text.pop("bos_token_id")
    cfg = {
        "text_config": text,
        "vision_config": {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": 64,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [0],
        },
        **QWEN_IDS,
    }
    model = build(Qwen3VLConfig, cfg, Qwen3VLForConditionalGeneration)
    return with_video(
        Fixture(
            "qwen3_vl",
            model,
            qwen_processor(Qwen3VLProcessor, patch_size=16),
            [image(96, 128)],
            "Describe the picture.",
            [("image", (3, 4))],
            cell_px=32,
        )
    )


FIXTURES_QWEN: dict[str, Callable[[], Fixture]] = {
    "qwen2_vl": qwen2_vl,
    "qwen2_5_vl": qwen2_5_vl,
    "qwen3_vl": qwen3_vl,
}
