"""The embedded teaching model: a tiny real Qwen2-VL trained here on :mod:`tam_widget.teaching.scenes`.

``demo_model()`` returns ``(model, processor, make_scene)``; the model is a plain
``Qwen2VLForConditionalGeneration`` built from the shipped ``config.json`` with weights read by
safetensors, and the processor a ``Qwen2VLProcessor`` over a word-level tokenizer (also shipped).
It goes through the same :func:`tam_widget.explain` path as any checkpoint.

Why it is trained with a second loss: the caption loss alone gives the final hidden states of the
vision positions no gradient, so whether they line up with the LM-head rows (what TAM reads) is
an accident of the seed. Large pretrained MLLMs acquire that alignment from pretraining; the
teaching model gets it from an auxiliary loss that asks the LM head, applied to each vision
token's final hidden state, for the words of the object under that cell (``background`` for
empty cells). ``python -m tam_widget.teaching.train`` trains it; see the README.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..testing.toy import QWEN_SPECIALS, qwen2_vl_config, qwen2_vl_processor
from .scenes import COLOURS, NOUN, PROMPT, SIZE, TEXTURES, Scene, make_scene

CHECKPOINT = Path(__file__).parent / "assets" / "teaching"
# the same recipe with the caption loss alone (--align-weight 0): notebooks/why-tam-works.ipynb
CAPTION_ONLY = Path(__file__).parent / "assets" / "teaching-caption-only"
BACKGROUND = "background"
PATCH = 28  # pixels per vision token: patch 28, no spatial merge -> 12 x 12 tokens at 336 px
WORDS = (
    "a", "and", ".", NOUN, *COLOURS, *TEXTURES, BACKGROUND,
    *PROMPT.split(), "user", "assistant", "what", "is", "in", "?", "this", "image", "colour", "color",
)  # fmt: skip
UNK = "[UNK]"
TOKEN_NAMES = {
    "image": "image_pad",
    "video": "video_pad",
    "vision_start": "vision_start",
    "vision_end": "vision_end",
    "eos": "im_end",
    "pad": "endoftext",
}


def vocabulary() -> dict[str, int]:
    """Qwen's special tokens first (the ids :func:`config` names), then ``[UNK]`` and the words."""
    words = [*QWEN_SPECIALS, UNK, *dict.fromkeys(WORDS)]
    return {w: i for i, w in enumerate(words)}


def tokenizer() -> Any:
    """A word-level fast tokenizer: whitespace and punctuation split, unknown words -> ``[UNK]``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(vocab=vocabulary(), unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # words joined by spaces
    tok.add_special_tokens(list(QWEN_SPECIALS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=UNK
    )


def processor(tok: Any | None = None) -> Any:
    """A ``Qwen2VLProcessor``: 28-pixel patches, no merge, images resized to 336 x 336."""
    return qwen2_vl_processor(
        patch_size=PATCH,
        merge_size=1,
        tokenizer=tok or tokenizer(),
        temporal_patch_size=1,
        min_pixels=SIZE * SIZE,
        max_pixels=SIZE * SIZE,
    )


def config(hidden: int = 128, layers: int = 2, vision_width: int = 96, vision_depth: int = 2) -> Any:
    """The teaching model's ``Qwen2VLConfig`` (token ids from :func:`vocabulary`)."""
    v = vocabulary()
    ids = {k: v[f"<|{name}|>"] for k, name in TOKEN_NAMES.items()}
    return qwen2_vl_config(
        hidden=hidden,
        layers=layers,
        heads=4,
        kv_heads=2,
        vocab=len(v),
        vision_width=vision_width,
        vision_depth=vision_depth,
        vision_heads=4,
        patch_size=PATCH,
        merge_size=1,
        temporal_patch_size=1,  # images only: no frame pairs
        max_positions=1024,
        ids=ids,
    )


def save(model: Any, folder: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` (float16: the checkpoint is small), ``config.json`` and ``tokenizer.json``."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(model.config.to_json_string())
    tokenizer().backend_tokenizer.save(str(out / "tokenizer.json"))
    (out / "training.json").write_text(json.dumps(info or {}, indent=1))
    return out


def load(folder: str | Path = CHECKPOINT, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    """``(model, processor)`` from a checkpoint folder; weights through safetensors only."""
    from safetensors.torch import load_file
    from transformers import PreTrainedTokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration

    src = Path(folder)
    weights = src / "model.safetensors"
    if not weights.exists():
        raise FileNotFoundError(
            f"No teaching-model checkpoint at {src}: train one with `python -m tam_widget.teaching.train` "
            "or reinstall tam-widget (the wheel ships it)."
        )
    cfg = Qwen2VLConfig.from_dict(json.loads((src / "config.json").read_text()))
    model: Any = Qwen2VLForConditionalGeneration(cfg)
    missing, unexpected = model.load_state_dict(load_file(str(weights)), strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k or not cfg.tie_word_embeddings]:
        raise ValueError(f"The checkpoint at {src} does not fit its config: missing {missing}, extra {unexpected}.")
    tok = PreTrainedTokenizerFast(
        tokenizer_file=str(src / "tokenizer.json"), eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=UNK
    )
    return model.to(dtype).eval(), processor(tok)


def demo_model(
    folder: str | Path = CHECKPOINT, dtype: torch.dtype = torch.float32
) -> tuple[Any, Any, Callable[..., Scene]]:
    """The shipped teaching model: ``(model, processor, make_scene)``.

    >>> model, processor, scene = demo_model()
    >>> s = scene(7)                                   # a held-out scene, its masks and caption
    >>> exp = tam_widget.explain(model, processor, s.image, PROMPT)
    """
    model, proc = load(folder, dtype)
    return model, proc, make_scene
