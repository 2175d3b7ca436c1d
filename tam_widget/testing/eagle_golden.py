"""Read the EAGLE golden cases (``shared/golden/eagle/*.json``) and rebuild their toy scorer.

Each case is one run of the reference search on a toy black-box "model" (the folder's README):
the image is all 100, a pixel is visible iff its channel sum is > 0, and token ``t`` scores
``lo + (hi − lo)·sigmoid(k·(f_t − 0.5))`` with ``f_t`` the visible share of its weight map,
computed in float32 as the reference's model outputs are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.eagle_result import EagleResult
from ..core.eagle_search import eagle_search

DEFAULT_EAGLE_GOLDEN_DIR = Path(__file__).resolve().parents[3] / "shared" / "golden" / "eagle"
INPUT_KEYS = ("labels", "weights", "k", "lo", "hi", "method", "efficient_params")


def eagle_golden_dir() -> Path:
    """``$EAGLE_GOLDEN_DIR``, else ``shared/golden/eagle`` beside the checkout."""
    env = os.environ.get("EAGLE_GOLDEN_DIR")
    return Path(env) if env else DEFAULT_EAGLE_GOLDEN_DIR


def toy_scorer(weights: np.ndarray, k: float, lo: float, hi: float) -> Callable[[np.ndarray], np.ndarray]:
    """The README's toy model: ``(B, H, W, 3)`` uint8 -> ``(B, T)`` float32 probabilities."""
    w = np.asarray(weights, dtype=np.float32)
    total = w.sum(axis=(1, 2))
    k32, lo32, span = np.float32(k), np.float32(lo), np.float32(hi) - np.float32(lo)

    def score(images: np.ndarray) -> np.ndarray:
        visible = (images.astype(np.int32).sum(axis=-1) > 0).astype(np.float32)
        f = np.einsum("bhw,thw->bt", visible, w) / total
        return np.asarray(lo32 + span / (np.float32(1) + np.exp(-k32 * (f - np.float32(0.5)))), dtype=np.float32)

    return score


@dataclass(frozen=True)
class EagleGoldenCase:
    """One golden file: the toy model and region labels, the search's settings, its outputs."""

    name: str
    labels: np.ndarray  # (H, W) int64 region labels
    weights: np.ndarray  # (T, H, W) the toy's per-token weight maps
    k: float
    lo: float
    hi: float
    method: str  # "full" or "efficient"
    params: dict[str, int]  # search_scope, pending_samples, update_step ({} for full)
    expected: dict[str, Any]  # every other key of the file, as stored

    def image(self) -> np.ndarray:
        """The ``(H, W, 3)`` uint8 image, every pixel 100."""
        return np.full((*self.labels.shape, 3), 100, dtype=np.uint8)

    def scorer(self) -> Callable[[np.ndarray], np.ndarray]:
        """The case's toy scorer (float32)."""
        return toy_scorer(self.weights, self.k, self.lo, self.hi)

    def search(self, batch_size: int = 32) -> EagleResult:
        """:func:`~tam_widget.core.eagle_search.eagle_search` with this case's settings, λ1 = λ2 = 1."""
        variant = "full" if self.method == "full" else "efficient"
        return eagle_search(
            self.image(), self.labels, self.scorer(), variant=variant, batch_size=batch_size, **self.params
        )


def load_eagle_golden(path: str | Path) -> EagleGoldenCase:
    """One golden ``.json`` file as an :class:`EagleGoldenCase`."""
    path = Path(path)
    data = json.loads(path.read_text())
    return EagleGoldenCase(
        name=path.stem,
        labels=np.asarray(data["labels"], dtype=np.int64),
        weights=np.asarray(data["weights"], dtype=np.float64),
        k=float(data["k"]),
        lo=float(data["lo"]),
        hi=float(data["hi"]),
        method=str(data["method"]),
        params={k: int(v) for k, v in (data.get("efficient_params") or {}).items()},
        expected={k: v for k, v in data.items() if k not in INPUT_KEYS},
    )
