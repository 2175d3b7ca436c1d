"""The EAGLE search beyond the golden cases: pass counts (spec §5), the N ≤ 2 guard, tie-breaking,
masking, bounded batches, argument checks, the attribution map's edge cases and the AUCs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tam_widget.core.eagle_maps import curve_auc, region_attribution
from tam_widget.core.eagle_search import eagle_search
from tam_widget.testing.eagle_golden import eagle_golden_dir, load_eagle_golden

Score = Callable[[np.ndarray], np.ndarray]


def strip(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A 1 × n image, one pixel per region: ``(image, regions)``."""
    image = np.random.default_rng(n).integers(1, 256, (1, n, 3)).astype(np.uint8)
    return image, np.arange(n).reshape(1, n)


def share_scorer(weights: np.ndarray) -> Score:
    """``p_t`` = the visible share of token ``t``'s weights ``(T, *shape)``: additive, cheap, and
    computed image by image so that its value does not depend on the batch."""
    w = np.asarray(weights, dtype=np.float64).reshape(len(weights), -1)

    def score(images: np.ndarray) -> np.ndarray:
        visible = (images.sum(axis=-1) > 0).reshape(len(images), -1)
        return np.stack([(w * v).sum(axis=1) / w.sum(axis=1) for v in visible])

    return score


class Recorder:
    """Wraps a scorer and keeps every batch it was given."""

    def __init__(self, score: Score) -> None:
        self.score, self.batches = score, []  # type: list[np.ndarray]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.batches.append(images.copy())
        return self.score(images)


def constant(images: np.ndarray) -> np.ndarray:
    return np.full((len(images), 2), 0.5)


# spec §5: images scored for N regions, full greedy and the efficient variant at three settings
PASSES = {16: (272, 212, 152, 168), 33: (1122, 584, 356, 416), 48: (2352, 960, 560, 656), 64: (4160, 1412, 784, 944)}
SETTINGS = [None, (10, 8, 5), (6, 4, 15), (8, 4, 10)]


@pytest.mark.parametrize("n", sorted(PASSES))
@pytest.mark.parametrize("setting", range(4), ids=["full", "eff-10-8-5", "eff-6-4-15", "eff-8-4-10"])
def test_pass_counts_match_the_spec(n: int, setting: int) -> None:
    image, regions = strip(n)
    rec = Recorder(share_scorer(np.random.default_rng(0).random((2, 1, n))))
    options = SETTINGS[setting]
    if options is None:
        res = eagle_search(image, regions, rec, batch_size=64)
    else:
        scope, pending, update = options
        res = eagle_search(
            image, regions, rec, variant="efficient", search_scope=scope, pending_samples=pending, update_step=update
        )
    assert res.images_scored == PASSES[n][setting] == sum(len(b) for b in rec.batches)
    assert sorted(res.order.tolist()) == list(range(n))
    assert res.insertion_tokens.shape == res.deletion_tokens.shape == (n, 2)
    assert res.region_area[-1] == 1.0 and np.all(np.diff(res.region_area) > 0)


@pytest.mark.parametrize("n", [1, 2])
def test_efficient_with_two_regions_or_fewer_runs_the_full_greedy(n: int) -> None:
    image, regions = strip(n)
    score = share_scorer(np.arange(1, n + 1, dtype=float).reshape(1, 1, n))
    eff = eagle_search(image, regions, score, variant="efficient")
    full = eagle_search(image, regions, score)
    assert eff.variant == "efficient" and eff.images_scored == full.images_scored == n * (n + 1)
    assert eff.order.tolist() == full.order.tolist() == list(range(n))[::-1]
    np.testing.assert_array_equal(eff.insertion_tokens, full.insertion_tokens)
    three = eagle_search(*strip(3), constant, variant="efficient")
    assert three.images_scored == 2 + 6 and len(three.order) == 3


def test_exact_ties_go_to_the_first_candidate_in_list_order() -> None:
    image, regions = strip(6)
    eff = {"variant": "efficient", "search_scope": 3, "pending_samples": 2, "update_step": 2}
    assert eagle_search(image, regions, constant).order.tolist() == [0, 1, 2, 3, 4, 5]
    # front: 0, then the first of the scope window; back: 5 (the stable ranking's last), then 3
    assert eagle_search(image, regions, constant, **eff).order.tolist() == [0, 1, 2, 4, 3, 5]
    two = share_scorer(np.array([[[0, 0, 1, 0, 0, 1]]], dtype=float))  # only regions 2 and 5 matter, equally
    assert eagle_search(image, regions, two).order.tolist() == [2, 5, 0, 1, 3, 4]
    assert eagle_search(image, regions, two, **eff).order.tolist() == [2, 5, 0, 3, 1, 4]


