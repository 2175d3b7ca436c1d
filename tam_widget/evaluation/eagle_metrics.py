"""EAGLE's evaluation metrics as the reference code computes them (spec ``eagle.md`` §2.3, §6, §7),
as pure functions on a search's recorded arrays; no model runs here.

- :func:`curve_scores`: one record's insertion/deletion AUC and highest confidence, plus the
  "sensitive token" variants (``evals/eval_AUC_faithfulness.py``; the same three numbers open
  ``evals/eval_hallucination_correction.py``).
- :func:`faithfulness_aggregate`: the means over files, the sensitive ones over the files that
  have a sensitive token (NaN when none does).
- :func:`correction_entries` and :func:`correction_aggregate`: AMCR and CSR@10% with the
  reference's prefix checks and its CSR denominator (never-corrected samples count 1 in AMCR and
  are left out of CSR).
- :func:`attribution_map`: ``visualization.add_value`` with its float16 canvas, NaN map and
  uncovered pixels. The per-token reliance (``get_word_saliency``) is
  :func:`~tam_widget.core.eagle_maps.word_reliance`, already reference-exact.

Why not the package's own read-outs: :func:`~tam_widget.core.eagle_maps.region_attribution`
guards the reference's 0/0 (NaN) map and returns per-region values, so it cannot show uncovered
pixels; :func:`~tam_widget.diagnosis.walk.minimal_correction` pairs answers and prefixes one to one
and checks whole words, and :func:`~tam_widget.diagnosis.walk.csr_at` derives the CSR pool from
``r < 1`` and refuses an empty pool. Those stay as they are; the functions here reproduce the
evaluation scripts' numbers exactly (abs 1e-12, float16 maps bit-exact).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.eagle_maps import curve_auc, deletion_curve, insertion_curve, objective

SENSITIVITY = 0.2  # the scripts' --sensitiveity: full-image minus blank-image probability, strictly above


@dataclass(frozen=True)
class CurveScores:
    """One record's faithfulness numbers; the ``*_sensitive`` ones are ``None`` without a sensitive token."""

    insertion_auc: float
    deletion_auc: float
    highest_confidence: float
    sensitive: np.ndarray  # (T,) bool, empty when no word rows were given
    insertion_auc_sensitive: float | None
    deletion_auc_sensitive: float | None
    highest_confidence_sensitive: float | None
    insertion_curve: tuple[np.ndarray, np.ndarray]
    deletion_curve: tuple[np.ndarray, np.ndarray]


def curve_scores(
    region_area: Sequence[float] | np.ndarray,
    insertion_score: Sequence[float] | np.ndarray,
    deletion_score: Sequence[float] | np.ndarray,
    insertion_word_score: Sequence[Sequence[float]] | np.ndarray | None = None,
    deletion_word_score: Sequence[Sequence[float]] | np.ndarray | None = None,
    sensitivity: float = SENSITIVITY,
) -> CurveScores:
    """The reference's per-record numbers. ``x = [0] + region_area``; the insertion curve starts at
    the blank mean ``deletion_score[-1]``, the deletion curve (over ``1 − x``) at the full mean
    ``insertion_score[-1]``; AUCs are sklearn's trapezoids; the highest confidence is the insertion
    curve's maximum, blank start included. Tokens with ``iws[-1] − dws[-1] > sensitivity`` (float64,
    strict) are sensitive; their token means rebuild both curves from the word rows alone."""
    area = np.asarray(region_area, np.float64)
    ins, dele = np.asarray(insertion_score, np.float64), np.asarray(deletion_score, np.float64)
    x_ins, y_ins = insertion_curve(area, ins, dele[-1])
    x_del, y_del = deletion_curve(area, dele, ins[-1])
    sens: tuple[float | None, float | None, float | None] = (None, None, None)
    mask = np.zeros(0, dtype=bool)
    if insertion_word_score is not None and deletion_word_score is not None:
        iws, dws = np.asarray(insertion_word_score, np.float64), np.asarray(deletion_word_score, np.float64)
        mask = (iws[-1] - dws[-1]) > sensitivity
        if mask.any():
            si = np.array([row[mask].mean() for row in iws])
            sd = np.array([row[mask].mean() for row in dws])
            _, ys_ins = insertion_curve(area, si, sd[-1])
            _, ys_del = deletion_curve(area, sd, si[-1])
            sens = (float(curve_auc(x_ins, ys_ins)), float(curve_auc(x_del, ys_del)), float(ys_ins.max()))
    return CurveScores(
        float(curve_auc(x_ins, y_ins)),
        float(curve_auc(x_del, y_del)),
        float(y_ins.max()),
        mask,
        sens[0],
        sens[1],
        sens[2],
        (x_ins, y_ins),
        (x_del, y_del),
    )


