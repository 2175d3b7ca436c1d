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

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..explainer import explain, model_inputs
from ..explanation import Explanation
from ..runtime.scoring import make_scorer
from .answer_words import AnswerWords, answer_words
from .datasets.base import Sample
from .eval_methods import EvalMethod
from .faithfulness import faithfulness
from .plausibility import SampleScores, evaluate_sample
from .point_game import baseline_point_map, hit
from .word_scores import object_scores
from .words import OTHER_LABEL, Tagger, default_tagger


@dataclass(frozen=True)
class Settings:
    """How samples are explained and scored (recorded in ``run.json``; a resumed run must match)."""

    max_new_tokens: int = 256  # the reference's generation length
    steps: int = 64  # faithfulness rates i/steps; 0 skips faithfulness
    eagle: Mapping[str, Any] = field(default_factory=dict)  # EAGLE's options (division, variant, ...)
    batch_size: int | None = None  # images per forward when scoring (None: from free memory)
    prompt: str | None = None  # asked of every sample instead of the dataset's own prompt


@dataclass
class Context:
    """What every method of one sample shares: the pass, the answer's words, the masks."""

    model: Any
    processor: Any
    sample: Sample
    image: np.ndarray
    mask: np.ndarray | None
    exp: Explanation
    words: AnswerWords
    scores: SampleScores  # the word analysis (from TAM's own maps; the words do not depend on the map)
    object_words: list[tuple[str, int, int]]  # (word, label, first token index) with mask pixels
    score_all: Callable[[np.ndarray], np.ndarray] | None  # every answer token's probability; None: no faithfulness
    settings: Settings
    tagger: Tagger

    @property
    def answer_ids(self) -> list[int]:
        """The answer's token ids (what EAGLE teacher-forces)."""
        return self.exp.token_ids[self.exp.answer_start :]


def dataset_tagger(tags: Mapping[str, str]) -> Tagger:
    """The default tagger, with the dataset's fixed tags first (exact word, then lower-case)."""
    base = default_tagger()
    return lambda word: tags.get(word) or tags.get(word.lower()) or base(word)


def context(model: Any, processor: Any, sample: Sample, settings: Settings, tagger: Tagger) -> Context:
    """Explain ``sample`` once (greedy, ``settings.max_new_tokens``) and analyse its answer's words."""
    image = sample.image()
    if settings.prompt is not None:
        sample = replace(sample, prompt=settings.prompt)
    exp = explain(model, processor, image, sample.prompt, max_new_tokens=settings.max_new_tokens, progress=False)
    words = answer_words(processor.tokenizer, exp.token_ids[exp.answer_start :])
    mask = sample.mask()
    scores = _plausibility(exp, words, sample, mask, tagger, True, True)
    objects: list[tuple[str, int, int]] = []
    if not scores.early_return and scores.words_label is not None and mask is not None:
        for word, group, label in zip(scores.words, scores.tokens_idx, scores.words_label, strict=True):
            if label > 0 and bool((mask == label).any()):
                objects.append((word, label, group[0]))
    score_all = None
    if settings.steps:
        inputs = model_inputs(model, processor, image, sample.prompt)
        positions = list(range(exp.answer_start, len(exp.token_ids)))
        batch = settings.batch_size
        score_all = make_scorer(model, processor, image, inputs, exp.token_ids, positions, batch_size=batch)
    return Context(model, processor, sample, image, mask, exp, words, scores, objects, score_all, settings, tagger)


def _eval_grids(exp: Explanation, eci: bool, filter: bool) -> np.ndarray:
    """``(N, h, w)`` uint8: the maps ``eval.py`` evaluates (item 0 stands in for answer token 0, its
    quirk), on the first view's grid."""
    tam = exp.tam
    items = tam.eval_items
    return tam.maps(1.0, eci=eci, filter=filter).u8[items].cpu().numpy().reshape(len(items), *exp.views[0].grid)


def _plausibility(
    exp: Explanation,
    words: AnswerWords,
    sample: Sample,
    mask: np.ndarray | None,
    tagger: Tagger,
    eci: bool,
    filter: bool,
) -> SampleScores:
    u8 = _eval_grids(exp, eci, filter)
    return evaluate_sample(
        list(u8), words.tokens, words.decodes, words.output_text, sample.captions, mask, sample.category, tagger
    )


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


def _pointing(ctx: Context, heat: np.ndarray, label: int, resize: bool) -> int:
    """1 when the map's maximum falls on the word's object (EAGLE's point game by mask)."""
    assert ctx.mask is not None
    region = (ctx.mask == label).astype(np.float64)
    saliency = baseline_point_map(heat, ctx.mask.shape) if resize else heat
    return 0 if saliency is None else hit(saliency, region)


def _lists(scores: SampleScores) -> dict[str, Any]:
    names = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")
    return {name: list(getattr(scores, name)) for name in names}


def white_box(ctx: Context, method: EvalMethod) -> dict[str, Any]:
    """One white-box method's metrics (every list pooled later, as the references pool them)."""
    exp = ctx.exp
    scores = ctx.scores if (method.eci, method.filter) == (True, True) else None
    if scores is None:
        scores = _plausibility(exp, ctx.words, ctx.sample, ctx.mask, ctx.tagger, method.eci, method.filter)
    # the answer tokens' own maps (not eval.py's list, whose first entry is a prompt token's: its quirk)
    answer = exp.tam.maps(1.0, eci=method.eci, filter=method.filter).image[exp.n_prompt :].float().cpu()
    grids = answer.numpy().reshape(len(answer), *exp.views[0].grid)
    metrics = _lists(scores) | {"pointing": [_pointing(ctx, grids[t], label, True) for _, label, t in ctx.object_words]}
    metrics |= _faithfulness(ctx, [grids[t] for _, _, t in ctx.object_words], answer.mean(dim=0), True)
    return metrics


def _faithfulness(ctx: Context, word_maps: Sequence[np.ndarray], answer_map: Any, grids: bool) -> dict[str, Any]:
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
    metrics: dict[str, Any] = _lists(ctx.scores) | {"obj_iou": [], "func_iou": [], "precision": [], "recall": []}
    if heats:
        metrics |= _eagle_objects(ctx, heats)
    metrics["pointing"] = [
        _pointing(ctx, h, label, ctx.mask is not None and h.shape != ctx.mask.shape)
        for h, (_, label, _) in zip(heats, ctx.object_words, strict=True)
    ]
    answer = _eagle_map(ctx, None) if ctx.settings.steps else np.zeros(1)
    metrics |= _faithfulness(ctx, heats, answer, False)
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
