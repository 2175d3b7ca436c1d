"""Long answers and long videos (issue 16): the core against its floor, the page's size and speed, beside today's code.

Every figure is measured for two trees in the same run: this checkout ("new") and ``--baseline``
(default 93e6be0, the commit before issue 16's changes; "base"), materialised once under
``.bench-cache/base-<rev>`` by ``git archive`` (the repository's git state is not touched) with its
own JS bundle (``js/node_modules`` linked from this checkout when the lock files match, else ``npm
ci``). Each tree runs in its own child processes with ``PYTHONPATH`` set to it (the children report
``tam_widget.__file__`` and are refused if it is not that tree's).

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
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for extra in (HERE, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

import scale_core  # noqa: E402
import scale_page  # noqa: E402

CORE = {"quick": ["T256", "T1024", "T4096", "nv9216_T1024"], "full": list(scale_core.CASES)}
MEMORY = {"quick": ["T4096"], "full": list(scale_core.CASES)}  # T4096: core_peak_mb_T4096
PAGES = {"quick": ["img_T276", "img_T1024", "vid16_T1024"], "full": list(scale_page.CASES)}
RUNS = {"quick": 2, "full": 7}  # timed runs a core case, after the warm-up
BROWSER = {"quick": (2, 64, 60), "full": (5, 0, 240)}  # loads, tokens clicked (0: all), slider frames
OVERLOADED = 0.2  # the rest of the machine's share of its cores above which the ratio is in CPU time
PAGE_PACKAGES = ("torch", "transformers", "numpy", "pillow")


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


def page_digest(tree: Path) -> str:
    """What a tree's pages are made of: its tam_widget files, the recipe and the packages' versions."""
    h = hashlib.sha256((HERE / "scale_page.py").read_bytes())
    h.update(" ".join(metadata.version(p) for p in PAGE_PACKAGES).encode())
    package = tree / "tam_widget"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def child(tree: Path, script: str, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A scale_* script started under ``tree``'s tam_widget (see :func:`finish`)."""
    env = {**os.environ, "PYTHONPATH": str(tree), **env}
    cmd = [sys.executable, str(HERE / script), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], tree: Path) -> dict[str, Any]:
    """A child's last stdout line, checked to come from ``tree``."""
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, proc.args))} under {tree} failed:\n{stderr[-3000:]}")  # type: ignore[arg-type]
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if not Path(out["tam_widget"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{proc.args} imported {out['tam_widget']}, not the tree {tree}")
    return out


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


def prune(cache: Path, keep: int) -> None:
    """Drop all but the ``keep`` most recently used page folders."""
    folders = sorted(cache.glob("pages-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder)


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


def stale_bundle(tree: Path) -> None:
    """Warn when a tree's JS sources are newer than its bundle (scripts/build-js.sh rebuilds it)."""
    bundle = tree / "tam_widget" / "display" / "static" / "widget.js"
    newest = max(p.stat().st_mtime for p in (tree / "js" / "src").rglob("*"))
    if not bundle.exists() or bundle.stat().st_mtime < newest:
        print(f"warning: {tree}/js/src is newer than its bundle: run scripts/build-js.sh there", flush=True)


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