def pooled_mean(values: Sequence[float]) -> float:
    """``np.mean`` of a pool, NaN (without a warning) when it is empty, as the scripts print."""
    return float(np.mean(np.asarray(values, dtype=np.float64))) if len(values) else math.nan


def faithfulness_aggregate(scores: Sequence[CurveScores]) -> dict[str, float]:
    """The means over files (in the order given); the three sensitive means over the files with a
    sensitive token only (NaN when none has one)."""
    with_sens = [s for s in scores if s.highest_confidence_sensitive is not None]
    out = {
        k: pooled_mean([getattr(s, k) for s in scores]) for k in ("insertion_auc", "deletion_auc", "highest_confidence")
    }
    for k in ("insertion_auc_sensitive", "deletion_auc_sensitive", "highest_confidence_sensitive"):
        out[k] = pooled_mean([getattr(s, k) for s in with_sens])
    return out


def answer_is_correct(answer: str, label: str) -> bool | None:
    """The reference's check: ``answer[:3] == "Yes"`` for label ``"yes"``, ``answer[:2] == "No"`` for
    ``"no"`` (case-sensitive prefixes: "Yesterday" and "None" pass, " Yes" and "NO" do not);
    ``None`` for any other label, which the scripts leave out of AMCR and CSR."""
    if label == "yes":
        return answer[:3] == "Yes"
    if label == "no":
        return answer[:2] == "No"
    return None


def correction_entries(
    region_area: Sequence[float] | np.ndarray, revised_answering: Sequence[str], label: str
) -> tuple[list[float], list[int]]:
    """What one record adds to the AMCR and CSR@10% pools (0 or 1 entry each).

    With ``x = [0] + region_area`` and ``L = revised_answering``, scan ``k = 1..len(L)`` from the
    end (answers and areas paired from the end even when their lengths differ): at the first
    correct ``L[-k]``, ``r = 1 − x[-k]`` joins AMCR and ``r <= 0.1`` (as 1/0) joins CSR. Never
    correct: 1 joins AMCR and nothing joins CSR. No answers or another label: nothing."""
    x = np.concatenate([[0.0], np.asarray(region_area, dtype=np.float64)])
    if not revised_answering or answer_is_correct("", label) is None:
        return [], []
    for k in range(1, len(revised_answering) + 1):
        if answer_is_correct(revised_answering[-k], label):
            r = float(1 - x[-k])
            return [r], [1 if r <= 0.1 else 0]
    return [1.0], []


def correction_aggregate(amcr_pool: Sequence[float], csr_pool: Sequence[int]) -> dict[str, float]:
    """``{"AMCR", "CSR_10"}``: the means of the pooled entries of all files (NaN for an empty pool)."""
    return {"AMCR": pooled_mean(amcr_pool), "CSR_10": pooled_mean(csr_pool)}


def attribution_map(
    label_map: np.ndarray,
    order: Sequence[int] | np.ndarray,
    smdl_score: Sequence[float] | np.ndarray,
    org_score: Sequence[float] | np.ndarray,
    baseline_score: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``visualization.add_value``: ``(map (H, W) float16, values (K,) float64)``.

    ``F_0 = mean(1 − org + baseline)`` (λ1 = λ2 = 1 whatever the record's λ); ``v_k = v_{k−1} −
    |F_k − F_{k−1}|`` for ``k = 1..min(N, len(smdl))`` in float64; region ``label_map == order[k]``
    is set to ``float16(v_k)`` on a float16 canvas of zeros; then ``A = canvas − min``,
    ``A = A / max`` in float16. Uncovered pixels keep 0, the largest level (they become 1); a map
    whose levels all coincide in float16 (N = 1) is NaN, as the reference's 0/0."""
    labels, f = np.asarray(label_map), np.asarray(smdl_score, dtype=np.float64)
    f0 = objective(np.asarray(baseline_score)[None], np.asarray(org_score)[None], 1.0, 1.0)
    gains = np.abs(f - np.concatenate([f0, f[:-1]]))
    canvas = np.zeros(labels.shape, dtype=np.float16)
    values: list[float] = []
    value = 0.0
    for region, gain in zip(order, gains, strict=False):
        value = value - float(gain)
        canvas[labels == region] = value
        values.append(value)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = canvas - canvas.min()
        return shifted / shifted.max(), np.asarray(values, dtype=np.float64)
