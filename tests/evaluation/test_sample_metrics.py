"""evaluation/sample_metrics.py: what a results row holds of a sample's plausibility scores."""

from __future__ import annotations

from tam_widget.evaluation.plausibility import SampleScores
from tam_widget.evaluation.sample_metrics import lists

NAMES = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")


def test_a_row_holds_each_of_the_six_plausibility_lists_as_its_own_copy() -> None:
    scores = SampleScores(**{name: [float(k), 0.5] for k, name in enumerate(NAMES)})
    row = lists(scores)
    assert row == {name: [float(k), 0.5] for k, name in enumerate(NAMES)}  # the six, none else, in order
    assert list(row) == list(NAMES)
    row["recall"].append(1.0)
    assert scores.recall == [5.0, 0.5]  # a copy: pooling the row never changes the scores
