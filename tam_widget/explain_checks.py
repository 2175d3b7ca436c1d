"""``explain``'s own argument checks: the numeric options, ``answer``, the input ids, the explained
ids of the black-box methods, and the one image a black-box method masks.

The shared checks live in :mod:`tam_widget.arguments` and :mod:`tam_widget.params`; these are the
ones only :func:`~tam_widget.explainer.explain_inputs` needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from . import arguments, params
from .families import Family
from .runtime.prompt import vision_token_ids


def explained_ids(methods: Sequence[Any], options: dict[str, dict[str, Any]]) -> list[int] | None:
    """The ``explained_ids`` option of the black-box methods (popped from their options: it is the
    scorer's, not the method's), or ``None`` to read the answer's own tokens. make_scorer checks it."""
    black_box = [m.name for m in methods if getattr(m, "needs_scorer", False)]
    given = [options[name].pop("explained_ids") for name in black_box if "explained_ids" in options.get(name, {})]
    if not given:
        return None
    if any(g != given[0] for g in given[1:]):
        raise ValueError("The black-box methods' explained_ids differ: they share one scorer; give the same ids.")
    return given[0]  # type: ignore[no-any-return]


def numbers(max_new_tokens: Any, top_k: Any, kernel: Any, reference_quirks: Any) -> tuple[int, int, int, bool]:
    """The numeric options, checked (:mod:`tam_widget.params`)."""
    return (
        params.max_new_tokens(max_new_tokens),
        params.top_k(top_k),
        params.kernel(kernel),
        params.flag("reference_quirks", reference_quirks),
    )


def answer_check(answer: Any, model: Any, family: Family, processor: Any) -> str | list[int] | None:
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


def one_image(images: Any) -> Any:
    """The one image (or video) a black-box method masks; ValueError for several."""
    if isinstance(images, (list, tuple)):
        if len(images) != 1:
            raise ValueError(f"EAGLE explains one image or one video; this prompt has {len(images)} images.")
        return images[0]
    return images


def input_ids(inputs: Mapping[str, Any]) -> torch.Tensor:
    """The one sequence's input ids, on the CPU; ValueError unless ``inputs`` hold a batch of one."""
    ids_2d = inputs.get("input_ids")
    if ids_2d is None or ids_2d.ndim != 2 or ids_2d.shape[0] != 1:
        raise ValueError("inputs must hold input_ids of shape (1, L0): tam_widget explains one sequence at a time.")
    ids: torch.Tensor = ids_2d[0].cpu()
    return ids
