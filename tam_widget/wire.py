"""What crosses to the browser: one binary buffer of every map's inputs, small JSON metadata, images as PNG.

The browser recomputes every view from ``A``, ``E``, ``s`` and ``R`` (ECI scale, toggles,
normalisation, filter), so nothing large is ever sent back. Layout of the buffer (little-endian,
each array at a 4-byte aligned ``offset``, described in ``meta["arrays"]``):

- ``A``: float32 ``(T, n_v)`` raw maps; ``omega``: float32 ``(T, T)`` ECI weights, from which the
  browser forms an item's interference map ``E_v = omega_v @ A`` when it needs it (sending ``E``
  itself would double the buffer: ``T x T`` is much smaller than ``T x n_v``)
- ``scale``: float32 ``(T,)`` least-squares scale, NaN where the item has no context
- ``R``: float32 ``(T, T)`` text relevance; ``n_visible``: int32 ``(T,)``
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from .explanation import Explanation

WIRE_VERSION = 2


def encode(exp: Explanation) -> tuple[bytes, dict[str, Any], list[bytes]]:
    """``(data, meta, images)``: the buffer, its JSON metadata and one PNG per image or video frame."""
    r = exp.result.to("cpu")
    parts = {
        "A": r.A.float().numpy(),
        "omega": r.omega.float().numpy(),
        "scale": r.scale.float().numpy(),
        "R": r.R.float().numpy(),
        "n_visible": r.n_visible.numpy().astype(np.int32),
    }
    arrays, chunks, offset = {}, [], 0
    for name, arr in parts.items():
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        arrays[name] = {"dtype": str(arr.dtype), "offset": offset, "shape": list(arr.shape)}
        chunks.append(raw)
        offset += len(raw)  # float32 / int32 sizes keep every offset 4-byte aligned
    images: list[bytes] = []
    image_meta: list[dict[str, int]] = []
    for img in exp.images:
        frames = img if img.ndim == 4 else img[None]
        image_meta.append(
            {
                "first": len(images),
                "frames": int(frames.shape[0]),
                "height": int(frames.shape[1]),
                "width": int(frames.shape[2]),
            }
        )
        images.extend(_png(f) for f in frames)
    meta = {
        "version": WIRE_VERSION,
        "arrays": arrays,
        "n_prompt": exp.n_prompt,
        "n_answer": exp.n_answer,
        "kernel": r.kernel,
        "frames": [{"offset": f.offset, "height": f.height, "width": f.width} for f in r.layout.frames],
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
