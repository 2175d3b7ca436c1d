"""Tiny InternVL, Idefics3 and SmolVLM fixtures (see family_fixtures.py for the helpers and the Fixture fields).

Tiles are 64 px with 8 px patches, pooled 2x2: a 4x4 token grid per tile, so that the top-right ninth of an
image holds at least one whole cell of every view (thumbnail and global views included). Video inputs are built
by hand from the PIL image processors (the video processors need torchvision).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from family_fixtures import TINY_TEXT, Fixture, build, image, make_tokenizer, none_sub_processors_allowed

TILE, PATCH = 64, 8
SIDE = TILE // PATCH // 2  # tokens per tile side after the 2x2 pixel shuffle
TEXT = {
    **TINY_TEXT,
    "max_position_embeddings": 2048,
}
VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}


def video_frames(n: int = 3, h: int = 96, w: int = 96) -> np.ndarray:
    return np.stack([image(h, w, seed=10 + k) for k in range(n)])


# -- InternVL -------------------------------------------------------------------------------------

INTERNVL_TOKENS = {
    "start_image_token": "<img>",
    "end_image_token": "</img>",
    "context_image_token": "<IMG_CONTEXT>",
    "video_token": "<video>",
}


def internvl_processor(max_patches: int = 6) -> Any:
    from transformers import GotOcr2ImageProcessorPil, InternVLProcessor

    tok = make_tokenizer(["<|im_start|>"], eos="<|im_end|>", pad="<|endoftext|>", extra_special_tokens=INTERNVL_TOKENS)
    ip = GotOcr2ImageProcessorPil(size={"height": TILE, "width": TILE}, max_patches=max_patches)
    with none_sub_processors_allowed():
        return InternVLProcessor(image_processor=ip, tokenizer=tok, video_processor=None, image_seq_length=SIDE**2)


def internvl_video(
    fx: Fixture, frames: np.ndarray | None = None
) -> tuple[dict[str, Any], np.ndarray, list[tuple[str, tuple[int, ...]]]]:
    """What InternVLProcessor makes of a video: one 1-tile ``FrameK: <img>...</img>`` block per frame."""
    proc = fx.processor
    frames = video_frames() if frames is None else frames
    pixels = proc.image_processor([*frames], crop_to_patches=False, return_tensors="pt")["pixel_values"]
    block = proc.start_image_token + proc.image_token * proc.image_seq_length + proc.end_image_token
    body = "\n".join(f"Frame{k + 1}: {block}" for k in range(len(frames)))
    text = f"<|im_start|>user\n{body}\nWhat happens?<|im_end|>\n<|im_start|>assistant\n"
    ids = proc.tokenizer(text, return_tensors="pt")
    return {**ids, "pixel_values": pixels}, frames, [("video", (len(frames), SIDE, SIDE))]


@cache
def internvl() -> Fixture:
    from transformers import InternVLConfig, InternVLForConditionalGeneration

    proc = internvl_processor()
    tok = proc.tokenizer
    cfg = {
        "text_config": {
            "model_type": "qwen2",
            **TEXT,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
        },
        "vision_config": {**VISION, "image_size": [TILE, TILE], "patch_size": [PATCH, PATCH]},
        "image_token_id": proc.image_token_id,
        "image_seq_length": SIDE**2,
        "downsample_ratio": 0.5,
        "vision_feature_layer": -1,
        "vision_feature_select_strategy": "default",
    }
    model = build(InternVLConfig, cfg, InternVLForConditionalGeneration)
    # 128 x 192 tiles as 2 rows x 3 cols (+ thumbnail); the second image fits one tile
    fx = Fixture(
        "internvl",
        model,
        proc,
        [image(128, 192), image(60, 66, seed=1)],
        "Describe the pictures.",
        [("tiles", (2 * SIDE, 3 * SIDE)), ("thumbnail", (SIDE, SIDE)), ("image", (SIDE, SIDE))],
        cell_px=TILE // SIDE,
    )
    fx.extra["video"] = lambda: internvl_video(fx)
    return fx


# -- Idefics3 and SmolVLM ---------------------------------------------------------------------------

IDEFICS3_SPECIALS = [
    "<fake_token_around_image>",
    "<image>",
    "<end_of_utterance>",
    "<global-img>",
    "<video>",
    *(f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)),
]


def idefics3_processor(smol: bool, longest_edge: int = 3 * TILE) -> Any:
    from transformers import Idefics3ImageProcessorPil, Idefics3Processor, SmolVLMImageProcessorPil, SmolVLMProcessor

    tok = make_tokenizer(IDEFICS3_SPECIALS, bos="<|begin_of_text|>", eos="<end_of_utterance>", pad="<|end_of_text|>")
    kw = {"size": {"longest_edge": longest_edge}, "max_image_size": {"longest_edge": TILE}}
    if not smol:
        return Idefics3Processor(image_processor=Idefics3ImageProcessorPil(**kw), tokenizer=tok, image_seq_len=SIDE**2)
    with none_sub_processors_allowed():
        return SmolVLMProcessor(
            image_processor=SmolVLMImageProcessorPil(**kw), tokenizer=tok, video_processor=None, image_seq_len=SIDE**2
        )


def idefics3_video(
    fx: Fixture, frames: np.ndarray | None = None
) -> tuple[dict[str, Any], np.ndarray, list[tuple[str, tuple[int, ...]]]]:
    """What SmolVLMProcessor makes of a video: per frame ``Frame from MM:SS:`` and one global block."""
    proc = fx.processor
    frames = video_frames() if frames is None else frames
    out = proc.image_processor([[*frames]], do_image_splitting=False, return_tensors="pt")
    fake, glob = "<fake_token_around_image>", "<global-img>"
    body = "".join(f"\nFrame from 00:{k:02d}:{fake}{glob}{'<image>' * SIDE**2}{fake}" for k in range(len(frames)))
    text = f"<|begin_of_text|>User: You are provided {len(frames)} frames.{body}\n\nWhat happens?<end_of_utterance>\n"
    ids = proc.tokenizer(text + "Assistant:", return_tensors="pt")
    inputs = {**ids, "pixel_values": out["pixel_values"], "pixel_attention_mask": out["pixel_attention_mask"]}
    return inputs, frames, [("video", (len(frames), SIDE, SIDE))]


def idefics3_like(name: str, smol: bool) -> Fixture:
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
    )

    proc = idefics3_processor(smol)
    tok = proc.tokenizer
    cfg = {
        "text_config": {
            "model_type": "llama",
            **TEXT,
            "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
        },
        "vision_config": {**VISION, "image_size": TILE, "patch_size": PATCH},
        "image_token_id": proc.image_token_id,
        "scale_factor": 2,
    }
    config_cls, model_cls = (
        (SmolVLMConfig, SmolVLMForConditionalGeneration) if smol else (Idefics3Config, Idefics3ForConditionalGeneration)
    )
    model = build(config_cls, cfg, model_cls)
    # each image is scaled to a 192 px longest edge, then stretched to whole tiles: 128 x 192 to 2 rows x 3 cols,
    # 192 x 96 to 3 rows x 2 cols (each + a global view)
    fx = Fixture(
        name,
        model,
        proc,
        [image(128, 192), image(192, 96, seed=1)],
        "Describe the pictures.",
        [
            ("tiles", (2 * SIDE, 3 * SIDE)),
            ("global", (SIDE, SIDE)),
            ("tiles", (3 * SIDE, 2 * SIDE)),
            ("global", (SIDE, SIDE)),
        ],
        cell_px=TILE // SIDE,
        # Lanczos (3): once for the tiles here (the images already have a 192 px longest edge, and are only
        # stretched to whole tiles), twice for the other views (resized, then squashed to one tile)
        reach=lambda view: 3.0 if view.kind == "tiles" else 6.0,
    )
    fx.extra["video"] = lambda: idefics3_video(fx)
    return fx


@cache
def idefics3() -> Fixture:
    return idefics3_like("idefics3", smol=False)


@cache
def smolvlm() -> Fixture:
    return idefics3_like("smolvlm", smol=True)


FIXTURES_TILED: dict[str, Callable[[], Fixture]] = {"internvl": internvl, "idefics3": idefics3, "smolvlm": smolvlm}
