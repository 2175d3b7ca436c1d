"""Parity with EAGLE's evaluation scripts on every ``eagle_*.json`` golden case of the folder
(``$EVAL_GOLDEN_DIR``, else ``shared/golden/eval``): each key within the README's tolerances.

Exact: masks, flags, 0/1 outcomes, float16 maps. Floats: abs 1e-12. A resized float map: 1e-6
(the fixtures' OpenCV routes float bilinear through Intel IPP; the README's bound for a
re-implementation), its outcomes exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tam_widget.core.eagle_maps import word_reliance
from tam_widget.evaluation.eagle_metrics import (
    attribution_map,
    correction_aggregate,
    correction_entries,
    curve_scores,
    faithfulness_aggregate,
)
from tam_widget.evaluation.point_game import baseline_point_map, eagle_point_map, point_game, segmentation_mask
from tam_widget.testing.eval_golden import golden_eval_dir, load_case

CASES = sorted(golden_eval_dir().glob("eagle_*.json"))
TOL = 1e-12


def close(actual: Any, expected: Any, what: str, tol: float = TOL) -> None:
    """``actual`` equals ``expected`` within ``tol`` (NaN equals NaN; ``None`` only equals ``None``)."""
    if expected is None or actual is None:
        assert actual is None and expected is None, f"{what}: {actual!r} != {expected!r}"
        return
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol=0, atol=tol, err_msg=what
    )


def in_order(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The files in the order the original ``main()`` read them (its mean's summation order)."""
    by_name = {f["name"]: f for f in case["files"]}
    return [by_name[n] for n in case["expected_aggregate"]["file_order_used"]]


def scores(record: dict[str, Any], words: bool, sensitivity: float = 0.2) -> Any:
    return curve_scores(
        record["region_area"],
        record["insertion_score"],
        record["deletion_score"],
        record["insertion_word_score"] if words else None,
        record["deletion_word_score"] if words else None,
        sensitivity,
    )


def check_faith(case: dict[str, Any]) -> None:
    results = []
    for f in in_order(case):
        s, exp, name = scores(f["record"], True, case["sensitiveity"]), f["expected"], f["name"]
        for key in ("insertion_auc", "deletion_auc", "highest_confidence"):
            close(getattr(s, key), exp[key], f"{name}.{key}")
            close(getattr(s, key + "_sensitive"), exp[key + "_sensitive"], f"{name}.{key}_sensitive")
        assert s.sensitive.tolist() == exp["sensitive_token_mask"], name
        assert bool(s.sensitive.any()) == exp["has_sensitive_tokens"], name
        for curve in ("insertion", "deletion"):
            close(getattr(s, curve + "_curve")[0], exp[curve + "_curve_x"], f"{name}.{curve}_curve_x")
            close(getattr(s, curve + "_curve")[1], exp[curve + "_curve_y"], f"{name}.{curve}_curve_y")
        results.append(s)
    agg, exp_agg = faithfulness_aggregate(results), case["expected_aggregate"]
    for key, value in agg.items():
        close(value, exp_agg[key], f"aggregate.{key}")
    assert len(results) == exp_agg["n_files"]
    assert sum(bool(s.sensitive.any()) for s in results) == exp_agg["n_files_with_sensitive_tokens"]
    assert exp_agg["printed"] == (
        "Insertion AUC Score: {insertion_auc:.4f}\nDeletion AUC Score: {deletion_auc:.4f}\n"
        "Average highest confidence: {highest_confidence:.4f}\n"
        "Insertion Sensitiveity AUC Score: {insertion_auc_sensitive:.4f}\n"
        "Deletion Sensitiveity AUC Score: {deletion_auc_sensitive:.4f}\n"
        "Sensitiveity Average highest confidence: {highest_confidence_sensitive:.4f}".format(**agg)
    )


