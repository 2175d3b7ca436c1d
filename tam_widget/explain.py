"""``explain``: run a Hugging Face MLLM once and explain every token of its answer.

The pass is ``model.generate`` itself (or, with ``answer=``, one teacher-forced forward); the
last-layer hidden states of every position are captured inside that pass by a hook on the final
norm (:mod:`tam_widget.capture`), and the TAM core turns them into every token's map at once on
the model's device.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .capture import Capture, lm_head, softcap_of
from .core.layout import VisionLayout
from .core.tam import compute_tam
from .explanation import Explanation
from .families import Family, family_for
from .families.base import Media, View
from .media import as_media, to_pil
from .text import locate, token_texts, word_ids


def explain(
    model: Any,
    processor: Any,
    images_or_video: Any,
    prompt: str,
    *,
    answer: str | Sequence[int] | None = None,
    max_new_tokens: int = 64,
    chat_template: bool | None = None,
    top_k: int = 3,
    reference_quirks: bool = True,
    kernel: int = 3,
    **generate_kwargs: Any,
) -> Explanation:
    """Explain what ``model`` says about ``images_or_video`` when asked ``prompt``.

    ``images_or_video``: a PIL image or ``(H, W, 3)`` array, a list of them (several images in one
    prompt), or a :class:`~tam_widget.Video` / ``(T, H, W, 3)`` array. ``prompt``: the user's
    words; they are wrapped in the processor's chat template when it has one (``chat_template``
    forces or skips that), else in the family's plain layout. A prompt that already holds the
    image placeholders is used as it is. ``answer``: explain this text (or these token ids)
    instead of generating (one teacher-forced forward). Other keywords go to ``model.generate`` (greedy by default).
    """
    family = family_for(model)
    arrays, media = as_media(images_or_video)
    family.check_video(media)
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}.")
    text, templated = build_text(family, processor, prompt, media, chat_template)
    visual = to_pil(arrays, media)
    kwargs: dict[str, Any] = {"images": visual}
    if media.video:
        # every frame as given: no resampling (the explanation keeps exactly these frames)
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
        inputs = processor(text=[text], return_tensors="pt", **kwargs)
    except ImportError as err:
        raise ImportError(f"The {family.name} processor needs a missing package for this input: {err}") from err
    return explain_inputs(
        model,
        processor,
        inputs,
        images=arrays,
        media=media,
        prompt=prompt if templated else None,
        answer=answer,
        max_new_tokens=max_new_tokens,
        top_k=top_k,
        reference_quirks=reference_quirks,
        kernel=kernel,
        **generate_kwargs,
    )


def build_text(
    family: Family, processor: Any, prompt: str, media: Media, chat_template: bool | None = None
) -> tuple[str, bool]:
    """The model's input text and whether tam_widget added the template around ``prompt``."""
    marks = {family.placeholder(processor, media.video), family.image_placeholder.strip()} - {""}
    found = max((prompt.count(m) for m in marks), default=0)
    if found:  # the user wrote the layout themselves
        n_given = 1 if media.video else len(media.sizes)
        if found != n_given:
            raise ValueError(
                f"The prompt has {found} image placeholder(s) but {n_given} {'video' if media.video else 'image'}(s) "
                "were given. Give one placeholder per image, or none and let tam_widget place them."
            )
        return prompt, False
    n = 1 if media.video else len(media.sizes)
    has_template = bool(getattr(processor, "chat_template", None))
    if chat_template and not has_template:
        raise ValueError("chat_template=True but the processor has no chat template; set processor.chat_template.")
    if has_template if chat_template is None else chat_template:
        kind = "video" if media.video else "image"
        content = [{"type": kind} for _ in range(n)] + [{"type": "text", "text": prompt}]
        text = processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        return str(text), True
    layout, mark = family.template(processor, media.video)
    return layout.format(images=mark * n, prompt=prompt), True


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
    max_new_tokens: int = 64,
    top_k: int = 3,
    reference_quirks: bool = True,
    kernel: int = 3,
    **generate_kwargs: Any,
) -> Explanation:
    """Explain from already-processed ``inputs`` (the processor's ``BatchFeature``, batch size 1).

    ``images``: the images (or video) the inputs were made from, for display and geometry.
    The prompt tokens are found from ``prompt`` (the user's words, located in the decoded input),
    or given as ``prompt_positions``; with neither, every non-special text token of the input is
    a prompt token.
    """
    family = family_for(model)
    if media is None:
        images, media = as_media(images)
    family.check_video(media)
    head = lm_head(model)
    weight: torch.Tensor = head.weight  # type: ignore[assignment]
    bias = getattr(head, "bias", None)
    bias = bias if isinstance(bias, torch.Tensor) else None
    device = weight.device
    inputs = _to_device(inputs, device, weight.dtype)
    input_ids = inputs.get("input_ids")
    if input_ids is None or input_ids.ndim != 2 or input_ids.shape[0] != 1:
        raise ValueError("inputs must hold input_ids of shape (1, L0): tam_widget explains one sequence at a time.")
    ids0 = input_ids[0].cpu()
    L0 = ids0.numel()
    views = family.views(model.config, inputs, ids0, media, processor)
    layout = VisionLayout.from_grids([p for v in views for p in v.positions], [v.grid for v in views])
    tokenizer = getattr(processor, "tokenizer", processor)
    t0 = time.perf_counter()
    cap = Capture(model, top_k=top_k, softcap=softcap_of(model.config))
    if answer is None:
        seq, n_new = _generate(model, inputs, cap, max_new_tokens, generate_kwargs)
        mode = "generate"
    else:
        seq, n_new = _teacher_force(model, family, inputs, cap, tokenizer, answer)
        mode = "teacher-forced"
    t_pass = time.perf_counter() - t0
    n_keep = _answer_length(model, seq[L0:], n_new) if answer is None else n_new
    L = L0 + n_keep
    hidden = cap.hidden()
    hidden = (
        hidden[:L]
        if hidden.shape[0] >= L
        else torch.cat([hidden, hidden.new_zeros(L - hidden.shape[0], hidden.shape[1])])
    )
    probs, top_ids = cap.top()
    probs, top_ids = probs[:n_keep], top_ids[:n_keep]
    seq_ids = seq[:L].tolist()

    vision_ids = set(_vision_token_ids(model.config))
    special_ids = _special_ids(tokenizer)
    is_vision = [t in vision_ids and i < L0 for i, t in enumerate(seq_ids)]
    texts = token_texts(tokenizer, seq_ids, is_vision)
    special = [v or t in special_ids for v, t in zip(is_vision, seq_ids, strict=True)]
    q = _prompt_positions(texts[:L0], special[:L0], layout, prompt, prompt_positions)
    t1 = time.perf_counter()
    with torch.no_grad():
        result = compute_tam(
            hidden,
            weight,
            torch.tensor(seq_ids),
            layout,
            q,
            L0,
            lm_head_bias=bias,
            reference_quirks=reference_quirks,
            kernel=kernel,
        )
    t_tam = time.perf_counter() - t1
    return Explanation(
        result=result,
        token_ids=seq_ids,
        tokens=texts,
        special=special,
        words=word_ids(texts, special),
        prompt_positions=q,
        answer_start=L0,
        images=images,
        views=views,
        top_ids=top_ids.numpy(),
        top_probs=probs.numpy(),
        top_texts=[[_decode1(tokenizer, int(i)) for i in row] for row in top_ids],
        text=str(tokenizer.decode(seq_ids[L0:], skip_special_tokens=True)),
        meta={
            "model": str(getattr(model.config, "_name_or_path", "") or type(model).__name__),
            "architecture": type(model).__name__,
            "family": family.name,
            "dtype": str(weight.dtype),
            "device": str(device),
            "mode": mode,
            "prompt": prompt or "",
            "reference_quirks": reference_quirks,
            "timings_s": {"pass": round(t_pass, 4), "tam": round(t_tam, 4)},
            "stopped": n_keep < n_new,
        },
    )


