"""Explanations on disk: one ``.safetensors`` file, tensors plus a JSON header, never pickle.

Layout (format ``tam-widget/explanation/2``): the shared tensors (``token_ids``,
``vision_positions``, ``top_ids``, ``top_probs``, ``image_<i>``) and each method's own tensors
under ``<method>.<name>`` (the method's ``to_state``); the header holds the texts, views, metadata
and each method's small JSON. Files of format 1 (TAM only, before methods) are read too.
This module never imports :mod:`tam_widget.explanation`: :func:`read` returns the constructor's
arguments and ``Explanation.load`` builds the object.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .core.layout import VisionLayout
from .families.base import View
from .methods import METHODS, get_method

if TYPE_CHECKING:
    from .explanation import Explanation

FORMAT = "tam-widget/explanation/2"
FORMAT_V1 = "tam-widget/explanation/1"


def save(exp: Explanation, path: str | os.PathLike[str]) -> Path:
    """Write ``exp`` to ``path`` (one ``.safetensors`` file); returns the path."""
    layout = _layout(exp)
    tensors: dict[str, torch.Tensor] = {
        "vision_positions": layout.positions,
        "token_ids": torch.tensor(exp.token_ids, dtype=torch.int64),
        "top_ids": torch.as_tensor(exp.top_ids, dtype=torch.int64),
        "top_probs": torch.as_tensor(exp.top_probs, dtype=torch.float32),
    }
    if exp.chosen_probs is not None:
        tensors["chosen_probs"] = torch.as_tensor(exp.chosen_probs, dtype=torch.float32)
    for i, img in enumerate(exp.images):
        tensors[f"image_{i}"] = torch.from_numpy(np.ascontiguousarray(img))
    methods: dict[str, Any] = {}
    for name, result in exp.results.items():
        state, header = get_method(name).to_state(result)
        tensors.update({f"{name}.{k}": v for k, v in state.items()})
        methods[name] = header
    header = {
        "format": FORMAT,
        "method": exp.method,
        "methods": methods,
        "grids": layout.to_json(),
        "n_images": len(exp.images),
        **{k: getattr(exp, k) for k in ("tokens", "special", "words", "prompt_positions", "answer_start", "text")},
        "top_texts": exp.top_texts,
        "views": [{"image": v.image, "kind": v.kind, "grid": list(v.grid), "box": list(v.box)} for v in exp.views],
        "meta": exp.meta,
    }
    out = Path(path)
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        os.fspath(out),
        metadata={"tam_widget": json.dumps(header)},
    )
    return out


def read(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> dict[str, Any]:
    """The keyword arguments of ``Explanation(...)`` for the file at ``path``, results on ``device``."""
    with safe_open(os.fspath(path), framework="pt", device="cpu") as f:
        meta = f.metadata() or {}
        if "tam_widget" not in meta:
            raise ValueError(f"{os.fspath(path)!r} is not a tam-widget explanation (no 'tam_widget' header).")
        h = json.loads(meta["tam_widget"])
        t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
    if h.get("format") == FORMAT_V1:
        h, t = _upgrade_v1(h, t)
    elif h.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)!r} has format {h.get('format')!r}; this version reads {FORMAT!r}.")
    layout = VisionLayout.from_grids(t["vision_positions"], h["grids"])
    unknown = sorted(set(h["methods"]) - set(METHODS))
    if unknown:
        raise ValueError(
            f"{os.fspath(path)!r} holds results of {unknown}, which this version of tam-widget does not know "
            f"(it knows {sorted(METHODS)}): upgrade tam-widget to read it."
        )
    results = {}
    for name, header in h["methods"].items():
        own = {k.split(".", 1)[1]: v for k, v in t.items() if k.startswith(f"{name}.")}
        results[name] = get_method(name).from_state(own, header, layout).to(device)
    return {
        "results": results,
        "method": h["method"],
        "token_ids": t["token_ids"].tolist(),
        **{k: h[k] for k in ("tokens", "special", "words", "prompt_positions", "answer_start", "text", "top_texts")},
        "images": [t[f"image_{i}"].numpy() for i in range(h["n_images"])],
        "views": _views(h["views"], t["vision_positions"].tolist()),
        "top_ids": t["top_ids"].numpy(),
        "top_probs": t["top_probs"].numpy(),
        "chosen_probs": t["chosen_probs"].numpy() if "chosen_probs" in t else None,
        "meta": h["meta"],
    }


def _layout(exp: Explanation) -> VisionLayout:
    positions = [p for v in exp.views for p in v.positions]
    return VisionLayout.from_grids(positions, [v.grid for v in exp.views])


def _views(saved: list[dict[str, Any]], positions: list[int]) -> list[View]:
    views, at = [], 0
    for v in saved:
        n = int(np.prod(v["grid"]))
        views.append(
            View(
                image=v["image"],
                kind=v["kind"],
                grid=tuple(v["grid"]),
                positions=tuple(positions[at : at + n]),
                box=tuple(v["box"]),
            )
        )
        at += n
    return views


def _upgrade_v1(h: dict[str, Any], t: dict[str, torch.Tensor]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """A format-1 file (TAM's tensors at the top level) as format 2."""
    tam = {"n_prompt": h["n_prompt"], "n_answer": h["n_answer"], "kernel": h["kernel"]}
    renamed = {"item_token_ids": "tam.token_ids", "token_ids": "token_ids"}
    own = ("A", "E", "omega", "scale", "R", "n_visible", "classes")
    t = {renamed.get(k, f"tam.{k}" if k in own else k): v for k, v in t.items()}
    return {**h, "format": FORMAT, "method": "tam", "methods": {"tam": tam}}, t