@pytest.mark.parametrize("tie", [True, False], ids=["tie-at-the-minimum", "random"])
def test_efficient_curves_are_the_true_prefix_curves_of_its_order(tie: bool) -> None:
    """Rows stitched from both ends score exactly the images of the final order's prefixes. With
    ``tie``, regions 2 and 3 tie at the first step's minimum with different rows: the row kept is
    the moved region's (3, the stable ranking's last), not the reference's first minimum (2)."""
    image, regions = strip(4 if tie else 9)
    weights = np.array([[[5, 3, 1, 0]], [[5, 3, 0, 1]]], float) if tie else np.random.default_rng(4).random((2, 1, 9))
    score = share_scorer(weights)
    res = eagle_search(image, regions, score, variant="efficient", search_scope=2, pending_samples=2, update_step=3)
    shown = np.stack([np.isin(regions, res.order[: k + 1]) for k in range(res.n_regions)])[..., None]
    np.testing.assert_array_equal(res.insertion_tokens, score(np.where(shown, image, 0)))
    np.testing.assert_array_equal(res.deletion_tokens, score(np.where(shown, 0, image)))
    if tie:
        assert res.order.tolist() == [0, 1, 2, 3]


def test_masked_images_show_the_set_or_hide_it_with_black() -> None:
    image, regions = strip(5)
    rec = Recorder(constant)
    eagle_search(image, regions, rec, batch_size=4)
    first_step = np.concatenate(rec.batches)[:10]  # insertion then deletion image of candidates 0..4
    for j in range(5):
        shown = regions == j
        np.testing.assert_array_equal(first_step[2 * j], np.where(shown[..., None], image, 0))
        np.testing.assert_array_equal(first_step[2 * j + 1], np.where(shown[..., None], 0, image))


@pytest.mark.parametrize("variant", ["full", "efficient"])
def test_batches_never_exceed_batch_size_and_do_not_change_the_result(variant: str) -> None:
    rng = np.random.default_rng(1)
    regions = rng.integers(0, 10, (6, 7))
    regions[0] = np.arange(7)
    regions[1, :3] = [7, 8, 9]
    image = rng.integers(1, 256, (6, 7, 3)).astype(np.uint8)
    score = share_scorer(rng.random((3, 6, 7)))
    results = []
    for batch_size in (1, 3, 64):
        rec = Recorder(score)
        results.append(eagle_search(image, regions, rec, variant=variant, batch_size=batch_size, search_scope=4))
        assert max(len(b) for b in rec.batches) <= batch_size
        assert sum(len(b) for b in rec.batches) == results[-1].images_scored
    for other in results[1:]:
        assert other.order.tolist() == results[0].order.tolist()
        np.testing.assert_array_equal(other.insertion_tokens, results[0].insertion_tokens)
        np.testing.assert_array_equal(other.deletion_tokens, results[0].deletion_tokens)


def test_a_video_is_masked_per_frame_cell() -> None:
    regions = np.arange(8).reshape(2, 2, 2).repeat(2, axis=1).repeat(2, axis=2)  # 2 frames of a 2x2 grid
    image = np.full((2, 4, 4, 3), 90, dtype=np.uint8)
    rec = Recorder(share_scorer(np.random.default_rng(2).random((1, 2, 4, 4))))
    res = eagle_search(image, regions, rec, variant="efficient", search_scope=3, pending_samples=2)
    assert rec.batches[0].shape[1:] == (2, 4, 4, 3)
    assert sorted(res.order.tolist()) == list(range(8))
    np.testing.assert_allclose(res.region_area, np.arange(1, 9) / 8)
    assert res.attribution_map().shape == (2, 4, 4)


def test_attribution_edge_cases_have_no_nan() -> None:
    one = eagle_search(np.full((2, 2, 3), 7, np.uint8), np.zeros((2, 2), int), constant)
    np.testing.assert_array_equal(one.attribution, [1.0])
    np.testing.assert_array_equal(one.attribution_map(), np.ones((2, 2)))
    image, regions = strip(4)
    only_first = share_scorer(np.array([[[1, 0, 0, 0]]], dtype=float))  # F moves only when region 0 comes
    res = eagle_search(image, regions, only_first)
    assert res.order[0] == 0
    # C_N = C_1: nothing after region 0 moved F; the reference's NaN becomes 1 for it, 0 for the rest
    np.testing.assert_array_equal(res.attribution, [1.0, 0.0, 0.0, 0.0])


