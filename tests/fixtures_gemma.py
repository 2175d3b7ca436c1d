"""Tiny Gemma 3, PaliGemma and Mistral3 fixtures (see family_fixtures.py for the helpers and the Fixture fields)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import torch
from family_fixtures import TINY_TEXT, Fixture, build, image, make_tokenizer

GEMMA3_TEXT = {
    **TINY_TEXT,
    "head_dim": 16,
    "query_pre_attn_scalar": 16,
    "sliding_window": 16,
    "layer_types": ["sliding_attention", "full_attention"],
    "max_position_embeddings": 2048,
}
SIGLIP = {
    "model_type": "siglip_vision_model",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "patch_size": 14,
}


@cache
def gemma3_processor(**images_kwargs: Any) -> Any:
    """The real Gemma3Processor; ``images_kwargs`` (e.g. ``do_pan_and_scan=True``) become its call defaults."""
    from transformers import Gemma3ImageProcessorPil, Gemma3Processor

    tok = make_tokenizer(
        ["<start_of_turn>", "<end_of_turn>"],
        bos="<bos>",
        eos="<eos>",
        pad="<pad>",
        extra_special_tokens={
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
            "image_token": "<image_soft_token>",
        },
    )
    proc = Gemma3Processor(
        image_processor=Gemma3ImageProcessorPil(size={"height": 112, "width": 112}), tokenizer=tok, image_seq_length=16
    )
    if images_kwargs:  # an instance attribute: the class attribute is shared by every Gemma3Processor
        proc.images_kwargs = {**Gemma3Processor.images_kwargs, **images_kwargs}
    return proc


@cache
def gemma3_model() -> Any:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    tok = gemma3_processor().tokenizer
    ids = {
        name: tok.convert_tokens_to_ids(t)
        for name, t in [("bos_token_id", "<bos>"), ("eos_token_id", "<eos>"), ("pad_token_id", "<pad>")]
    }
    # 112 px / 14 = 8x8 patches, average-pooled 2x2 to a 4x4 grid of soft tokens
    cfg = {
        "text_config": {**GEMMA3_TEXT, **ids},
        "vision_config": {**SIGLIP, "image_size": 112},
        "mm_tokens_per_image": 16,
        "boi_token_index": tok.boi_token_id,
        "eoi_token_index": tok.eoi_token_id,
        "image_token_index": tok.image_token_id,
    }
    model = build(Gemma3Config, cfg, Gemma3ForConditionalGeneration)
    # transformers zero-initialises the projector: every image token would be the same (notes, trap 3)
    torch.manual_seed(1)
    torch.nn.init.normal_(model.model.multi_modal_projector.mm_input_projection_weight, std=0.02)
    return model


@cache
def gemma3() -> Fixture:
    return Fixture(
        "gemma3",
        gemma3_model(),
        gemma3_processor(),
        [image(84, 112)],
        "Describe the picture.",
        [("image", (4, 4))],
        cell_px=28,  # 112 px squashed to 4 x 4 pooled cells
    )


@cache
def paligemma() -> Fixture:
    from transformers import (
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessorPil,
    )

    tok = make_tokenizer(
        ["<image>"], bos="<bos>", eos="<eos>", pad="<pad>", extra_special_tokens={"image_token": "<image>"}
    )
    ip = SiglipImageProcessorPil(size={"height": 56, "width": 56})
    ip.image_seq_length = 16
    proc = PaliGemmaProcessor(image_processor=ip, tokenizer=tok)  # adds 1152 <loc>/<seg> tokens: 1412 in all
    ids = {
        name: tok.convert_tokens_to_ids(t)
        for name, t in [("bos_token_id", "<bos>"), ("eos_token_id", "<eos>"), ("pad_token_id", "<pad>")]
    }
    text = {
        "model_type": "gemma",
        "vocab_size": 1536,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "max_position_embeddings": 2048,
        **ids,
    }
    cfg = {
        "text_config": text,
        "vision_config": {**SIGLIP, "image_size": 56, "projection_dim": 64},
        "image_token_index": tok.image_token_id,
        "projection_dim": 64,
        "hidden_size": 64,
        "vocab_size": 1536,
    }
    model = build(PaliGemmaConfig, cfg, PaliGemmaForConditionalGeneration)
    return Fixture("paligemma", model, proc, [image(84, 112)], "caption en", [("image", (4, 4))])


class PixtralLikeProcessor:
    """Test-only stand-in for PixtralProcessor (which needs torchvision): the same call and token layout.

    Each ``[IMG]`` in the text becomes ``H/(p·m)`` rows of ``W/(p·m)`` ``[IMG]`` tokens, each row
    followed by ``[IMG_BREAK]`` and the last by ``[IMG_END]``, ``(H, W)`` being the image's
    resized size from ``PixtralImageProcessorPil``.
    """

    image_token, image_break_token, image_end_token = "[IMG]", "[IMG_BREAK]", "[IMG_END]"
    chat_template = None

    def __init__(self, image_processor: Any, tokenizer: Any, patch_size: int, spatial_merge_size: int) -> None:
        self.image_processor, self.tokenizer = image_processor, tokenizer
        self.patch_size, self.spatial_merge_size = patch_size, spatial_merge_size

    def __call__(self, text: list[str], images: list[Any], return_tensors: str = "pt") -> Any:
        from transformers import BatchFeature

        step = self.patch_size * self.spatial_merge_size
        pix = self.image_processor(images, patch_size={"height": step, "width": step}, return_tensors="pt")
        sizes = pix["image_sizes"].tolist()
        if sum(t.count(self.image_token) for t in text) != len(sizes):
            raise ValueError(
                f"{len(sizes)} images but {sum(t.count(self.image_token) for t in text)} "
                f"{self.image_token} placeholders."
            )
        blocks = iter(self.block(h // step, w // step) for h, w in sizes)
        parts = [t.split(self.image_token) for t in text]
        expanded = ["".join(p + (next(blocks) if j < len(ps) - 1 else "") for j, p in enumerate(ps)) for ps in parts]
        enc = self.tokenizer(expanded, return_tensors=return_tensors)
        return BatchFeature({**enc, "pixel_values": pix["pixel_values"], "image_sizes": pix["image_sizes"]})

    def block(self, rows: int, cols: int) -> str:
        return (
            (self.image_token * cols + self.image_break_token) * (rows - 1)
            + self.image_token * cols
            + self.image_end_token
        )


@cache
def mistral3() -> Fixture:
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration, PixtralImageProcessorPil

    tok = make_tokenizer(["[IMG]", "[IMG_BREAK]", "[IMG_END]", "[INST]", "[/INST]"], bos="<s>", eos="</s>", pad="<pad>")
    ip = PixtralImageProcessorPil(size={"longest_edge": 112}, patch_size={"height": 14, "width": 14})
    proc = PixtralLikeProcessor(ip, tok, patch_size=14, spatial_merge_size=2)
    ids = {
        name: tok.convert_tokens_to_ids(t)
        for name, t in [("bos_token_id", "<s>"), ("eos_token_id", "</s>"), ("pad_token_id", "<pad>")]
    }
    text = {
        "model_type": "mistral",
        **TINY_TEXT,
        "head_dim": 16,
        "max_position_embeddings": 2048,
        **ids,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "head_dim": 16,
        "image_size": 112,
        "patch_size": 14,
    }
    cfg = {
        "text_config": text,
        "vision_config": vision,
        "image_token_index": tok.convert_tokens_to_ids("[IMG]"),
        "spatial_merge_size": 2,
        "vision_feature_layer": -1,
        "tie_word_embeddings": False,
    }
    model = build(Mistral3Config, cfg, Mistral3ForConditionalGeneration)
    # 84x112 stays as it is (longest edge 112): 3 rows of 4 [IMG], 2 [IMG_BREAK], 1 [IMG_END]
    return Fixture("mistral3", model, proc, [image(84, 112)], "Describe the picture.", [("image", (3, 4))], cell_px=28)


FIXTURES_GEMMA: dict[str, Callable[[], Fixture]] = {"gemma3": gemma3, "paligemma": paligemma, "mistral3": mistral3}
