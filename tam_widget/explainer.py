"""``explain``: run a Hugging Face MLLM once and explain every token of its answer.

The flow: the user's media and prompt become the processor's inputs (:mod:`tam_widget.runtime`);
one pass (``model.generate`` itself, or with ``answer=`` one teacher-forced forward) runs with the
capture hooks on (last-layer hidden states of every position, top candidates); the family says
where the vision tokens are (:mod:`tam_widget.families`); the chosen method turns what was
captured into its result (:mod:`tam_widget.methods`); and everything lands in one
:class:`~tam_widget.explanation.Explanation`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch

from . import arguments, method_runs, params
from .core.layout import VisionLayout
from .explanation import Explanation
from .families import Family, family_for
from .families.base import Media, View
from .methods import Captured
from .runtime import passes
from .runtime.capture import decoder_layers, lm_head
from .runtime.media import as_media, to_pil
from .runtime.memory import check_layers_fit
from .runtime.prompt import build_text, decode1, locate_prompt, special_ids, vision_token_ids
from .runtime.scoring import make_scorer
from .runtime.text import token_texts, word_ids
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
    _numbers(max_new_tokens, top_k, kernel, reference_quirks)
    arguments.generate_options_check(answer, generate_kwargs)
    arrays, media = as_media(images_or_video)
    inputs, templated = _prepared(family, processor, prompt, arrays, media, chat_template)
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


def model_inputs(
    model: Any, processor: Any, images_or_video: Any, prompt: str, *, chat_template: bool | None = None
) -> Any:
    """The processor's inputs (batch 1, on the CPU) for ``prompt`` about ``images_or_video``, laid out
    exactly as :func:`explain` lays them out: what :func:`explain_inputs` and
    :func:`~tam_widget.runtime.scoring.make_scorer` take. The arguments are :func:`explain`'s."""
    arguments.unwrap_check(model)
    family = family_for(model)
    arguments.prompt_check(prompt, arguments.processor_check(processor))
    arrays, media = as_media(images_or_video)
    return _prepared(family, processor, prompt, arrays, media, chat_template)[0]


def _prepared(
    family: Family, processor: Any, prompt: str, arrays: list[Any], media: Media, chat_template: bool | None
) -> tuple[Any, bool]:
    """``(the processor's inputs, whether the chat template wrapped the prompt)``."""
    family.check_video(media)
    text, templated = build_text(family, processor, prompt, media, chat_template)
    return _process(family, processor, text, arrays, media), templated


def _process(family: Family, processor: Any, text: str, arrays: list[Any], media: Media) -> Any:
    """The processor's inputs for ``text`` and the media (every video frame kept, none resampled)."""
    visual = to_pil(arrays, media)
    kwargs: dict[str, Any] = {"images": visual}
    if media.video:
        meta = {
            "fps": media.fps or 24.0,
            "total_num_frames": media.n_frames,
            "frames_indices": list(range(media.n_frames)),
        }
        kwargs = {"videos": visual, "video_metadata": [meta], "do_sample_frames": False}
    if media.video and hasattr(processor, "video_processor") and processor.video_processor is None:
        raise ImportError(
            f"This {family.name} processor has no video processor, so it cannot read a video. Video processors in "
            "transformers need torchvision: install the torchvision build that matches your torch, reload the "
            "processor, or process the video yourself and call explain_inputs."
        )
    try:
        return processor(text=[text], return_tensors="pt", **kwargs)
    except ImportError as err:
        raise ImportError(f"The {family.name} processor needs a missing package for this input: {err}") from err
    except (ValueError, KeyError, IndexError, TypeError) as err:  # e.g. a processor of another model
        raise ValueError(
            f"The {type(processor).__name__} could not process the text tam_widget laid out for this {family.name} "
            f"model ({type(err).__name__}: {err}). Pass the processor loaded from the same checkpoint as the model."
        ) from err


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
    max_new_tokens, top_k, kernel, reference_quirks = _numbers(max_new_tokens, top_k, kernel, reference_quirks)
    arguments.generate_options_check(answer, generate_kwargs)
    if prompt is not None:
        arguments.prompt_check(prompt, tokenizer)
    answer = _answer(answer, model, family, processor)
    if media is None:
        images, media = as_media(images)
    family.check_video(media)
    head = lm_head(model)
    weight: torch.Tensor = head.weight  # type: ignore[assignment]
    bias = getattr(head, "bias", None)
    original = inputs  # kept (on its own device) for what_if and continue_with
    inputs = passes.to_device(inputs, weight.device, weight.dtype)
    ids0 = _input_ids(inputs)
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
    texts, special = _token_texts(model, tokenizer, seq_ids, L0)
    q = locate_prompt(texts[:L0], special[:L0], layout, prompt, prompt_positions, reference_quirks=reference_quirks)
    captured = Captured(
        hidden=run.hidden,
        lm_head=weight,
        lm_head_bias=bias if isinstance(bias, torch.Tensor) else None,
        token_ids=torch.tensor(seq_ids),
        layout=layout,
        prompt_positions=q,
        answer_start=L0,
        images=images,
        # the answer's own tokens too: item P's class is the token before the answer (reference quirk)
        candidates=torch.cat([run.top_ids.reshape(-1), torch.tensor(seq_ids[L0:], dtype=torch.long)]),
        layer_hidden=run.layer_hidden,
        n_layers=n_layers,
    )
    explained = arguments.explained_positions(tokens, texts, word_ids(texts, special), L0)
    captured = replace(captured, explained_positions=explained)

    read_ids = _explained_ids(chosen, method_options)

    def scorer() -> Any:  # a black-box method's batch_size caps the forward batch too (else: from free memory)
        batch = min((o["batch_size"] for o in method_options.values() if "batch_size" in o), default=None)
        return make_scorer(
            model, processor, _one_image(images), inputs, seq_ids, explained, read_ids, family=family, batch_size=batch
        )

    common = {"reference_quirks": reference_quirks, "kernel": kernel, "progress": progress}
    results, seconds = method_runs.run_methods(chosen, captured, common, method_options, scorer)
    again = {"method": [m.name for m in chosen], "tokens": tokens, "options": options, "layers": layers}
    again |= {"top_k": top_k, "reference_quirks": reference_quirks, "kernel": kernel, "progress": progress}
    source = Source(weakref.ref(model), processor, original, images, media, prompt, prompt_positions, again)
    return Explanation(
        source=source,
        results=results,
        method=chosen[0].name,
        token_ids=seq_ids,
        tokens=texts,
        special=special,
        words=word_ids(texts, special),
        prompt_positions=q,
        answer_start=L0,
        images=images,
        views=views,
        top_ids=run.top_ids.numpy(),
        top_probs=run.top_probs.numpy(),
        top_texts=[[decode1(tokenizer, int(i)) for i in row] for row in run.top_ids],
        chosen_probs=run.chosen_probs.numpy(),
        text=str(tokenizer.decode(seq_ids[L0:], skip_special_tokens=True)),
        meta={
            "model": str(getattr(model.config, "_name_or_path", "") or type(model).__name__),
            "architecture": type(model).__name__,
            "family": family.name,
            "dtype": str(weight.dtype),
            "device": str(weight.device),
            "mode": run.mode,
            "prompt": prompt or "",
            "reference_quirks": reference_quirks,
            "timings_s": {"pass": round(run.seconds, 4), **seconds},
            "stopped": run.stopped,
            "layers": [*extra, n_layers - 1] if n_layers is not None else None,
            "was_training": run.was_training,
        },
    )


