"""What a saved explanation must satisfy before anything is built from it.

:func:`check` takes a file's JSON header and its tensors and verifies every shared field and
tensor: present, of its type, and consistent with the others (T = P + N, the grids' cells = the
vision positions, token lists of one length, candidates per answer step...). Each failure is a
``ValueError`` naming the field; :func:`tam_widget.io.read` adds the file's name. The methods
check their own parts (``TAM.check_state``); :func:`check_result` matches a method's result with
the shared fields; :func:`check_eci` checks what TAM's ``E`` (not stored) is recomputed from.
"""

from __future__ import annotations

import math
from typing import Any

import torch


def check(h: dict[str, Any], t: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Every shared field and tensor present, of its type, and consistent; returns what the results must match."""
    tokens = _list(h, "tokens", str)
    n_pos = len(tokens)
    _list(h, "special", bool, n_pos, "one per token")
    _list(h, "words", int, n_pos, "one per token")
    ids = _tensor(t, "token_ids", (n_pos,), (torch.int64,), f"one per token: len(tokens) = {n_pos}")
    start = _int(h, "answer_start", 1, n_pos, f" (the first answer position; the file has {n_pos} tokens)")
    n_answer = n_pos - start
    prompt = _list(h, "prompt_positions", int)
    bad = [p for p in prompt if not 0 <= p < start]
    if bad:
        raise ValueError(f"field 'prompt_positions' holds {bad[:8]}, outside [0, {start}) (before the answer).")
    if not prompt and not n_answer:
        raise ValueError("the file explains no items: 'prompt_positions' is empty and there are no answer tokens.")
    if not isinstance(h.get("text"), str):
        raise ValueError(f"field 'text' must be a string, got {type(h.get('text')).__name__}.")
    if not isinstance(h.get("meta"), dict):
        raise ValueError(f"field 'meta' must be a JSON object, got {type(h.get('meta')).__name__}.")
    methods = h.get("methods")
    if not isinstance(methods, dict) or not methods or not all(isinstance(v, dict) for v in methods.values()):
        raise ValueError("field 'methods' must map each method's name to its JSON object.")
    if h.get("method") not in methods:
        raise ValueError(f"field 'method' is {h.get('method')!r}, which has no result (methods: {sorted(methods)}).")

    vision = _tensor(t, "vision_positions", None, (torch.int64,), "one position per vision token")
    n_v = vision.numel()
    if vision.ndim != 1 or n_v == 0:
        raise ValueError(f"tensor 'vision_positions' must be (n_v,) with n_v >= 1, got {tuple(vision.shape)}.")
    if int(vision.min()) < 0 or int(vision.max()) >= start:
        raise ValueError(f"tensor 'vision_positions' must lie in [0, {start}) (the input, before the answer).")
    if torch.unique(vision).numel() != n_v:
        raise ValueError("tensor 'vision_positions' repeats a position; each vision token fills one grid cell.")
    clash = sorted(set(prompt) & set(vision.tolist()))
    if clash:
        raise ValueError(f"positions {clash[:8]} are both in 'prompt_positions' and 'vision_positions'.")
    grids = _grids(h, n_v)

    n_images = _int(h, "n_images", 1, None)
    images = sorted(k for k in t if k.startswith("image_"))
    if images != sorted(f"image_{i}" for i in range(n_images)):
        raise ValueError(f"field 'n_images' is {n_images} but the file holds the image tensors {images}.")
    for i in range(n_images):
        img = t[f"image_{i}"]
        if img.dtype != torch.uint8 or img.ndim not in (3, 4) or img.shape[-1] != 3 or 0 in img.shape:
            raise ValueError(
                f"tensor 'image_{i}' must be uint8 (H, W, 3) or (T, H, W, 3), got {img.dtype} {tuple(img.shape)}."
            )
    _views_match(h, grids, n_images)

    top = _tensor(t, "top_ids", None, (torch.int64,), "")
    if top.ndim != 2 or top.shape[0] != n_answer:
        raise ValueError(f"tensor 'top_ids' must be (N, k) with N = {n_answer} answer tokens, got {tuple(top.shape)}.")
    _tensor(t, "top_probs", tuple(top.shape), (torch.float32,), "the same (N, k) as 'top_ids'")
    k = int(top.shape[1])
    texts = h.get("top_texts")
    if (
        not isinstance(texts, list)
        or len(texts) != n_answer
        or not all(isinstance(r, list) and len(r) == k and all(isinstance(x, str) for x in r) for r in texts)
    ):
        raise ValueError(f"field 'top_texts' must be {n_answer} lists of {k} strings, one per entry of 'top_ids'.")
    if "chosen_probs" in t:
        _tensor(t, "chosen_probs", (n_answer,), (torch.float32,), "one per answer token")
    items = torch.tensor([*prompt, *range(start, n_pos)], dtype=torch.int64)
    return {"n_prompt": len(prompt), "n_answer": n_answer, "item_token_ids": ids[items]}


def check_result(method: str, result: Any, checked: dict[str, Any]) -> None:
    """A result that says how many items it explains, and which tokens, must agree with the shared fields."""
    n_prompt, n_answer = checked["n_prompt"], checked["n_answer"]
    said = (getattr(result, "n_prompt", n_prompt), getattr(result, "n_answer", n_answer))
    if said != (n_prompt, n_answer):
        raise ValueError(
            f"methods.{method} explains {said[0]} prompt + {said[1]} answer items, but the file has "
            f"{n_prompt} prompt positions and {n_answer} answer tokens."
        )
    ids = getattr(result, "token_ids", None)
    if isinstance(ids, torch.Tensor) and not torch.equal(ids.cpu().long(), checked["item_token_ids"]):
        raise ValueError(f"tensor '{method}.token_ids' differs from 'token_ids' at the explained items.")


def check_eci(tam: dict[str, torch.Tensor], prefix: str = "") -> None:
    """What ``E = omega @ A`` is formed from on load (``tam_widget.io``): TAM's tensors ``A`` (T, n_v) and
    ``omega`` (T, T) under ``prefix`` (``""``, or ``"layer<i>."`` for an earlier layer) present, of one float
    dtype, finite. The rest of TAM's state is its own :meth:`~tam_widget.methods.tam.TAM.check_state`'s."""
    layer = f"layer {prefix[5:-1]}: " if prefix else ""
    name = {k: f"tam.{prefix}{k}" for k in ("A", "omega")}
    missing = [name[k] for k in ("A", "omega") if f"{prefix}{k}" not in tam]
    if missing:
        raise ValueError(f"{layer}tensor(s) {missing} are missing.")
    A, omega = tam[f"{prefix}A"], tam[f"{prefix}omega"]
    if A.ndim != 2:
        raise ValueError(f"{layer}tensor {name['A']!r} has shape {tuple(A.shape)}; expected (T, n_v).")
    T = A.shape[0]
    if tuple(omega.shape) != (T, T):
        raise ValueError(
            f"{layer}tensor {name['omega']!r} has shape {tuple(omega.shape)}; expected {(T, T)} "
            f"(one row and column per row of {name['A']!r})."
        )
    if not A.is_floating_point() or omega.dtype != A.dtype:
        raise ValueError(
            f"{layer}tensors {name['A']!r} ({A.dtype}) and {name['omega']!r} ({omega.dtype}): A, omega, R and "
            "scale share one float dtype."
        )
    for key, x in (("A", A), ("omega", omega)):
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise ValueError(f"{layer}tensor {name[key]!r} holds {bad} NaN or infinite value(s).")


def _int(h: dict[str, Any], key: str, lo: int | None, hi: int | None, what: str = "") -> int:
    v = h.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"field {key!r} must be an integer, got {v!r}.")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"field {key!r} must be in [{lo}, {'...' if hi is None else hi}], got {v}{what}.")
    return v


def _list(h: dict[str, Any], key: str, kind: type, length: int | None = None, what: str = "") -> list[Any]:
    v = h.get(key)
    if not isinstance(v, list) or not all(isinstance(x, kind) and (kind is bool or not isinstance(x, bool)) for x in v):
        raise ValueError(f"field {key!r} must be a list of {kind.__name__}, got {_short(v)}.")
    if length is not None and len(v) != length:
        raise ValueError(f"field {key!r} has {len(v)} entries; it needs {length} ({what}).")
    return v


def _tensor(
    t: dict[str, torch.Tensor], key: str, shape: tuple[int, ...] | None, dtypes: tuple[torch.dtype, ...], what: str
) -> torch.Tensor:
    if key not in t:
        raise ValueError(f"tensor {key!r} is missing.")
    x = t[key]
    if x.dtype not in dtypes:
        raise ValueError(f"tensor {key!r} must be {' or '.join(map(str, dtypes))}, got {x.dtype}.")
    if shape is not None and tuple(x.shape) != shape:
        raise ValueError(f"tensor {key!r} has shape {tuple(x.shape)}; expected {shape} ({what}).")
    return x


def _grids(h: dict[str, Any], n_v: int) -> list[list[int]]:
    """The header's grids, checked to hold exactly ``n_v`` cells before any frame is built."""
    grids = h.get("grids")
    if (
        not isinstance(grids, list)
        or not grids
        or not all(
            isinstance(g, list)
            and len(g) in (2, 3)
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in g)
            for g in grids
        )
    ):
        raise ValueError(
            f"field 'grids' must be a non-empty list of [h, w] or [t, h, w] positive ints, got {_short(grids)}."
        )
    cells = sum(math.prod(g) for g in grids)
    if cells != n_v:
        raise ValueError(f"field 'grids' {_short(grids)} holds {cells} cells but there are {n_v} vision positions.")
    return grids


def _views_match(h: dict[str, Any], grids: list[list[int]], n_images: int) -> None:
    views = h.get("views")
    if not isinstance(views, list) or len(views) != len(grids):
        raise ValueError(f"field 'views' must be a list of {len(grids)} views, one per grid, got {_short(views)}.")
    for i, v in enumerate(views):
        ok = (
            isinstance(v, dict)
            and isinstance(v.get("image"), int)
            and not isinstance(v.get("image"), bool)
            and 0 <= v["image"] < n_images
            and isinstance(v.get("kind"), str)
            and v.get("grid") == grids[i]
            and isinstance(v.get("box"), list)
            and len(v["box"]) == 4
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v["box"])
        )
        if not ok:
            raise ValueError(
                f"field 'views'[{i}] must be {{image in [0, {n_images}), kind, grid = {grids[i]}, box of 4 numbers}}, "
                f"got {_short(v)}."
            )


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."
