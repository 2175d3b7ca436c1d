"""The pure part of a hallucination diagnosis (spec ``eagle.md`` §6 steps 3-5): which prefix of
EAGLE's order corrects the answer, how much of the image that removes, and the scores over many
samples. numpy only; nothing here runs a model.

- :func:`says` checks a revised answer: does it say the correct word where the wrong one was?
- :func:`minimal_correction` walks from the full image (prefix ``k = N``) down, removing regions
  from the tail of the order, to the first prefix whose revised answer is correct:
  ``r = 1 − region_area[k − 1]``, 0 when the full image is already correct, 1 when nothing fixes it.
- :func:`removed_mask` is the part of the image that cut removes.
- :func:`amcr` and :func:`csr_at` are the reference's AMCR and CSR@10% (with its CSR quirk).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import params


def says(text: str, word: str) -> bool:
    """Whether ``text`` (a revised answer from the wrong word's position on) starts with ``word``.

    Both stripped; case-sensitive, as the reference's check (its first 3 characters equal "Yes",
    its first 2 "No"). One difference: a word must end there (``"No,"`` says "No", ``"Nothing"``
    does not), where the reference's first-characters check would count ``"Nothing"`` as "No"."""
    t, w = text.lstrip(), word.strip()
    if not w or not t.startswith(w):
        return False
    return len(t) == len(w) or not (t[len(w)].isalnum() and w[-1].isalnum())


def minimal_correction(
    region_area: Sequence[float] | np.ndarray, corrected: Sequence[bool] | np.ndarray
) -> tuple[int | None, float]:
    """``(k, r)``: the longest prefix of the order whose revised answer is correct, and the area removed.

    ``region_area[k − 1]``: the cumulative share of the image in the first ``k`` regions (EAGLE's
    ``region_area``, the last 1). ``corrected[k − 1]``: whether the answer on the image showing
    only those regions says the correct word. From the full image (``k = N``) regions are removed
    from the tail one at a time; the first correct prefix is the cut: ``r = 1 − region_area[k − 1]``
    (0 when the full image is already correct). ``(None, 1.0)`` when no prefix corrects it."""
    area = np.asarray(region_area, dtype=np.float64)
    ok = np.asarray(corrected, dtype=bool)
    if area.ndim != 1 or ok.shape != area.shape or not len(area):
        raise ValueError(
            f"region_area and corrected must be 1-D of the same length N >= 1 (one per prefix of the order), got "
            f"shapes {area.shape} and {ok.shape}."
        )
    for k in range(len(area), 0, -1):
        if ok[k - 1]:
            return k, min(1.0, max(0.0, 1.0 - float(area[k - 1])))
    return None, 1.0


def removed_mask(order: np.ndarray, regions: np.ndarray, k: int | None) -> np.ndarray:
    """``regions``' shape, bool: the regions after the first ``k`` of ``order`` (the tail a cut at ``k``
    removes); all of them for ``k = None`` (nothing corrected it), none for ``k = N``."""
    kept = np.asarray(order)[: 0 if k is None else k]
    return np.asarray(~np.isin(regions, kept))


def _rs(diagnoses: Iterable[Any]) -> np.ndarray:
    """Each sample's removed fraction ``r``: from a :class:`~.result.Diagnosis` (``.r``) or a plain number."""
    items = list(diagnoses)
    if not items:
        raise ValueError("diagnoses is empty: pass the Diagnosis of every sample (or their r values).")
    rs = [getattr(d, "r", d) for d in items]
    for i, r in enumerate(rs):
        params.number(f"diagnoses[{i}] (its removed fraction r)", r, 0.0, 1.0)
    return np.asarray(rs, dtype=np.float64)


def amcr(diagnoses: Iterable[Any]) -> float:
    """Average minimal correction region: the mean of ``r`` over the samples (a never-corrected one
    counts as 1). ``diagnoses``: :class:`~.result.Diagnosis` objects, or their ``r`` values."""
    return float(_rs(diagnoses).mean())


def csr_at(diagnoses: Iterable[Any], budget: float = 0.10, *, reference_quirk: bool = True) -> float:
    """Correction success rate: the share of samples corrected by removing at most ``budget`` of the image.

    With ``reference_quirk`` (the reference's CSR@10%) the denominator counts only the samples some
    prefix corrected (``r < 1``): never-corrected ones are left out, while :func:`amcr` counts them
    as 1. ``reference_quirk=False`` divides by all samples. NaN when the denominator is 0."""
    budget = params.number("budget", budget, 0.0, 1.0, " It is a share of the image's area, e.g. 0.10.")
    quirk = params.flag("reference_quirk", reference_quirk)
    r = _rs(diagnoses)
    n = int((r < 1).sum()) if quirk else len(r)
    return float(((r <= budget) & (r < 1)).sum() / n) if n else math.nan  # never corrected is never a success
