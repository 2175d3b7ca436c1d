"""The text metrics of TAM's ``eval.py``: ROUGE-L (as the ``rouge`` 1.0.1 package) and METEOR.

ROUGE-L is rebuilt here (README §3.4): the summary-level union LCS over ``.``-split sentences,
case-sensitive, with that package's back-tracking tie-break. METEOR is NLTK's own ``meteor_score``
(the ``nltk`` package; no NLTK data) with WordNet replaced by a stub that knows no synonyms, as the
golden cases were made: exact matches, then Porter stems (README §3.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _sentences(text: str) -> list[list[str]]:
    """``text`` split on ``.`` into sentences of ``" "``-split words; a blank piece is the word ``""``."""
    return [" ".join(piece.split()).split(" ") for piece in text.split(".") if len(piece) > 0]


def _lcs_table(x: Sequence[str], y: Sequence[str]) -> list[list[int]]:
    """``T[i][j]``: the LCS length of ``x[:i]`` and ``y[:j]``."""
    table = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            same = x[i - 1] == y[j - 1]
            table[i][j] = table[i - 1][j - 1] + 1 if same else max(table[i - 1][j], table[i][j - 1])
    return table


def recon_lcs(x: Sequence[str], y: Sequence[str]) -> list[str]:
    """One LCS of ``x`` and ``y``, back-tracked as ``rouge`` does (ties step along ``y``)."""
    table, out = _lcs_table(x, y), []
    i, j = len(x), len(y)
    while i > 0 and j > 0:
        if x[i - 1] == y[j - 1]:
            out.append(x[i - 1])
            i, j = i - 1, j - 1
        elif table[i - 1][j] > table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return out[::-1]


def rouge_l(hypothesis: str, reference: str) -> float:
    """``Rouge().get_scores(hypothesis, reference)[0]["rouge-l"]["f"]`` of ``rouge`` 1.0.1."""
    refs, hyps = _sentences(reference), _sentences(hypothesis)
    if not refs or not hyps:
        raise ValueError("Collections must contain at least 1 sentence.")  # as rouge 1.0.1
    union: set[str] = set()
    for ref in refs:
        for hyp in hyps:
            union |= set(recon_lcs(ref, hyp))
    m = len({w for s in refs for w in s})
    n = len({w for s in hyps for w in s})
    recall, precision = len(union) / m, len(union) / n
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


class _NoSynonyms:
    """WordNet as the golden cases ran it: no word has synsets."""

    def synsets(self, *args: Any, **kwargs: Any) -> list[Any]:
        """No synsets, whatever the word."""
        return []


def meteor(references: Sequence[Sequence[str]], hypothesis: Sequence[str]) -> float:
    """NLTK's ``meteor_score`` (max over references) with no synonym matches."""
    try:
        from nltk.translate.meteor_score import meteor_score  # type: ignore[import-untyped]
    except ImportError as err:
        raise ImportError("METEOR needs NLTK: pip install 'tam-widget[eval]' (or nltk).") from err
    return float(meteor_score(references, hypothesis, wordnet=_NoSynonyms()))
