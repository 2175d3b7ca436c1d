"""Model families, registered by ``config.model_type``: the one place that lists them.

To add a family: write ``families/<name>.py`` with a :class:`~tam_widget.families.base.Family`
subclass (its vision-token layout, grid and extra forward inputs), add it to ``FAMILIES`` below,
and give it a tiny-config fixture in a ``tests/fixtures_*.py`` dict (``tests/families/test_families.py``
checks every registered family has one).
"""

from __future__ import annotations

from typing import Any

from .base import Family, Media, View
from .gemma3 import Gemma3
from .idefics3 import Idefics3
from .internvl import InternVL
from .llava import Llava
from .llava_next import LlavaNext
from .llava_onevision import LlavaOnevision
from .mistral3 import Mistral3
from .paligemma import PaliGemma
from .qwen2_vl import Qwen2VL
from .qwen3_vl import Qwen3VL

_ALL: tuple[Family, ...] = (
    Qwen2VL(),
    Qwen3VL(),
    Llava(),
    LlavaNext(),
    LlavaOnevision(),
    InternVL(),
    Gemma3(),
    Idefics3(),
    PaliGemma(),
    Mistral3(),
)

FAMILIES: dict[str, Family] = {t: f for f in _ALL for t in f.model_types}


def family_for(model: Any) -> Family:
    """The family of ``model`` (by ``model.config.model_type``), or a ValueError that says what to do."""
    config = getattr(model, "config", None)
    if config is None:
        raise TypeError(
            f"model must be a Hugging Face multimodal model (e.g. AutoModelForImageTextToText.from_pretrained(...)), "
            f"got a {type(model).__name__} with no config."
        )
    model_type = getattr(config, "model_type", None)
    if model_type in FAMILIES:
        return FAMILIES[model_type]
    names = sorted({f.name for f in FAMILIES.values()})
    raise ValueError(
        f"tam_widget does not support the architecture {type(model).__name__} (model_type {model_type!r}). "
        f"Supported families: {', '.join(names)}. To add one, write tam_widget/families/<name>.py describing "
        "its vision-token layout and register it in tam_widget.families.FAMILIES (see that module's docstring)."
    )


__all__ = ["FAMILIES", "Family", "Media", "View", "family_for"]
