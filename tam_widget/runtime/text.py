"""Token texts as the tokenizer shows them, word grouping, and finding the user's prompt in them.

Each token's text is the difference between decoding a short window ending at it and the same
window without it (incremental detokenisation), so byte-level BPE pieces and SentencePiece's
word-start marks come out as the decoded text shows them; a token that ends inside a multi-byte
character passes its bytes on to the next one. Vision tokens are not decoded (there may be
thousands); they are shown as one label per token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any


def token_texts(tokenizer: Any, ids: Sequence[int], skip: Sequence[bool], label: str | None = None) -> list[str]:
    """One display string per token; positions where ``skip`` is true get ``label`` (default: the
    token's own name in the vocabulary, e.g. ``<|image_pad|>``).

    A token that ends inside a multi-byte character shows ``""`` and the character appears on
    the token that completes it.
    """
    out: list[str] = []
    seen: list[int] = []  # decoded tokens since the last skipped run
    prefix = read = 0  # seen[prefix:read] is the context already shown
    for tid, is_skipped in zip(ids, skip, strict=True):
        if is_skipped:
            out.append(label if label is not None else str(tokenizer.convert_ids_to_tokens(int(tid))))
            seen, prefix, read = [], 0, 0
            continue
        seen.append(int(tid))
        shown = _decode(tokenizer, seen[prefix:read])
        full = _decode(tokenizer, seen[prefix:])
        if len(full) > len(shown) and not full.endswith("\ufffd"):
            out.append(full[len(shown) :] if full.startswith(shown) else full)
            prefix, read = read, len(seen)
        else:
            out.append("")
    return out


def _decode(tokenizer: Any, ids: list[int]) -> str:
    if not ids:
        return ""
    return str(tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False))


def word_ids(texts: Sequence[str], special: Sequence[bool]) -> list[int]:
    """A word index per token: a word starts at whitespace, punctuation, or a special/vision token."""
    out: list[int] = []
    word = -1
    prev_special = True
    prev_text = ""
    for text, sp in zip(texts, special, strict=True):
        starts = (
            sp
            or prev_special
            or not text
            or text[0].isspace()
            or _is_punct(text[0])
            or (bool(prev_text) and (prev_text[-1].isspace() or _is_punct(prev_text[-1])))
        )
        if starts:
            word += 1
        out.append(word)
        prev_special, prev_text = sp, text
    return out


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def locate(texts: Sequence[str], candidates: Sequence[bool], needle: str, *, blank: bool = False) -> list[int]:
    """Indices of the tokens among ``candidates`` whose text overlaps the last occurrence of ``needle``.

    Whitespace is compared loosely (any run of whitespace matches any other), because chat
    templates and tokenizers may normalise it. Returns ``[]`` when the text is not found.

    ``blank=False`` leaves out tokens whose text is only whitespace (or empty). ``blank=True``
    keeps every candidate inside the span, as the reference does (it takes the prompt's tokens by
    their positions): whitespace-only tokens between the words, the needle's own leading and
    trailing whitespace where the input has it right there (at most as many characters as the
    needle has, so the template's whitespace around it stays out), and a token that shows ``""``
    because it holds the first bytes of a character inside the span.
    """
    words = needle.split()
    if not words:
        return []
    starts, at = [], 0
    for t in texts:
        starts.append(at)
        at += len(t)
    full = "".join(texts)
    pattern = r"\s*".join(re.escape(w) for w in words)
    if blank:
        lead, trail = len(needle) - len(needle.lstrip()), len(needle) - len(needle.rstrip())
        pattern = rf"\s{{0,{lead}}}{pattern}\s{{0,{trail}}}"
    matches = list(re.finditer(pattern, full))
    if not matches:
        return []
    lo, hi = matches[-1].span()
    return [
        i for i, (s, t) in enumerate(zip(starts, texts, strict=True)) if candidates[i] and _inside(s, t, lo, hi, blank)
    ]


def _inside(start: int, text: str, lo: int, hi: int, blank: bool) -> bool:
    """Whether a token at ``start`` showing ``text`` belongs to the span ``[lo, hi)`` of the text."""
    if not blank:
        return bool(text.strip()) and start < hi and start + len(text) > lo
    if not text:  # the first bytes of the character at ``start``
        return lo <= start < hi
    return start < hi and start + len(text) > lo