def _to_device(inputs: Mapping[str, Any], device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in inputs.items():
        if isinstance(v, torch.Tensor):
            v = v.to(device, dtype) if v.is_floating_point() else v.to(device)
        out[k] = v
    return out


def _generate(
    model: Any, inputs: dict[str, Any], cap: Capture, max_new_tokens: int, kwargs: dict[str, Any]
) -> tuple[torch.Tensor, int]:
    for bad in ("num_beams", "num_return_sequences"):
        if int(kwargs.get(bad, 1)) != 1:
            raise ValueError(
                f"{bad}={kwargs[bad]} is not supported: tam_widget explains one greedy or sampled "
                "sequence. Leave it at 1."
            )
    if kwargs.get("output_hidden_states"):
        raise ValueError("Do not pass output_hidden_states: tam_widget captures the last layer itself.")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}.")
    L0 = inputs["input_ids"].shape[1]
    _check_context(model, L0 + max_new_tokens, "the prompt plus max_new_tokens", "lower max_new_tokens")
    kwargs = {"do_sample": False, **kwargs}
    with cap, torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, **kwargs)
    seq = out.sequences if hasattr(out, "sequences") else out
    seq = seq[0].cpu()
    n_new = seq.numel() - L0
    if n_new < 1:
        raise RuntimeError("The model generated no token; nothing to explain.")
    got = sum(c.shape[0] for c in cap.chunks)
    if got != L0 + n_new - 1:
        raise RuntimeError(
            f"Captured {got} hidden states for {L0 + n_new - 1} positions: the final norm ran an unexpected number "
            "of times (speculative or chunked decoding?). Generate with default settings."
        )
    return seq, n_new


