"""Non-finite values in an explanation: one :class:`NonFiniteWarning` that names where they are.

A non-finite probability crosses as a string (:func:`.wire_meta.wire_number`) and the page shows it
as n/a; a float array's NaN or infinity stays an IEEE float in the buffer and the page shows that
item's map as n/a. :func:`warn_non_finite` says so once, naming the answer positions and the items.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..methods import get_method

if TYPE_CHECKING:
    from ..explanation import Explanation


class NonFiniteWarning(RuntimeWarning):
    """An explanation holds NaN or infinite probabilities or map values: the page shows them as n/a.

    Usually a model run in float16 that overflowed; bfloat16 or float32 avoids it.
    """


def warn_non_finite(exp: Explanation, meta: dict[str, Any], arrays: dict[str, dict[str, np.ndarray]]) -> None:
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
