"""Teaching: a world with exact answers, and a tiny real MLLM trained on it, for offline classes.

``scenes`` draws synthetic scenes (coloured, textured shapes on a noisy background) with exact
object masks and their captions; ``model`` builds, saves and loads the shipped teaching model (a
tiny ``Qwen2VLForConditionalGeneration`` with a word-level tokenizer, weights in
``assets/`` read with safetensors); ``train`` is its seeded CPU training script
(``python -m tam_widget.teaching.train``). The model goes through the same
:func:`tam_widget.explain` path as any checkpoint.
"""

from .model import (
    BACKGROUND,
    CAPTION_ONLY,
    CHECKPOINT,
    PATCH,
    UNK,
    config,
    demo_model,
    load,
    processor,
    save,
    tokenizer,
    vocabulary,
)
from .scenes import COLOURS, PROMPT, TEXTURES, Scene, make_scene

__all__ = [
    "BACKGROUND",
    "CAPTION_ONLY",
    "CHECKPOINT",
    "COLOURS",
    "PATCH",
    "PROMPT",
    "TEXTURES",
    "UNK",
    "Scene",
    "config",
    "demo_model",
    "load",
    "make_scene",
    "processor",
    "save",
    "tokenizer",
    "vocabulary",
]
