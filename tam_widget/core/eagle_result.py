"""What an EAGLE search found, kept small: the label map, the order and the per-token curves.

Everything else (means, objective, attribution, reliance, AUCs) is derived on access from these,
so a result saved and loaded again is the same result. Floats are numpy float64, integers int64;
the arrays are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from . import eagle_maps as m


@dataclass(frozen=True, eq=False)  # arrays: compare fields yourself
class EagleResult:
    """One EAGLE explanation of ``T`` tokens over ``N`` regions (spec ``eagle.md`` §1.5).

    Row ``k`` of the curves is the prefix of the first ``k + 1`` regions of ``order``: the
    insertion image shows only them, the deletion image hides them. ``org_score`` and
    ``baseline_score`` are the full and all-black images' token probabilities.
    """

    order: np.ndarray  # (N,) int64 region labels, most important first
    insertion_tokens: np.ndarray  # (N, T) float64 (the reference's insertion_word_score)
    deletion_tokens: np.ndarray  # (N, T) float64 (deletion_word_score)
    region_area: np.ndarray  # (N,) float64 cumulative area share; the last is 1
    org_score: np.ndarray  # (T,) float64
    baseline_score: np.ndarray  # (T,) float64
    regions: np.ndarray  # (H, W) or (F, H, W) int64 labels 0 … N−1
    images_scored: int  # images handed to the scorer (= the reference's forward passes)
    variant: str  # "full" or "efficient"
    search_scope: int  # the efficient variant's settings (kept, unused, for "full")
    pending_samples: int
    update_step: int
    lambda1: float
    lambda2: float
    positions: tuple[int, ...] = ()  # the explained tokens' sequence positions, when explain ran it

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = value.copy()
                value.flags.writeable = False
                object.__setattr__(self, f.name, value)

    @property
    def n_regions(self) -> int:
        """``N``: the number of regions ranked."""
        return len(self.order)

    @property
    def n_tokens(self) -> int:
        """``T``: the number of explained tokens."""
        return len(self.org_score)

    @property
    def insertion(self) -> np.ndarray:
        """``(N,)`` token-mean insertion curve (``insertion_score``)."""
        return np.asarray(self.insertion_tokens.mean(axis=1))

    @property
    def deletion(self) -> np.ndarray:
        """``(N,)`` token-mean deletion curve (``deletion_score``)."""
        return np.asarray(self.deletion_tokens.mean(axis=1))

    @property
    def objective(self) -> np.ndarray:
        """``(N,)`` ``F`` of every prefix, ``λ1·I + λ2·(1 − D)`` (``smdl_score``; the reference's
        efficient variant writes ``I + 1 − D`` whatever λ, the same at λ1 = λ2 = 1)."""
        return m.objective(self.insertion_tokens, self.deletion_tokens, self.lambda1, self.lambda2)

    @property
    def attribution(self) -> np.ndarray:
        """``(N,)`` value of each region by label, in ``[0, 1]``: 1 for the first ranked, 0 for the
        last (``add_value``, float16 levels; see :func:`~.eagle_maps.region_attribution`)."""
        return m.region_attribution(
            self.order, self.objective, self.org_score, self.baseline_score, self.lambda1, self.lambda2
        )

    def attribution_map(self) -> np.ndarray:
        """The ``(H, W)`` (or ``(F, H, W)``) float64 map: each pixel gets its region's attribution."""
        return m.attribution_map(self.attribution, self.regions)

    @property
    def word_reliance(self) -> np.ndarray:
        """``(T,)`` ``R_t``: ~0 for a token the image does not move, ~1 for one it makes (spec §3.1)."""
        return m.word_reliance(self.region_area, self.insertion_tokens, self.baseline_score)

    @property
    def prior(self) -> np.ndarray:
        """``(T,)`` ``π_t``: each token's probability with an all-black image, its language prior."""
        return np.asarray(self.baseline_score)

    @property
    def lift(self) -> np.ndarray:
        """``(T,)`` ``Δ_t = org − baseline``: the perceptual lift; "sensitive" tokens have Δ > 0.2."""
        return m.perceptual_lift(self.org_score, self.baseline_score)

    @property
    def insertion_auc_tokens(self) -> np.ndarray:
        """``(T,)`` area under each token's insertion curve, ``[0, a_1 …]`` × ``[baseline_t, …]``."""
        return m.curve_auc(*m.insertion_curve(self.region_area, self.insertion_tokens, self.baseline_score))

    @property
    def deletion_auc_tokens(self) -> np.ndarray:
        """``(T,)`` area under each token's deletion curve, ``1 − [0, a_1 …]`` × ``[org_t, …]``."""
        return m.curve_auc(*m.deletion_curve(self.region_area, self.deletion_tokens, self.org_score))

    @property
    def insertion_auc(self) -> float:
        """Insertion AUC of the token-mean curve (spec §7.1; higher is more faithful)."""
        blank = self.baseline_score.mean()
        return float(m.curve_auc(*m.insertion_curve(self.region_area, self.insertion, blank)))

    @property
    def deletion_auc(self) -> float:
        """Deletion AUC of the token-mean curve (spec §7.1; lower is more faithful)."""
        return float(m.curve_auc(*m.deletion_curve(self.region_area, self.deletion, self.org_score.mean())))

    @property
    def params(self) -> dict[str, Any]:
        """The search's settings as JSON: variant, the efficient variant's three numbers, λ1, λ2."""
        names = ("variant", "search_scope", "pending_samples", "update_step", "lambda1", "lambda2")
        return {k: getattr(self, k) for k in names}

    def to(self, device: object) -> EagleResult:
        """This result: its numpy arrays live on the CPU whatever ``device`` (the loaders call ``.to``)."""
        return self
