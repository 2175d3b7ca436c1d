"""The answer's text as TAM's ``eval.py`` reads it from a real tokenizer (golden README §3.1).

``evaluate()`` does not group the generated ids themselves: it decodes them
(``batch_decode``, special tokens kept), re-tokenizes that text, and decodes each re-tokenized
token alone. When re-tokenizing merges two generated tokens (``" c" + "at"``), the counts differ
and the sample scores nothing (the early return), as in the reference.

A word-level tokenizer (the teaching model's: one token per word, lone decodes without the space
marker a BPE token's ``" green"`` or a SentencePiece token's ``"▁green"`` carries) would glue the
whole answer into one word under the reference's rule. For those, each lone decode of a regular
token after the first gets the leading space a BPE tokenizer's would have; special tokens stay
glued to the word before them, as with BPE. Other tokenizers are read exactly as the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AnswerWords:
    """What :func:`~.plausibility.evaluate_sample` reads of an answer."""

    tokens: list[str]  # tokenizer.tokenize(decoded answer, specials kept)
    decodes: list[str]  # each of those tokens decoded alone
    output_text: str  # the answer without special tokens (ROUGE-L, METEOR)


def answer_words(tokenizer: Any, ids: Sequence[int]) -> AnswerWords:
    """The reference's ``ids_to_word_groups`` inputs and ``output_text`` for the answer ``ids``."""
    ids = [int(i) for i in ids]
    text = str(tokenizer.batch_decode([ids])[0])
    tokens = [str(t) for t in tokenizer.tokenize(text)]
    decodes = [str(tokenizer.decode(tokenizer.convert_tokens_to_ids(t))) for t in tokens]
    if word_level(tokenizer):
        special = set(getattr(tokenizer, "all_special_tokens", []))
        decodes = [
            d if i == 0 or t in special else " " + d for i, (t, d) in enumerate(zip(tokens, decodes, strict=True))
        ]
    output = tokenizer.batch_decode([ids], skip_special_tokens=True, clean_up_tokenization_spaces=False)[0]
    return AnswerWords(tokens, decodes, str(output))


def word_level(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` is a fast tokenizer over a ``WordLevel`` model (one token per word)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return type(getattr(backend, "model", None)).__name__ == "WordLevel"
