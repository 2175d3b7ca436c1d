"""What crosses to the browser: one binary buffer of every method's arrays, small JSON metadata,
images as PNG.

The browser recomputes every view from the arrays (for TAM: ECI scale, toggles, normalisation,
filter), so nothing large is ever sent back. Layout (version 3): ``meta["methods"]`` maps each
method's name to ``{"arrays": {name: {dtype, offset, shape}}, ...its small JSON}``; every array
is little-endian at a 4-byte aligned ``offset`` into the one buffer; ``meta["method"]`` names the
method shown first. What each method sends is its ``wire_arrays`` (TAM: ``A`` (T, n_v), ``omega``
and ``R`` (T, T), ``scale`` (T,) float32, ``n_visible`` (T,) int32; the browser forms
``E_v = omega_v @ A`` itself). The rest of the metadata (items, views, frames, candidates,
images) is the same for every method.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ..core.layout import VisionLayout
from ..methods import get_method

if TYPE_CHECKING:
    from ..explanation import Explanation

WIRE_VERSION = 3


def encode(exp: Explanation) -> tuple[bytes, dict[str, Any], list[bytes]]:
    """``(data, meta, images)``: the buffer, its JSON metadata and one PNG per image or video frame."""
    chunks: list[bytes] = []
    methods: dict[str, Any] = {}
    offset = 0
    for name, result in exp.results.items():
        arrays, extra = get_method(name).wire_arrays(result)
        specs = {}
        for key, arr in arrays.items():
            raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            specs[key] = {"dtype": str(arr.dtype), "offset": offset, "shape": list(arr.shape)}
            chunks.append(raw)
            offset += len(raw)  # float32 / int32 sizes keep every offset 4-byte aligned
        methods[name] = {"arrays": specs, **extra}
    images, image_meta = _images(exp)
    meta = {
        "version": WIRE_VERSION,
        "method": exp.method,
        "methods": methods,
        "n_prompt": exp.n_prompt,
        "n_answer": exp.n_answer,
        "frames": _frames(exp),
        "views": _views(exp),
        "items": _items(exp),
        "top": [
            [{"text": t, "p": float(p)} for t, p in zip(texts, probs, strict=True)]
            for texts, probs in zip(exp.top_texts, exp.top_probs.tolist(), strict=True)
        ],
        "images": image_meta,
        "text": exp.text,
        "model": str(exp.meta.get("model", "")),
        "family": str(exp.meta.get("family", "")),
    }
    return b"".join(chunks), meta, images


def _images(exp: Explanation) -> tuple[list[bytes], list[dict[str, int]]]:
    images: list[bytes] = []
    image_meta: list[dict[str, int]] = []
    for img in exp.images:
        frames = img if img.ndim == 4 else img[None]
        first = len(images)
        images.extend(_png(f) for f in frames)
        shape = {"frames": int(frames.shape[0]), "height": int(frames.shape[1]), "width": int(frames.shape[2])}
        image_meta.append({"first": first, **shape})
    return images, image_meta


def _frames(exp: Explanation) -> list[dict[str, int]]:
    """Each image or video frame of the vision layout: its slice of the ``n_v`` cells and its grid."""
    layout = VisionLayout.from_grids([p for v in exp.views for p in v.positions], [v.grid for v in exp.views])
    return [{"offset": f.offset, "height": f.height, "width": f.width} for f in layout.frames]


def _items(exp: Explanation) -> list[dict[str, Any]]:
    """Each item's text and place; ``gap``: the prompt skipped tokens (spaces) before it, shown as a space."""
    out, prev = [], None
    for i, p in enumerate(exp.item_positions):
        text = exp.tokens[p]
        prompt = i < exp.n_prompt
        gap = prompt and prev is not None and p > prev + 1 and not text[:1].isspace()
        out.append({"text": text, "position": p, "word": exp.words[p], "prompt": prompt, "gap": gap})
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


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
