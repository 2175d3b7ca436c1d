"""Small random models built offline from a config: for the demo, the benchmarks and the tests.

Nothing here downloads anything. The tokenizer is byte-level BPE without merges (256 byte tokens,
then the special tokens), so any text round-trips. The weights are random: the maps show the
pipeline working, not what a trained model looks at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

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


@contextlib.contextmanager
def no_video_processor_check() -> Iterator[None]:
    """Let a processor be built with ``video_processor=None``.

    In transformers 5 the processors of video-capable families check that argument's class, and
    every video processor needs torchvision; for images only, the processor works without it.
    """
    from transformers.processing_utils import ProcessorMixin

    orig = ProcessorMixin.check_argument_for_proper_class

    def check(self: Any, name: str, arg: Any) -> Any:
        return None if arg is None else orig(self, name, arg)

    ProcessorMixin.check_argument_for_proper_class = check  # type: ignore[method-assign]
    try:
        yield
    finally:
        ProcessorMixin.check_argument_for_proper_class = orig  # type: ignore[method-assign]


def qwen2_vl_processor(patch_size: int = 14, merge_size: int = 2, **image_kwargs: Any) -> Any:
    """A Qwen2-VL processor over the byte-level tokenizer (PIL image processor, no video processor)."""
    from transformers import Qwen2VLImageProcessorPil, Qwen2VLProcessor

    tok = make_tokenizer(QWEN_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>")
    with no_video_processor_check():
        return Qwen2VLProcessor(
            image_processor=Qwen2VLImageProcessorPil(patch_size=patch_size, merge_size=merge_size, **image_kwargs),
            tokenizer=tok,
            video_processor=None,
        )


def qwen2_vl_config(
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    vocab: int = 320,
    vision_width: int = 32,
    vision_depth: int = 1,
    intermediate: int | None = None,
) -> Any:
    """A Qwen2-VL config of the given size; token ids match :func:`qwen2_vl_processor`'s tokenizer."""
    from transformers import Qwen2VLConfig

    head_dim = hidden // heads
    quarter = head_dim // 2  # mrope sections split head_dim / 2 over (t, h, w)
    section = [quarter - 2 * (quarter // 3), quarter // 3, quarter // 3]
    return Qwen2VLConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": hidden,
            "intermediate_size": intermediate or 2 * hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section},
            "bos_token_id": None,
            "eos_token_id": 257,
            "pad_token_id": 262,
        },
        vision_config={
            "depth": vision_depth,
            "embed_dim": vision_width,
            "hidden_size": hidden,
            "num_heads": max(1, vision_width // 32),
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=260,
        video_token_id=261,
        vision_start_token_id=258,
        vision_end_token_id=259,
        tie_word_embeddings=False,
    )


def qwen2_vl_model(seed: int = 0, dtype: torch.dtype = torch.float32, **size: Any) -> Any:
    """A random ``Qwen2VLForConditionalGeneration`` from :func:`qwen2_vl_config` (``size`` keywords)."""
    from transformers import Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    model: Any = Qwen2VLForConditionalGeneration(qwen2_vl_config(**size))
    return model.to(dtype).eval()


def noise_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
