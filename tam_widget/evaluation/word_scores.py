"""Per-word scores of TAM's ``eval.py`` (README §3.2 D–E): Obj-IoU with its merge rule, Func-IoU.

A category noun's tokens are resized to the mask and Otsu-thresholded (:mod:`.cv_u8`); the word
keeps its best token's IoU (and that token's precision and recall) and its highest threshold.
Nouns outside the category dict only contribute thresholds; their mean is the level under which a
function word's map counts as background (Func-IoU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .cv_u8 import otsu_u8, resize_u8
from .words import FUNCTION_LABEL, NOT_IN_DICT


@dataclass
class ObjectScores:
    """What the per-word pass of ``evaluate()`` appends, plus each thresholded token's map."""

    iou: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    noun_thresholds: list[float] = field(default_factory=list)
    token_otsu: dict[int, float] = field(default_factory=dict)
    token_resized: dict[int, np.ndarray] = field(default_factory=dict)

    def merge_last_two(self) -> None:
        """Keep the better of the last two entries (a tie keeps the earlier) in all three lists."""
        sel = -1 if self.iou[-1] > self.iou[-2] else -2
        for values in (self.iou, self.precision, self.recall):
            values[-2] = values[sel]
            values.pop()


def _threshold(scores: ObjectScores, token_map: np.ndarray, j: int, shape: tuple[int, ...]) -> np.ndarray:
    """Token ``j``'s map resized to ``shape`` and Otsu-thresholded; records both, returns pred > 0."""
    resized = resize_u8(token_map, (shape[0], shape[1]))
    t, pred = otsu_u8(resized)
    scores.token_resized[j], scores.token_otsu[j] = resized, t
    return pred > 0


def _score_noun(scores: ObjectScores, maps: Sequence[np.ndarray], group: list[int], gt: np.ndarray) -> None:
    """One noun: its highest threshold, and (when ``gt`` has pixels) its best token's IoU, P, R."""
    found: list[tuple[float, float, float]] = []
    for j in group:
        pred = _threshold(scores, maps[j], j, gt.shape)
        if gt.sum() != 0:
            tp = np.float64((gt & pred).sum())
            with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 precision is NaN, as numpy gives it
                found.append((float(tp / (gt | pred).sum()), float(tp / pred.sum()), float(tp / gt.sum())))
    scores.noun_thresholds.append(max(scores.token_otsu[j] for j in group))
    if found:
        ious = [f[0] for f in found]
        iou, precision, recall = found[ious.index(max(ious))]  # the first token with the best IoU
        scores.iou.append(iou)
        scores.precision.append(precision)
        scores.recall.append(recall)


def object_scores(
    maps: Sequence[np.ndarray], groups: Sequence[list[int]], labels: Sequence[int], mask: np.ndarray
) -> ObjectScores:
    """The per-word pass: category nouns (label > 0) score against ``mask == label``, with the merge
    rule; nouns not in the dict (-1) give thresholds only; label 0 and non-nouns are skipped."""
    scores = ObjectScores()
    for i, (group, label) in enumerate(zip(groups, labels, strict=True)):
        if label > 0:
            _score_noun(scores, maps, group, mask == label)  # ids over 255 never match a uint8 mask
            # the reference merges even when this word added no IoU (then the two before it merge)
            if len(scores.iou) > 1 and labels[i - 1] == label:
                scores.merge_last_two()
        elif label == NOT_IN_DICT:
            _score_noun(scores, maps, group, np.zeros(mask.shape, dtype=bool))
    return scores


def function_iou(
    maps: Sequence[np.ndarray], groups: Sequence[list[int]], labels: Sequence[int], fg: float
) -> list[float]:
    """Per function word: the mean over its tokens of the share of the (unresized) map below ``fg``."""
    return [
        float(np.mean([(maps[j] < fg).sum() / maps[j].size for j in group]))
        for group, label in zip(groups, labels, strict=True)
        if label == FUNCTION_LABEL
    ]
