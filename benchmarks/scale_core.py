"""bench_scale's core figures, measured in child processes, one tree (baseline or current) each.

A child is this file run as a script with ``PYTHONPATH`` naming the tree under test (its ``tam_widget``
is imported, not this checkout's). ``python benchmarks/scale_core.py --serve`` is a timing worker the
parent drives with one command a line (:class:`Worker`), answering each with one JSON line; the parent
keeps one worker per tree for the whole run and alternates between them, run by run.

- ``build CASE``: the case's inputs and the floor's tensors, then one untimed floor and core run (the
  warm-up: lazy imports, thread pools, the heap grown to the case). The two trees' workers build at
  the same time; nothing is timed then.
- ``run``: one floor then one core run (the parent asks each tree in turn, so floor and core, base and
  new interleave), each with its wall time (``perf_counter``) and CPU time (``process_time``: every
  thread of the process), and ``others_s``: the CPU seconds the rest of the machine spent meanwhile
  (``/proc/stat``'s busy and steal time less this process's own), which says how loaded it was.

What is timed: ``core``: ``make_case(...).compute()`` then ``.maps().u8`` (the default TAM maps);
``floor``: the work TAM cannot avoid, as plain products of the same shapes on random tensors: reading
the LM head once (one ``(c,)`` row against the whole head, row blocks on all threads as the core's
argmax does, then the argmax), the class logits ``(n_v + T, c) x (c, T)`` and ECI's ``Omega @ A``
``(T, T) x (T, n_v)``. The threaded matvec is this file's own copy, so the floor is the same code in
both trees, and its thread pool is kept (a new pool a call made it 10x slower).

``result_bytes``: the result's own size, A and E ``(T, n_v)`` and Omega and R ``(T, T)`` in float32,
whatever the code stores (the yardstick of the memory bound).

``python benchmarks/scale_core.py CASE --memory``: ``peak_extra_bytes``, in a fresh process the parent
starts with glibc's mmap threshold pinned at 64 KiB (as bench_core.py): every tensor larger than that
is mapped on allocation and unmapped on release, so the rise of the resident set during one core run
(``VmHWM`` after a reset), after a warm-up on a tiny case, is the peak of the extra tensors, inputs
excluded. Memory is not a matter of time, so these children may run beside other work.

The workers run with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` at 1 GiB, so the timed
runs reuse the heap (glibc's own threshold rises to that after a few runs; until then each run maps and
faults in its tensors afresh, up to 10x slower at T = 1,024), and with the OpenMP settings a user's
process gets (``OMP_WAIT_POLICY`` as inherited, unset by default): a passive policy, tempting on a shared
machine because a waiting thread then sleeps instead of spinning, costs each of the filter's many short
parallel ops a thread wake-up (measured: ``maps()`` at T = 1,024 x 9,216 takes 0.16 s by default and
0.33-0.74 s passive), so it would time a configuration nobody runs. Run the benchmark on a quiet machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from procmem import reset_peak, status_kb  # this script's folder (run as a script, see the docstring)

VOCAB, WIDTH, N_PROMPT = 151936, 1536, 20  # Qwen2-VL-2B's LM head; 20 prompt tokens
GRID, VIDEO_GRID = (36, 36), (32, 36)  # one 1008 x 1008 image; a 896 x 1008 video frame group

# name -> (T items, grids)
CASES: dict[str, tuple[int, tuple[tuple[int, ...], ...]]] = {
    "T256": (256, (GRID,)),
    "T1024": (1024, (GRID,)),
    "T4096": (4096, (GRID,)),
    "nv9216_T1024": (1024, ((8, *VIDEO_GRID),)),
    "nv18432_T1024": (1024, ((16, *VIDEO_GRID),)),
    "nv18432_T4096": (4096, ((16, *VIDEO_GRID),)),
}
TIMED_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0", "OMP_WAIT_POLICY": "PASSIVE"}


def build(name: str) -> Any:
    from tam_widget.testing.synthetic import make_case

    T, grids = CASES[name]
    return make_case(vocab=VOCAB, width=WIDTH, grids=grids, n_prompt=N_PROMPT, n_answer=T - N_PROMPT, seed=0)


def matvec(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """``matrix @ vector`` as row blocks on all intra-op threads (``torch.mv`` uses one core)."""
    threads = torch.get_num_threads()
    out = torch.empty(matrix.shape[0], dtype=matrix.dtype)
    blocks = list(zip(matrix.chunk(threads), out.chunk(threads), strict=True))
    pending = [_pool(threads).submit(torch.mv, m, vector, out=o) for m, o in blocks[1:]]
    torch.mv(blocks[0][0], vector, out=blocks[0][1])
    for job in pending:
        job.result()
    return out


@lru_cache(maxsize=4)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, threads - 1), thread_name_prefix="floor-matvec")


def floor_fn(lm_head: torch.Tensor, T: int, n_v: int) -> Callable[[], None]:
    """The floor's three products on random tensors of TAM's shapes (allocated here, outside the timing)."""
    g = torch.Generator().manual_seed(1)
    row = torch.randn(lm_head.shape[1], generator=g)
    states, classes = torch.randn(n_v + T, lm_head.shape[1], generator=g), torch.randn(lm_head.shape[1], T, generator=g)
    omega, A = torch.rand(T, T, generator=g), torch.rand(T, n_v, generator=g)

    def run() -> None:
        int(torch.argmax(matvec(lm_head, row)))
        states @ classes
        omega @ A

    return run


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``: user to steal, less idle and iowait)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def clocked(fn: Callable[[], object]) -> dict[str, float]:
    """Wall and CPU seconds of ``fn()``, and the CPU seconds the rest of the machine spent meanwhile."""
    busy, wall, cpu = machine_busy_s(), time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "others_s": max(0.0, machine_busy_s() - busy - cpu)}


class Bench:
    """One case's core and floor, warmed up (see the docstring's ``build``)."""

    def __init__(self, name: str) -> None:
        self.case, self.T = build(name), CASES[name][0]
        self.n_v = self.case.vision.n_tokens
        self.floor = floor_fn(self.case.lm_head, self.T, self.n_v)
        self.floor()
        self.core()

    def core(self) -> None:
        result = self.case.compute()
        result.maps().u8  # noqa: B018  (the maps, materialised)
        assert result.n_items == self.T, (result.n_items, self.T)

    def facts(self) -> dict[str, int]:
        return {"T": self.T, "n_v": self.n_v, "result_bytes": 4 * (2 * self.T * self.n_v + 2 * self.T * self.T)}

    def run(self) -> dict[str, dict[str, float]]:
        return {"floor": clocked(self.floor), "core": clocked(self.core)}


def serve() -> None:
    """The timing worker: a hello line, then one JSON line per command read from stdin."""
    import tam_widget

    hello = {"tam_widget": tam_widget.__file__, "threads": torch.get_num_threads()}
    print(json.dumps(hello | {"omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}), flush=True)
    bench: Bench | None = None
    for line in sys.stdin:
        command, *args = line.split()
        if command == "build":
            bench = None  # the last case's tensors go first
            bench = Bench(args[0])
            print(json.dumps(bench.facts()), flush=True)
        elif command == "run" and bench is not None:
            print(json.dumps(bench.run()), flush=True)
        else:
            raise SystemExit(f"scale_core: unknown command {line!r}")


class Worker:
    """The parent's handle on one tree's timing worker (see the docstring)."""

    def __init__(self, tree: Path) -> None:
        self.tree, self.log = tree, tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed by close())
        env = {**os.environ, "PYTHONPATH": str(tree), **TIMED_ENV}
        cmd = [sys.executable, __file__, "--serve"]
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        self.hello = self.receive()
        if not Path(self.hello["tam_widget"]).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"scale_core.py imported {self.hello['tam_widget']}, not the tree {tree}")

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise SystemExit(f"scale_core.py under {self.tree} failed:\n{self.log.read()[-3000:]}")
        out: dict[str, Any] = json.loads(line)
        return out

    def close(self) -> dict[str, Any]:
        """Stop the worker; its hello (its tam_widget, threads and OpenMP wait policy)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()
        self.log.close()
        return self.hello


