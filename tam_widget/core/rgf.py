"""Rank Gaussian filter, batched over any number of same-shaped maps.

For every cell, the ``k x k`` window (reflect padding, numpy's ``reflect``) is sorted and
averaged with Gaussian weights over *ranks*, centred on the median, whose width is the
window's coefficient of variation ``cv``. A window whose mean is not positive gives 0; a
constant window (``cv = 0``) gives its median, the limit of the weights as ``cv -> 0``.

The ``k^2`` window values are ordered by compare-exchange networks on whole buffers, in place, so
no ``(cells, k^2)`` window tensor or sort index is ever built: each padded column's ``k`` vertical
values are sorted once (they are shared by ``k`` windows side by side), then each window merges
its ``k`` sorted columns, read as shifted views (:mod:`.rgf_networks`). The weights are symmetric,
so ranks ``m - d`` and ``m + d`` share one weight ``exp(-d^2 / (2 cv^2))`` and only their sum is
read: the merge need only be right up to swaps within those pairs. For ``k = 3`` one ``exp`` a cell
gives all the weights (``g4 = g1^4``, ``g9 = g1^8 g1``, ``g16 = g1^16``).

Cells are filtered in chunks of about ``_CHUNK_CELLS`` in one reused :class:`Workspace`: the cost is
linear in the number of cells and the extra memory is ``O(chunk)`` (about ``k^2 + k + 7`` chunk-sized
buffers), whatever the batch. A chunk's torch calls only touch the workspace, so they are recorded
once per chunk shape (:mod:`.rgf_tape`) and replayed on every chunk: no Python work a chunk beyond
the calls themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import rgf_fused
from .rgf_networks import sorting_network, window_network
from .rgf_tape import ChunkTape, record, work_size

__all__ = [
    "Workspace",
    "check_kernel",
    "filter_into",
    "rank_gaussian_filter",
    "reflect_index",
    "sorting_network",
    "window_network",
    "workspace",
]

_CHUNK_CELLS = 1 << 17  # cells filtered at once (512 KiB a buffer in float32: the workspace stays near the caches)
_TAPES = 8  # chunk shapes whose recorded calls a workspace keeps


@dataclass
class Workspace:
    """A flat buffer for :func:`filter_into` and the calls recorded on it, per chunk shape."""

    buffer: torch.Tensor
    tapes: dict[tuple[tuple[int, ...], int, bool], ChunkTape] = field(default_factory=dict)

    def fits(self, maps: torch.Tensor, kernel: int) -> bool:
        """Whether ``maps`` can be filtered here (same dtype and device, room for a chunk)."""
        b = self.buffer
        return b.dtype == maps.dtype and b.device == maps.device and b.numel() >= _work_size(maps.shape, kernel)

    def tape(self, shape: tuple[int, ...], kernel: int, nonnegative: bool) -> ChunkTape:
        """The recorded calls of a ``shape`` chunk, recorded on first use."""
        key = (shape, kernel, nonnegative)
        if key not in self.tapes:
            if len(self.tapes) >= _TAPES:
                self.tapes.pop(next(iter(self.tapes)))
            self.tapes[key] = record(shape, kernel, self.buffer, nonnegative=nonnegative)
        return self.tapes[key]


def reflect_index(n: int, pad: int, device: torch.device | None = None) -> torch.Tensor:
    """Indices of a length-``n`` axis padded by ``pad`` cells with numpy's ``reflect`` mode."""
    idx = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * (n - 1)
    m = torch.remainder(idx, period)
    return torch.where(m >= n, period - m, m)


def rank_gaussian_filter(maps: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Filter ``(B, h, w)`` maps; returns ``(B, h, w)`` in the input's float dtype."""
    check_kernel(kernel)
    out = torch.empty_like(maps)
    filter_into(maps[:, None], out[:, None], kernel)
    return out


def check_kernel(kernel: int) -> None:
    """Refuse a kernel size the filter has no window for (it needs an odd size >= 1)."""
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"The rank Gaussian filter needs an odd kernel size >= 1, got {kernel}.")


def workspace(maps: torch.Tensor, kernel: int) -> Workspace:
    """A workspace for :func:`filter_into` on ``(B, F, h, w)`` maps of this dtype and device."""
    return Workspace(maps.new_empty(_work_size(maps.shape, kernel)))


def _work_size(shape: torch.Size, kernel: int) -> int:
    rows = min(shape[0], _rows_per_chunk(shape))
    return work_size((rows, shape[1], shape[2], shape[3]), kernel)


def filter_into(
    maps: torch.Tensor,
    out: torch.Tensor,
    kernel: int,
    work: Workspace | None = None,
    *,
    nonnegative: bool = False,
) -> Workspace | None:
    """Filter ``(B, F, h, w)`` maps (any strides) into ``out`` (same shape, any strides): compiled a frame
    at a time where :func:`.rgf_fused.usable`, else replayed torch calls in chunks over ``B``, with ``work``
    (from :func:`workspace`) made here when not given or not fit for ``maps``. ``nonnegative=True``
    promises maps without negative values (the caller's word, unchecked) and skips masking windows whose
    mean is not positive: those are then all zeros, which give 0 anyway. Returns the workspace for the
    next call (``work`` itself on the compiled path, which needs none)."""
    check_kernel(kernel)
    if rgf_fused.usable(maps, out):
        rgf_fused.filter_into(maps, out, kernel, nonnegative=nonnegative)
        return work
    if work is None or not work.fits(maps, kernel):
        work = workspace(maps, kernel)
    step = _rows_per_chunk(maps.shape)
    for start in range(0, maps.shape[0], step):
        chunk = maps[start : start + step]
        _filter_chunk(chunk, out[start : start + step], work.tape(tuple(chunk.shape), kernel, nonnegative), kernel)
    return work


def _rows_per_chunk(shape: torch.Size) -> int:
    return max(1, _CHUNK_CELLS // max(1, shape[1] * shape[2] * shape[3]))


def _filter_chunk(maps: torch.Tensor, out: torch.Tensor, chunk: ChunkTape, kernel: int) -> None:
    """Load ``maps`` into the chunk's padded buffer, replay its calls, write the filtered maps into ``out``."""
    (h, w), pad = maps.shape[-2:], kernel // 2
    if pad >= min(h, w):  # more than one reflection (or a one-cell axis): gather by index
        rows, cols = reflect_index(h, pad, maps.device), reflect_index(w, pad, maps.device)
        chunk.padded.copy_(maps[:, :, rows][:, :, :, cols])
    else:
        chunk.interior.copy_(maps)
    chunk.tape.play()
    if chunk.positive is None:
        torch.div(chunk.num, chunk.den, out=out)
        return
    torch.mul(chunk.num.div_(chunk.den), chunk.positive, out=out)
