"""EAGLE's read-outs of a finished search: the objective, the attribution map, the per-token
reliance and the faithfulness curves (spec ``eagle.md`` §2.1, §2.3, §2.4, §3).

Pure numpy on what the search recorded; nothing here scores an image. Rows are prefixes of the
selection order: row ``k`` is the image showing (insertion) or hiding (deletion) the first
``k + 1`` regions. ``T`` is the number of explained tokens, ``N`` the number of regions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def objective(insertion: np.ndarray, deletion: np.ndarray, lambda1: float, lambda2: float) -> np.ndarray:
    """``F = mean_t(λ1·p_ins + λ2·(1 − p_del))`` per row: ``(..., T)`` probabilities -> ``(...)`` float64.

    The arithmetic mean of probabilities over tokens, as the reference aggregates (never a product
    or log-probabilities, spec §1.2)."""
    ins = np.asarray(insertion, dtype=np.float64)
    dele = np.asarray(deletion, dtype=np.float64)
    return np.asarray((lambda1 * ins + lambda2 * (1.0 - dele)).mean(axis=-1), dtype=np.float64)


def region_attribution(
    order: np.ndarray,
    objective_curve: np.ndarray,
    org: np.ndarray,
    baseline: np.ndarray,
    lambda1: float = 1.0,
    lambda2: float = 1.0,
) -> np.ndarray:
    """The value of every region (indexed by label, ``(N,)`` float64 holding float16 levels).

    The reference's ``visualization.add_value``: with ``F_0 = F(∅)`` and ``C_k`` the cumulative
    ``|F_k − F_{k−1}|``, the region of rank ``k`` gets ``(C_N − C_k) / (C_N − C_1)``. ``C_k`` sums in
    float64 and the levels are then stored and normalised in **float16**, as the reference does
    (up to ~3e-4 off the float64 value; near-equal levels can tie). ``F_0`` is
    ``λ1·mean(baseline) + λ2·(1 − mean(org))``, which is the reference's
    ``mean(1 − org + baseline)`` at λ1 = λ2 = 1 and stays consistent for other weights.

    Guards: where the reference divides by zero (``N = 1``, or ``C_N = C_1`` in float16: no region
    after the first moved ``F``) and returns NaN, the first region gets 1, as always, and every
    later one 0, the value of a region that moved nothing. Levels beyond float16's range (only
    with very large λ) stay float64.
    """
    f0 = objective(baseline, org, lambda1, lambda2)
    gains = np.abs(np.diff(np.concatenate([np.atleast_1d(f0), np.asarray(objective_curve, dtype=np.float64)])))
    levels = -np.cumsum(gains)
    if levels.min() > np.finfo(np.float16).min:  # float16 as the reference; float64 where it would overflow
        levels = levels.astype(np.float16)
    shifted = levels - levels.min()
    top = shifted.max()
    if top == 0:
        by_rank = np.zeros_like(shifted)
        by_rank[0] = 1
    else:
        by_rank = shifted / top
    values = np.empty(len(by_rank), dtype=np.float64)
    values[np.asarray(order, dtype=np.int64)] = by_rank.astype(np.float64)
    return values


def attribution_map(values: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """The piecewise-constant map: ``values[regions]``, ``(H, W)`` (or ``(F, H, W)`` for a video)."""
    return np.asarray(np.asarray(values)[np.asarray(regions)])


def curve_auc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Trapezoid area under ``y`` over monotone ``x`` (``(K,)``), along axis 0 of ``y`` (``(K,)`` or
    ``(K, T)``); positive whether ``x`` rises or falls, like ``sklearn.metrics.auc``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx = np.diff(x).reshape((-1,) + (1,) * (y.ndim - 1))
    return np.asarray(np.abs((dx * (y[1:] + y[:-1]) / 2.0).sum(axis=0)), dtype=np.float64)


def insertion_curve(area: np.ndarray, insertion: np.ndarray, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the insertion curve (spec §2.4, §7.1): ``x = [0, a_1 … a_N]``, ``y = [blank,
    I_1 … I_N]``; ``insertion`` is ``(N,)`` or ``(N, T)`` with ``blank`` ``()`` or ``(T,)``."""
    x = np.concatenate([[0.0], np.asarray(area, dtype=np.float64)])
    y = np.concatenate([np.asarray(blank, dtype=np.float64)[None], np.asarray(insertion, dtype=np.float64)])
    return x, y


def deletion_curve(area: np.ndarray, deletion: np.ndarray, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the deletion curve: ``x = 1 − [0, a_1 … a_N]`` (falling), ``y = [full, D_1 … D_N]``."""
    x, y = insertion_curve(area, deletion, full)
    return 1.0 - x, y


def word_reliance(area: np.ndarray, insertion_tokens: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """``R_t = AUC(insertion curve of token t) − min_k y_t(k)`` (``get_word_saliency``), ``(T,)``.

    About 0 for a token whose probability does not move as regions are revealed (carried by the
    language prior and the text), about 1 for one that jumps from ~0 to ~1 (perceptual evidence).
    The minimum includes the blank-image start ``y_t(0) = baseline_t``."""
    x, y = insertion_curve(area, insertion_tokens, baseline)
    return np.asarray(curve_auc(x, y) - y.min(axis=0), dtype=np.float64)


def perceptual_lift(org: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """``Δ_t = p_t(full image) − p_t(blank image)``: how much seeing the image raises token ``t``.

    Our definition from the search's records (spec §3.2; the paper's own formula is not in the
    reference code). The language-prior level ``π_t`` is ``baseline`` itself."""
    return np.asarray(org, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)


def grid_means(pixel_map: np.ndarray, grids: Sequence[Sequence[int]], boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """A pixel map ``(H, W)`` (or ``(F, H, W)``) as the mean over each vision cell of each grid: the
    map on the same cells as a white-box method's, concatenated in grid order.

    ``grids``: ``(h, w)`` or ``(t, h, w)`` per view; ``boxes``: ``(x0, y0, x1, y1)`` fractions of
    the image each view covers (clipped to the image). A ``(t, h, w)`` grid splits the frames into
    ``t`` equal runs. A cell that covers no pixel gets 0.
    """
    frames = pixel_map if pixel_map.ndim == 3 else pixel_map[None]
    n_f, height, width = frames.shape
    out: list[float] = []
    for grid, box in zip(grids, boxes, strict=True):
        t, h, w = (1, *grid) if len(grid) == 2 else tuple(grid)
        runs = np.array_split(np.arange(n_f), t)
        x0, y0, x1, y1 = box
        xs = np.clip(np.round(np.linspace(x0, x1, w + 1) * width).astype(int), 0, width)
        ys = np.clip(np.round(np.linspace(y0, y1, h + 1) * height).astype(int), 0, height)
        for run in runs:
            block = frames[run].mean(axis=0) if len(run) else np.zeros((height, width))
            cells = [block[ys[r] : ys[r + 1], xs[c] : xs[c + 1]] for r in range(h) for c in range(w)]
            out.extend(float(cell.mean()) if cell.size else 0.0 for cell in cells)
    return np.asarray(out, dtype=np.float64)
