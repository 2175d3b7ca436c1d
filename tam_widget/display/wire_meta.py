"""The JSON metadata that crosses beside the wire buffer (:mod:`.wire`): what every method shares.

:func:`shared_meta` holds the items, views, frames, top candidates, the chosen tokens, the pictures'
metadata, the answer text and ``signal`` (each item's visual-signal strength and the noise floor,
:mod:`.signal`); :func:`diagnosis_meta` describes a hallucination diagnosis and :func:`compare_meta`
a comparison's alignment. Numbers that may be non-finite cross through :func:`wire_number`: strict
JSON, as ``JSON.parse`` refuses ``NaN``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.layout import VisionLayout
from .signal import NOISE_FLOOR, strength

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

WireNumber = float | str  # a finite float, or "NaN" / "Infinity" / "-Infinity"


def shared_meta(exp: Explanation, image_meta: Any) -> dict[str, Any]:
    """The metadata every method shares (``image_meta``: :func:`.images.encoded_images`'), from ``n_prompt`` to
    ``signal``; :func:`.wire.encode_streamed` puts the version and the methods first."""
    return {
        "n_prompt": exp.n_prompt,
        "n_answer": exp.n_answer,
        "frames": _frames(exp),
        "views": _views(exp),
        "items": _items(exp),
        "top": _top(exp),
        "chosen": _chosen(exp),
        "images": image_meta,
        "text": exp.text,
        "model": str(exp.meta.get("model", "")),
        "family": str(exp.meta.get("family", "")),
        "signal": _signal(exp),
    }


def _top(exp: Explanation) -> list[list[dict[str, Any]]]:
    """Per answer step, the top candidates: text, probability (:func:`wire_number`) and token id."""
    return [
        [{"text": t, "p": wire_number(p), "id": int(i)} for t, p, i in zip(texts, probs, ids, strict=True)]
        for texts, probs, ids in zip(
            exp.top_texts,
            np.asarray(exp.top_probs, dtype=np.float64).tolist(),
            np.asarray(exp.top_ids).tolist(),
            strict=True,
        )
    ]


def wire_number(x: float) -> WireNumber:
    """``x`` as strict JSON: the float when finite, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def diagnosis_meta(d: Diagnosis, exp: Explanation) -> dict[str, Any]:
    """What the page shows of a hallucination diagnosis: ``item`` (the wrong word's item), ``wrong``,
    ``correct``, ``r`` (the share of the image removed), ``k`` (the prefix kept, ``None``: nothing
    corrects it), ``n_regions``, ``revised`` (the answer on the corrected image), ``removed`` (n_v,): the
    share of each vision cell's pixels the cut removes, and ``score_curve``: the correct word's
    probability (``p``) against the share of the image removed (``removed``, rising; the last point is
    the black image) and whether that prefix's answer says the correct word (``says``)."""
    from ..core.eagle_maps import grid_means
    from ..diagnosis.chart import curve

    views = [v for v in exp.views if v.image == 0]
    removed = grid_means(d.removed.astype(np.float64), [v.grid for v in views], [v.box for v in views])
    x, p, says = curve(d)
    return {
        "item": exp.item_positions.index(exp.answer_start + d.position),
        "wrong": d.wrong,
        "correct": d.correct,
        "r": wire_number(d.r),
        "k": d.k,
        "n_regions": int(d.eagle.n_regions),
        "revised": d.revised_answer,
        "removed": _rounded(np.asarray(removed, dtype=np.float32)),
        "score_curve": {
            "removed": _rounded(x),
            "p": [wire_number(v) for v in p],
            "says": [bool(v) for v in says],
        },
    }


def _signal(exp: Explanation) -> dict[str, Any] | None:
    """Each item's visual-signal strength in [0, 1] and the noise floor (:mod:`.signal`); ``None`` without TAM."""
    s = strength(exp)
    if s is None:
        return None
    return {"strength": _rounded(s), "floor": NOISE_FLOOR}


def _rounded(values: Iterable[Any]) -> list[float]:
    """Each value as a float rounded to 6 decimals (shares and strengths: the JSON stays short)."""
    return [round(float(v), 6) for v in values]


def _chosen(exp: Explanation) -> list[dict[str, Any]]:
    """Per answer step: the chosen token's id, its rank among the top candidates (-1: not among them)
    and its probability (``None`` when the explanation did not record it)."""
    probs = None if exp.chosen_probs is None else np.asarray(exp.chosen_probs, dtype=np.float64).reshape(-1)
    out = []
    for r in range(exp.n_answer):
        token = exp.token_ids[exp.answer_start + r]
        ids = np.asarray(exp.top_ids[r]).reshape(-1) if r < len(exp.top_ids) else np.empty(0)
        hits = np.flatnonzero(ids == token)
        p = wire_number(probs[r]) if probs is not None and r < len(probs) else None
        out.append({"rank": int(hits[0]) if len(hits) else -1, "p": p, "id": int(token)})
    return out


def _frames(exp: Explanation) -> list[dict[str, int]]:
    """Each image or video frame of the vision layout: its slice of the ``n_v`` cells and its grid."""
    layout = VisionLayout.from_grids([p for v in exp.views for p in v.positions], [v.grid for v in exp.views])
    return [{"offset": f.offset, "height": f.height, "width": f.width} for f in layout.frames]


def _items(exp: Explanation) -> list[dict[str, Any]]:
    """Each item's text, token id and place; ``gap``: the prompt skipped tokens (spaces) before it, shown as a
    space; ``special``: a special token (an answer's end of turn, ``<|im_end|>``); ``whitespace``: its text
    is only whitespace (``"\\n"``), which the view marks visibly."""
    out, prev = [], None
    for i, p in enumerate(exp.item_positions):
        text = exp.tokens[p]
        prompt = i < exp.n_prompt
        gap = prompt and prev is not None and p > prev + 1 and not text[:1].isspace()
        out.append(
            {
                "text": text,
                "id": int(exp.token_ids[p]),
                "position": p,
                "word": exp.words[p],
                "prompt": prompt,
                "gap": gap,
                "special": bool(exp.special[p]),
                "whitespace": text.isspace(),
            }
        )
        prev = p
    return out


def _views(exp: Explanation) -> list[dict[str, Any]]:
    out, offset, frame = [], 0, 0
    for v in exp.views:
        t = v.grid[0] if len(v.grid) == 3 else 1
        out.append(
            {
                "image": v.image,
                "kind": v.kind,
                "grid": list(v.grid),
                "box": list(v.box),
                "offset": offset,
                "frames": list(range(frame, frame + t)),
            }
        )
        offset += len(v.positions)
        frame += t
    return out


def compare_meta(comparison: Comparison) -> dict[str, Any]:
    """The alignment as the page reads it (``_compare``)."""
    c = comparison
    return {
        "rows": [[-1 if r.a is None else r.a, -1 if r.b is None else r.b] for r in c.rows],
        "changed": c.changed(),
        "labels": list(c.labels),
        "same_grids": [v.grid for v in c.a.views] == [v.grid for v in c.b.views],
    }
