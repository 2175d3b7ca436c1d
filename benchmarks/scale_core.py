"""bench_scale's core figures, measured in a child process for one tree (baseline or current) and one case.

Run as a script with ``PYTHONPATH`` naming the tree under test (its ``tam_widget`` is imported, not
this checkout's): ``python benchmarks/scale_core.py CASE REPEAT`` (or ``CASE --memory``) prints one JSON object.

- ``core_s``: ``make_case(...).compute()`` then ``.maps().u8`` (the default TAM maps), median of
  ``REPEAT`` runs after one warm-up.
- ``floor_s``: the work TAM cannot avoid, as plain products of the same shapes on random tensors,
  median of ``REPEAT`` runs interleaved with the core's (floor, core, floor, core, ...): reading the
  LM head once (one ``(c,)`` row against the whole head, row blocks on all threads as the core's
  argmax does, then the argmax), the class logits ``(n_v + T, c) x (c, T)`` and ECI's
  ``Omega @ A`` ``(T, T) x (T, n_v)``. The threaded matvec is this file's own copy, so the floor is
  the same code in both trees.
- ``result_bytes``: the result's own size, A and E ``(T, n_v)`` and Omega and R ``(T, T)`` in float32,
  whatever the code stores (the yardstick of the memory bound).
- ``peak_extra_bytes`` (``CASE --memory``, in a fresh process the parent starts with glibc's mmap
  threshold pinned at 64 KiB, as bench_core.py): every tensor larger than that is mapped on
  allocation and unmapped on release, so the rise of the resident set during one core run
  (``VmHWM`` after a reset), after a warm-up on a tiny case, is the peak of the extra tensors,
  inputs excluded.

The timed process runs with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` at 1 GiB, so
the timed runs reuse the heap from the first on (glibc's own threshold rises to that after a few
runs; until then each run maps and faults in its tensors afresh, up to 10x slower at T = 1,024).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

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


def build(name: str) -> object:
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


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_extra_bytes(name: str) -> dict[str, object]:
    """The resident set's rise during one core run (run in a process with the mmap threshold pinned)."""
    import tam_widget
    from tam_widget.testing.synthetic import make_case

    make_case(grids=((2, 4, 4),)).compute().maps().u8  # noqa: B018  (warm-up: lazy imports, thread pools)
    case: object = build(name)
    reset_peak()
    before = status_kb("VmRSS")
    case.compute().maps().u8  # type: ignore[attr-defined]  # noqa: B018
    return {"tam_widget": tam_widget.__file__, "peak_extra_bytes": (status_kb("VmHWM") - before) * 1024}


def measure(name: str, repeat: int) -> dict[str, object]:
    import tam_widget

    case: object = build(name)
    T, n_v = CASES[name][0], case.vision.n_tokens  # type: ignore[attr-defined]
    floor = floor_fn(case.lm_head, T, n_v)  # type: ignore[attr-defined]

    def core() -> None:
        result = case.compute()  # type: ignore[attr-defined]
        result.maps().u8  # noqa: B018  (the maps, materialised)
        assert result.n_items == T, (result.n_items, T)

    floor(), core()  # warm-up
    floors, cores = [], []
    for _ in range(repeat):
        floors.append(timed(floor))
        cores.append(timed(core))
    return {
        "tam_widget": tam_widget.__file__,
        "T": T,
        "n_v": n_v,
        "floor_s": statistics.median(floors),
        "core_s": statistics.median(cores),
        "result_bytes": 4 * (2 * T * n_v + 2 * T * T),
    }


if __name__ == "__main__":
    name, how = sys.argv[1], sys.argv[2]
    print(json.dumps(peak_extra_bytes(name) if how == "--memory" else measure(name, int(how))))
