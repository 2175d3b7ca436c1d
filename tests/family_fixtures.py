"""Tiny random models of every supported family, built offline from configs (no hub, no torchvision).

Each fixture is a real ``*ForConditionalGeneration`` with a real processor (or, where the
processor class cannot be built without torchvision, one built with the class check bypassed
for its absent video processor), a local byte-level tokenizer, a test image and the views the
explainer must find. ``FIXTURES`` maps ``config.model_type`` (the key of
``tam_widget.families.FAMILIES``) to a builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from tam_widget.families.base import View
from tam_widget.runtime.processors import none_sub_processors_allowed
from tam_widget.testing.toy import make_tokenizer

# the language model of most tiny fixtures; each family adds its special-token ids and quirks
TINY_TEXT: dict[str, Any] = {
    "vocab_size": 320,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}

__all__ = ["TINY_TEXT", "Fixture", "build", "image", "make_tokenizer", "none_sub_processors_allowed"]


@dataclass
class Fixture:
    name: str
    model: Any
    processor: Any
    images: list[np.ndarray]
    prompt: str
    views: list[tuple[str, tuple[int, ...]]]  # expected (kind, grid) per view, in order
    extra: dict[str, Any] = field(default_factory=dict)
    cell_px: int = 14  # resampled pixels per token cell side (patch x merge), for orientation.smear
    reach: Callable[[View], float] | None = None  # how far resampling reaches, if not the image processor's filter

    def orientation_options(self) -> dict[str, Any]:
        """``cell_px`` and ``reach`` for ``tam_widget.testing.orientation.check``."""
        from tam_widget.testing.orientation import filter_reach

        return {"cell_px": self.cell_px, "reach": self.reach or filter_reach(self.processor)}


def image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def build(config_cls: Any, cfg: dict[str, Any], model_cls: Any, seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return model_cls(config_cls(**cfg)).eval()


# The per-group fixture modules import the helpers above, so they are merged in last.
from fixtures_gemma import FIXTURES_GEMMA  # noqa: E402
from fixtures_llava import FIXTURES_LLAVA  # noqa: E402
from fixtures_qwen import FIXTURES_QWEN  # noqa: E402
from fixtures_tiled import FIXTURES_TILED  # noqa: E402

FIXTURES: dict[str, Callable[[], Fixture]] = {**FIXTURES_QWEN, **FIXTURES_LLAVA, **FIXTURES_TILED, **FIXTURES_GEMMA}
