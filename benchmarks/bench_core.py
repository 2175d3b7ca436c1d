"""TAM core vs. the reference's procedure on synthetic inputs of real model sizes.

Both compute every item's final uint8 map from the same hidden states and LM head; the
benchmark checks they agree (at most 1/255 apart), then prints wall time and the peak memory
of the extra tensors each one allocates (inputs excluded). The last line is one JSON object.

    python benchmarks/bench_core.py            # realistic + large case
    python benchmarks/bench_core.py --quick    # realistic case only (< 1 minute)
    python benchmarks/bench_core.py --device cuda   # also time the core on the GPU (fails without CUDA)

Peak memory is measured in a fresh child process per method with glibc's mmap threshold pinned
at 64 KiB, so every tensor larger than that is mapped on allocation and unmapped on release:
the peak resident set above the inputs (``VmHWM`` after a reset) is then the peak of the extra
tensors. Each method runs once to warm up before the measured run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.procmem import reset_peak, status_kb  # noqa: E402
from tam_widget.testing.reference import reference_maps  # noqa: E402
from tam_widget.testing.synthetic import SyntheticCase, make_case  # noqa: E402

# Qwen2-VL-2B: vocabulary 151,936, hidden 1,536 (float32 weights, as the reference's CPU path uses)
CASES: dict[str, dict[str, object]] = {
    "realistic": {"vocab": 151936, "width": 1536, "grids": ((17, 23),), "n_prompt": 12, "n_answer": 60},
    "large": {"vocab": 151936, "width": 1536, "grids": ((36, 36),), "n_prompt": 20, "n_answer": 256},
}


def build(name: str) -> SyntheticCase:
    return make_case(**CASES[name], seed=0)  # type: ignore[arg-type]


def run_core(case: SyntheticCase) -> np.ndarray:
    return case.compute().maps().u8.cpu().numpy()


def run_baseline(case: SyntheticCase) -> np.ndarray:
    return reference_maps(
        case.hidden, case.lm_head, case.token_ids, case.vision, case.prompt_positions, case.answer_start
    )


METHODS: dict[str, Callable[[SyntheticCase], np.ndarray]] = {"core": run_core, "baseline": run_baseline}


def child(method: str, name: str) -> None:
    """Run in a fresh process: warm up, reset the peak, run once, print the extra peak in bytes."""
    case = build(name)
    METHODS[method](case)
    reset_peak()
    before = status_kb("VmRSS")
    METHODS[method](case)
    print(json.dumps({"extra_bytes": (status_kb("VmHWM") - before) * 1024}))


def peak_extra_bytes(method: str, name: str) -> int:
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", method, name], env=env, capture_output=True, text=True, check=True
    )
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["extra_bytes"])


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def gpu_core_ms(case: SyntheticCase) -> float | None:
    if not torch.cuda.is_available():
        return None
    dev = replace(case, hidden=case.hidden.cuda(), lm_head=case.lm_head.cuda())

    def once() -> None:
        dev.compute().maps().u8.cpu()
        torch.cuda.synchronize()

    seconds, _ = timed(once, 20)
    return seconds * 1e3


def bench(name: str, base_repeat: int, core_repeat: int, gpu: bool = True) -> dict[str, object]:
    case = build(name)
    base_s, base_maps = timed(lambda: run_baseline(case), base_repeat)
    core_s, core_maps = timed(lambda: run_core(case), core_repeat)
    diff = int(np.abs(np.asarray(base_maps, dtype=np.int64) - np.asarray(core_maps, dtype=np.int64)).max())
    if diff > 1:
        raise SystemExit(f"{name}: the core and the baseline disagree by {diff}/255")
    base_mem, core_mem = peak_extra_bytes("baseline", name), peak_extra_bytes("core", name)
    res = case.compute()
    return {
        "case": name,
        "items": res.n_items,
        "vision_tokens": res.layout.n_tokens,
        "baseline_s": base_s,
        "core_s": core_s,
        "speedup": base_s / core_s,
        "baseline_mem_mb": base_mem / 2**20,
        "core_mem_mb": core_mem / 2**20,
        "memory_ratio": core_mem / base_mem,
        "max_map_diff": diff,
        "gpu_core_ms": gpu_core_ms(case) if gpu else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="realistic case only, fewer repeats")
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help="cpu: no GPU timing; cuda: the GPU timing, required (default: where CUDA is available)",
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available to this torch")
    names = ["realistic"] if args.quick else ["realistic", "large"]
    gpu = args.device != "cpu"
    rows = [bench(n, 1 if args.quick or n == "large" else 3, 10 if args.quick else 20, gpu) for n in names]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32; baseline = reference procedure")
    print(
        f"{'case':<10} {'items':>5} {'n_v':>5} {'baseline s':>11} {'core ms':>9} {'speedup':>8} "
        f"{'base MB':>9} {'core MB':>8} {'mem ratio':>10} {'GPU ms':>7}"
    )
    for r in rows:
        gpu = "-" if r["gpu_core_ms"] is None else f"{r['gpu_core_ms']:.2f}"
        print(
            f"{r['case']:<10} {r['items']:>5} {r['vision_tokens']:>5} {r['baseline_s']:>11.3f} "
            f"{1e3 * r['core_s']:>9.2f} {r['speedup']:>7.1f}x {r['baseline_mem_mb']:>9.1f} "
            f"{r['core_mem_mb']:>8.2f} {r['memory_ratio']:>10.4f} {gpu:>7}"
        )
    real = rows[0]
    summary = {
        "speedup": round(real["speedup"], 1),
        "memory_ratio": round(real["memory_ratio"], 5),
        "baseline_s": round(real["baseline_s"], 3),
        "core_ms": round(1e3 * real["core_s"], 2),
        "gpu_core_ms": real["gpu_core_ms"],
    }
    if len(rows) > 1:
        summary["large_speedup"] = round(rows[1]["speedup"], 1)
        summary["large_memory_ratio"] = round(rows[1]["memory_ratio"], 5)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
