"""The words of a diagnosis: where the wrong word is in the answer, and which token the correct word is.

A word is the text from a token on up to the next space or punctuation (:func:`first_word`), so a
word split into several tokens is named by its first token, as the reference's word-level runs
explain "the first token of the category word".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .. import params
from .walk import says

WORD = re.compile(r"\s*(\w+|[^\w\s])")


def first_word(text: str) -> str:
    """The first word of ``text`` (letters and digits, or one punctuation mark); ``""`` for blank text."""
    m = WORD.match(text)
    return m.group(1) if m else ""


def word_offset(text: str, word: str, position: int) -> int:
    """Where ``word`` starts in ``text`` as a whole word (the occurrence nearest the ``position``-th
    word, for an answer that says it twice), or -1."""
    starts = [i for i in range(len(text)) if first_word(text[i:]) == word and (i == 0 or not text[i - 1].isalnum())]
    return min(starts, key=lambda i: abs(len(text[:i].split()) - position)) if starts else -1


def _decode(tokenizer: Any, ids: Sequence[int]) -> str:
    return str(tokenizer.decode(list(ids), skip_special_tokens=True))


def position(tokenizer: Any, answer_ids: Sequence[int], wrong: Any, at: Any) -> tuple[int, str]:
    """``(position, wrong word)``: ``at`` checked against the answer, or where it first reads ``wrong``.

    With neither, position 0 (the reference's Yes/No answers). With both, the answer must read
    ``wrong`` at ``at``: a ValueError says what it reads there instead."""
    n = len(answer_ids)
    if wrong is not None and (not isinstance(wrong, str) or not wrong.strip()):
        raise TypeError(f"wrong must be the word the answer says (a non-empty string), got {wrong!r}.")
    if at is None and wrong is not None:
        found = [p for p in range(n) if says(_decode(tokenizer, answer_ids[p:]), wrong)]
        if not found:
            raise ValueError(
                f"wrong={wrong!r} is not in the answer {_decode(tokenizer, answer_ids)!r}: pass the word as the "
                "answer writes it (case matters), or its answer token index as position=."
            )
        at = found[0]
    p = params.integer("position", 0 if at is None else at, 0, n - 1, f" The answer has {n} tokens.")
    there = first_word(_decode(tokenizer, answer_ids[p:]))
    if wrong is not None and not says(_decode(tokenizer, answer_ids[p:]), wrong):
        raise ValueError(f"The answer reads {there!r} at position {p}, not wrong={wrong!r}: fix one of them.")
    if not there:
        raise ValueError(f"The answer has no word at position {p} (a special or blank token): pass another position.")
    return p, wrong.strip() if wrong is not None else there


def correct_token(tokenizer: Any, correct: Any, wrong_id: int, wrong: str) -> tuple[str, int]:
    """``(correct word, its first token's id)``, spaced as the wrong word's token (``" No"`` after a
    space, ``"No"`` at the start). ``correct`` may be the id itself."""
    if isinstance(correct, bool) or not isinstance(correct, (str, int)):
        raise TypeError(f"correct must be the correct word (a string) or its token id, got {correct!r}.")
    if isinstance(correct, int):
        word = first_word(_decode(tokenizer, [correct]))
        if not word:
            raise ValueError(f"correct={correct} is a special or blank token: pass the correct word itself.")
        tid = correct
    else:
        word = correct.strip()
        if not word:
            raise ValueError("correct is empty: pass the word the answer should say (e.g. 'No').")
        spaced = str(tokenizer.decode([wrong_id])).startswith((" ", "\u2581", "\u0120"))
        ids = tokenizer((" " if spaced else "") + word, add_special_tokens=False)["input_ids"]
        unk = getattr(tokenizer, "unk_token_id", None)
        if not ids or (unk is not None and unk in ids):
            raise ValueError(f"correct={correct!r} is not a word this tokenizer can write: pass one it knows.")
        tid = int(ids[0])
    if word == wrong:
        raise ValueError(f"correct={word!r} is what the answer already says: pass the word it should have said.")
    return word, int(tid)
