"""``summary.json``: the figures of every method, pooled as the references pool them.

- TAM's plausibility (``eval.py`` ``main()``): each list metric concatenated over the samples in
  dataset order, then ``sum / len`` left to right; F1-IoU = 2·O·F/(O+F) from the full-precision
  means. Where the reference divides by zero (nothing pooled) the figure is ``None``.
- The pointing game: the share of hits over all object words (EAGLE's ``eval_point_game.py``
  divides the hit count by the number scored).
- Faithfulness: the mean over samples of each answer's AUC (EAGLE's per-file means), and the
  pooled mean of the words' AUCs.

Rows are sorted into dataset order first, so one process and many give the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .eval_methods import EVAL_METHODS

POOLED: tuple[str, ...] = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall", "pointing")
POOLED += ("word_insertion_auc", "word_deletion_auc")
PER_SAMPLE = ("insertion_auc", "deletion_auc")
METRIC_NAMES = {
    "obj_iou": "Obj-IoU",
    "func_iou": "Func-IoU",
    "f1_iou": "F1-IoU",
    "rouge_l": "ROUGE-L",
    "meteor": "METEOR",
    "precision": "Precision",
    "recall": "Recall",
    "pointing": "Pointing",
    "insertion_auc": "Insertion AUC",
    "deletion_auc": "Deletion AUC",
    "word_insertion_auc": "Word insertion AUC",
    "word_deletion_auc": "Word deletion AUC",
}


def _mean(values: Sequence[float]) -> float | None:
    """``sum(values) / len(values)`` left to right, as the references; ``None`` for no value."""
    return sum(values) / len(values) if values else None


def method_figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One method's figures from its rows (already in dataset order)."""
    figures: dict[str, Any] = {"n_samples": len(rows)}
    figures["n_early_return"] = sum(bool(r.get("early_return")) for r in rows)
    for name in POOLED:
        figures[name] = _mean([float(v) for r in rows for v in r["metrics"].get(name) or []])
    for name in PER_SAMPLE:
        figures[name] = _mean([float(r["metrics"][name]) for r in rows if r["metrics"].get(name) is not None])
    obj, func = figures["obj_iou"], figures["func_iou"]
    figures["f1_iou"] = None if obj is None or func is None or obj + func == 0 else 2 * obj * func / (obj + func)
    return figures


def summarise(
    rows: Sequence[dict[str, Any]], order: dict[str, int], methods: Sequence[str], **about: Any
) -> dict[str, Any]:
    """The summary of ``rows`` for ``methods``: ``about`` (dataset, source, model, steps, ...) plus
    per-method figures, labels and metric names. ``order``: sample id -> dataset index."""
    ranked = sorted(rows, key=lambda r: (order[r["sample"]], r["method"]))
    per = {m: method_figures([r for r in ranked if r["method"] == m]) for m in methods}
    samples = {r["sample"] for r in ranked}
    labels = {m: EVAL_METHODS[m].label for m in methods}
    return {**about, "n_samples": len(samples), "methods": per, "labels": labels, "metric_names": METRIC_NAMES}


TABLE = ("obj_iou", "func_iou", "f1_iou", "pointing", "insertion_auc", "deletion_auc")


def table(summary: dict[str, Any], metrics: Sequence[str] = TABLE) -> str:
    """The summary as a Markdown table: one row per method, 3 decimals, "—" where there is no figure."""
    names = summary.get("metric_names", METRIC_NAMES)
    head = "| method | " + " | ".join(names.get(m, m) for m in metrics) + " |"
    lines = [head, "|---|" + "---:|" * len(metrics)]
    for method, figures in summary["methods"].items():
        cells = [_cell(figures.get(m)) for m in metrics]
        lines.append(f"| {summary.get('labels', {}).get(method, method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "—" if value is None or value != value else f"{value:.3f}"
