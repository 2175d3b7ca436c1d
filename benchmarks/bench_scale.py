"""Long answers and long videos (issue 16): the core against its floor, the page's size and speed, beside today's code.

Every figure is measured for two trees in the same run: this checkout ("new") and ``--baseline``
(default 93e6be0, the commit before issue 16's changes; "base"), materialised once under
``.bench-cache/base-<rev>`` by ``git archive`` (the repository's git state is not touched) with its
own JS bundle (``js/node_modules`` linked from this checkout when the lock files match, else ``npm
ci``). Each tree runs in its own child processes with ``PYTHONPATH`` set to it (the children report
``tam_widget.__file__`` and are refused if it is not that tree's; benchmarks/scale_trees.py). The
table and the JSON line: benchmarks/scale_report.py.

Core (benchmarks/scale_core.py; synthetic inputs of Qwen2-VL-2B's LM head, 151,936 x 1,536,
float32): ``make_case(...).compute().maps()`` for T in {256, 1,024, 4,096} at n_v = 1,296 (one 36 x
36 grid) and n_v in {9,216, 18,432} (8 or 16 groups of 32 x 36) at T = 1,024, and T = 4,096 at n_v =
18,432. ``floor``: the work TAM cannot avoid as plain products of its shapes (the LM head read once,
the class logits, Omega @ A). One timing worker a tree lives through the run (started first, its
first case built beside the untimed work below); per case both build and warm up, then the runs
alternate: base (floor, core), new (floor, core), new, base, ... Each figure is the median of a
case's runs, in wall time (``s``) and CPU time (``cpu s``, every thread of the process; the workers
run with the OpenMP settings a user's process gets: scale_core.py says why).
``core/floor``: the ratio in wall time, unless the machine was overloaded during the case's runs:
when the rest of it kept more than ``OVERLOADED`` (a fifth) of its cores busy (``others %``, from
/proc/stat), wall time measures the neighbours' share as much as the code, and the ratio is taken in
CPU time instead; both ratios are shown, and the JSON says per case which one counts (``clock``).
``peak extra MB``: the peak extra memory of one core run (in its own process); ``result MB``: the
result's own size (A, E, Omega, R in float32), the yardstick of the memory bound.

Page (benchmarks/scale_page.py; the public ``explain`` on a random tiny Qwen2-VL, ``save_html``):
two 36 x 36 pictures at T in {276, 1,024, 2,048} and a 16-frame video (9,216 vision tokens, frames
with +-3 grey levels of noise, as a camera's) at T = 1,024, and a 32-frame video (18,432) at T =
2,048. ``html MB``: the exported file; ``first paint ms``: median over fresh loads; ``switch p95
ms``: one token click (bench_widget's SWITCH); ``slider frame ms``: mean interval while the ECI
slider moves every animation frame (bench_widget's FRAMES; 16.7 = 60 Hz) and the dropped frames;
``pictures``: what the tree's encoder (tam_widget/display/images.py) put in the page. Pages are
cached under ``.bench-cache/pages-<digest>``, the digest of the tree's ``tam_widget`` files (its
bundle too), the page recipe (scale_page.py) and the versions of torch, transformers, numpy and
Pillow: a page is built again whenever anything it is made of changes, the new tree's after every
edit. The page builds and the memory children run side by side before the timed core runs (neither
is a figure of time).

    python benchmarks/bench_scale.py --quick            # < 3 minutes with the baseline's pages cached
    python benchmarks/bench_scale.py                    # every case, more runs, loads and frames
    python benchmarks/bench_scale.py --baseline none    # the new tree only

``--quick`` skips the core cases at n_v = 18,432 and the pages img_T2048 and vid32_T2048, measures
the peak memory of T4096 only, times 2 runs a core case (not 7; their median is their mean) and
loads each page twice (not 5), the last load clicking 64 evenly spaced tokens (not all) and moving
the slider for 60 frames (not 240). The output names what was skipped. Needs chromium (see
tests/browser.py). The last line is one JSON object: each headline key for the new tree and as
``baseline_<key>``, computed from the cases that ran (``core_floor_ratio_max`` over the core cases,
``switch_p95_ms_max`` over the pages), with ``skipped`` and the figures of every case."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for extra in (HERE, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

import scale_core  # noqa: E402
import scale_page  # noqa: E402
from scale_report import report  # noqa: E402
from scale_trees import child, finish, materialise, page_digest, prune, stale_bundle  # noqa: E402

CORE = {"quick": ["T256", "T1024", "T4096", "nv9216_T1024"], "full": list(scale_core.CASES)}
MEMORY = {"quick": ["T4096"], "full": list(scale_core.CASES)}  # T4096: core_peak_mb_T4096
PAGES = {"quick": ["img_T276", "img_T1024", "vid16_T1024"], "full": list(scale_page.CASES)}
RUNS = {"quick": 2, "full": 7}  # timed runs a core case, after the warm-up
BROWSER = {"quick": (2, 64, 60), "full": (5, 0, 240)}  # loads, tokens clicked (0: all), slider frames
OVERLOADED = 0.2  # the rest of the machine's share of its cores above which the ratio is in CPU time


def untimed(trees: dict[str, Path], memory: list[str], pages: list[str], cache: Path) -> tuple[Any, Any]:
    """Side by side: each tree's memory children and the pages not cached yet. Per case, per side:
    ``{"peak_mb"}``, and the page's path (with what its build said, when it was built)."""
    files: dict[str, dict[str, Any]] = {case: {} for case in pages}
    builds = {}
    for side, tree in trees.items():
        folder = cache / f"pages-{page_digest(tree)}"
        missing = [case for case in pages if not (folder / f"{case}.html").exists()]
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # the least recently used are pruned
        if missing:
            builds[side] = child(tree, "scale_page.py", str(folder), *missing, env={})
        for case in pages:
            files[case][side] = {"path": folder / f"{case}.html", "built": case in missing}
    peaks = {}
    for case in memory:  # one case at a time (both trees): up to 3 GB a process at n_v = 18,432
        mem = {
            side: child(tree, "scale_core.py", case, "--memory", env=scale_core.MEMORY_ENV)
            for side, tree in trees.items()
        }
        peaks |= {(case, side): finish(proc, trees[side])["peak_extra_bytes"] / 2**20 for side, proc in mem.items()}
    for side, proc in builds.items():
        for case, made in finish(proc, trees[side])["pages"].items():
            files[case][side] |= made
            shown = f"explain {made['explain_s']:.1f} s, save {made['save_s']:.1f} s, pictures {made['pictures']}"
            print(f"  page {case} ({side}): {shown}", flush=True)
    prune(cache, keep=8)
    return peaks, files


