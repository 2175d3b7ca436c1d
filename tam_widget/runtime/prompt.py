"""The model's input text around the user's prompt, and where the prompt's tokens are in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.layout import VisionLayout
from ..families.base import Family, Media
from .text import locate


def build_text(
    family: Family, processor: Any, prompt: str, media: Media, chat_template: bool | None = None
) -> tuple[str, bool]:
    """The model's input text and whether tam_widget added the template around ``prompt``."""
    n_given = 1 if media.video else len(media.sizes)
    found = _placeholders_in(family, processor, prompt, media)
    if found:  # the user wrote the layout themselves
        if found != n_given:
            raise ValueError(
                f"The prompt has {found} image placeholder(s) but {n_given} {'video' if media.video else 'image'}(s) "
                "were given. Give one placeholder per image, or none and let tam_widget place them."
            )
        return prompt, False
    has_template = bool(getattr(processor, "chat_template", None))
    if chat_template and not has_template:
        raise ValueError("chat_template=True but the processor has no chat template; set processor.chat_template.")
    if has_template if chat_template is None else chat_template:
        kind = "video" if media.video else "image"
        content = [{"type": kind} for _ in range(n_given)] + [{"type": "text", "text": prompt}]
        text = processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        return str(text), True
    layout, mark = family.template(processor, media.video)
    return layout.format(images=mark * n_given, prompt=prompt), True


def _placeholders_in(family: Family, processor: Any, prompt: str, media: Media) -> int:
    marks = {family.placeholder(processor, media.video), family.image_placeholder.strip()} - {""}
    return max((prompt.count(m) for m in marks), default=0)


def locate_prompt(
    texts: list[str],
    special: list[bool],
    layout: VisionLayout,
    prompt: str | None,
    given: Sequence[int] | None,
    *,
    reference_quirks: bool = True,
) -> list[int]:
    """The input positions of the user's prompt tokens.

    ``given`` wins; else the tokens of ``prompt`` located in the decoded input; else every
    non-special, non-vision input token that is not blank (with quirks: every one from the first
    to the last that is not blank).

    With ``reference_quirks`` (TAM as published) a token that is only whitespace (``"\\n"``
    between two lines of the prompt) is a prompt item like any other, because the reference
    takes every token between the template's markers. So are the prompt's own leading and
    trailing whitespace (see :func:`~tam_widget.runtime.text.locate`); the template's
    whitespace around the prompt is not. Without quirks, whitespace-only tokens are left out.
    """
    if given is not None:
        return [int(p) for p in given]
    vision = set(layout.positions.tolist())
    candidates = [not s and i not in vision for i, s in enumerate(special)]
    if prompt:
        found = locate(texts, candidates, prompt, blank=reference_quirks)
        if not found:
            raise ValueError(
                f"Could not find the prompt {prompt[:60]!r} in the model's input text. Pass prompt_positions= "
                "(the input positions of the words to explain) to explain_inputs."
            )
        return found
    words = [i for i, c in enumerate(candidates) if c and texts[i].strip()]
    if not reference_quirks or not words:
        return words
    return [i for i in range(words[0], words[-1] + 1) if candidates[i]]


def special_ids(tokenizer: Any) -> set[int]:
    """The named special tokens and every added token marked special (chat and vision markers)."""
    ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    ids.update(int(i) for i, tok in added.items() if getattr(tok, "special", False))
    return ids


def vision_token_ids(config: Any) -> list[int]:
    """The image and video placeholder ids the config names."""
    out = []
    for name in ("image_token_id", "image_token_index", "video_token_id", "video_token_index"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            out.append(value)
    return out


def decode1(tokenizer: Any, tid: int) -> str:
    """One token's text, special tokens and spacing kept."""
    return str(tokenizer.decode([tid], skip_special_tokens=False, clean_up_tokenization_spaces=False))
