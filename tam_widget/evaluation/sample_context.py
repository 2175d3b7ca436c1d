"""What every compared method of one sample shares: one explanation, its answer's words, the masks.

:func:`context` explains the sample once (greedy) and analyses the answer's words
(:func:`plausibility`: ``eval.py``'s word analysis and scores on TAM's evaluated maps), finds the
object words (category nouns whose mask has pixels) and builds the scorer of every answer token's
probability that faithfulness reads (:func:`~tam_widget.runtime.scoring.make_scorer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..explainer import explain, model_inputs
from ..explanation import Explanation
from ..runtime.scoring import make_scorer
from .answer_words import AnswerWords, answer_words
from .datasets.base import Sample
from .plausibility import SampleScores, evaluate_sample
from .words import Tagger, default_tagger


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
    scores = plausibility(exp, words, sample, mask, tagger, True, True)
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


def plausibility(
    exp: Explanation,
    words: AnswerWords,
    sample: Sample,
    mask: np.ndarray | None,
    tagger: Tagger,
    eci: bool,
    filter: bool,
) -> SampleScores:
    """``eval.py``'s word analysis and plausibility scores of the answer on the maps it evaluates
    (:func:`~.plausibility.evaluate_sample`), with ECI and the filter as given."""
    u8 = _eval_grids(exp, eci, filter)
    return evaluate_sample(
        list(u8), words.tokens, words.decodes, words.output_text, sample.captions, mask, sample.category, tagger
    )
