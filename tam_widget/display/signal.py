"""How much each item looked at the image, and the noise floor below which its map says nothing.

An item's *visual signal* is the peak of its raw TAM map ``A`` (the activation before ECI, the filter
and normalisation: what the normalised map hides, since every map is stretched to [0, 1]).
:func:`strength` divides it by the largest peak among the answer's items, so the answer's
strongest token has strength 1. An item is **below the noise floor** ("no visual signal") when its
strength is under :data:`NOISE_FLOOR` (1 %): its normalised map would only stretch noise (or
zeros) to the full colour range. The widget also calls a shown map flat when its normalised values
have no spread (max - min < 1e-6, e.g. all zero). The first view opens on the strongest answer
token (:func:`tam_widget.display.widget.first_item`); the page shows the strengths as a strip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..explanation import Explanation

NOISE_FLOOR = 0.01  # strength (raw peak / the answer's largest raw peak) below which a map is "no visual signal"


def raw_peaks(exp: Explanation) -> np.ndarray | None:
    """``(T,)`` float64: each item's raw map peak (``A.max`` over the vision cells, non-finite values as 0);
    ``None`` without a TAM result."""
    if "tam" not in exp.results:
        return None
    A: np.ndarray = exp.results["tam"].A.detach().float().cpu().numpy()
    if A.size == 0:
        return np.zeros(A.shape[0])
    peaks: np.ndarray = np.nan_to_num(A, nan=0.0, posinf=0.0, neginf=0.0).max(axis=1).clip(min=0.0)
    return peaks.astype(np.float64)


def strength(exp: Explanation) -> np.ndarray | None:
    """``(T,)`` in [0, 1]: each item's raw peak over the largest raw peak of the answer's items (of all
    items when there is no answer); all 0 when that largest peak is 0. ``None`` without a TAM result."""
    peaks = raw_peaks(exp)
    if peaks is None:
        return None
    answer = peaks[exp.n_prompt :] if exp.n_answer else peaks
    top = float(answer.max()) if answer.size else 0.0
    return np.clip(peaks / top, 0.0, 1.0) if top > 0 else np.zeros_like(peaks)