def peak_extra_bytes(name: str) -> dict[str, object]:
    """The resident set's rise during one core run (run in a process with the mmap threshold pinned)."""
    import tam_widget
    from tam_widget.testing.synthetic import make_case

    make_case(grids=((2, 4, 4),)).compute().maps().u8  # noqa: B018  (warm-up: lazy imports, thread pools)
    case = build(name)
    reset_peak()
    before = status_kb("VmRSS")
    case.compute().maps().u8  # noqa: B018
    return {"tam_widget": tam_widget.__file__, "peak_extra_bytes": (status_kb("VmHWM") - before) * 1024}


def median_runs(runs: list[dict[str, dict[str, float]]]) -> dict[str, float]:
    """Medians of the runs' clocks (``floor_s``, ``core_s``, ``floor_cpu_s``, ``core_cpu_s``) and the
    share of the machine's cores the rest of it kept busy meanwhile (``others_share``)."""
    out = {}
    for part in ("floor", "core"):
        out[f"{part}_s"] = statistics.median(r[part]["wall_s"] for r in runs)
        out[f"{part}_cpu_s"] = statistics.median(r[part]["cpu_s"] for r in runs)
    others = sum(r[p]["others_s"] for r in runs for p in ("floor", "core"))
    wall = sum(r[p]["wall_s"] for r in runs for p in ("floor", "core"))
    return out | {"others_share": others / (wall * (os.cpu_count() or 1))}


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve()
    elif sys.argv[2:] == ["--memory"]:
        print(json.dumps(peak_extra_bytes(sys.argv[1])))
    else:
        raise SystemExit(__doc__)