def test_attribution_falls_with_rank_in_float16_levels() -> None:
    rng = np.random.default_rng(3)
    curve = np.sort(rng.random(9)) * 2
    order = rng.permutation(9)
    values = region_attribution(order, curve, rng.random(2), rng.random(2))
    by_rank = values[order]
    assert by_rank[0] == 1.0 and by_rank[-1] == 0.0 and np.all(np.diff(by_rank) <= 0)
    np.testing.assert_array_equal(by_rank.astype(np.float16).astype(np.float64), by_rank)


def test_aucs_match_the_spec_and_a_plain_trapezoid() -> None:
    full = load_eagle_golden(eagle_golden_dir() / "v_full_spec12.json").search()
    eff = load_eagle_golden(eagle_golden_dir() / "v_eff_spec12_3_2_3.json").search()
    assert (full.insertion_auc, full.deletion_auc) == pytest.approx((0.568507, 0.431493), abs=1e-5)  # spec §12
    assert (eff.insertion_auc, eff.deletion_auc) == pytest.approx((0.567649, 0.432351), abs=1e-5)
    x = np.concatenate([[0.0], full.region_area])
    y = np.concatenate([full.baseline_score[None], full.insertion_tokens])
    manual = [sum((x[i + 1] - x[i]) * (y[i + 1, t] + y[i, t]) / 2 for i in range(len(x) - 1)) for t in range(2)]
    np.testing.assert_allclose(full.insertion_auc_tokens, manual, rtol=1e-12)
    assert curve_auc(1 - x, y[:, 0]) == pytest.approx(manual[0])  # falling x: still a positive area
    np.testing.assert_allclose(full.lift, full.org_score - full.prior)


GOOD: dict[str, Any] = {"image": np.full((2, 3, 3), 5, np.uint8), "regions": np.array([[0, 0, 1], [1, 2, 2]])}
BAD_ARGS = [
    ({"image": np.zeros((2, 3, 3))}, TypeError, "image must be a uint8"),
    ({"image": np.zeros((2, 3), np.uint8)}, ValueError, r"image must be \(H, W, 3\)"),
    ({"regions": np.zeros((2, 3))}, TypeError, "regions must be an integer"),
    ({"regions": np.zeros((3, 2), int)}, ValueError, "regions must have the image's shape"),
    ({"regions": np.array([[0, 0, 1], [1, 3, 3]])}, ValueError, r"regions must use every label.*\[2\]"),
    ({"regions": np.array([[0, 0, 1], [1, -1, 2]])}, ValueError, "regions must hold labels"),
    ({"score": "model"}, TypeError, "score must be a function"),
    ({"variant": "fast"}, ValueError, "variant must be one of"),
    ({"search_scope": 0}, ValueError, "search_scope must be an integer"),
    ({"pending_samples": 2.5}, TypeError, "pending_samples must be an integer"),
    ({"update_step": True}, TypeError, "update_step must be an integer"),
    ({"batch_size": -1}, ValueError, "batch_size must be an integer"),
    ({"lambda1": float("nan")}, ValueError, "lambda1 must be a finite number"),
    ({"lambda2": "1"}, TypeError, "lambda2 must be a number"),
    ({"lambda1": 0, "lambda2": 0.0}, ValueError, "both 0"),
]


@pytest.mark.parametrize(("change", "error", "match"), BAD_ARGS, ids=[m for _, _, m in BAD_ARGS])
def test_bad_arguments_are_refused_naming_them(change: dict[str, Any], error: type, match: str) -> None:
    args = {**GOOD, "score": constant, **change}
    with pytest.raises(error, match=match):
        eagle_search(args.pop("image"), args.pop("regions"), args.pop("score"), **args)


BAD_SCORES: list[tuple[Score, str]] = [
    (lambda x: np.full(len(x), 0.5), r"score returned float64 \(\d+,\)"),
    (lambda x: np.full((len(x) + 1, 2), 0.5), "one row per image"),
    (lambda x: np.full((len(x), 2), 1.5), r"probabilities in \[0, 1\].*1\.5"),
    (lambda x: np.full((len(x), 2), np.nan), r"probabilities in \[0, 1\]"),
    (lambda x: np.full((len(x), 2 if len(x) == 4 else 3), 0.5), "3 tokens per image, before 2"),
    (lambda x: np.array([["a"] * 2] * len(x)), "score returned <U1"),
]


@pytest.mark.parametrize(("score", "match"), BAD_SCORES, ids=[m for _, m in BAD_SCORES])
def test_bad_score_outputs_are_refused(score: Score, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        eagle_search(GOOD["image"], GOOD["regions"], score, batch_size=4)
