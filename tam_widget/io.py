"""Explanations on disk: one ``.safetensors`` file, tensors plus a JSON header, never pickle.

Layout (format ``tam-widget/explanation/2``): the shared tensors (``token_ids``,
``vision_positions``, ``top_ids``, ``top_probs``, ``image_<i>``) and each method's own tensors
under ``<method>.<name>`` (the method's ``to_state``); the header holds the texts, views, metadata
and each method's small JSON. Files of format 1 (TAM only, before methods) are read too.

What can be derived exactly is not stored: TAM's interference maps ``E = omega @ A`` (``tam.E`` and each
earlier layer's ``tam.layer<i>.E``, as large as ``A``) are dropped on save and recomputed on load, on the
load device, by the same product the core computes them with (:func:`tam_widget.core.eci.interference`);
older files that hold ``E`` load too, their ``E`` recomputed as well (so Python's maps always use the
``omega @ A`` the page forms from the same arrays).
This module never imports :mod:`tam_widget.explanation`: :func:`read` returns the constructor's
arguments and ``Explanation.load`` builds the object.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from . import io_checks
from .core.eci import context_product
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
        tensors.update({f"{name}.{k}": v for k, v in state.items() if not _derived(name, k)})
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
    """The keyword arguments of ``Explanation(...)`` for the file at ``path``, results on ``device``.

    Everything is checked before anything is built: a missing file is a ``FileNotFoundError``;
    a file that is not a (complete) safetensors file, a missing or ill-typed header field or
    tensor, shapes that disagree with each other or with the header, or a method's state that
    its method refuses (TAM: :meth:`~tam_widget.methods.tam.TAM.check_state`) is one
    ``ValueError`` naming the file and the field.
    """
    device = _device(device)
    name = os.fspath(path)
    h, t = _open(name)
    try:
        checked = io_checks.check(h, t)
        layout = VisionLayout.from_grids(t["vision_positions"], h["grids"])
        results = {}
        for method, header in h["methods"].items():
            own = {k.split(".", 1)[1]: v for k, v in t.items() if k.startswith(f"{method}.")}
            results[method] = get_method(method).from_state(_derive(method, own, device), header, layout)
            io_checks.check_result(method, results[method], checked)
    except ValueError as e:
        raise ValueError(f"Cannot load {name!r}: {e}") from e
    return {
        "results": {k: v.to(device) for k, v in results.items()},
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


# a method's saved tensors that are exact functions of others: never written, recomputed on read
DERIVED = {"tam": re.compile(r"(layer\d+\.)?E")}


def _derived(method: str, key: str) -> bool:
    """Whether ``method``'s tensor ``key`` is derived (:data:`DERIVED`), so not saved."""
    pattern = DERIVED.get(method)
    return pattern is not None and pattern.fullmatch(key) is not None


def _derive(method: str, own: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """``own`` with its derived tensors (re)computed on ``device``: TAM's ``E = omega @ A`` for the last
    layer and each earlier one, after :func:`io_checks.check_eci` (a stored ``E`` of an older file is
    replaced). ``A`` and ``omega`` move to ``device`` too; the rest follows with the result."""
    if method != "tam":
        return own
    out = {k: v for k, v in own.items() if not _derived(method, k)}
    for prefix in sorted({m.group(1) or "" for k in own if (m := re.fullmatch(r"(layer\d+\.)?(A|omega|E)", k))}):
        io_checks.check_eci(own, prefix)
        A, omega = own[f"{prefix}A"].to(device), own[f"{prefix}omega"].to(device)
        E = context_product(omega, A)  # as core/eci.py forms it
        out |= {f"{prefix}A": A, f"{prefix}omega": omega, f"{prefix}E": E}
    return out


def _open(name: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The header (format 2) and the tensors of the file ``name``."""
    if not os.path.exists(name):
        raise FileNotFoundError(f"No explanation file at {name!r}.")
    if not os.path.isfile(name):
        raise ValueError(f"{name!r} is not a file; pass the path of a .safetensors file written by Explanation.save.")
    try:
        with safe_open(name, framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
    except SafetensorError as e:
        raise ValueError(
            f"{name!r} is not a readable .safetensors file ({e}): it may be truncated or not a file written by "
            "Explanation.save."
        ) from e
    if "tam_widget" not in meta:
        raise ValueError(f"{name!r} is not a tam-widget explanation (no 'tam_widget' header).")
    try:
        h = json.loads(meta["tam_widget"])
    except json.JSONDecodeError as e:
        raise ValueError(f"Cannot load {name!r}: its 'tam_widget' header is not JSON ({e}).") from e
    if not isinstance(h, dict):
        raise ValueError(f"Cannot load {name!r}: its 'tam_widget' header is a {type(h).__name__}, not a JSON object.")
    if h.get("format") == FORMAT_V1:
        try:
            h, t = _upgrade_v1(h, t)
        except ValueError as e:
            raise ValueError(f"Cannot load {name!r}: {e}") from e
    elif h.get("format") != FORMAT:
        raise ValueError(f"{name!r} has format {h.get('format')!r}; this version reads {FORMAT!r}.")
    unknown = sorted(set(h.get("methods") or {}) - set(METHODS)) if isinstance(h.get("methods"), dict) else []
    if unknown:
        raise ValueError(
            f"{name!r} holds results of {unknown}, which this version of tam-widget does not know "
            f"(it knows {sorted(METHODS)}): upgrade tam-widget to read it."
        )
    return h, t


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
    missing = [k for k in ("n_prompt", "n_answer", "kernel") if k not in h]
    if missing:
        raise ValueError(f"this format-1 file's header has no {missing} field(s).")
    tam = {"n_prompt": h["n_prompt"], "n_answer": h["n_answer"], "kernel": h["kernel"]}
    renamed = {"item_token_ids": "tam.token_ids", "token_ids": "token_ids"}
    own = ("A", "E", "omega", "scale", "R", "n_visible", "classes")
    t = {renamed.get(k, f"tam.{k}" if k in own else k): v for k, v in t.items()}
    return {**h, "format": FORMAT, "method": "tam", "methods": {"tam": tam}}, t


def _device(device: Any) -> torch.device:
    """``device`` as a torch device, or a ValueError naming it."""
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda:0', got {device!r}.") from err