def core_rows(workers: dict[str, scale_core.Worker], cases: list[str], runs: int) -> dict[str, Any]:
    """Per case, per side: the core's figures, the sides' runs alternating (see the docstring). The
    workers have been sent ``build`` for the first case already (it goes beside the untimed work)."""
    rows: dict[str, dict[str, Any]] = {}
    for i, case in enumerate(cases):
        for worker in workers.values():
            if i > 0:
                worker.send(f"build {case}")
        facts = {side: worker.receive() for side, worker in workers.items()}
        got: dict[str, list[Any]] = {side: [] for side in workers}
        for k in range(runs):
            for side in list(workers) if k % 2 == 0 else list(workers)[::-1]:
                workers[side].send("run")
                got[side].append(workers[side].receive())
        rows[case] = {side: facts[side] | scale_core.median_runs(got[side]) for side in workers}
        with_ratios(rows[case])
        print(
            f"  core {case}: "
            + ", ".join(f"{s} {r['core_s']:.3f} s ({r['ratio']:.2f}x)" for s, r in rows[case].items()),
            flush=True,
        )
    return rows


def with_ratios(sides: dict[str, dict[str, Any]]) -> None:
    """Both clocks' core / floor, and the one that counts, the same for both sides (see the docstring)."""
    clock = "cpu" if max(r["others_share"] for r in sides.values()) > OVERLOADED else "wall"
    for r in sides.values():
        r["ratio_wall"], r["ratio_cpu"] = r["core_s"] / r["floor_s"], r["core_cpu_s"] / r["floor_cpu_s"]
        r["ratio"], r["clock"] = r[f"ratio_{clock}"], clock
        r["result_mb"] = r["result_bytes"] / 2**20


def skipped(mode: str) -> dict[str, list[str]]:
    full = {"core": CORE["full"], "memory": MEMORY["full"], "pages": PAGES["full"]}
    ran = {"core": CORE[mode], "memory": MEMORY[mode], "pages": PAGES[mode]}
    return {k: [c for c in full[k] if c not in ran[k]] for k in full}


def page_figures(files: dict[str, dict[str, Any]], mode: str) -> dict[str, Any]:
    paths = {case: {side: f["path"] for side, f in sides.items()} for case, sides in files.items()}
    rows = scale_page.measure(paths, *BROWSER[mode])
    for case, sides in rows.items():
        for side, r in sides.items():
            r["html_mb"] = paths[case][side].stat().st_size / 1e6
            r["pictures"] = files[case][side].get("pictures", "cached")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer cases, runs, loads and frames (< 3 minutes)")
    parser.add_argument("--baseline", default="93e6be0", help="the revision to compare with, or 'none'")
    parser.add_argument("--new", type=Path, default=ROOT, help="the tree to measure (default: this checkout)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache", help="baseline trees and pages")
    args = parser.parse_args()
    start, mode = time.perf_counter(), "quick" if args.quick else "full"
    stale_bundle(args.new)
    trees = {"new": args.new.resolve()}
    if args.baseline != "none":
        trees = {"base": materialise(args.baseline, args.cache), "new": args.new.resolve()}
    workers = {side: scale_core.Worker(tree) for side, tree in trees.items()}
    for worker in workers.values():
        worker.send(f"build {CORE[mode][0]}")
    peaks, files = untimed(trees, MEMORY[mode], PAGES[mode], args.cache.resolve())
    core = core_rows(workers, CORE[mode], RUNS[mode])
    hello = {side: worker.close() for side, worker in workers.items()}
    for (case, side), peak in peaks.items():
        core[case][side]["peak_mb"] = peak
    pages = page_figures(files, mode)
    threads = {side: f"{h['threads']} threads, OMP_WAIT_POLICY={h['omp_wait_policy']}" for side, h in hello.items()}
    notes = {"mode": mode, "core_threads": threads, "runs_per_core_case": RUNS[mode], "skipped": skipped(mode)}
    report(core, pages, args.baseline, time.perf_counter() - start, notes)


if __name__ == "__main__":
    main()
