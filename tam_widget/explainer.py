"""``explain``: run a Hugging Face MLLM once and explain every token of its answer.

The flow: the user's media and prompt become the processor's inputs (:mod:`tam_widget.processing`);
one pass (``model.generate`` itself, or with ``answer=`` one teacher-forced forward) runs with the
capture hooks on (last-layer hidden states of every position, top candidates); the family says
where the vision tokens are (:mod:`tam_widget.families`); the chosen method turns what was
captured into its result (:mod:`tam_widget.methods`); and everything lands in one
:class:`~tam_widget.explanation.Explanation` (:mod:`tam_widget.explain_build`). ``explain``'s own
argument checks are in :mod:`tam_widget.explain_checks`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch

from . import arguments, method_runs, params
from .core.layout import VisionLayout
from .explain_build import captured_from, explanation_from, meta_of, scorer_for, texts_of
from .explain_checks import answer_check, explained_ids, input_ids, numbers
from .explanation import Explanation
from .families import family_for
from .families.base import Media, View
from .processing import model_inputs as model_inputs
from .processing import prepared
from .runtime import passes
from .runtime.capture import decoder_layers, lm_head
from .runtime.media import as_media
from .runtime.memory import check_layers_fit
from .runtime.prompt import locate_prompt, vision_token_ids
from .runtime.text import word_ids
from .whatif import Source


def explain(
    model: Any,
    processor: Any,
    images_or_video: Any,
    prompt: str,
    *,
    answer: str | Sequence[int] | None = None,
    method: str | Sequence[str] = "tam",
    tokens: int | str | Sequence[int] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    layers: str | Sequence[int] | None = None,
    max_new_tokens: int = 64,
    chat_template: bool | None = None,
    top_k: int = 3,
    reference_quirks: bool = True,
    kernel: int = 3,
    progress: bool = True,
    **generate_kwargs: Any,
) -> Explanation:
    """Explain what ``model`` says about ``images_or_video`` when asked ``prompt``.

    ``images_or_video``: a PIL image or ``(H, W, 3)`` array, a list of them (several images in one
    prompt), or a :class:`~tam_widget.Video` / ``(T, H, W, 3)`` array. ``prompt``: the user's
    words; they are wrapped in the processor's chat template when it has one (``chat_template``
    forces or skips that), else in the family's plain layout. A prompt that already holds the
    image placeholders is used as it is. ``answer``: explain this text (or these token ids)
    instead of generating (one teacher-forced forward). ``method``: the attribution method, a
    key of :data:`tam_widget.methods.METHODS` (``"tam"``, ``"eagle"``), or a list of them (the
    first is shown first); ``reference_quirks`` and ``kernel`` are TAM's options, ``options``
    holds any method's own (``{"eagle": {"variant": "efficient", "division": 36}}``).
    ``tokens``: what a black-box method (EAGLE) explains: ``None`` the whole answer, an answer
    index or a list of them, or a word; TAM always explains every token. A black-box method reads
    the probability of the answer's own token at each explained position unless its options give
    ``explained_ids``: one token id per explained position, read there instead
    (``options={"eagle": {"explained_ids": [blue_id]}}`` with ``tokens=[1]``: how likely "blue"
    is where the answer says "red", as a hallucination diagnosis explains it). ``progress``: a bar
    over EAGLE's search. ``layers``: TAM's maps at other decoder layers too (the logit lens: each
    kept layer's output through the model's final norm, then the same core), ``"all"`` or a list of
    indices; captured in the same single pass, read with ``exp.maps(layer=i)``. Each extra layer costs
    its ``(L, c)`` states and a ``(T, n_v)`` result (see ``tam_widget.runtime.memory``); a request that
    would not fit is refused before the pass. Other keywords go to ``model.generate`` (greedy by default).
    """
    arguments.unwrap_check(model)
    family = family_for(model)
    method_runs.options_check(options, method_runs.method_list(method))
    arguments.tokens_check(tokens)
    arguments.prompt_check(prompt, arguments.processor_check(processor))
    numbers(max_new_tokens, top_k, kernel, reference_quirks)
    arguments.generate_options_check(answer, generate_kwargs)
    arrays, media = as_media(images_or_video)
    inputs, templated = prepared(family, processor, prompt, arrays, media, chat_template)
    return explain_inputs(
        model,
        processor,
        inputs,
        images=arrays,
        media=media,
        prompt=prompt if templated else None,
        answer=answer,
        method=method,
        tokens=tokens,
        options=options,
        layers=layers,
        max_new_tokens=max_new_tokens,
        top_k=top_k,
        reference_quirks=reference_quirks,
        kernel=kernel,
        progress=progress,
        **generate_kwargs,
    )


def explain_inputs(
    model: Any,
    processor: Any,
    inputs: Mapping[str, Any],
    *,
    images: Any,
    media: Media | None = None,
    prompt: str | None = None,
    prompt_positions: Sequence[int] | None = None,
    answer: str | Sequence[int] | None = None,
    method: str | Sequence[str] = "tam",
    tokens: int | str | Sequence[int] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    layers: str | Sequence[int] | None = None,
    max_new_tokens: int = 64,
    top_k: int = 3,
    reference_quirks: bool = True,
    kernel: int = 3,
    progress: bool = True,
    **generate_kwargs: Any,
) -> Explanation:
    """Explain from already-processed ``inputs`` (the processor's ``BatchFeature``, batch size 1).
    The keywords are :func:`explain`'s.

    ``images``: the images (or video) the inputs were made from, for display and geometry.
    The prompt tokens are found from ``prompt`` (the user's words, located in the decoded input),
    or given as ``prompt_positions``; with neither, every non-special text token of the input is
    a prompt token.
    """
    arguments.unwrap_check(model)
    family = family_for(model)
    chosen = method_runs.method_list(method)
    method_options = method_runs.options_check(options, chosen)
    tokens = arguments.tokens_check(tokens)
    n_layers = len(decoder_layers(model)) if layers is not None else None
    extra = arguments.layers_check(layers, n_layers) if n_layers is not None else []
    if layers is not None and "tam" not in [m.name for m in chosen]:
        raise ValueError("layers= reads TAM's maps at other layers: include 'tam' in method.")
    progress = params.flag("progress", progress)
    tokenizer = arguments.processor_check(processor)
    max_new_tokens, top_k, kernel, reference_quirks = numbers(max_new_tokens, top_k, kernel, reference_quirks)
    arguments.generate_options_check(answer, generate_kwargs)
    if prompt is not None:
        arguments.prompt_check(prompt, tokenizer)
    answer = answer_check(answer, model, family, processor)
    if media is None:
        images, media = as_media(images)
    family.check_video(media)
    head = lm_head(model)
    weight: torch.Tensor = head.weight  # type: ignore[assignment]
    bias = getattr(head, "bias", None)
    original = inputs  # kept (on its own device) for what_if and continue_with
    inputs = passes.to_device(inputs, weight.device, weight.dtype)
    ids0 = input_ids(inputs)
    arguments.ids_in_vocabulary(ids0, model)
    passes.check_context(
        model, ids0.numel(), "the prompt with its images", "use fewer or smaller images or a shorter prompt"
    )
    try:
        views = family.views(model.config, inputs, ids0, media, processor)
    except ValueError:  # a processor of another model makes the family's own message misleading
        if not media.video:
            arguments.has_image_tokens(ids0, vision_token_ids(model.config))
        raise
    layout = VisionLayout.from_grids([p for v in views for p in v.positions], [v.grid for v in views])
    if extra:  # at most L positions, and at most L items (prompt words and answer tokens)
        L = ids0.numel() + (max_new_tokens if answer is None else len(passes.answer_token_ids(tokenizer, answer)))
        check_layers_fit(len(extra), L, weight.shape[1], weight.element_size(), L, layout.n_tokens, weight.device)
    run = passes.run(
        model,
        family,
        inputs,
        tokenizer,
        answer=answer,
        max_new_tokens=max_new_tokens,
        top_k=top_k,
        generate_kwargs=generate_kwargs,
        reference_quirks=reference_quirks,
        layers=extra,
    )
    seq_ids = run.sequence.tolist()
    L0 = ids0.numel()
    texts, special = texts_of(model, tokenizer, seq_ids, L0)
    q = locate_prompt(texts[:L0], special[:L0], layout, prompt, prompt_positions, reference_quirks=reference_quirks)
    captured = captured_from(run, weight, bias, seq_ids, layout, q, L0, images, n_layers)
    explained = arguments.explained_positions(tokens, texts, word_ids(texts, special), L0)
    captured = replace(captured, explained_positions=explained)

    read_ids = explained_ids(chosen, method_options)
    scorer = scorer_for(model, processor, images, inputs, seq_ids, explained, read_ids, family, method_options)
    common = {"reference_quirks": reference_quirks, "kernel": kernel, "progress": progress}
    results, seconds = method_runs.run_methods(chosen, captured, common, method_options, scorer)
    again = {"method": [m.name for m in chosen], "tokens": tokens, "options": options, "layers": layers}
    again |= {"top_k": top_k, "reference_quirks": reference_quirks, "kernel": kernel, "progress": progress}
    source = Source(weakref.ref(model), processor, original, images, media, prompt, prompt_positions, again)
    meta = meta_of(model, family, weight, run, prompt, reference_quirks, seconds, extra, n_layers)
    return explanation_from(
        source, results, chosen[0].name, run, seq_ids, texts, special, q, L0, images, views, tokenizer, meta
    )


__all__ = ["Explanation", "View", "explain", "explain_inputs"]
