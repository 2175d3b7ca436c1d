""" "What if it had said …": new explanations of the same image and prompt with another answer.

:func:`~tam_widget.explain_inputs` leaves a :class:`Source` on the explanation it returns: how it
was made (the model, held weakly so an explanation never keeps a model alive, the processor, the
processed inputs, the media and every option). :meth:`Explanation.what_if` teacher-forces an
edited answer through it (one pass); :meth:`Explanation.continue_with` puts another token at an
answer position, lets the model continue greedily from there, then explains that answer. A
loaded explanation has no source: pass ``model`` and ``processor`` and the prompt it recorded is
laid out again. The source is never saved.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from . import params

if TYPE_CHECKING:
    from .explanation import Explanation


@dataclass
class Source:
    """How an explanation was made, enough to make another from the same inputs (never saved)."""

    model_ref: weakref.ReferenceType[Any]
    processor: Any
    inputs: Mapping[str, Any]
    images: Any
    media: Any
    prompt: str | None
    prompt_positions: Sequence[int] | None
    options: dict[str, Any] = field(default_factory=dict)  # method, tokens, options, layers, top_k, ...

    @property
    def model(self) -> Any:
        """The model, or a RuntimeError when it was deleted since."""
        model = self.model_ref()
        if model is None:
            raise RuntimeError(
                "The model this explanation came from was deleted: pass model= and processor= to explain again."
            )
        return model

    def explain(self, answer: str | Sequence[int], **overrides: Any) -> Explanation:
        """The same image, prompt and options, with ``answer`` teacher-forced."""
        from . import explain_inputs  # the public surface (the explainer imports this module)

        opts = {**self.options, **overrides}
        return explain_inputs(
            self.model,
            self.processor,
            self.inputs,
            images=self.images,
            media=self.media,
            prompt=self.prompt,
            prompt_positions=None if self.prompt is not None else self.prompt_positions,
            answer=answer,
            **opts,
        )

    def generate_after(self, prefix: Sequence[int], max_new_tokens: int) -> list[int]:
        """Greedy tokens after the prompt and the answer ``prefix`` (the first stop token kept, as an
        answer token, the way :func:`~tam_widget.explain` keeps it)."""
        from .families import family_for
        from .runtime.capture import lm_head
        from .runtime.passes import check_context, eval_mode, model_lock, stop_ids, to_device

        model = self.model
        weight: torch.Tensor = lm_head(model).weight  # type: ignore[assignment]
        inputs = to_device(dict(self.inputs), weight.device, weight.dtype)
        ids = inputs["input_ids"]
        full = torch.cat([ids, torch.tensor([list(prefix)], dtype=ids.dtype, device=ids.device)], dim=1)
        check_context(model, full.shape[1] + max_new_tokens, "the prompt, the prefix and max_new_tokens", "lower it")
        forward = family_for(model).extend_inputs(inputs, len(prefix))
        forward.update(input_ids=full, attention_mask=torch.ones_like(full))
        with model_lock(model), eval_mode(model), torch.inference_mode():
            out = model.generate(**forward, max_new_tokens=max_new_tokens, do_sample=False)
        seq = out.sequences if hasattr(out, "sequences") else out
        new = [int(t) for t in seq[0, full.shape[1] :].tolist()]
        stop = stop_ids(model, {})
        cut = next((i for i, t in enumerate(new) if t in stop), None)
        return new if cut is None else new[: cut + 1]


def source_of(exp: Explanation, model: Any, processor: Any) -> Source:
    """``exp``'s own source, or one rebuilt from ``model``/``processor`` and what ``exp`` recorded."""
    if model is None and processor is None:
        if exp.source is None:
            raise ValueError(
                "This explanation does not know its model (it was loaded from a file, or made by hand): pass "
                "model= and processor= (the ones it was explained with)."
            )
        return exp.source  # type: ignore[no-any-return]
    if model is None or processor is None:
        raise ValueError("Pass both model= and processor=, or neither (to use the ones this explanation came from).")
    from . import model_inputs
    from .runtime.media import as_media

    prompt = str(exp.meta.get("prompt") or "")
    if not prompt:
        raise ValueError(
            "This explanation did not record its prompt (it was explained from your own inputs): call "
            "tam_widget.explain_inputs again with answer=."
        )
    images = exp.images[0] if len(exp.images) == 1 and exp.images[0].ndim == 4 else list(exp.images)
    inputs = model_inputs(model, processor, images, prompt)
    arrays, media = as_media(images)
    options = {"method": list(exp.results), "top_k": int(exp.top_ids.shape[1]) if exp.top_ids.ndim == 2 else 3}
    return Source(weakref.ref(model), processor, inputs, arrays, media, prompt, None, options)


def continue_prefix(exp: Explanation, item: int, token: int | str) -> list[int]:
    """The answer's ids before answer item ``item``, then ``token`` (an id, or a text as :meth:`class_map` reads it)."""
    from .classes import resolve

    item = params.item("item", item, len(exp.item_positions))
    if item < exp.n_prompt:
        raise ValueError(f"item {item} is a prompt token; continue_with takes an answer item (from {exp.n_prompt}).")
    tid = resolve(exp, item, token)
    answer = exp.token_ids[exp.answer_start :]
    return [*answer[: item - exp.n_prompt], tid]
