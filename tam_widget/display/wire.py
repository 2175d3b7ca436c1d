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

# Imported "as" themselves: names this module held before non_finite.py and wire_meta.py, which
# display/__init__.py and the tests still import from here.
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from ..methods import get_method
from .images import encoded_images
from .non_finite import NonFiniteWarning as NonFiniteWarning
from .non_finite import warn_non_finite
from .stream import Key, streamed
from .wire_meta import WireNumber as WireNumber
from .wire_meta import diagnosis_meta as diagnosis_meta
from .wire_meta import shared_meta
from .wire_meta import wire_number as wire_number

if TYPE_CHECKING:
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

WIRE_VERSION = 4


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
    arrays_by_method = {name: get_method(name).wire_arrays(r, exp) for name, r in exp.results.items()}
    plain = {name: arrays for name, (arrays, _) in arrays_by_method.items()}
    total = sum(a.nbytes for arrays in plain.values() for a in arrays.values())
    may: dict[str, frozenset[str]] = {name: getattr(get_method(name), "streamable", frozenset()) for name in plain}
    left_out = streamed(plain, total, stream, may)
    data, methods = _buffer(arrays_by_method, left_out)
    images, image_meta = encoded_images(exp)
    meta = {"version": WIRE_VERSION, "method": exp.method, "methods": methods, **shared_meta(exp, image_meta)}
    if diagnosis is not None:
        meta["diagnosis"] = diagnosis_meta(diagnosis, exp)
    warn_non_finite(exp, meta, plain)
    try:
        json.dumps(meta, allow_nan=False)
    except ValueError as e:  # a NaN somewhere else would leave the page blank: say so instead
        raise ValueError(f"The explanation's metadata holds a non-finite number the page cannot show: {e}") from None
    return data, meta, images, {key: plain[key[0]][key[1]] for key in left_out}


def _buffer(
    arrays_by_method: dict[str, tuple[dict[str, np.ndarray], dict[str, Any]]], left_out: set[Key]
) -> tuple[bytes, dict[str, Any]]:
    """``(data, methods)``: every array not ``left_out`` little-endian in one buffer, each at a 4-byte aligned
    offset, and per method ``{"arrays": {name: {dtype, offset, shape}}, ...its small JSON}``."""
    methods: dict[str, Any] = {}
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
    return b"".join(chunks), methods
