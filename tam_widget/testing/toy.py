"""Small Qwen2-VL models built offline from a config: for the teaching model, the demo, the
benchmarks and the tests.

:func:`qwen2_vl_config` is the one Qwen2-VL config builder (the teaching model's config, the
random demo model and the test fixtures all come from it). Nothing here downloads anything. The
tokenizer is byte-level BPE without merges (256 byte tokens, then the special tokens), so any
text round-trips. The weights are random: the maps show the pipeline working, not what a trained
model looks at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..runtime.processors import without_video_processor

QWEN_SPECIALS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|endoftext|>",
)  # ids 256..262


def make_tokenizer(
    specials: Sequence[str],
    bos: str | None = None,
    eos: str | None = None,
    pad: str | None = None,
    extra_special_tokens: dict[str, str] | None = None,
) -> Any:
    """Byte-level BPE with no merges: 256 byte tokens, then the specials in order (ids 256, 257, ...)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    every = [*specials, bos, eos, pad, *(extra_special_tokens or {}).values()]
    tok.add_special_tokens([s for s in dict.fromkeys(every) if s])
    kw: dict[str, Any] = {"tokenizer_object": tok, "bos_token": bos, "eos_token": eos, "pad_token": pad}
    if extra_special_tokens:
        kw["extra_special_tokens"] = extra_special_tokens
    return PreTrainedTokenizerFast(**{k: v for k, v in kw.items() if v is not None})


def qwen2_vl_processor(
    patch_size: int = 14, merge_size: int = 2, processor_cls: Any = None, tokenizer: Any = None, **image_kwargs: Any
) -> Any:
    """A Qwen2-VL-style processor (``processor_cls``, default ``Qwen2VLProcessor``) over ``tokenizer``
    (default: the byte-level one), with a PIL image processor and no video processor."""
    from transformers import Qwen2VLImageProcessorPil, Qwen2VLProcessor

    tok = tokenizer or make_tokenizer(QWEN_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>")
    image_processor = Qwen2VLImageProcessorPil(patch_size=patch_size, merge_size=merge_size, **image_kwargs)
    return without_video_processor(processor_cls or Qwen2VLProcessor, image_processor=image_processor, tokenizer=tok)


# the byte-level tokenizer's ids of QWEN_SPECIALS (256 + index)
QWEN_IDS = {"image": 260, "video": 261, "vision_start": 258, "vision_end": 259, "eos": 257, "pad": 262}


def qwen2_vl_config(
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    vocab: int = 320,
    vision_width: int = 32,
    vision_depth: int = 1,
    intermediate: int | None = None,
    *,
    vision_heads: int | None = None,
    patch_size: int = 14,
    merge_size: int = 2,
    temporal_patch_size: int = 2,
    max_positions: int = 4096,
    mrope_section: Sequence[int] | None = None,
    ids: Mapping[str, int] = QWEN_IDS,
) -> Any:
    """A Qwen2-VL config of the given size; ``ids`` (default: :func:`qwen2_vl_processor`'s
    tokenizer's) names the image, video, vision start/end, end-of-sequence and pad tokens."""
    from transformers import Qwen2VLConfig

    quarter = hidden // heads // 2  # mrope sections split head_dim / 2 over (t, h, w)
    section = list(mrope_section or [quarter - 2 * (quarter // 3), quarter // 3, quarter // 3])
    return Qwen2VLConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": hidden,
            "intermediate_size": intermediate or 2 * hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "max_position_embeddings": max_positions,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section},
            "bos_token_id": None,
            "eos_token_id": ids["eos"],
            "pad_token_id": ids["pad"],
        },
        vision_config={
            "depth": vision_depth,
            "embed_dim": vision_width,
            "hidden_size": hidden,
            "num_heads": vision_heads or max(1, vision_width // 32),
            "mlp_ratio": 2,
            "patch_size": patch_size,
            "spatial_merge_size": merge_size,
            "temporal_patch_size": temporal_patch_size,
        },
        image_token_id=ids["image"],
        video_token_id=ids["video"],
        vision_start_token_id=ids["vision_start"],
        vision_end_token_id=ids["vision_end"],
        tie_word_embeddings=False,
    )


def qwen2_vl_model(seed: int = 0, dtype: torch.dtype = torch.float32, **size: Any) -> Any:
    """A random ``Qwen2VLForConditionalGeneration`` from :func:`qwen2_vl_config` (``size`` keywords)."""
    from transformers import Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    model: Any = Qwen2VLForConditionalGeneration(qwen2_vl_config(**size))
    return model.to(dtype).eval()


def noise_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A uniformly random ``(height, width, 3)`` uint8 image."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
