"""Rank Gaussian filter, batched over any number of same-shaped maps.

For every cell, the ``k x k`` window (reflect padding, numpy's ``reflect``) is sorted and
averaged with Gaussian weights over *ranks*, centred on the median, whose width is the
window's coefficient of variation ``cv``. A window whose mean is not positive gives 0; a
constant window (``cv = 0``) gives its median, the limit of the weights as ``cv -> 0``.

The ``k^2`` window values are sorted by compare-exchange networks on whole buffers, in place, so
no ``(cells, k^2)`` window tensor or sort index is ever built: each padded column's ``k`` vertical
values are sorted once (they are shared by ``k`` windows side by side), then each window merges
its ``k`` sorted columns, read as shifted views (for ``k = 3``: 3 + 16 comparators a cell instead
of a 9-sort's 25). The weights are symmetric, so ranks ``m - d`` and ``m + d`` share one weight
``exp(-d^2 / (2 cv^2))``; for ``k = 3`` one ``exp`` a cell gives them all (``g4 = g1^4``,
``g9 = g1^8 g1``, ``g16 = g1^16``). Cells are filtered in chunks of about ``_CHUNK_CELLS`` into one
reused workspace: the cost is linear in the number of cells and the extra memory is ``O(chunk)``
(about ``k^2 + k + 8`` chunk-sized buffers), whatever the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_CHUNK_CELLS = 1 << 17  # cells filtered at once (512 KiB a buffer in float32: the workspace stays near the caches)
_SPARE = 6  # workspace buffers besides the k^2 window values
_EXP_FLOOR = -87.0  # lowest exponent of a weight: exp(-87) ~ 1.6e-38, float32's smallest normal

# an optimal sorting network for 9 inputs (25 comparators, depth 7; Knuth, TAOCP vol. 3, 5.3.4)
_NETWORK_9 = (
    (0, 3), (1, 7), (2, 5), (4, 8),
    (0, 7), (2, 4), (3, 8), (5, 6),
    (0, 2), (1, 3), (4, 5), (7, 8),
    (1, 4), (3, 6), (5, 7),
    (0, 1), (2, 4), (3, 5), (6, 8),
    (2, 3), (4, 5), (6, 7),
    (1, 2), (3, 4), (5, 6),
)  # fmt: skip


def reflect_index(n: int, pad: int, device: torch.device | None = None) -> torch.Tensor:
    """Indices of a length-``n`` axis padded by ``pad`` cells with numpy's ``reflect`` mode."""
    idx = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * (n - 1)
    m = torch.remainder(idx, period)
    return torch.where(m >= n, period - m, m)


# merges three sorted triples (0-2, 3-5, 6-8, each ascending) into 9 sorted values: 16 comparators (found by
# a beam search over compare-exchange sequences, checked on every 0-1 input in the tests)
_MERGE_3X3 = (
    (0, 3), (1, 4), (2, 5), (2, 8), (1, 7), (3, 6), (4, 7), (0, 3),
    (5, 8), (2, 6), (1, 3), (5, 7), (2, 3), (3, 4), (4, 6), (5, 6),
)  # fmt: skip