def _explained_ids(methods: Sequence[Any], options: dict[str, dict[str, Any]]) -> list[int] | None:
    """The ``explained_ids`` option of the black-box methods (popped from their options: it is the
    scorer's, not the method's), or ``None`` to read the answer's own tokens. make_scorer checks it."""
    black_box = [m.name for m in methods if getattr(m, "needs_scorer", False)]
    given = [options[name].pop("explained_ids") for name in black_box if "explained_ids" in options.get(name, {})]
    if not given:
        return None
    if any(g != given[0] for g in given[1:]):
        raise ValueError("The black-box methods' explained_ids differ: they share one scorer; give the same ids.")
    return given[0]  # type: ignore[no-any-return]


def _numbers(max_new_tokens: Any, top_k: Any, kernel: Any, reference_quirks: Any) -> tuple[int, int, int, bool]:
    """The numeric options, checked (:mod:`tam_widget.params`)."""
    return (
        params.max_new_tokens(max_new_tokens),
        params.top_k(top_k),
        params.kernel(kernel),
        params.flag("reference_quirks", reference_quirks),
    )


def _answer(answer: Any, model: Any, family: Family, processor: Any) -> str | list[int] | None:
    """``answer`` checked: text without image placeholders, or ids in the vocabulary that are not placeholders."""
    if answer is None:
        return None
    if isinstance(answer, str):
        return arguments.answer_text_check(answer, family, processor)
    if isinstance(answer, torch.Tensor):
        answer = answer.reshape(-1).tolist()
    if not isinstance(answer, Sequence) or isinstance(answer, bytes):
        raise TypeError(
            f"answer must be a string or a sequence of token ids (or None to generate), got {type(answer).__name__}."
        )
    return arguments.answer_ids_check(answer, arguments.vocab_size(model), vision_token_ids(model.config))


def _one_image(images: Any) -> Any:
    """The one image (or video) a black-box method masks; ValueError for several."""
    if isinstance(images, (list, tuple)):
        if len(images) != 1:
            raise ValueError(f"EAGLE explains one image or one video; this prompt has {len(images)} images.")
        return images[0]
    return images


def _input_ids(inputs: Mapping[str, Any]) -> torch.Tensor:
    input_ids = inputs.get("input_ids")
    if input_ids is None or input_ids.ndim != 2 or input_ids.shape[0] != 1:
        raise ValueError("inputs must hold input_ids of shape (1, L0): tam_widget explains one sequence at a time.")
    ids: torch.Tensor = input_ids[0].cpu()
    return ids


def _token_texts(model: Any, tokenizer: Any, seq_ids: list[int], L0: int) -> tuple[list[str], list[bool]]:
    """Each position's display text, and whether it is special (or a vision token)."""
    vision_ids = set(vision_token_ids(model.config))
    specials = special_ids(tokenizer)
    is_vision = [t in vision_ids and i < L0 for i, t in enumerate(seq_ids)]
    texts = token_texts(tokenizer, seq_ids, is_vision)
    special = [v or t in specials for v, t in zip(is_vision, seq_ids, strict=True)]
    return texts, special


__all__ = ["Explanation", "View", "explain", "explain_inputs"]