def check_halluc(case: dict[str, Any]) -> None:
    results, amcr, csr = [], [], []
    for f in in_order(case):
        rec, exp, name = f["record"], f["expected"], f["name"]
        s = scores(rec, False)
        for key in ("insertion_auc", "deletion_auc", "highest_confidence"):
            close(getattr(s, key), exp[key], f"{name}.{key}")
        a, c = correction_entries(rec["region_area"], rec["revised_answering"], rec["label"])
        close(a, exp["amcr_entries"], f"{name}.amcr_entries")
        assert c == exp["csr10_entries"], name
        results.append(s)
        amcr += a
        csr += c
    exp_agg = case["expected_aggregate"]
    agg = {**faithfulness_aggregate(results), **correction_aggregate(amcr, csr)}
    for key in ("insertion_auc", "deletion_auc", "highest_confidence", "AMCR", "CSR_10"):
        close(agg[key], exp_agg[key], f"aggregate.{key}")
    assert (len(amcr), len(csr)) == (exp_agg["n_amcr_entries"], exp_agg["n_csr_entries"])
    assert exp_agg["printed"] == (
        "Insertion AUC Score: {insertion_auc:.4f}\nDeletion AUC Score: {deletion_auc:.4f}\n"
        "Average highest confidence: {highest_confidence:.4f}\n"
        "Average Minimal Correction Region (AMCR): {AMCR:.4f}\n"
        "Correction Success Rate under Budget (CSR@10%): {CSR_10:.2%}".format(**agg)
    )


def add_value(f: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rec = f["record"]
    return attribution_map(
        np.asarray(f["label_map"]), f["order"], rec["smdl_score"], rec["org_score"], rec["baseline_score"]
    )


def check_vis(case: dict[str, Any]) -> None:
    for f in case["files"]:
        exp, name, rec = f["expected"], f["name"], f["record"]
        amap, values = add_value(f)
        assert str(amap.dtype) == exp["attribution_dtype"], name
        np.testing.assert_array_equal(amap, np.asarray(exp["attribution_map"], np.float64), err_msg=f"{name}.map")
        close(values, exp["values"], f"{name}.values")
        close(
            word_reliance(rec["region_area"], rec["insertion_word_score"], rec["baseline_score"]),
            exp["word_saliency"],
            name,
        )


def check_pg(case: dict[str, Any]) -> None:
    box, mask = [], []
    for f in case["files"]:
        exp, name, rec, size = f["expected"], f["name"], f["record"], tuple(f["image_size"])
        if case["mode"] == "eagle":
            amap, values = add_value(f)
            np.testing.assert_array_equal(amap, np.asarray(exp["add_value_map"], np.float64), err_msg=f"{name}.map")
            close(values, exp["add_value_values"], f"{name}.values")
            args = (np.asarray(f["label_map"]), f["order"], rec["smdl_score"], rec["org_score"], rec["baseline_score"])
            sal: np.ndarray | None = eagle_point_map(*args, size)
            same = np.asarray(exp["add_value_map"], np.float64)
        else:
            sal = baseline_point_map(np.asarray(f["map"], dtype=f["map_dtype"]), size)
            same = None
            assert sal is None or str(sal.dtype) == f["map_dtype"], f"{name}: normalised in the map's own dtype"
        if exp["resized_map"] is not None:
            assert sal is not None, name
            close(sal, exp["resized_map"], f"{name}.resized_map", 1e-6)
        elif sal is not None:  # null: the add_value map itself, unresized
            assert same is not None, name
            np.testing.assert_array_equal(sal, same, err_msg=f"{name}.unresized map")
        np.testing.assert_array_equal(
            segmentation_mask(rec["segmentation"], *size), np.asarray(exp["seg_mask"]), err_msg=name
        )
        outcome = point_game(sal, rec["location"], rec["segmentation"])
        assert outcome == (exp["pg_box"], exp["pg_mask"]), name
        box.append(outcome[0])
        mask.append(outcome[1])
    exp_agg = case["expected_aggregate"]
    assert (np.mean(box), np.mean(mask)) == (exp_agg["pg_box"], exp_agg["pg_mask"])
    assert exp_agg["printed"] == f"Point Game (Box): {np.mean(box)}\nPoint Game (Mask): {np.mean(mask)}"


CHECKS = {"eagle_faith": check_faith, "eagle_halluc": check_halluc, "eagle_vis": check_vis, "eagle_pg": check_pg}


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_eagle_metrics_match_the_reference(path: Path) -> None:
    case = load_case(path)
    CHECKS[case["family"]](case)
