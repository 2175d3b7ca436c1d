"""What one pass captured -> the methods' :class:`~tam_widget.methods.Captured` and the final
:class:`~tam_widget.explanation.Explanation`: the parts of
:func:`~tam_widget.explainer.explain_inputs` after the pass (token texts, the captured record,
the black-box scorer, and the Explanation with its ``meta``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .core.layout import VisionLayout
from .explain_checks import one_image
from .explanation import Explanation
from .families import Family
from .families.base import View
from .methods import Captured
from .runtime.passes import Pass
from .runtime.prompt import decode1, special_ids, vision_token_ids
from .runtime.scoring import make_scorer
from .runtime.text import token_texts, word_ids
from .whatif import Source


def texts_of(model: Any, tokenizer: Any, seq_ids: list[int], L0: int) -> tuple[list[str], list[bool]]:
    """Each position's display text, and whether it is special (or a vision token)."""
    vision_ids = set(vision_token_ids(model.config))
    specials = special_ids(tokenizer)
    is_vision = [t in vision_ids and i < L0 for i, t in enumerate(seq_ids)]
    texts = token_texts(tokenizer, seq_ids, is_vision)
    special = [v or t in specials for v, t in zip(is_vision, seq_ids, strict=True)]
    return texts, special


def captured_from(
    run: Pass,
    weight: torch.Tensor,
    bias: Any,
    seq_ids: list[int],
    layout: VisionLayout,
    prompt_positions: Sequence[int],
    L0: int,
    images: Any,
    n_layers: int | None,
) -> Captured:
    """What the methods read from the pass ``run`` (the input is ``seq_ids[:L0]``)."""
    return Captured(
        hidden=run.hidden,
        lm_head=weight,
        lm_head_bias=bias if isinstance(bias, torch.Tensor) else None,
        token_ids=torch.tensor(seq_ids),
        layout=layout,
        prompt_positions=prompt_positions,
        answer_start=L0,
        images=images,
        # the answer's own tokens too: item P's class is the token before the answer (reference quirk)
        candidates=torch.cat([run.top_ids.reshape(-1), torch.tensor(seq_ids[L0:], dtype=torch.long)]),
        layer_hidden=run.layer_hidden,
        n_layers=n_layers,
    )


def scorer_for(
    model: Any,
    processor: Any,
    images: Any,
    inputs: Any,
    seq_ids: list[int],
    explained: Sequence[int],
    read_ids: list[int] | None,
    family: Family,
    method_options: dict[str, dict[str, Any]],
) -> Callable[[], Any]:
    """A builder of the black-box methods' shared scorer (called only when such a method runs)."""

    def scorer() -> Any:  # a black-box method's batch_size caps the forward batch too (else: from free memory)
        batch = min((o["batch_size"] for o in method_options.values() if "batch_size" in o), default=None)
        return make_scorer(
            model, processor, one_image(images), inputs, seq_ids, explained, read_ids, family=family, batch_size=batch
        )

    return scorer


def meta_of(
    model: Any,
    family: Family,
    weight: torch.Tensor,
    run: Pass,
    prompt: str | None,
    reference_quirks: bool,
    seconds: dict[str, float],
    extra: Sequence[int],
    n_layers: int | None,
) -> dict[str, Any]:
    """The Explanation's ``meta``: the model, the pass, its timings and the layers read."""
    return {
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
    }


def explanation_from(
    source: Source,
    results: dict[str, Any],
    method: str,
    run: Pass,
    seq_ids: list[int],
    texts: list[str],
    special: list[bool],
    prompt_positions: list[int],
    L0: int,
    images: Any,
    views: list[View],
    tokenizer: Any,
    meta: dict[str, Any],
) -> Explanation:
    """The Explanation of one pass: its tokens, the top candidates, the methods' results and ``meta``."""
    return Explanation(
        source=source,
        results=results,
        method=method,
        token_ids=seq_ids,
        tokens=texts,
        special=special,
        words=word_ids(texts, special),
        prompt_positions=prompt_positions,
        answer_start=L0,
        images=images,
        views=views,
        top_ids=run.top_ids.numpy(),
        top_probs=run.top_probs.numpy(),
        top_texts=[[decode1(tokenizer, int(i)) for i in row] for row in run.top_ids],
        chosen_probs=run.chosen_probs.numpy(),
        text=str(tokenizer.decode(seq_ids[L0:], skip_special_tokens=True)),
        meta=meta,
    )
