"""TAM's arrays on the wire (version 4): every decoder layer in one compact form, read back by
js/src/methods/tam-rows.ts.

One layer (the last: plain names; the earlier ones: ``layer_`` names, stacked over the ``L`` layers
of ``sorted(result.layers)`` with ``layer_R`` concatenated):

- ``A`` (T, n_v) uint16 with ``A_lo``, ``A_step`` (T,) float32: row ``v`` is ``lo + q * step``
  (:func:`quantise_rows`: error at most half a step, 1/131070 of the row's range); a row holding NaN
  or an infinity crosses as ``lo = step = NaN``, ``q = 0``;
- ``omega`` (T(T-1)/2,) float32: ``omega[v, k]`` for ``k < v``, row by row (the rest is 0);
- ``R`` (sum of n_visible,) float32: ``R[v, :n_visible[v]]``, row by row;
- ``scale`` (T,) float32 (NaN: no ECI context; infinite where ``omega``'s row is not finite),
  ``n_visible`` (T,) int32.

The last layer adds ``classes``, ``token_ids`` (T,) int32 and, with candidates,
``candidate_classes`` (U,) int32, ``candidate_A`` (U, n_v) uint16 with ``candidate_A_lo`` /
``candidate_A_step`` (U,) float32 as ``A``, ``candidate_R`` (U, T) float32 and ``R_rest``
(T * T - sum of n_visible,) float32: ``R[v, n_visible[v]:]`` row by row (an item's own class's
activations at later items, which its class maps at those items read).
"""

from __future__ import annotations

import numpy as np

from ..core.result import TAMResult

A_LEVELS = 65535


def tam_arrays(r: TAMResult) -> dict[str, np.ndarray]:
    """Every array the page gets of ``r`` (on the CPU): its layer's, its classes, candidates and earlier layers."""
    arrays = layer_wire(r) | {
        "classes": r.classes.numpy().astype(np.int32),
        "token_ids": r.token_ids.numpy().astype(np.int32),
    }
    if r.candidates is not None:
        q, lo, step = quantise_rows(r.candidates.A.float().numpy())
        arrays |= {
            "candidate_classes": r.candidates.classes.numpy().astype(np.int32),
            "candidate_A": q,
            "candidate_A_lo": lo,
            "candidate_A_step": step,
            "candidate_R": r.candidates.R.float().numpy(),
            "R_rest": _ragged(r.R.float().numpy(), r.n_visible.numpy(), rest=True),
        }
    return arrays | (layer_arrays(r) if r.layers else {})


def layer_arrays(result: TAMResult) -> dict[str, np.ndarray]:
    """The earlier layers' arrays, each :func:`layer_wire` stacked under ``layer_`` (``layer_R`` concatenated)."""
    parts = [layer_wire(result.layers[i].to("cpu")) for i in sorted(result.layers)]
    out = {f"layer_{k}": np.stack([p[k] for p in parts]) for k in parts[0] if k != "R"}
    return out | {"layer_R": np.concatenate([p["R"] for p in parts])}


def layer_wire(r: TAMResult) -> dict[str, np.ndarray]:
    """One layer's ``A``, ``A_lo``, ``A_step``, ``omega``, ``R``, ``scale`` and ``n_visible`` (module docstring)."""
    q, lo, step = quantise_rows(r.A.float().numpy())
    omega = r.omega.float().numpy()
    T = omega.shape[0]
    finite = np.isfinite(omega)
    if np.any(np.triu(np.where(finite, omega, 0))):  # ECI weighs earlier items only
        raise ValueError("TAM's omega has weights on an item itself or on later items; the wire sends k < v only.")
    scale = r.scale.float().numpy().copy()
    scale[~finite.all(axis=1)] = np.inf  # a row the packed triangle cannot show as not finite (item 0's)
    n_visible = r.n_visible.numpy().astype(np.int32)
    return {
        "A": q,
        "A_lo": lo,
        "A_step": step,
        "omega": omega[np.tril_indices(T, -1)],
        "R": _ragged(r.R.float().numpy(), n_visible),
        "scale": scale,
        "n_visible": n_visible,
    }


def _ragged(R: np.ndarray, n_visible: np.ndarray, rest: bool = False) -> np.ndarray:
    """Each row's shown part ``R[v, :n_visible[v]]`` (``rest``: the part after it), one after the other."""
    rows = [R[v, n:] if rest else R[v, :n] for v, n in enumerate(n_visible.tolist())]
    return np.concatenate([*rows, np.zeros(0, np.float32)]).astype(np.float32)


def quantise_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(q, lo, step)``: each row of ``A`` (T, n) as uint16 levels over its own range, ``A ~ lo + q * step``
    in float32 (how the browser reads it back, :func:`dequantise_rows`); a row with a NaN or an infinity
    gets ``lo = step = NaN`` and ``q = 0``."""
    A = np.asarray(A, dtype=np.float32)
    finite = np.isfinite(A).all(axis=1)
    clean = np.where(finite[:, None], A, 0)
    lo = clean.min(axis=1).astype(np.float32)
    step = ((clean.max(axis=1).astype(np.float64) - lo) / A_LEVELS).astype(np.float32)
    safe = np.where(step > 0, step, 1).astype(np.float32)
    q = np.rint((clean - lo[:, None]) / safe[:, None]).clip(0, A_LEVELS).astype(np.uint16)
    lo[~finite] = np.nan
    step[~finite] = np.nan
    return q, lo, step


def dequantise_rows(q: np.ndarray, lo: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The float32 rows the browser computes from :func:`quantise_rows`: ``lo + q * step``, each op in float32."""
    out: np.ndarray = lo[..., None] + q.astype(np.float32) * step[..., None]
    return out


def nonfinite_rows(r: TAMResult) -> dict[str, list[int]]:
    """The items whose data hold NaN or an infinity, per array (``A``, ``omega``, ``R``'s shown part;
    ``scale`` only its infinities: NaN there means no ECI context): those the page shows as n/a."""
    shown = np.arange(r.n_items)[None, :] < r.n_visible.cpu().numpy()[:, None]
    bad = {
        "A": ~np.isfinite(r.A.float().cpu().numpy()).all(axis=1),
        "omega": ~np.isfinite(r.omega.float().cpu().numpy()).all(axis=1),
        "R": (~np.isfinite(r.R.float().cpu().numpy()) & shown).any(axis=1),
        "scale": np.isinf(r.scale.float().cpu().numpy()),
    }
    return {k: np.flatnonzero(v).tolist() for k, v in bad.items() if v.any()}
