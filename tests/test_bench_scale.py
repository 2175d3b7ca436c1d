"""benchmarks/bench_scale.py's own machinery: the summary line and the baseline tree it builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_scale, scale_core

ROOT = Path(__file__).resolve().parents[1]
NOTES = {"skipped": bench_scale.skipped("quick")}


def _rows(scale: float) -> tuple[dict[str, Any], dict[str, Any]]:
    def core(ratio: float, peak: float) -> dict[str, Any]:
        clocks = {"floor_s": 1.0, "core_s": ratio, "floor_cpu_s": 2.0, "core_cpu_s": 2.0 * ratio, "others_share": 0.1}
        return clocks | {"ratio": ratio, "clock": "wall", "peak_mb": peak, "result_mb": 1.0}

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
    bench_scale.report(core, pages, "abc1234", 12.0, NOTES)
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
    assert out["skipped"] == NOTES["skipped"]


def test_quick_names_what_it_skips_and_keeps_every_headline_case() -> None:
    skipped = bench_scale.skipped("quick")
    assert skipped["core"] == ["nv18432_T1024", "nv18432_T4096"]
    assert skipped["pages"] == ["img_T2048", "vid32_T2048"]
    assert "T4096" not in skipped["memory"] and "T4096" in bench_scale.CORE["quick"]  # core_peak_mb_T4096
    assert "vid16_T1024" in bench_scale.PAGES["quick"]
    assert bench_scale.skipped("full") == {"core": [], "memory": [], "pages": []}


def test_the_ratio_is_in_cpu_time_for_both_sides_when_the_machine_is_overloaded() -> None:
    def side(others: float) -> dict[str, float]:
        return {"floor_s": 1.0, "core_s": 3.0, "floor_cpu_s": 2.0, "core_cpu_s": 2.4, "others_share": others}

    def ratios(base: float, new: float) -> dict[str, Any]:
        sides = {"base": side(base) | {"result_bytes": 2**20}, "new": side(new) | {"result_bytes": 2**20}}
        bench_scale.with_ratios(sides)
        return sides

    quiet = ratios(0.0, bench_scale.OVERLOADED)
    assert [(r["clock"], r["ratio"]) for r in quiet.values()] == [("wall", 3.0), ("wall", 3.0)]
    busy = ratios(0.0, 2 * bench_scale.OVERLOADED)  # one side's runs overloaded: both in CPU time
    assert [(r["clock"], r["ratio"]) for r in busy.values()] == [("cpu", 1.2), ("cpu", 1.2)]
    assert busy["new"]["ratio_wall"] == 3.0 and busy["new"]["result_mb"] == 1.0


def test_the_median_of_the_runs_and_the_rest_of_the_machines_share() -> None:
    def run(floor: float, core: float, others: float) -> dict[str, dict[str, float]]:
        return {
            "floor": {"wall_s": floor, "cpu_s": 2 * floor, "others_s": others},
            "core": {"wall_s": core, "cpu_s": 2 * core, "others_s": 0.0},
        }

    runs = [run(1.0, 5.0, 0.0), run(3.0, 1.0, 6.0), run(2.0, 2.0, 0.0)]
    got = scale_core.median_runs(runs)
    assert (got["floor_s"], got["core_s"], got["floor_cpu_s"], got["core_cpu_s"]) == (2.0, 2.0, 4.0, 4.0)
    assert got["others_share"] == pytest.approx(6.0 / (14.0 * (os.cpu_count() or 1)))


def test_without_a_baseline_there_are_no_baseline_keys(capsys: pytest.CaptureFixture[str]) -> None:
    core, pages = _rows(scale=1.0)
    for rows in (core, pages):
        for sides in rows.values():
            del sides["base"]
    bench_scale.report(core, pages, "none", 1.0, NOTES)
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
