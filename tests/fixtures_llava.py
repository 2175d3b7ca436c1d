"""Tiny LLaVA-1.5, Pixtral-LLaVA, LLaVA-NeXT and LLaVA-OneVision fixtures (see family_fixtures.py for the helpers
and the Fixture fields).

Crops are 56 px with 14 px patches: a 4x4 grid per crop. ``PixtralProcessor`` needs torchvision, so the Pixtral
fixture uses ``PixtralLikeProcessor``, which lays out ``[IMG]``/``[IMG_BREAK]``/``[IMG_END]`` as it does from the
PIL image processor's output. OneVision videos are built by hand: the SigLIP PIL image processor applied to each
frame (the OneVision video processor needs torchvision) and ``frames * 2 * 2 + 1`` video tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import torch
from family_fixtures import TINY_TEXT, Fixture, build, image, make_tokenizer, none_sub_processors_allowed

S, P = 56, 14  # crop size and patch size: side = 4
PINPOINTS = [[56, 112], [112, 56], [112, 112]]
LLAVA_SPECIALS = ["<image>", "<video>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>"]  # ids 256..262
TEXT = {
    **TINY_TEXT,
    "max_position_embeddings": 2048,
    "bos_token_id": 258,
    "eos_token_id": 259,
    "pad_token_id": 260,
}
VISION = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "image_size": S,
    "patch_size": P,
}
CLIP_ARGS = {"patch_size": P, "vision_feature_select_strategy": "default", "num_additional_image_tokens": 1}


def llava_tokenizer() -> Any:
    return make_tokenizer(
        LLAVA_SPECIALS,
        bos="<s>",
        eos="</s>",
        pad="<pad>",
        extra_special_tokens={"image_token": "<image>", "video_token": "<video>"},
    )


def llava_model(image_processor: Any = None) -> tuple[Any, Any]:
    from transformers import CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    cfg = {
        "text_config": {"model_type": "llama", **TEXT},
        "vision_config": {"model_type": "clip_vision_model", **VISION, "projection_dim": 32},
        "image_token_index": 256,
        "image_seq_length": 16,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
    }
    ip = image_processor or CLIPImageProcessorPil(size={"shortest_edge": S}, crop_size={"height": S, "width": S})
    # seed 2: the greedy answer of the random model holds no <image> token (a forward over it would fail)
    return build(LlavaConfig, cfg, LlavaForConditionalGeneration, seed=2), LlavaProcessor(
        image_processor=ip, tokenizer=llava_tokenizer(), **CLIP_ARGS
    )


@cache
def llava() -> Fixture:
    model, proc = llava_model()
    # 84 x 112: the center crop covers x in [1/8, 7/8]; its last column lies in the top-right ninth
    return Fixture("llava", model, proc, [image(84, 112)], "Describe the picture.", [("image", (4, 4))])


# -- Pixtral-style LLaVA --------------------------------------------------------------------------------


class PixtralLikeProcessor:
    """What ``PixtralProcessor`` makes (it needs torchvision): each ``[IMG]`` in the text becomes rows of
    ``[IMG]`` tokens ending in ``[IMG_BREAK]``, the last row ending in ``[IMG_END]``; plus a chat template."""

    image_token, image_break_token, image_end_token = "[IMG]", "[IMG_BREAK]", "[IMG_END]"
    chat_template = "<s>[INST]{images}{prompt}[/INST]"  # what the real template gives for one user turn

    def __init__(self, image_processor: Any, tokenizer: Any, patch_size: int) -> None:
        self.image_processor, self.tokenizer, self.patch_size = image_processor, tokenizer, patch_size
        self.image_break_token_id = tokenizer.convert_tokens_to_ids(self.image_break_token)
        self.image_end_token_id = tokenizer.convert_tokens_to_ids(self.image_end_token)

    def apply_chat_template(
        self, conversation: list[dict[str, Any]], add_generation_prompt: bool = True, tokenize: bool = False
    ) -> str:
        content = [c for turn in conversation for c in turn["content"]]
        return self.chat_template.format(
            images=self.image_token * sum(c["type"] == "image" for c in content),
            prompt="".join(c.get("text", "") for c in content),
        )

    def __call__(self, text: list[str], images: Any = None, return_tensors: str = "pt", **kwargs: Any) -> Any:
        from transformers import BatchFeature

        p = {"height": self.patch_size, "width": self.patch_size}
        pixels = dict(self.image_processor(images, patch_size=p, return_tensors="pt")) if images else {}
        sizes = pixels.get("image_sizes", torch.zeros(0, 2)).tolist()
        pieces = text[0].split(self.image_token)
        if len(pieces) - 1 != len(sizes):
            raise ValueError(f"{len(pieces) - 1} image tokens in the text but {len(sizes)} images")
        out = pieces[0]
        for (h, w), piece in zip(sizes, pieces[1:], strict=True):
            rows = [self.image_token * (int(w) // self.patch_size)] * (int(h) // self.patch_size)
            out += self.image_break_token.join(rows) + self.image_end_token + piece
        return BatchFeature({**self.tokenizer([out], return_tensors="pt"), **pixels})


def pixtral_processor() -> PixtralLikeProcessor:
    from transformers import PixtralImageProcessorPil

    tok = make_tokenizer(
        ["[IMG]", "[IMG_BREAK]", "[IMG_END]", "[INST]", "[/INST]"], bos="<s>", eos="</s>", pad="<pad>"
    )  # ids 256..263
    ip = PixtralImageProcessorPil(size={"longest_edge": 112}, patch_size={"height": P, "width": P})
    return PixtralLikeProcessor(ip, tok, patch_size=P)


@cache
def llava_pixtral() -> Fixture:
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    cfg = {
        "text_config": {
            **TEXT,
            "model_type": "mistral",
            "head_dim": 16,
            "bos_token_id": 261,
            "eos_token_id": 262,
            "pad_token_id": 263,
        },
        "vision_config": {**VISION, "model_type": "pixtral", "head_dim": 16, "image_size": 112},
        "image_token_index": 256,
        "vision_feature_layer": -1,
        "vision_feature_select_strategy": "full",
        "tie_word_embeddings": False,
    }
    model = build(LlavaConfig, cfg, LlavaForConditionalGeneration)
    return Fixture(
        "llava_pixtral", model, pixtral_processor(), [image(84, 112)], "Describe the picture.", [("image", (6, 8))]
    )


# -- LLaVA-NeXT and OneVision ---------------------------------------------------------------------------


def llava_next_model() -> tuple[Any, Any]:
    from transformers import (
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessorPil,
        LlavaNextProcessor,
    )

    cfg = {
        "text_config": {"model_type": "llama", **TEXT},
        "vision_config": {"model_type": "clip_vision_model", **VISION, "projection_dim": 32},
        "image_token_index": 256,
        "image_grid_pinpoints": PINPOINTS,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
    }
    ip = LlavaNextImageProcessorPil(
        size={"shortest_edge": S}, crop_size={"height": S, "width": S}, image_grid_pinpoints=PINPOINTS
    )
    return build(LlavaNextConfig, cfg, LlavaNextForConditionalGeneration), LlavaNextProcessor(
        image_processor=ip, tokenizer=llava_tokenizer(), **CLIP_ARGS
    )


@cache
def llava_next() -> Fixture:
    model, proc = llava_next_model()
    # 84 x 112 picks the 112 x 112 canvas (2 x 2 crops, 8 x 8 tokens); unpadding drops a row top and bottom
    return Fixture(
        "llava_next",
        model,
        proc,
        [image(84, 112)],
        "Describe the picture.",
        [("base", (4, 4)), ("image", (6, 8))],
        extra={"non_spatial": 6},
    )


def onevision_model(aspect: str = "anyres_max_9") -> tuple[Any, Any]:
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
        LlavaOnevisionProcessor,
    )

    cfg = {
        "text_config": {"model_type": "qwen2", **TEXT},
        "vision_config": {"model_type": "siglip_vision_model", **VISION},
        "image_token_index": 256,
        "video_token_index": 257,
        "image_grid_pinpoints": PINPOINTS,
        "vision_feature_layer": -1,
        "vision_feature_select_strategy": "full",
        "vision_aspect_ratio": aspect,
    }
    ip = LlavaOnevisionImageProcessorPil(size={"height": S, "width": S}, image_grid_pinpoints=PINPOINTS)
    with none_sub_processors_allowed():
        proc = LlavaOnevisionProcessor(
            image_processor=ip,
            tokenizer=llava_tokenizer(),
            video_processor=None,
            num_image_tokens=(S // P) ** 2,
            vision_feature_select_strategy="full",
            vision_aspect_ratio=aspect,
        )
    return build(LlavaOnevisionConfig, cfg, LlavaOnevisionForConditionalGeneration), proc


def onevision_video(proc: Any, frames: np.ndarray, prompt: str = "What happens?") -> dict[str, Any]:
    """What the OneVision processor makes of ``frames`` ``(T, H, W, 3)``: each frame squashed to S x S,
    ``T * 2 * 2`` pooled video tokens and one newline token."""
    from transformers import BatchFeature, SiglipImageProcessorPil

    ip = SiglipImageProcessorPil(size={"height": S, "width": S})
    pixels = ip([*frames], return_tensors="pt")["pixel_values"][None]  # (1, T, 3, S, S)
    g = -(-(S // P) // 2)
    text = (
        f"<|im_start|>user {proc.video_token * (len(frames) * g * g + 1)}\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
    )
    return BatchFeature({**proc.tokenizer([text], return_tensors="pt"), "pixel_values_videos": pixels})


def video_frames(n: int = 4, h: int = 70, w: int = 90) -> np.ndarray:
    return np.stack([image(h, w, seed=20 + k) for k in range(n)])


@cache
def llava_onevision() -> Fixture:
    model, proc = onevision_model()

    def video() -> tuple[Any, np.ndarray, list[tuple[str, tuple[int, ...]]]]:
        frames = video_frames()
        return onevision_video(proc, frames), frames, [("video", (len(frames), 2, 2))]

    return Fixture(
        "llava_onevision",
        model,
        proc,
        [image(84, 112)],
        "Describe the picture.",
        [("base", (4, 4)), ("image", (6, 8))],
        extra={"non_spatial": 6, "video": video, "video_non_spatial": 1},
    )


FIXTURES_LLAVA: dict[str, Callable[[], Fixture]] = {
    "llava": llava,
    "llava_pixtral": llava_pixtral,
    "llava_next": llava_next,
    "llava_onevision": llava_onevision,
}
