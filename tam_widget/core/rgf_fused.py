"""The rank Gaussian filter's compiled path: :mod:`.rgf_kernels` (numba) on CPU maps, on torch's threads.

Used by :func:`.rgf.filter_into` for float32 and float64 maps on the CPU when numba is installed (the
``fast`` extra) and ``TAM_WIDGET_NUMBA`` is not ``0``; anything else (CUDA, half precision, no numba)
replays the recorded torch calls. Both paths take the same steps; only ``exp`` differs (torch's vector
one there, :mod:`.rgf_kernels`' own here), so a cell may differ in its last bit. The kernels release the GIL, and
the frames are split over as many threads as torch uses (``torch.get_num_threads()``).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from types import ModuleType

import torch

ENV = "TAM_WIDGET_NUMBA"  # "0": always the recorded torch calls
_MIN_CELLS_PER_THREAD = 1 << 15  # fewer cells than this a thread: not worth a thread's hand-off
enabled = os.environ.get(ENV, "1") != "0"


@lru_cache(maxsize=1)
def kernels() -> ModuleType | None:
    """:mod:`.rgf_kernels`, or ``None`` where numba is not installed (or fails to import: warned once)."""
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        from . import rgf_kernels
    except ImportError as err:  # e.g. a numba release that does not support this numpy
        warnings.warn(
            f"tam-widget: numba is installed but does not import ({err}); the rank Gaussian filter "
            f"falls back to torch calls (set {ENV}=0 to silence this).",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return rgf_kernels


def usable(maps: torch.Tensor, out: torch.Tensor) -> bool:
    """Whether the compiled path can filter ``maps`` into ``out``."""
    return (
        enabled
        and maps.device.type == out.device.type == "cpu"
        and maps.dtype == out.dtype
        and maps.dtype in (torch.float32, torch.float64)
        and kernels() is not None
    )


def filter_into(maps: torch.Tensor, out: torch.Tensor, kernel: int, *, nonnegative: bool) -> None:
    """Filter ``(B, F, h, w)`` ``maps`` into ``out`` (as :func:`.rgf.filter_into`; :func:`usable` holds)."""
    module = kernels()
    assert module is not None
    src, dst = maps.detach().numpy(), out.detach().numpy()
    frames, cells = src.shape[0] * src.shape[1], src.size
    parts = max(1, min(torch.get_num_threads(), cells // _MIN_CELLS_PER_THREAD, frames))
    bounds = [frames * k // parts for k in range(parts + 1)]
    module.compiled(kernel == 3, src.dtype)  # compiled (or read from disk) here once, not by each thread at once
    run = module.filter_frames
    jobs = [_pool(parts).submit(run, src, dst, bounds[k], bounds[k + 1], kernel, nonnegative) for k in range(1, parts)]
    try:
        run(src, dst, bounds[0], bounds[1], kernel, nonnegative)
    finally:  # no thread still writing into ``out`` once this returns or raises
        for job in jobs:
            job.result()


@lru_cache(maxsize=4)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, threads - 1), thread_name_prefix="tam-widget-rgf")
