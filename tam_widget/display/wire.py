"""What crosses to the browser: one binary buffer of every method's arrays, small JSON metadata,
pictures as PNG or JPEG (display/images.py: one per image or video grid step, at most the size the page
draws, encoded once).

The browser recomputes every view from the arrays (for TAM: ECI scale, toggles, normalisation,
filter), so nothing large is ever sent back. Layout (version 4): ``meta["methods"]`` maps each
method's name to ``{"arrays": {name: {dtype, offset, shape}}, ...its small JSON}``; every array
is little-endian at a 4-byte aligned ``offset`` into the one buffer (an array whose size is not a
multiple of 4 bytes is followed by zero padding); ``meta["method"]`` names the method shown first.
What each method sends is its ``wire_arrays``: TAM's every decoder layer in one compact form
(:mod:`tam_widget.methods.tam_wire`: ``A`` uint16 per row with float32 ``A_lo`` / ``A_step``,
``omega``'s strict lower triangle, ``R``'s shown part; the browser forms ``E_v = omega_v @ A``
itself). The exported page carries the buffer deflated (:func:`.html.pack`); a notebook widget of a
large explanation leaves the big per-item arrays out and streams their rows on demand
(:func:`encode_streamed`, :mod:`.stream`; their specs say ``"streamed": true``). The rest of the
metadata (items, views, frames, candidates, images, and ``signal``: each item's visual-signal
strength and the noise floor, :mod:`.signal`) is the same for every method.

The metadata is strict JSON (``JSON.parse`` refuses ``NaN``): a non-finite probability crosses as
the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (``Number()`` of it in the browser), and
the page shows it as n/a. Non-finite values in the float arrays stay IEEE floats in the buffer
(TAM's ``scale`` is NaN where an item has no ECI context); a quantised row that held one crosses
with a NaN ``lo``; an item whose data hold one shows its map as n/a. Either way :func:`encode`
warns once (:class:`NonFiniteWarning`), naming the answer positions or items.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.layout import VisionLayout
from ..methods import get_method
from .images import encoded_images
from .signal import NOISE_FLOOR, strength
from .stream import Key, streamed

if TYPE_CHECKING:
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

WIRE_VERSION = 4

WireNumber = float | str  # a finite float, or "NaN" / "Infinity" / "-Infinity"


class NonFiniteWarning(RuntimeWarning):
    """An explanation holds NaN or infinite probabilities or map values: the page shows them as n/a.

    Usually a model run in float16 that overflowed; bfloat16 or float32 avoids it.
    """


def encode(exp: Explanation, diagnosis: Diagnosis | None = None) -> tuple[bytes, dict[str, Any], list[bytes]]:
    """``(data, meta, images)``: the buffer, its JSON metadata and one picture (PNG or JPEG) per image or
    video grid step (:func:`.images.encoded_images`).
    With ``diagnosis`` (a hallucination diagnosis of ``exp``), ``meta["diagnosis"]`` describes it
    (:func:`diagnosis_meta`)."""
    data, meta, images, _ = encode_streamed(exp, diagnosis, stream=False)
    return data, meta, images


def encode_streamed(
    exp: Explanation, diagnosis: Diagnosis | None = None, *, stream: bool | None = None
) -> tuple[bytes, dict[str, Any], list[bytes], dict[Key, np.ndarray]]:
    """:func:`encode` for a notebook: ``stream`` None streams the big arrays of a large explanation
    (:mod:`.stream`), True always, False never. The fourth item holds the arrays left out of the buffer,
    by (method, name): their specs say ``"streamed": true`` (offset 0), and the page asks for their rows."""
    methods: dict[str, Any] = {}
    arrays_by_method = {name: get_method(name).wire_arrays(r, exp) for name, r in exp.results.items()}
    plain = {name: arrays for name, (arrays, _) in arrays_by_method.items()}
    total = sum(a.nbytes for arrays in plain.values() for a in arrays.values())
    may: dict[str, frozenset[str]] = {name: getattr(get_method(name), "streamable", frozenset()) for name in plain}
    left_out = streamed(plain, total, stream, may)
    chunks: list[bytes] = []
    offset = 0
    for name, (arrays, extra) in arrays_by_method.items():
        specs: dict[str, Any] = {}
        for key, arr in arrays.items():
            specs[key] = {"dtype": str(arr.dtype), "offset": offset, "shape": list(arr.shape)}
            if (name, key) in left_out:
                specs[key] |= {"offset": 0, "streamed": True}
                continue
            raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            pad = -len(raw) % 4  # a uint16 array of odd length: the next array still starts 4-byte aligned
            chunks.append(raw + bytes(pad))
            offset += len(raw) + pad
        methods[name] = {"arrays": specs, **extra}
    images, image_meta = encoded_images(exp)
    top = [
        [{"text": t, "p": wire_number(p), "id": int(i)} for t, p, i in zip(texts, probs, ids, strict=True)]
        for texts, probs, ids in zip(
            exp.top_texts,
            np.asarray(exp.top_probs, dtype=np.float64).tolist(),
            np.asarray(exp.top_ids).tolist(),
            strict=True,
        )
    ]
    chosen = _chosen(exp)
    meta = {
        "version": WIRE_VERSION,
        "method": exp.method,
        "methods": methods,
        "n_prompt": exp.n_prompt,
        "n_answer": exp.n_answer,
        "frames": _frames(exp),
        "views": _views(exp),
        "items": _items(exp),
        "top": top,
        "chosen": chosen,
        "images": image_meta,
        "text": exp.text,
        "model": str(exp.meta.get("model", "")),
        "family": str(exp.meta.get("family", "")),
        "signal": _signal(exp),
    }
    if diagnosis is not None:
        meta["diagnosis"] = diagnosis_meta(diagnosis, exp)
    _warn_non_finite(exp, meta, plain)
    try:
        json.dumps(meta, allow_nan=False)
    except ValueError as e:  # a NaN somewhere else would leave the page blank: say so instead
        raise ValueError(f"The explanation's metadata holds a non-finite number the page cannot show: {e}") from None
    return b"".join(chunks), meta, images, {key: plain[key[0]][key[1]] for key in left_out}


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
        "removed": [round(float(v), 6) for v in np.asarray(removed, dtype=np.float32)],
        "score_curve": {
            "removed": [round(float(v), 6) for v in x],
            "p": [wire_number(v) for v in p],
            "says": [bool(v) for v in says],
        },
    }


def _signal(exp: Explanation) -> dict[str, Any] | None:
    """Each item's visual-signal strength in [0, 1] and the noise floor (:mod:`.signal`); ``None`` without TAM."""
    s = strength(exp)
    if s is None:
        return None
    return {"strength": [round(float(x), 6) for x in s], "floor": NOISE_FLOOR}


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


