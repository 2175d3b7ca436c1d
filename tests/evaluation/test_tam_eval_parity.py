"""Parity of TAM's plausibility metrics with the reference ``eval.py`` on every ``tam_eval_*`` golden case.

Each sample runs through :func:`evaluate_sample` with the case's POS dictionary as the tagger and the
README's lemmatizer stub; every expected key is compared (exact for words, groups, types, labels,
thresholds and uint8 maps; abs 1e-12 for other floats; NaN equals NaN), then the aggregate.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tam_widget.evaluation.plausibility import SampleScores, aggregate, evaluate_sample, pooled, printed_line
from tam_widget.evaluation.words import rule_lemma
from tam_widget.testing.eval_golden import case_files, load_case

CASES = case_files("tam_eval")
EXACT = ("early_return", "words", "tokens_idx", "word_types", "words_label", "noun_fg_thresh", "fg_thresh")
CLOSE = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")


def run_sample(sample: dict[str, Any]) -> SampleScores:
    """One golden sample through :func:`evaluate_sample`, fed the case's tags and the lemma stub."""
    return evaluate_sample(
        maps=[np.asarray(m, dtype=np.uint8) for m in sample["maps"]],
        tokens=sample["retokenized"],
        decodes=sample["token_decodes"],
        output_text=sample["output_text"],
        captions=sample["captions"],
        mask=np.asarray(sample["mask"], dtype=np.uint8) if sample["mask_exists"] else None,
        category=[(name, cat_id) for name, cat_id in sample["category"]],
        tagger=sample["pos_tags"].__getitem__,
        lemmatizer=rule_lemma,
    )


def close(got: float, want: float) -> bool:
    """Within abs 1e-12, or both NaN."""
    return (math.isnan(got) and math.isnan(want)) or abs(got - want) <= 1e-12


def check_sample(got: SampleScores, want: dict[str, Any], sid: str) -> None:
    """Every expected key of one sample."""
    for key in EXACT:
        assert getattr(got, key) == want[key], f"{sid}: {key}"
    for key in CLOSE:
        values = getattr(got, key)
        assert len(values) == len(want[key]) and all(map(close, values, want[key])), f"{sid}: {key} {values}"
    assert got.token_otsu == {int(k): v for k, v in want["token_otsu"].items()}, f"{sid}: token_otsu"
    assert sorted(got.token_resized) == sorted(int(k) for k in want["token_resized"]), f"{sid}: token_resized"
    for k, grid in want["token_resized"].items():
        assert np.array_equal(got.token_resized[int(k)], np.asarray(grid, dtype=np.uint8)), f"{sid}: map {k}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_tam_eval_matches_the_reference(path: Path) -> None:
    case = load_case(path)
    scores = [run_sample(s) for s in case["samples"]]
    for got, sample in zip(scores, case["samples"], strict=True):
        check_sample(got, sample["expected"], sample["sample_id"])
    want = case["expected_aggregate"]
    counts = {name: len(values) for name, values in pooled(scores).items()}
    if "pooled_counts" in want:
        assert counts == want["pooled_counts"]
    if "error" in want:
        with pytest.raises(ZeroDivisionError):
            aggregate(scores)
        return
    figures = aggregate(scores)
    for key, value in figures.items():
        assert close(value, want[key]), f"aggregate {key}: {value} != {want[key]}"
    assert printed_line(figures) == want["printed"]


def test_the_golden_folder_has_tam_eval_cases() -> None:
    assert CASES, "no tam_eval_*.json in the golden folder ($EVAL_GOLDEN_DIR)"


def test_the_uint8_recipes_equal_opencv() -> None:
    """Resize bit for bit; Otsu as OpenCV's own (non-IPP) code, whose tie-breaks IPP does not share."""
    cv2 = pytest.importorskip("cv2")
    from tam_widget.evaluation.cv_u8 import otsu_u8, resize_u8

    rng = np.random.default_rng(0)
    use_ipp = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    try:
        for _ in range(300):
            h, w = (int(n) for n in rng.integers(2, 17, 2))
            grid = rng.integers(0, 256, (h, w), dtype=np.uint8)
            big = (int(rng.integers(h, 65)), int(rng.integers(w, 65)))
            resized = resize_u8(grid, big)
            assert np.array_equal(resized, cv2.resize(grid, big[::-1], interpolation=cv2.INTER_LINEAR))
            t, pred = otsu_u8(resized)
            want_t, want_pred = cv2.threshold(resized, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            assert t == want_t and np.array_equal(pred, want_pred)
    finally:
        cv2.ipp.setUseIPP(use_ipp)


def test_quirks_the_golden_cases_do_not_reach() -> None:
    """0/0 precision is NaN; label 0 is ignored; a tie between tokens keeps the first token's P and R."""
    from tam_widget.evaluation.word_scores import object_scores

    mask = np.zeros((4, 4), np.uint8)
    mask[:2, :2] = 5
    flat = np.zeros((4, 4), np.uint8)  # Otsu: nothing above 0, so no prediction
    scores = object_scores([flat], [[0]], [5], mask)
    assert scores.iou == [0.0] and math.isnan(scores.precision[0]) and scores.recall == [0.0]
    assert object_scores([flat], [[0]], [0], mask).noun_thresholds == []
    half, wide = np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)
    half[0, :2] = 200  # 2 of the 4 mask pixels: IoU 0.5, precision 1
    wide[:, :2] = 200  # the 4 mask pixels and 4 others: IoU 0.5, precision 0.5
    scores = object_scores([half, wide], [[0, 1]], [5], mask)
    assert scores.iou == [0.5] and scores.precision == [1.0] and scores.recall == [0.5]
