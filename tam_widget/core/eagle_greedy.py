"""EAGLE's two region orderings: the full greedy (spec §2.2, every paper result) and the cheaper
bidirectional "efficient" variant (§4), both as the reference runs them.

Ties, frequent with low-precision probabilities, go to the first maximum in the current candidate
list, and the efficient variant re-ranks with a stable descending sort (spec §13.2–3). Each
returns a :class:`Trace`: the order and, for every prefix of it, the token scores of the image
showing it (insertion) and of the image hiding it (deletion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eagle_maps import objective
from .eagle_masking import MaskedScorer


@dataclass(frozen=True)
class Trace:
    """What a search recorded, prefix by prefix of ``order``."""

    order: np.ndarray  # (N,) int64 region labels, most important first
    insertion: np.ndarray  # (N, T) p_t(x ⊙ M_k): only the first k + 1 regions shown
    deletion: np.ndarray  # (N, T) p_t(x ⊙ (1 − M_k)): the first k + 1 regions hidden
    area: np.ndarray  # (N,) |M_k| / size, cumulative; the last is 1
    full: np.ndarray  # (T,) p_t of the whole image (org_score)
    blank: np.ndarray  # (T,) p_t of the all-black image (baseline_score)


def _with(member: np.ndarray, region: int, value: bool = True) -> np.ndarray:
    out = np.array(member, dtype=bool)
    out[region] = value
    return out


def full_greedy(scorer: MaskedScorer, lambda1: float, lambda2: float) -> Trace:
    """Rank all ``N`` regions: each step adds the region maximising ``F`` (first maximum in the
    current list order); ``N(N + 1)`` images. The full and blank scores are the last step's."""
    remaining = list(range(scorer.n_regions))
    chosen = np.zeros(scorer.n_regions, dtype=bool)
    order, ins_rows, del_rows, areas = [], [], [], []
    while remaining:
        ins, dele = scorer.insertion_deletion([_with(chosen, r) for r in remaining])
        j = int(np.argmax(objective(ins, dele, lambda1, lambda2)))  # numpy: the first maximum
        region = remaining.pop(j)
        chosen[region] = True
        order.append(region)
        ins_rows.append(ins[j])
        del_rows.append(dele[j])
        areas.append(scorer.area(chosen))
    return Trace(np.array(order), np.stack(ins_rows), np.stack(del_rows), np.array(areas), ins_rows[-1], del_rows[-1])


@dataclass
class _Ends:
    """The efficient search's state: the ranked candidates, the front (P) and back (O) selections."""

    pending: list[int]  # V: candidates, a ranking after each full re-rank
    front: list[int]  # P, in selection order
    back: list[int]  # O, in removal order (the last removed is the least important)
    shown: np.ndarray  # members of P
    kept: np.ndarray  # everything but O
    front_rows: list[tuple[np.ndarray, np.ndarray, float]]  # (insertion, deletion, area) per P prefix
    back_rows: list[tuple[np.ndarray, np.ndarray, float]]  # the same for "all but O" after each removal


def efficient_greedy(
    scorer: MaskedScorer, lambda1: float, lambda2: float, search_scope: int, pending_samples: int, update_step: int
) -> Trace:
    """The bidirectional search of ``EfficientMLLMSubModularExplanationVision`` (spec §4).

    Each step adds the best region to the front, scoring all remaining candidates (stable re-rank)
    on the first step and every ``update_step``-th, else only the first ``search_scope`` of the
    ranking; it then removes to the back the region among the last ``pending_samples`` whose loss
    hurts least (while more than ``pending_samples`` remain). The first step's lowest-ranked
    region goes to the back for free. ``order`` is the front then the reversed back; the curves
    are the true prefix curves of that order. (With a tie at the first step's minimum, the
    reference records the first minimum's rows but moves the last-ranked region; here the rows
    are always the moved region's.)

    Guard: the reference crashes for ``N ≤ 2`` (its first step empties the candidates); there this
    runs :func:`full_greedy`, which then costs at most 6 images.
    """
    n = scorer.n_regions
    if n <= 2:
        return full_greedy(scorer, lambda1, lambda2)
    full, blank = scorer.probabilities([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    s = _Ends(list(range(n)), [], [], np.zeros(n, dtype=bool), np.ones(n, dtype=bool), [], [])
    step = 0
    while len(s.pending) > 1:
        first = not s.front
        ins, dele, last = _front_step(s, scorer, lambda1, lambda2, search_scope, first or step % update_step == 0)
        if first:  # the lowest-ranked candidate goes to the back unscored: "all but it" is its deletion image
            _to_back(s, s.pending[-1], dele[last], ins[last], scorer)
        elif len(s.pending) > pending_samples:
            _back_step(s, scorer, lambda1, lambda2, pending_samples)
        step += 1
    s.front += s.pending
    rows = [*s.front_rows, *s.back_rows[::-1], (full, blank, 1.0)]
    order = np.array([*s.front, *s.back[::-1]])
    return Trace(
        order,
        np.stack([r[0] for r in rows]),
        np.stack([r[1] for r in rows]),
        np.array([r[2] for r in rows]),
        full,
        blank,
    )


def _front_step(
    s: _Ends, scorer: MaskedScorer, l1: float, l2: float, scope: int, rerank: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Move the best candidate to the front; on a re-rank step first sort all candidates by ``F``
    (stable, descending). Returns the step's insertion and deletion rows and the row of the
    candidate now last in the ranking."""
    candidates = s.pending if rerank else s.pending[:scope]
    ins, dele = scorer.insertion_deletion([_with(s.shown, c) for c in candidates])
    f = objective(ins, dele, l1, l2)
    rank = np.argsort(-f, kind="stable") if rerank else np.array([int(np.argmax(f))])
    if rerank:
        s.pending = [candidates[i] for i in rank]
    best = candidates[rank[0]]
    s.pending.remove(best)
    s.front.append(best)
    s.shown[best] = True
    s.front_rows.append((ins[rank[0]], dele[rank[0]], scorer.area(s.shown)))
    return ins, dele, int(rank[-1])


def _to_back(s: _Ends, region: int, ins: np.ndarray, dele: np.ndarray, scorer: MaskedScorer) -> None:
    """Move ``region`` from the candidates to the back; ``ins``/``dele`` score "all but the back"."""
    s.pending.remove(region)
    s.back.append(region)
    s.kept[region] = False
    s.back_rows.append((ins, dele, scorer.area(s.kept)))


def _back_step(s: _Ends, scorer: MaskedScorer, l1: float, l2: float, pending_samples: int) -> None:
    """Move to the back the region among the last ``pending_samples`` whose removal keeps ``F`` highest."""
    tail = s.pending[-pending_samples:]
    ins, dele = scorer.insertion_deletion([_with(s.kept, c, False) for c in tail])
    j = int(np.argmax(objective(ins, dele, l1, l2)))
    _to_back(s, tail[j], ins[j], dele[j], scorer)
