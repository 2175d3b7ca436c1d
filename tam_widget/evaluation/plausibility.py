"""TAM's plausibility metrics, as ``xmed-lab/TAM`` ``eval.py`` computes them, on plain arrays.

:func:`evaluate_sample` is the reference's ``evaluate()`` for one answer: Obj-IoU, precision and
recall of the category nouns' Otsu-thresholded maps against the mask, Func-IoU of the function words
below the nouns' mean threshold, ROUGE-L and METEOR of the answer text. :func:`aggregate` is the
pooling of ``main()``. Every quirk of the reference is kept (``shared/golden/eval/README.md`` §3):
words from lone token decodes, the last matching category wins, a sample whose token count differs
from its map count scores nothing, same-label neighbours merge even when the later one scored no IoU,
0/0 precision is NaN. The per-word work is in :mod:`.word_scores`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .nlg import meteor, rouge_l
from .word_scores import function_iou, object_scores
from .words import Lemmatizer, Tagger, default_lemmatizer, default_tagger, group_words, word_label, word_type

METRICS = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")
PRINT_NAMES = {"obj_iou": "Obj-IoU", "func_iou": "Func-IoU", "f1_iou": "F1-IoU", "rouge_l": "ROUGE-L"}
PRINT_NAMES |= {"meteor": "METEOR", "precision": "Precision", "recall": "Recall"}


@dataclass
class SampleScores:
    """The six lists of ``evaluate()`` and how they came about (the golden cases' intermediates)."""

    obj_iou: list[float] = field(default_factory=list)
    func_iou: list[float] = field(default_factory=list)
    rouge_l: list[float] = field(default_factory=list)
    meteor: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    early_return: bool = False  # token count != map count: the sample scores nothing
    words: list[str] = field(default_factory=list)
    tokens_idx: list[list[int]] = field(default_factory=list)
    word_types: list[str] = field(default_factory=list)
    words_label: list[int] | None = None
    noun_fg_thresh: list[float] | None = None
    fg_thresh: float | None = None
    token_otsu: dict[int, float] = field(default_factory=dict)
    token_resized: dict[int, np.ndarray] = field(default_factory=dict)


def evaluate_sample(
    maps: Sequence[np.ndarray],
    tokens: Sequence[str],
    decodes: Sequence[str],
    output_text: str,
    captions: Sequence[str],
    mask: np.ndarray | None,
    category: Sequence[tuple[str, int]],
    tagger: Tagger | None = None,
    lemmatizer: Lemmatizer | None = None,
) -> SampleScores:
    """The reference's ``evaluate()`` for one answer.

    ``maps``: one uint8 ``(h, w)`` map per generated token; ``tokens``: the answer's decoded text
    re-tokenized, and ``decodes`` each of those tokens decoded alone; ``output_text``: the answer
    without special tokens; ``mask``: uint8 label map (``None`` when the mask file is missing);
    ``category``: ordered ``(name, id)`` pairs. ``tagger``/``lemmatizer`` default to
    :func:`~.words.default_tagger` / :func:`~.words.default_lemmatizer`.
    """
    tag = tagger or default_tagger()
    words, groups = group_words(tokens, decodes)
    out = SampleScores(words=words, tokens_idx=groups, word_types=[word_type(tag(w)) for w in words])
    if groups[-1][-1] != len(maps) - 1:
        out.early_return = True
        return out
    lemma = lemmatizer or default_lemmatizer()
    labels = [word_label(w, kind, category, lemma) for w, kind in zip(words, out.word_types, strict=True)]
    grid = np.zeros_like(maps[0]) if mask is None else np.asarray(mask, dtype=np.uint8)
    obj = object_scores(maps, groups, labels, grid)
    out.words_label, out.noun_fg_thresh = labels, obj.noun_thresholds
    out.obj_iou, out.precision, out.recall = obj.iou, obj.precision, obj.recall
    out.token_otsu, out.token_resized = obj.token_otsu, obj.token_resized
    if obj.noun_thresholds:
        out.fg_thresh = sum(obj.noun_thresholds) / len(obj.noun_thresholds)
        out.func_iou = function_iou(maps, groups, labels, out.fg_thresh)
    out.meteor = [meteor([c.lower().split() for c in captions], output_text.lower().split())]
    out.rouge_l = [max(rouge_l(output_text, c) for c in captions)]
    return out


def pooled(samples: Sequence[SampleScores]) -> dict[str, list[float]]:
    """Each metric's values over all samples, concatenated in sample order."""
    return {name: [v for s in samples for v in getattr(s, name)] for name in METRICS}


def aggregate(samples: Sequence[SampleScores]) -> dict[str, float]:
    """``main()``'s figures: each pooled mean (a left-to-right sum) and F1-IoU = 2·O·F/(O+F).

    Raises ``ZeroDivisionError``, as the reference does, when a metric has no pooled value.
    """
    result = {}
    for name, values in pooled(samples).items():
        if not values:
            raise ZeroDivisionError(f"no {name} value to average")
        result[name] = sum(values) / len(values)
    obj, func = result["obj_iou"], result["func_iou"]
    result["f1_iou"] = 2 * obj * func / (obj + func)
    return result


def printed_line(figures: dict[str, float]) -> str:
    """``main()``'s print line: each figure to 6 decimals."""
    order = ("obj_iou", "func_iou", "f1_iou", "rouge_l", "meteor", "precision", "recall")
    return ", ".join(f"{PRINT_NAMES[k]}: {figures[k]:.6f}" for k in order)
