"""bench_scale's output: the table (case, figure, baseline, new, new / baseline), then one JSON line.

The JSON carries each headline figure for the new tree and as ``baseline_<key>`` (:func:`summary`),
the notes (threads, what was skipped...) and every case's figures, rounded.
"""

from __future__ import annotations

import json
from typing import Any

CORE_FIGURES = [
    ("floor_s", "floor s", 3),
    ("core_s", "core s", 3),
    ("ratio_wall", "core/floor", 2),
    ("floor_cpu_s", "floor cpu s", 3),
    ("core_cpu_s", "core cpu s", 3),
    ("ratio_cpu", "core/floor cpu", 2),
    ("others_share", "others %", 0),
    ("peak_mb", "peak extra MB", 1),
    ("result_mb", "result MB", 1),
]
PAGE_FIGURES = [
    ("html_mb", "html MB", 1),
    ("first_paint_ms", "first paint ms", 0),
    ("switch_p95_ms", "switch p95 ms", 1),
    ("slider_frame_ms", "slider frame ms", 1),
    ("slider_dropped", "slider dropped", 0),
]


def cell(value: Any, digits: int, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.0f}%" if percent else f"{value:,.{digits}f}"


def table(rows: dict[str, dict[str, Any]], figures: list[tuple[str, str, int]]) -> None:
    for case, sides in rows.items():
        for key, label, digits in figures:
            base, new = sides.get("base", {}).get(key), sides["new"].get(key)
            ratio = f"{new / base:.2f}x" if base and new is not None else "-"
            shown = [cell(v, digits, key == "others_share") for v in (base, new)]
            print(f"{case:<15}{label:<17}{shown[0]:>12}{shown[1]:>12}{ratio:>10}")


def summary(core: dict[str, Any], pages: dict[str, Any], side: str) -> dict[str, float]:
    return {
        "core_floor_ratio_max": max(r[side]["ratio"] for r in core.values()),
        "core_peak_mb_T4096": core["T4096"][side]["peak_mb"],
        "html_mb_vid16_T1024": pages["vid16_T1024"][side]["html_mb"],
        "switch_p95_ms_max": max(r[side]["switch_p95_ms"] for r in pages.values()),
        "first_paint_ms_vid16_T1024": pages["vid16_T1024"][side]["first_paint_ms"],
    }


def report(core: dict[str, Any], pages: dict[str, Any], baseline: str, wall: float, notes: dict[str, Any]) -> None:
    """The table (case, figure, baseline, new, new / baseline), then the JSON line; ``notes``
    (threads, what was skipped, ...) go into both."""
    for key, value in notes.items():
        print(f"{key}: {value}")
    print(f"baseline {baseline}; wall {wall:.0f} s")
    print(f"{'case':<15}{'figure':<17}{'baseline':>12}{'new':>12}{'new/base':>10}")
    table(core, CORE_FIGURES)
    table(pages, PAGE_FIGURES)
    out: dict[str, Any] = summary(core, pages, "new")
    if baseline != "none":
        out |= {f"baseline_{k}": v for k, v in summary(core, pages, "base").items()}
    keep = {k for k, _, _ in CORE_FIGURES + PAGE_FIGURES} | {"ratio", "clock", "pictures"}
    out = {k: round(v, 3) for k, v in out.items()} | {"baseline": baseline, "wall_s": round(wall, 1)} | notes
    out["cases"] = {
        case: {side: {k: rounded(v) for k, v in r.items() if k in keep} for side, r in sides.items()}
        for case, sides in {**core, **pages}.items()
    }
    print(json.dumps(out))


def rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