def _teacher_force(
    model: Any, family: Family, inputs: dict[str, Any], cap: Capture, tokenizer: Any, answer: str | Sequence[int]
) -> tuple[torch.Tensor, int]:
    if isinstance(answer, str):
        if not answer.strip():
            raise ValueError("answer is empty: pass the text to explain, or answer=None to let the model generate.")
        answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
    else:
        answer_ids = [int(t) for t in answer]
    if not answer_ids:
        raise ValueError(f"answer {answer!r} holds no tokens: pass some text, or answer=None to generate.")
    ids = inputs["input_ids"]
    n = len(answer_ids)
    _check_context(model, ids.shape[1] + n, "the prompt plus the answer", "shorten the answer or the prompt")
    seq = torch.cat([ids, torch.tensor([answer_ids], device=ids.device, dtype=ids.dtype)], dim=1)
    fwd = family.extend_inputs(inputs, n)
    fwd.update(input_ids=seq, attention_mask=torch.ones_like(seq))
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        fwd["logits_to_keep"] = n + 1
    cap.head_rows = n + 1
    with cap, torch.inference_mode():
        model(**fwd, use_cache=False)
    if cap.top_p:  # rows L0-1 .. L-1; the last predicts beyond the answer
        cap.top_p, cap.top_ids = [cap.top_p[0][:n]], [cap.top_ids[0][:n]]
    return seq[0].cpu(), n


def _check_context(model: Any, length: int, what: str, fix: str) -> None:
    config = model.config
    limit = None
    for holder in (getattr(config, "text_config", None), config):
        limit = getattr(holder, "max_position_embeddings", None) if holder is not None else None
        if isinstance(limit, int):
            break
    if isinstance(limit, int) and length > limit:
        raise ValueError(f"{what} is {length} tokens, beyond the model's context of {limit}: {fix}.")


def _answer_length(model: Any, new: torch.Tensor, n_new: int) -> int:
    """Answer tokens up to (not including) the first end-of-sequence token."""
    stop: set[int] = set()
    for cfg in (getattr(model, "generation_config", None), getattr(model.config, "text_config", None), model.config):
        value = getattr(cfg, "eos_token_id", None) if cfg is not None else None
        stop.update([value] if isinstance(value, int) else list(value or []))
    for i, t in enumerate(new.tolist()):
        if t in stop:
            return i
    return n_new


def _special_ids(tokenizer: Any) -> set[int]:
    """The named special tokens and every added token marked special (chat and vision markers)."""
    ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    ids.update(int(i) for i, tok in added.items() if getattr(tok, "special", False))
    return ids


def _vision_token_ids(config: Any) -> list[int]:
    out = []
    for name in ("image_token_id", "image_token_index", "video_token_id", "video_token_index"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            out.append(value)
    return out


def _prompt_positions(
    texts: list[str], special: list[bool], layout: VisionLayout, prompt: str | None, given: Sequence[int] | None
) -> list[int]:
    if given is not None:
        return [int(p) for p in given]
    vision = set(layout.positions.tolist())
    candidates = [not s and i not in vision for i, s in enumerate(special)]
    if prompt:
        found = locate(texts, candidates, prompt)
        if not found:
            raise ValueError(
                f"Could not find the prompt {prompt[:60]!r} in the model's input text. Pass prompt_positions= "
                "(the input positions of the words to explain) to explain_inputs."
            )
        return found
    return [i for i, c in enumerate(candidates) if c and texts[i].strip()]


def _decode1(tokenizer: Any, tid: int) -> str:
    return str(tokenizer.decode([tid], skip_special_tokens=False, clean_up_tokenization_spaces=False))


__all__ = ["Explanation", "View", "explain", "explain_inputs"]
