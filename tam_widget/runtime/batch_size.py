"""How many masked images one scoring forward takes when the caller does not say (:mod:`.scoring`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .capture import lm_head

CPU_DEFAULT_BATCH = 8  # images per forward on the CPU when psutil cannot say how much memory is free


def auto_batch_size(model: Any, seq_len: int, pixel_shape: Sequence[int], n_tokens: int) -> int:
    """Images per forward from free memory: on CUDA half of ``torch.cuda.mem_get_info``'s free bytes over
    :func:`bytes_per_image` (at most 128); on the CPU a quarter of psutil's available memory (at most
    32), or :data:`CPU_DEFAULT_BATCH` without psutil."""
    weight: torch.Tensor = lm_head(model).weight  # type: ignore[assignment]
    per = bytes_per_image(model.config, seq_len, pixel_shape, n_tokens, weight.element_size())
    if weight.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(weight.device)
        return int(max(1, min(128, free // 2 // per)))
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return CPU_DEFAULT_BATCH
    return int(max(1, min(32, psutil.virtual_memory().available // 4 // per)))


def bytes_per_image(config: Any, seq_len: int, pixel_shape: Sequence[int], n_tokens: int, itemsize: int) -> int:
    """A rough bound on one image's share of a scoring forward (no gradients, so one layer's activations
    at a time): a decoder layer's activations and attention scores, a vision layer's over the image's
    patches (``pixel_shape[0]``), the pixel values, the kept logits and their softmax; doubled."""
    text, vision = getattr(config, "text_config", None) or config, getattr(config, "vision_config", None)
    h, vocab = int(getattr(text, "hidden_size", 1024)), int(getattr(text, "vocab_size", 32000))
    inter, heads = int(getattr(text, "intermediate_size", 4 * h)), int(getattr(text, "num_attention_heads", 16))
    width = int(getattr(vision, "embed_dim", None) or getattr(vision, "hidden_size", None) or 1024)
    v_heads, patches = int(getattr(vision, "num_heads", 16)), int(pixel_shape[0])
    elements = seq_len * (4 * h + 3 * inter) + heads * seq_len**2 + patches * 10 * width + v_heads * patches**2
    return int(2 * ((elements + 2 * n_tokens * vocab) * itemsize + 8 * int(np.prod(pixel_shape))))
