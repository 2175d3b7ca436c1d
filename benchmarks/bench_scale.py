"""Long answers and long videos (issue 16): the core against its floor, the page's size and speed, beside today's code.

Every figure is measured for two trees in the same run: this checkout ("new") and ``--baseline``
(default 93e6be0, the commit before issue 16's changes; "base"), materialised once under
``.bench-cache/base-<rev>`` by ``git archive`` (the repository's git state is not touched) with its
own JS bundle (``js/node_modules`` linked from this checkout when the lock files match, else
``npm ci``). Each tree runs in its own child processes with ``PYTHONPATH`` set to it (the children
report ``tam_widget.__file__`` and are refused if it is not that tree's).

Core (benchmarks/scale_core.py; synthetic inputs of Qwen2-VL-2B's LM head, 151,936 x 1,536, float32):
``make_case(...).compute().maps()`` for T in {256, 1,024, 4,096} at n_v = 1,296 (one 36 x 36 grid)
and n_v in {9,216, 18,432} (8 or 16 groups of 32 x 36) at T = 1,024; full mode adds T = 4,096 at
n_v = 18,432. ``floor s``: the work TAM cannot avoid as plain products of its shapes (the LM head
read once, the class logits, Omega @ A), timed in the same process interleaved with the core;
``ratio`` = core / floor; ``peak MB``: the peak extra memory of one core run; ``result MB``: the
result's own size (A, E, Omega, R in float32), the yardstick of the memory bound.

Page (benchmarks/scale_page.py; the public ``explain`` on a random tiny Qwen2-VL, ``save_html``):
two 36 x 36 pictures at T in {276, 1,024, 2,048} and a 16-frame video (9,216 vision tokens) at
T = 1,024; full mode adds a 32-frame video (18,432) at T = 2,048. ``html MB``: the exported file;
``first paint ms``: median over loads; ``switch p95 ms``: one token click (bench_widget's SWITCH);
``slider frame ms``: mean interval while the ECI slider moves every animation frame (bench_widget's
FRAMES; 16.7 = 60 Hz) and the dropped frames. The baseline's pages are cached by revision and the
recipe (scale_page.py's text); the new tree's are rebuilt every run.

    python benchmarks/bench_scale.py --quick            # < 3 minutes with the baseline's pages cached
    python benchmarks/bench_scale.py                    # every case, more repeats, loads and frames
    python benchmarks/bench_scale.py --baseline none    # the new tree only

``--quick``: 1 timed core run a case (not 5), no T = 2,048 picture page, 2 loads (not 5), every
8th token for the switch (not all), 60 slider frames (not 240). Needs chromium (see tests/browser.py).
The last line is one JSON object: each key for the new tree and as ``baseline_<key>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for extra in (HERE, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

import scale_page  # noqa: E402

CORE_QUICK = ["T256", "T1024", "T4096", "nv9216_T1024", "nv18432_T1024"]
CORE_FULL = [*CORE_QUICK, "nv18432_T4096"]
PAGE_QUICK = ["img_T276", "img_T1024", "vid16_T1024"]
PAGE_FULL = ["img_T276", "img_T1024", "img_T2048", "vid16_T1024", "vid32_T2048"]


def materialise(rev: str, cache: Path) -> Path:
    """The baseline tree at ``rev`` with its JS bundle, built once under ``cache``."""
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", rev + "^{commit}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = cache / f"base-{full[:12]}"
    if (tree / ".built").exists():
        return tree
    tree.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", full], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {rev} failed")
    js = tree / "js"
    if (js / "package-lock.json").read_bytes() == (ROOT / "js" / "package-lock.json").read_bytes():
        (js / "node_modules").symlink_to(ROOT / "js" / "node_modules")
    else:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=js, check=True)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=js, check=True, capture_output=True)
    (tree / ".built").write_text(full)
    return tree


TIMED_HEAP = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}  # see scale_core.py
MEMORY_HEAP = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def child(tree: Path, script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a scale_* script under ``tree``'s tam_widget; its last stdout line, checked to come from that tree."""
    env = {**os.environ, "PYTHONPATH": str(tree), **(env or {})}
    proc = subprocess.run([sys.executable, str(HERE / script), *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{script} {' '.join(args)} under {tree} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(out["tam_widget"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{script} imported {out['tam_widget']}, not the tree {tree}")
    return out


def core_rows(trees: dict[str, Path], cases: list[str], repeat: int) -> dict[str, dict[str, Any]]:
    """Per case, per side: the core's figures; the sides alternate case by case."""
    rows: dict[str, dict[str, Any]] = {}
    for case in cases:
        rows[case] = {s: child(t, "scale_core.py", case, str(repeat), env=TIMED_HEAP) for s, t in trees.items()}
        for side, tree in trees.items():
            rows[case][side] |= child(tree, "scale_core.py", case, "--memory", env=MEMORY_HEAP)
        for r in rows[case].values():
            r |= {
                "ratio": r["core_s"] / r["floor_s"],
                "peak_mb": r["peak_extra_bytes"] / 2**20,
                "result_mb": r["result_bytes"] / 2**20,
            }
        print(f"  core {case}: " + ", ".join(f"{s} {r['core_s']:.3f} s" for s, r in rows[case].items()), flush=True)
    return rows


def page_files(trees: dict[str, Path], cases: list[str], tmp: Path, cache: Path) -> dict[str, dict[str, Path]]:
    """Per case, per side: the exported page (the baseline's from the cache when there)."""
    recipe = hashlib.sha256((HERE / "scale_page.py").read_bytes()).hexdigest()[:12]
    out: dict[str, dict[str, Path]] = {}
    for case in cases:
        out[case] = {}
        for side, tree in trees.items():
            path = (cache / f"pages-{tree.name}-{recipe}" if side == "base" else tmp) / f"{case}.html"
            if side != "base" or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f"{case}.part.html")  # renamed when whole: an interrupted run leaves no page
                made = child(tree, "scale_page.py", case, str(part))
                part.rename(path)
                print(
                    f"  page {case} ({side}): explain {made['explain_s']:.1f} s, save {made['save_s']:.1f} s",
                    flush=True,
                )
            out[case][side] = path
    return out


def page_rows(files: dict[str, dict[str, Path]], loads: int, stride: int, frames: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for case, pages in files.items():
        rows[case] = scale_page.measure(pages, loads, stride, frames)
        for side, path in pages.items():
            rows[case][side]["html_mb"] = path.stat().st_size / 1e6
    return rows


CORE_FIGURES = [
    ("floor_s", "floor s", 3),
    ("core_s", "core s", 3),
    ("ratio", "core/floor", 2),
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


def table(rows: dict[str, dict[str, Any]], figures: list[tuple[str, str, int]]) -> None:
    for case, sides in rows.items():
        for key, label, digits in figures:
            base, new = sides.get("base", {}).get(key), sides["new"][key]
            ratio = f"{new / base:.2f}x" if base else "-"
            shown = "-" if base is None else f"{base:,.{digits}f}"
            print(f"{case:<15}{label:<17}{shown:>12}{new:>12,.{digits}f}{ratio:>10}")


def summary(core: dict[str, Any], pages: dict[str, Any], side: str) -> dict[str, float]:
    return {
        "core_floor_ratio_max": max(r[side]["ratio"] for r in core.values()),
        "core_peak_mb_T4096": core["T4096"][side]["peak_mb"],
        "html_mb_vid16_T1024": pages["vid16_T1024"][side]["html_mb"],
        "switch_p95_ms_max": max(r[side]["switch_p95_ms"] for r in pages.values()),
        "first_paint_ms_vid16_T1024": pages["vid16_T1024"][side]["first_paint_ms"],
    }


def report(core: dict[str, Any], pages: dict[str, Any], baseline: str, wall: float) -> None:
    """The table (case, figure, baseline, new, new / baseline), then the JSON line."""
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; baseline {baseline}; wall {wall:.0f} s")
    print(f"{'case':<15}{'figure':<17}{'baseline':>12}{'new':>12}{'new/base':>10}")
    table(core, CORE_FIGURES)
    table(pages, PAGE_FIGURES)
    out: dict[str, Any] = summary(core, pages, "new")
    if baseline != "none":
        out |= {f"baseline_{k}": v for k, v in summary(core, pages, "base").items()}
    keep = {k for k, _, _ in CORE_FIGURES + PAGE_FIGURES}
    out = {k: round(v, 3) for k, v in out.items()} | {"baseline": baseline, "wall_s": round(wall, 1)}
    out["cases"] = {
        case: {side: {k: round(v, 4) for k, v in r.items() if k in keep} for side, r in sides.items()}
        for case, sides in {**core, **pages}.items()
    }
    print(json.dumps(out))


def stale_bundle(tree: Path) -> None:
    """Warn when a tree's JS sources are newer than its bundle (scripts/build-js.sh rebuilds it)."""
    bundle = tree / "tam_widget" / "display" / "static" / "widget.js"
    newest = max(p.stat().st_mtime for p in (tree / "js" / "src").rglob("*"))
    if not bundle.exists() or bundle.stat().st_mtime < newest:
        print(f"warning: {tree}/js/src is newer than its bundle: run scripts/build-js.sh there", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, loads, frames and page cases")
    parser.add_argument("--baseline", default="93e6be0", help="the revision to compare with, or 'none'")
    parser.add_argument("--new", type=Path, default=ROOT, help="the tree to measure (default: this checkout)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache", help="baseline trees and pages")
    args = parser.parse_args()
    start = time.perf_counter()
    stale_bundle(args.new)
    trees = {"new": args.new}
    if args.baseline != "none":
        trees = {"base": materialise(args.baseline, args.cache), "new": args.new}
    quick = args.quick
    core = core_rows(trees, CORE_QUICK if quick else CORE_FULL, 1 if quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        files = page_files(trees, PAGE_QUICK if quick else PAGE_FULL, Path(tmp), args.cache)
        pages = page_rows(files, *((2, 8, 60) if quick else (5, 1, 240)))
    report(core, pages, args.baseline, time.perf_counter() - start)


if __name__ == "__main__":
    main()
