"""The metrics every compared method's maps go through, on one sample (:mod:`.sample_scores`).

The pointing game of an object word's map (:func:`pointing`), faithfulness of the answer's map and of
each object word's map (:func:`faithfulness_metrics`: insertion and deletion AUCs, EAGLE's sentence-
and word-level protocols) and the plausibility lists of a row (:func:`lists`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .faithfulness import faithfulness
from .plausibility import SampleScores
from .point_game import baseline_point_map, hit
from .sample_context import Context


def _column(score: Callable[[np.ndarray], np.ndarray], t: int) -> Callable[[np.ndarray], np.ndarray]:
    """Answer token ``t``'s probability alone (one teacher-forced pass reads every token at once)."""
    return lambda images: np.asarray(score(images))[:, t : t + 1]


def _upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A grid map resized bilinearly to ``shape`` (the faithfulness ranking's pixels)."""
    from .localisation import upsample

    return upsample(grid, shape)


def _faithful(ctx: Context, score: Callable[[np.ndarray], np.ndarray], heat: np.ndarray) -> tuple[float, float]:
    f = faithfulness(score, ctx.image, heat, steps=ctx.settings.steps)
    return f.insertion_auc, f.deletion_auc


def pointing(ctx: Context, heat: np.ndarray, label: int, resize: bool) -> int:
    """1 when the map's maximum falls on the word's object (EAGLE's point game by mask)."""
    assert ctx.mask is not None
    region = (ctx.mask == label).astype(np.float64)
    saliency = baseline_point_map(heat, ctx.mask.shape) if resize else heat
    return 0 if saliency is None else hit(saliency, region)


def lists(scores: SampleScores) -> dict[str, Any]:
    """The plausibility scores of a row, each a list (pooled later, as the references pool them)."""
    names = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")
    return {name: list(getattr(scores, name)) for name in names}


def faithfulness_metrics(ctx: Context, word_maps: Sequence[np.ndarray], answer_map: Any, grids: bool) -> dict[str, Any]:
    """The answer map's insertion and deletion AUCs (every answer token's mean probability) and each object
    word's map's (its first token's probability); ``grids``: the maps are on the vision grid, resized
    bilinearly to the image first. ``None`` and empty lists when the settings skip faithfulness."""
    out: dict[str, Any] = {
        "insertion_auc": None,
        "deletion_auc": None,
        "word_insertion_auc": [],
        "word_deletion_auc": [],
    }
    if ctx.settings.steps == 0:
        return out
    shape = ctx.image.shape[:2]
    answer = np.asarray(answer_map.float().cpu().numpy() if hasattr(answer_map, "cpu") else answer_map)
    if grids:
        answer = _upsample(answer.reshape(ctx.exp.views[0].grid), shape)
    assert ctx.score_all is not None
    out["insertion_auc"], out["deletion_auc"] = _faithful(ctx, ctx.score_all, answer)
    for (_, _, t), heat in zip(ctx.object_words, word_maps, strict=True):
        ins, dele = _faithful(ctx, _column(ctx.score_all, t), _upsample(heat, shape) if grids else heat)
        out["word_insertion_auc"].append(ins)
        out["word_deletion_auc"].append(dele)
    return out
