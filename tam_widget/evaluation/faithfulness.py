"""Faithfulness of any map, as EAGLE's evaluation scores its baselines (spec ``eagle.md`` §7.1).

Pixels are ranked by the map (resized bilinearly to the image); at rates ``i / steps`` the
insertion image keeps the top ``floor(rate · H · W)`` pixels (black elsewhere) and the deletion
image blacks them out; both are scored by the same teacher-forced scorer of the explained tokens.
The insertion curve starts at the blank image's score, the deletion curve at the full image's
(rate 1 gives both for free); the AUCs are trapezoids over the rates, raw mean probabilities,
higher insertion and lower deletion being better. ``steps = 64``: 128 images per map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.eagle_maps import curve_auc, deletion_curve, insertion_curve

Scorer = Callable[[np.ndarray], np.ndarray]  # (B, H, W, 3) uint8 -> (B, T) probabilities


@dataclass(frozen=True)
class Faithfulness:
    """The curves of one map: ``rates`` ``(S,)``; ``insertion`` / ``deletion`` ``(S, T)`` per token."""

    rates: np.ndarray
    insertion: np.ndarray
    deletion: np.ndarray

    @property
    def insertion_auc(self) -> float:
        """Area under ``[0, rates] × [blank, insertion…]`` of the token mean."""
        blank = self.deletion[-1].mean()
        return float(curve_auc(*insertion_curve(self.rates, self.insertion.mean(axis=1), blank)))

    @property
    def deletion_auc(self) -> float:
        """Area under ``[1, 1 − rates] × [full, deletion…]`` of the token mean."""
        full = self.insertion[-1].mean()
        return float(curve_auc(*deletion_curve(self.rates, self.deletion.mean(axis=1), full)))


def pixel_order(heat: np.ndarray) -> np.ndarray:
    """Flat pixel indices from the highest map value down (stable: ties in raster order)."""
    return np.argsort(-np.asarray(heat, dtype=np.float64).reshape(-1), kind="stable")


def faithfulness(score: Scorer, image: np.ndarray, heat: np.ndarray, steps: int = 64, batch: int = 16) -> Faithfulness:
    """Insertion and deletion curves of ``heat`` (``(H, W)``, the image's size) on ``image`` ``(H, W, 3)``."""
    if heat.shape != image.shape[:2]:
        raise ValueError(f"heat must have the image's size {image.shape[:2]}, got {heat.shape}: resize it first.")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}.")
    order, n = pixel_order(heat), heat.size
    rates = np.arange(1, steps + 1) / steps
    rows: list[np.ndarray] = []
    for start in range(0, steps, max(1, batch // 2)):
        chunk = rates[start : start + max(1, batch // 2)]
        images = []
        for rate in chunk:
            keep = np.zeros(n, dtype=bool)
            keep[order[: int(np.floor(rate * n))]] = True
            keep = keep.reshape(heat.shape)[..., None]
            images += [image * keep, image * ~keep]
        rows.append(np.asarray(score(np.stack(images).astype(np.uint8)), dtype=np.float64))
    scores = np.concatenate(rows)
    return Faithfulness(rates, scores[0::2], scores[1::2])
