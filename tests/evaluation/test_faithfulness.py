"""Faithfulness of any map (EAGLE's baseline protocol): pixels ranked by the map, kept or blacked out
at rates i/64, scored by the same scorer; a map on the evidence beats one off it."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widget.evaluation.faithfulness import faithfulness, pixel_order

H, W = 16, 16
IMAGE = np.full((H, W, 3), 200, dtype=np.uint8)
EVIDENCE = np.zeros((H, W), bool)
EVIDENCE[2:6, 3:9] = True  # the token's probability is the share of this patch left visible


def score(images: np.ndarray) -> np.ndarray:
    visible = images.sum(axis=-1) > 0
    return (visible & EVIDENCE).sum(axis=(1, 2)).reshape(-1, 1) / EVIDENCE.sum()


def test_a_map_on_the_evidence_is_more_faithful_than_one_off_it() -> None:
    good = faithfulness(score, IMAGE, EVIDENCE.astype(float))
    bad = faithfulness(score, IMAGE, (~EVIDENCE).astype(float))
    assert good.insertion_auc > 0.9 > 0.2 > bad.insertion_auc
    assert good.deletion_auc < 0.1 < 0.8 < bad.deletion_auc
    np.testing.assert_allclose(good.rates, np.arange(1, 65) / 64)
    assert good.insertion[-1, 0] == 1.0 and good.deletion[-1, 0] == 0.0  # rate 1: the full and the black image


def test_the_curves_are_the_kept_share_at_each_rate() -> None:
    f = faithfulness(score, IMAGE, EVIDENCE.astype(float), steps=4)
    kept = np.floor(np.arange(1, 5) / 4 * H * W).astype(int)  # top pixels kept: the 24 evidence pixels first
    np.testing.assert_allclose(f.insertion[:, 0], np.minimum(kept, 24) / 24)
    np.testing.assert_allclose(f.deletion[:, 0], 1 - np.minimum(kept, 24) / 24)
    # trapezoids by hand: insertion from (0, blank = 0), deletion from (1, full = 1)
    x = np.array([0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(f.insertion_auc, np.trapezoid([0, 1, 1, 1, 1], x))
    np.testing.assert_allclose(f.deletion_auc, np.trapezoid([1, 0, 0, 0, 0], x))


def test_ties_keep_raster_order_and_bad_arguments_are_refused() -> None:
    np.testing.assert_array_equal(pixel_order(np.array([[1.0, 2.0], [2.0, 1.0]])), [1, 2, 0, 3])
    with pytest.raises(ValueError, match="heat must have the image's size"):
        faithfulness(score, IMAGE, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        faithfulness(score, IMAGE, EVIDENCE.astype(float), steps=0)
