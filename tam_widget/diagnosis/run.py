"""``diagnose``: why did the model say the wrong word, and which part of the image makes it right?

Spec ``eagle.md`` §6 on one sample, with the package's pieces: the EAGLE run is
:func:`~tam_widget.explain` on the wrong answer (teacher-forced) with EAGLE reading the correct word's id
there (``options={"eagle": {"explained_ids": [correct_id]}}``) and TAM beside it, kept as the
diagnosis's :class:`~tam_widget.Explanation` (``Diagnosis.widget()`` shows it):

1. EAGLE explains the **correct** word's token at the wrong word's position, teacher-forced on the
   wrong answer, so its order runs from the regions that most support the correct word to those
   that drive the wrong one.
2. For every prefix ``k = 1 … N`` of that order, the model answers again on the image showing only
   those regions (:mod:`.answers`, batched). The reference generates 128 tokens; only the word at
   the position matters, so this generates ``max_new_tokens`` (default 4) after the answer's text
   before the wrong word, and regenerates the answer at full length for the cut only.
3. :func:`~.walk.minimal_correction` finds the cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from .. import arguments, params
from ..core.eagle_result import EagleResult
from ..core.eagle_search import VARIANTS
from ..explainer import explain
from ..families import Family, family_for
from ..runtime.capture import lm_head
from ..runtime.media import as_media, to_pil
from ..runtime.passes import answer_token_ids, to_device
from ..runtime.prompt import build_text, vision_token_ids
from . import words
from .answers import Answerer, Prefixes
from .result import Diagnosis
from .walk import minimal_correction, says

SEARCH_OPTIONS = ("search_scope", "pending_samples", "update_step", "lambda1", "lambda2", "batch_size")


def diagnose(
    model: Any,
    processor: Any,
    image: Any,
    prompt: str,
    *,
    correct: str | int,
    wrong: str | None = None,
    answer: str | list[int] | None = None,
    position: int | None = None,
    division: int = 64,
    variant: str = "full",
    superpixels: str = "auto",
    max_new_tokens: int = 4,
    answer_tokens: int = 64,
    chat_template: bool | None = None,
    progress: bool = True,
    **search: Any,
) -> Diagnosis:
    """Explain the correct word where the model said a wrong one, and find the smallest cut that fixes it.

    ``image``: one image (PIL or ``(H, W, 3)``); ``prompt``: the question. ``answer``: the wrong
    answer, teacher-forced (text or ids); ``None`` lets the model generate it (greedy,
    ``answer_tokens`` long). ``correct``: the word it should say (or its token id); its first token
    is explained. ``wrong``: the word it said; ``position``: the answer token where it said it
    (default: where the answer first reads ``wrong``, else 0 as the reference's Yes/No answers).
    ``division``, ``superpixels``, ``variant`` and ``search`` (``search_scope``, ``pending_samples``,
    ``update_step``, ``lambda1``, ``lambda2``, ``batch_size``) set EAGLE's search as in ``explain``.
    ``max_new_tokens``: tokens generated per prefix from the position on. ``progress``: tqdm bars.
    """
    arguments.unwrap_check(model)
    family = family_for(model)
    tokenizer = arguments.processor_check(processor)
    prompt = arguments.prompt_check(prompt, tokenizer)
    max_new_tokens = params.integer("max_new_tokens", max_new_tokens, 1, 4096)
    answer_tokens = params.max_new_tokens(answer_tokens)
    variant = params.choice("variant", variant, VARIANTS)
    progress = params.flag("progress", progress)
    if set(search) - set(SEARCH_OPTIONS):
        unknown = sorted(set(search) - set(SEARCH_OPTIONS))
        raise TypeError(f"diagnose takes the search options {list(SEARCH_OPTIONS)}, not {unknown}.")
    picture, inputs = _inputs(model, processor, family, image, prompt, chat_template)
    t0 = time.perf_counter()
    if answer is None:
        answer_ids = Answerer(model, processor, family, inputs, [])(picture[None], answer_tokens)[0]
    else:
        checked = arguments.answer_text_check(answer, family, processor) if isinstance(answer, str) else answer
        answer_ids = answer_token_ids(tokenizer, checked)
        arguments.answer_ids_check(answer_ids, arguments.vocab_size(model), vision_token_ids(model.config))
    if not answer_ids:
        raise ValueError("The model's answer is empty: there is no wrong word to diagnose. Pass answer= to force one.")
    position, wrong = words.position(tokenizer, answer_ids, wrong, position)
    correct, correct_id = words.correct_token(tokenizer, correct, answer_ids[position], wrong)
    t1 = time.perf_counter()
    options = {"division": division, "superpixels": superpixels, "variant": variant, **search}
    explanation = explain(
        model,
        processor,
        picture,
        prompt,
        answer=answer_ids,
        method=["eagle", "tam"],
        tokens=[position],
        options={"eagle": {**options, "explained_ids": [correct_id]}},
        chat_template=chat_template,
        progress=progress,
    )
    result: EagleResult = explanation.results["eagle"]
    t2 = time.perf_counter()
    answerer = Answerer(model, processor, family, inputs, answer_ids[:position])
    if search.get("batch_size") is not None:
        answerer.batch_size = int(search["batch_size"])
    revised, corrected, full = _revise(
        answerer, tokenizer, result, picture, correct, max_new_tokens, answer_tokens, progress
    )
    k, r = minimal_correction(result.region_area, corrected)
    t3 = time.perf_counter()
    return Diagnosis(
        eagle=result,
        explanation=explanation,
        image=picture,
        prompt=prompt,
        answer=str(tokenizer.decode(answer_ids, skip_special_tokens=True)),
        position=position,
        wrong=wrong,
        correct=correct,
        correct_id=correct_id,
        revised=revised,
        corrected=corrected,
        k=k,
        r=r,
        revised_answer=full(k),
        meta={
            "mode": "generate" if answer is None else "teacher-forced",
            "division": division,
            "max_new_tokens": max_new_tokens,
            **result.params,
            "images_scored": result.images_scored,
            "generations": answerer.generated + (answer is None),
            "timings_s": {"answer": round(t1 - t0, 3), "search": round(t2 - t1, 3), "answers": round(t3 - t2, 3)},
        },
    )


def _inputs(
    model: Any, processor: Any, family: Family, image: Any, prompt: str, chat_template: bool | None
) -> tuple[np.ndarray, dict[str, Any]]:
    """``(image as an (H, W, 3) uint8 array, the processor's inputs on the model's device)``."""
    arrays, media = as_media(image)
    if media.video or len(arrays) != 1:
        raise ValueError("image must be one image (PIL or an (H, W, 3) array): a diagnosis masks one image.")
    text, _ = build_text(family, processor, prompt, media, chat_template)
    weight: torch.Tensor = lm_head(model).weight  # type: ignore[assignment]
    inputs = processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    return arrays[0], to_device(inputs, weight.device, weight.dtype)


def _revise(
    answerer: Answerer,
    tokenizer: Any,
    result: EagleResult,
    image: np.ndarray,
    correct: str,
    max_new_tokens: int,
    answer_tokens: int,
    progress: bool,
) -> tuple[tuple[str, ...], np.ndarray, Callable[[int | None], str]]:
    """``(revised answers, which say the correct word, full(k))``: the answers on every prefix's image
    (``max_new_tokens`` after the position, plus the correct word's own tokens), and a function that
    regenerates prefix ``k``'s answer ``answer_tokens`` long ("" for ``None``)."""
    prefixes = Prefixes(image, result.regions, result.order)
    n = max_new_tokens + len(tokenizer(correct, add_special_tokens=False)["input_ids"])
    with _bar(progress, len(prefixes), "answers") as bar:
        news = answerer(prefixes, n, bar)
    head = answerer.prefix
    corrected = np.array([says(str(tokenizer.decode(new, skip_special_tokens=True)), correct) for new in news])
    revised = tuple(str(tokenizer.decode(head + new, skip_special_tokens=True)) for new in news)

    def full(k: int | None) -> str:
        if k is None:
            return ""
        return str(tokenizer.decode(head + answerer(prefixes[k - 1 : k], answer_tokens)[0], skip_special_tokens=True))

    return revised, corrected, full


@contextmanager
def _bar(on: bool, total: int, desc: str) -> Iterator[Callable[[int], None]]:
    """``update(n)`` of a tqdm bar over ``total`` items (a no-op when ``on`` is false); closed after."""
    if not on:
        yield lambda n: None
        return
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=total, desc=desc, unit="img")
    try:
        yield lambda n: bar.update(n) and None
    finally:
        bar.close()