def _warn_non_finite(exp: Explanation, meta: dict[str, Any], arrays: dict[str, dict[str, np.ndarray]]) -> None:
    """One :class:`NonFiniteWarning` naming the answer positions with non-finite probabilities and the
    items with non-finite map data (rows of a method's per-item arrays; a 1-D per-item array may use
    NaN for "none", as TAM's ``scale`` does, so only its infinities count)."""
    parts = []
    steps = [
        r
        for r in range(exp.n_answer)
        if any(isinstance(c["p"], str) for c in (meta["top"][r] if r < len(meta["top"]) else []))
        or isinstance(meta["chosen"][r]["p"], str)
    ]
    if steps:
        texts = [meta["items"][exp.n_prompt + r]["text"] for r in steps]
        parts.append(
            f"NaN or infinite probabilities at answer positions {_few(steps)} (0 is the first answer token; "
            f"tokens {_few(texts)}): the candidates show them as n/a"
        )
    for name, bad in _bad_rows(exp, meta, arrays).items():
        items = sorted({i for hit in bad.values() for i in hit})
        parts.append(
            f"NaN or infinite values in method {name!r}'s arrays {sorted(bad)} for items {_few(items)}: "
            "the page shows those maps as n/a"
        )
    if parts:
        warnings.warn(
            "tam-widget: " + "; ".join(parts) + ". A model run in float16 may have overflowed: try "
            "torch_dtype=torch.bfloat16 or torch.float32.",
            NonFiniteWarning,
            stacklevel=3,
        )


def _bad_rows(
    exp: Explanation, meta: dict[str, Any], arrays: dict[str, dict[str, np.ndarray]]
) -> dict[str, dict[str, list[int]]]:
    """Per method, the items whose data hold NaN or an infinity, per array: the method's own
    ``nonfinite_rows(result)`` where it has one (TAM: its wire arrays are quantised and packed), else
    the rows of its per-item float arrays (a 1-D one may use NaN for "none", so only infinities count)."""
    T = len(meta["items"])
    out = {}
    for name, named in arrays.items():
        own = getattr(get_method(name), "nonfinite_rows", None)
        bad: dict[str, list[int]] = own(exp.results[name]) if own is not None else _float_rows(named, T)
        if bad:
            out[name] = bad
    return out


def _float_rows(named: dict[str, np.ndarray], T: int) -> dict[str, list[int]]:
    """Per float array with a row per item, the rows holding NaN or an infinity (a 1-D one: an infinity)."""
    bad = {}
    for key, arr in named.items():
        if arr.dtype.kind != "f" or arr.ndim == 0 or arr.shape[0] != T:
            continue
        rows = ~np.isfinite(arr.reshape(T, -1)) if arr.ndim > 1 else np.isinf(arr.reshape(T, -1))
        hit = np.flatnonzero(rows.any(axis=1)).tolist()
        if hit:
            bad[key] = hit
    return bad


def _few(values: list[Any], n: int = 10) -> str:
    """``values`` as a list, the first ``n`` of them and how many more."""
    shown = ", ".join(repr(v) for v in values[:n])
    return f"[{shown}]" if len(values) <= n else f"[{shown}, ... {len(values) - n} more]"


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
