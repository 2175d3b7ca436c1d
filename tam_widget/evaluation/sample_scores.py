"""Score one sample with every compared method: the runner's unit of work.

One explanation (one pass) gives the white-box maps; per method, the sample's row holds

- TAM's plausibility as ``eval.py`` computes it (:func:`~.plausibility.evaluate_sample` on the
  reference's evaluated maps: Obj-IoU, Func-IoU, ROUGE-L, METEOR, precision, recall, as lists);
- the pointing game of each *object word* (a category noun whose mask has pixels; its first
  token's map, normalised and resized bilinearly as EAGLE's point game treats a baseline's map);
- faithfulness (:mod:`.faithfulness`): the answer's map ranks the pixels and the mean
  probability of every answer token is read (``insertion_auc``/``deletion_auc``, EAGLE's
  sentence-level protocol), and each object word's map is read on its own first token
  (``word_insertion_auc``/``word_deletion_auc``, the word-level protocol).

A white-box method's answer map is the mean of its answer tokens' maps. EAGLE explains each
object word's first token with one search (word level) and the whole answer with one more; its
maps cover the object words only, so it has no Func-IoU, and its Obj-IoU is scored on its word
maps (min-max normalised to uint8) by the same per-word code, merge rule included.
"""

# Imported "as" themselves: names this module held before sample_context.py, which the runner, the
# report, the CLI and the tests still import from here.
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..explainer import explain
from .eval_methods import EvalMethod
from .sample_context import Context as Context
from .sample_context import Settings as Settings
from .sample_context import context as context
from .sample_context import dataset_tagger as dataset_tagger
from .sample_context import plausibility
from .sample_metrics import faithfulness_metrics, lists, pointing
from .word_scores import object_scores
from .words import OTHER_LABEL


def white_box(ctx: Context, method: EvalMethod) -> dict[str, Any]:
    """One white-box method's metrics (every list pooled later, as the references pool them)."""
    exp = ctx.exp
    scores = ctx.scores if (method.eci, method.filter) == (True, True) else None
    if scores is None:
        scores = plausibility(exp, ctx.words, ctx.sample, ctx.mask, ctx.tagger, method.eci, method.filter)
    # the answer tokens' own maps (not eval.py's list, whose first entry is a prompt token's: its quirk)
    answer = exp.tam.maps(1.0, eci=method.eci, filter=method.filter).image[exp.n_prompt :].float().cpu()
    grids = answer.numpy().reshape(len(answer), *exp.views[0].grid)
    metrics = lists(scores) | {"pointing": [pointing(ctx, grids[t], label, True) for _, label, t in ctx.object_words]}
    metrics |= faithfulness_metrics(ctx, [grids[t] for _, _, t in ctx.object_words], answer.mean(dim=0), True)
    return metrics


def _eagle_map(ctx: Context, tokens: list[int] | None) -> np.ndarray:
    """EAGLE's ``(H, W)`` attribution map explaining the answer tokens ``tokens`` (None: all)."""
    exp = explain(
        ctx.model,
        ctx.processor,
        ctx.image,
        ctx.sample.prompt,
        answer=ctx.answer_ids,
        method="eagle",
        tokens=tokens,
        options={"eagle": dict(ctx.settings.eagle)},
        progress=False,
    )
    return np.asarray(exp.results["eagle"].attribution_map(), dtype=np.float64)


def _u8(heat: np.ndarray) -> np.ndarray:
    """A map min-max normalised to ``floor(255 · x)`` (0 for a flat map), as TAM's maps are evaluated."""
    low, span = float(heat.min()), float(np.ptp(heat))
    x = (heat - low) / span if span > 0 else np.zeros_like(heat)
    return np.floor(255 * x).clip(0, 255).astype(np.uint8)


def eagle(ctx: Context) -> dict[str, Any]:
    """EAGLE's metrics: word-level searches for the object words, one search for the answer."""
    heats = [_eagle_map(ctx, [t]) for _, _, t in ctx.object_words]
    metrics: dict[str, Any] = lists(ctx.scores) | {"obj_iou": [], "func_iou": [], "precision": [], "recall": []}
    if heats:
        metrics |= _eagle_objects(ctx, heats)
    metrics["pointing"] = [
        pointing(ctx, h, label, ctx.mask is not None and h.shape != ctx.mask.shape)
        for h, (_, label, _) in zip(heats, ctx.object_words, strict=True)
    ]
    answer = _eagle_map(ctx, None) if ctx.settings.steps else np.zeros(1)
    metrics |= faithfulness_metrics(ctx, heats, answer, False)
    return metrics


def _eagle_objects(ctx: Context, heats: list[np.ndarray]) -> dict[str, list[float]]:
    """Obj-IoU, precision, recall of EAGLE's word maps by TAM's per-word code (merge rule included).
    Words it has no map for (not category nouns, or nouns whose object is absent) are skipped."""
    assert ctx.mask is not None and ctx.scores.words_label is not None
    first = {t: k for k, (_, _, t) in enumerate(ctx.object_words)}
    maps = [np.zeros((1, 1), np.uint8)] * len(ctx.words.tokens)
    labels = []
    for group, label in zip(ctx.scores.tokens_idx, ctx.scores.words_label, strict=True):
        mapped = label > 0 and group[0] in first
        labels.append(label if mapped else OTHER_LABEL)
        for j in group if mapped else []:
            maps[j] = _u8(heats[first[group[0]]])
    obj = object_scores(maps, ctx.scores.tokens_idx, labels, ctx.mask)
    return {"obj_iou": obj.iou, "precision": obj.precision, "recall": obj.recall}


def score(ctx: Context, method: EvalMethod) -> dict[str, Any]:
    """``{"sample", "method", "metrics", "answer", "words", "early_return", "seconds"}``: one results row."""
    t0 = time.perf_counter()
    metrics = eagle(ctx) if method.black_box else white_box(ctx, method)
    return {
        "sample": ctx.sample.id,
        "method": method.name,
        "metrics": metrics,
        "answer": ctx.words.output_text,
        "words": [w for w, _, _ in ctx.object_words],
        "tokens": [t for _, _, t in ctx.object_words],  # each object word's first answer token
        "early_return": ctx.scores.early_return,
        "seconds": round(time.perf_counter() - t0, 3),
    }
