"""How much memory a request needs, checked against what the device has before the pass runs.

Maps across layers keep, per extra decoder layer, its ``(L, c)`` output in the model's dtype (and
briefly a normed copy), then its TAM result: ``A`` and ``E`` ``(T, n_v)`` and ``omega``, ``R``
``(T, T)`` in float32. :func:`check_layers_fit` refuses a request above 80 % of the free memory of
the model's device, before any work, with what it would need and what to ask instead.
"""

from __future__ import annotations

import os
from typing import Any

import torch

GIB = 1024**3


def free_bytes(device: torch.device) -> int | None:
    """Free memory of ``device``: CUDA's own count, or the host's available memory; None when unknown."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    try:
        import psutil  # type: ignore[import-untyped]

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def layer_bytes(L: int, hidden: int, itemsize: int, n_items: int, n_vision: int) -> int:
    """Extra bytes one more layer costs: its states twice (raw and normed) and its TAM result."""
    return 2 * L * hidden * itemsize + 4 * (2 * n_items * n_vision + 2 * n_items * n_items)


def check_layers_fit(
    n_extra: int, L: int, hidden: int, itemsize: int, n_items: int, n_vision: int, device: Any
) -> None:
    """A ValueError when ``n_extra`` layers would not fit in 80 % of ``device``'s free memory."""
    if n_extra == 0:
        return
    per = layer_bytes(L, hidden, itemsize, n_items, n_vision)
    free = free_bytes(torch.device(device))
    if free is None or n_extra * per <= 0.8 * free:
        return
    fits = max(0, int(0.8 * free // per))
    raise ValueError(
        f"layers: {n_extra} extra layers need about {n_extra * per / GIB:.2f} GiB ({per / GIB:.3f} GiB each for "
        f"{L} positions and {n_vision} vision tokens) on {device}, where {free / GIB:.2f} GiB are free. "
        f"Ask for at most {fits} layers (e.g. every {max(2, -(-n_extra // max(fits, 1)))}th), or a shorter answer."
    )
