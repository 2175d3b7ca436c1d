"""benchmarks/bench_scale.py's own machinery: the summary line and the baseline tree it builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_scale

ROOT = Path(__file__).resolve().parents[1]


def _rows(scale: float) -> tuple[dict[str, Any], dict[str, Any]]:
    def core(ratio: float, peak: float) -> dict[str, float]:
        return {"floor_s": 1.0, "core_s": ratio, "ratio": ratio, "peak_mb": peak, "result_mb": 1.0}

    def page(mb: float, p95: float, paint: float) -> dict[str, float]:
        shown = {"html_mb": mb, "switch_p95_ms": p95, "first_paint_ms": paint}
        return shown | {"slider_frame_ms": 16.7, "slider_dropped": 0}

    cores = {"T256": (1.1, 5.0), "T4096": (2.8, 370.0), "nv18432_T1024": (4.0, 90.0)}
    pages = {"img_T276": (7.7, 43.0, 200.0), "vid16_T1024": (84.0, 21.0, 900.0)}
    return (
        {c: {"base": core(*v), "new": core(v[0] / scale, v[1] / scale)} for c, v in cores.items()},
        {c: {"base": page(*v), "new": page(*(x / scale for x in v))} for c, v in pages.items()},
    )


def test_the_last_line_carries_each_headline_figure_for_both_trees(capsys: pytest.CaptureFixture[str]) -> None:
    core, pages = _rows(scale=2.0)
    bench_scale.report(core, pages, "abc1234", 12.0)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    want = {
        "core_floor_ratio_max": 4.0,  # the largest ratio, not the T = 4,096 one
        "core_peak_mb_T4096": 370.0,
        "html_mb_vid16_T1024": 84.0,
        "switch_p95_ms_max": 43.0,
        "first_paint_ms_vid16_T1024": 900.0,
    }
    for key, value in want.items():
        assert out[f"baseline_{key}"] == value, key
        assert out[key] == value / 2, key
    assert out["cases"]["vid16_T1024"]["new"]["html_mb"] == 42.0


def test_without_a_baseline_there_are_no_baseline_keys(capsys: pytest.CaptureFixture[str]) -> None:
    core, pages = _rows(scale=1.0)
    for rows in (core, pages):
        for sides in rows.values():
            del sides["base"]
    bench_scale.report(core, pages, "none", 1.0)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert not [k for k in out if k.startswith("baseline_")]
    assert out["core_floor_ratio_max"] == 4.0


@pytest.mark.slow
def test_the_baseline_tree_is_that_revision_with_its_own_bundle(tmp_path: Path) -> None:
    tree = bench_scale.materialise("HEAD", tmp_path)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert (tree / ".built").read_text() == head.stdout.strip()
    assert (tree / "tam_widget" / "display" / "static" / "widget.js").stat().st_size > 0
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = "import tam_widget; print(tam_widget.__file__)"
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/")
    assert Path(found.stdout.strip()).is_relative_to(tree)
    assert bench_scale.materialise("HEAD", tmp_path) == tree  # built once