def window_network(kernel: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs that sort a ``kernel x kernel`` window whose columns are each sorted
    ascending, stored column after column (``k = 3``: a 16-comparator merge; else a full sort)."""
    return _MERGE_3X3 if kernel == 3 else sorting_network(kernel * kernel)


def sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs ``(i, j)``, ``i < j``, that sort ``n`` values ascending."""
    if n == 9:
        return _NETWORK_9
    return tuple((i, i + 1) for rnd in range(n) for i in range(rnd % 2, n - 1, 2))  # odd-even transposition


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


def workspace(maps: torch.Tensor, kernel: int) -> torch.Tensor:
    """A flat workspace for :func:`filter_into` on ``(B, F, h, w)`` maps: ``k^2 + 6`` buffers of one
    chunk's cells, the chunk's padded maps and ``k + 1`` buffers of its padded columns."""
    return maps.new_empty(_work_size(maps.shape, kernel))


def _work_size(shape: torch.Size, kernel: int) -> int:
    batch, frames, h, w = shape
    rows, pad = min(batch, _rows_per_chunk(shape)), kernel // 2
    return rows * frames * ((kernel * kernel + _SPARE) * h * w + (h + 2 * pad + (kernel + 1) * h) * (w + 2 * pad))


def filter_into(
    maps: torch.Tensor,
    out: torch.Tensor,
    kernel: int,
    work: torch.Tensor | None = None,
    *,
    nonnegative: bool = False,
) -> torch.Tensor:
    """Filter ``(B, F, h, w)`` maps (any strides) into ``out`` (same shape, any strides), in chunks
    over ``B``; ``work`` (from :func:`workspace`) is allocated here when not given or too small.
    ``nonnegative=True`` promises maps without negative values (the caller's word, unchecked) and
    skips masking windows whose mean is not positive: those are then all zeros, which give 0 anyway.
    Returns the workspace used, for the next call."""
    if work is None or work.numel() < _work_size(maps.shape, kernel):
        work = workspace(maps, kernel)
    step = _rows_per_chunk(maps.shape)
    for start in range(0, maps.shape[0], step):
        _filter_chunk(maps[start : start + step], out[start : start + step], kernel, work, nonnegative)
    return work


def _rows_per_chunk(shape: torch.Size) -> int:
    return max(1, _CHUNK_CELLS // max(1, shape[1] * shape[2] * shape[3]))


def _filter_chunk(maps: torch.Tensor, out: torch.Tensor, kernel: int, work: torch.Tensor, nonnegative: bool) -> None:
    shape, n, pad = maps.shape, kernel * kernel, kernel // 2
    (b, f, h, w), cells = shape, maps.numel()
    buf = [work[i * cells : (i + 1) * cells].view(shape) for i in range(n + _SPARE)]
    padded = _padded(maps, pad, work[(n + _SPARE) * cells :])
    rest, col_cells = work[(n + _SPARE) * cells + padded.numel() :], b * f * h * (w + 2 * pad)
    cols = [rest[i * col_cells : (i + 1) * col_cells].view(b, f, h, w + 2 * pad) for i in range(kernel + 1)]
    mu, var, tmp, g, den = buf[n + 1 : n + _SPARE]
    _window_sums(padded, kernel, cols[0], mu, square=False)
    _window_sums(padded, kernel, cols[0], var, square=True)
    mu /= n
    mu2 = torch.mul(mu, mu, out=tmp)
    # E[x^2] - mu^2, at least the smallest normal: a constant window may round either way, and a flat zero
    # window then gives 0 / tiny = 0 instead of 0 / 0 (its weights stay finite; it is masked below)
    var.div_(n).sub_(mu2).clamp_(min=torch.finfo(var.dtype).tiny)
    neg_inv = torch.div(mu2, var, out=var).mul_(-0.5)  # -1 / (2 cv^2), very negative where cv ~ 0 (the median)
    # no exponent below _EXP_FLOOR: exp leaves its fast path there (10-40x slower a cell), and the weights it
    # would give are below float32's smallest normal anyway
    neg_inv.clamp_(min=_EXP_FLOOR)
    x = _sorted_windows(padded, w, kernel, cols, buf[: n + 1])
    num = _weighted_ranks(x, neg_inv, g, den)
    if nonnegative:  # a window's mean is then positive or the window is all zeros, which gives 0 / den = 0
        torch.div(num, den, out=out)
        return
    positive = torch.sign(mu, out=tmp).clamp_(min=0)  # 1 where the mean is positive, else 0 (no bool mask: slow)
    torch.mul(num.div_(den), positive, out=out)


def _window_sums(padded: torch.Tensor, kernel: int, cols: torch.Tensor, out: torch.Tensor, *, square: bool) -> None:
    """``out``: every cell's window sum of the values (or their squares), separably: the ``k``-row
    column sums into ``cols``, then ``k`` of those side by side."""
    b, f, h, w = out.shape
    if kernel == 1:
        torch.mul(padded, padded, out=out) if square else out.copy_(padded)
        return
    col = cols[: b * f * h * padded.shape[-1]].view(b, f, h, padded.shape[-1])
    rows = [padded[:, :, i : i + h] for i in range(kernel)]
    if square:
        torch.mul(rows[0], rows[0], out=col)
        for r in rows[1:]:
            col.addcmul_(r, r)
    else:
        torch.add(rows[0], rows[1], out=col)
        for r in rows[2:]:
            col += r
    torch.add(col[..., 0:w], col[..., 1 : 1 + w], out=out)
    for j in range(2, kernel):
        out += col[..., j : j + w]


def _weighted_ranks(x: list[torch.Tensor], neg_inv: torch.Tensor, g: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``sum_i w_i x_(i)`` with ``w = exp(-d^2 inv)`` at rank distance ``d`` from the median (in
    ``x``'s median buffer); leaves ``sum_i w_i`` in ``den``. Clobbers ``x`` and ``neg_inv``."""
    m = len(x) // 2
    num = x[m]
    den.zero_()
    if m == 4:  # kernel 3: g4, g9 and g16 as powers of g1 (one exp a cell)
        g1 = neg_inv.exp_()
        num.addcmul_(g1, x[3].add_(x[5]))
        den.copy_(g1)
        torch.mul(g1, g1, out=g).mul_(g)  # g^4
        num.addcmul_(g, x[2].add_(x[6]))
        den += g
        g.mul_(g)  # g^8
        g1.mul_(g)  # g^9
        num.addcmul_(g1, x[1].add_(x[7]))
        den += g1
        g.mul_(g)  # g^16
        num.addcmul_(g, x[0].add_(x[8]))
        den += g
    else:
        for d in range(1, m + 1):
            torch.mul(neg_inv, float(d * d), out=g).clamp_(min=_EXP_FLOOR).exp_()
            num.addcmul_(g, x[m - d].add_(x[m + d]))
            den += g
    den.mul_(2).add_(1)
    return num


def _padded(maps: torch.Tensor, pad: int, space: torch.Tensor) -> torch.Tensor:
    """``(B, F, h + 2 pad, w + 2 pad)``: the maps with numpy's ``reflect`` padding on both axes,
    written into ``space``."""
    b, f, h, w = maps.shape
    if pad == 0:
        return maps
    out = space[: b * f * (h + 2 * pad) * (w + 2 * pad)].view(b, f, h + 2 * pad, w + 2 * pad)
    if pad >= min(h, w):  # more than one reflection (or a one-cell axis): gather by index
        rows, cols = reflect_index(h, pad, maps.device), reflect_index(w, pad, maps.device)
        out.copy_(maps[:, :, rows][:, :, :, cols])
        return out
    out[:, :, pad : pad + h, pad : pad + w] = maps
    for i in range(1, pad + 1):
        out[:, :, pad - i, pad : pad + w] = out[:, :, pad + i, pad : pad + w]
        out[:, :, pad + h - 1 + i, pad : pad + w] = out[:, :, pad + h - 1 - i, pad : pad + w]
    for j in range(1, pad + 1):
        out[:, :, :, pad - j] = out[:, :, :, pad + j]
        out[:, :, :, pad + w - 1 + j] = out[:, :, :, pad + w - 1 - j]
    return out


def _sorted_windows(
    padded: torch.Tensor, w: int, kernel: int, cols: list[torch.Tensor], space: list[torch.Tensor]
) -> list[torch.Tensor]:
    """Every cell's ``k^2`` window values, sorted ascending across ``k^2`` of the ``space`` buffers:
    each padded column's ``k`` vertical values are sorted once (into ``cols``), shared by the ``k``
    windows that hold them, then every window merges its ``k`` sorted columns."""
    h = cols[0].shape[-2]
    column, _ = _run_network([padded[:, :, i : i + h] for i in range(kernel)], sorting_network(kernel), cols)
    views = [column[r][..., c : c + w] for c in range(kernel) for r in range(kernel)]  # column after column
    x, free = _run_network(views, window_network(kernel), space)
    return [v if _owned(v, space) else free.pop().copy_(v) for v in x]  # kernel 1: no comparator wrote it


def _run_network(
    values: list[torch.Tensor], network: Sequence[tuple[int, int]], pool: list[torch.Tensor]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Apply the compare-exchange ``network`` to ``values``: the given tensors are only read, every
    result goes into a ``pool`` buffer (one more than the values suffices). Returns the values in
    order and the pool's buffers left free."""
    x, free = list(values), list(pool)

    def owned(t: torch.Tensor) -> bool:
        return _owned(t, pool)

    for i, j in network:
        a, b = x[i], x[j]
        if owned(a) and owned(b):
            lo = free.pop()
            torch.minimum(a, b, out=lo)
            torch.maximum(a, b, out=b)
            free.append(a)
            x[i] = lo
        elif owned(a):
            x[j] = torch.maximum(a, b, out=free.pop())
            torch.minimum(a, b, out=a)
        else:
            x[i] = torch.minimum(a, b, out=free.pop())
            x[j] = b if owned(b) else free.pop()
            torch.maximum(a, b, out=x[j])
    return x, free


def _owned(t: torch.Tensor, pool: list[torch.Tensor]) -> bool:
    return any(t is p for p in pool)
