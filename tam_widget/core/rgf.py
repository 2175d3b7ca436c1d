"""Rank Gaussian filter, batched over any number of same-shaped maps.

For every cell, the ``k x k`` window (reflect padding, numpy's ``reflect``) is sorted and
averaged with Gaussian weights over *ranks*, centred on the median, whose width is the
window's coefficient of variation ``cv``. A window whose mean is not positive gives 0; a
constant window (``cv = 0``) gives its median, the limit of the weights as ``cv -> 0``.

The ``k^2`` window values are kept as ``k^2`` shifted views of the padded maps and sorted by a
compare-exchange network (for ``k = 3`` an optimal 25-comparator one), in place, so no
``(cells, k^2)`` window tensor or sort index is ever built. The weights are symmetric, so ranks
``m - d`` and ``m + d`` share one weight ``exp(-d^2 / (2 cv^2))``; for ``k = 3`` one ``exp`` a cell
gives them all (``g4 = g1^4``, ``g9 = g1^8 g1``, ``g16 = g1^16``). Cells are filtered in chunks of
about ``_CHUNK_CELLS`` into one reused workspace: the cost is linear in the number of cells and
the extra memory is ``O(chunk)`` (about ``k^2 + 8`` chunk-sized buffers), whatever the batch.
"""

from __future__ import annotations

import math

import torch

_CHUNK_CELLS = 1 << 17  # cells filtered at once (512 KiB a buffer in float32: the workspace stays near the caches)
_SPARE = 6  # workspace buffers besides the k^2 window values

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
    chunk's cells and the chunk's padded maps."""
    return maps.new_empty(_work_size(maps.shape, kernel))


def _work_size(shape: torch.Size, kernel: int) -> int:
    batch, frames, h, w = shape
    rows, pad = min(batch, _rows_per_chunk(shape)), kernel // 2
    return rows * frames * ((kernel * kernel + _SPARE) * h * w + (h + 2 * pad) * (w + 2 * pad))


def filter_into(maps: torch.Tensor, out: torch.Tensor, kernel: int, work: torch.Tensor | None = None) -> torch.Tensor:
    """Filter ``(B, F, h, w)`` maps (any strides) into ``out`` (same shape, any strides), in chunks
    over ``B``; ``work`` (from :func:`workspace`) is allocated here when not given or too small.
    Returns the workspace used, for the next call."""
    if work is None or work.numel() < _work_size(maps.shape, kernel):
        work = workspace(maps, kernel)
    step = _rows_per_chunk(maps.shape)
    for start in range(0, maps.shape[0], step):
        _filter_chunk(maps[start : start + step], out[start : start + step], kernel, work)
    return work


def _rows_per_chunk(shape: torch.Size) -> int:
    return max(1, _CHUNK_CELLS // max(1, shape[1] * shape[2] * shape[3]))


def _filter_chunk(maps: torch.Tensor, out: torch.Tensor, kernel: int, work: torch.Tensor) -> None:
    shape, n = maps.shape, kernel * kernel
    cells = maps.numel()
    buf = [work[i * cells : (i + 1) * cells].view(shape) for i in range(n + _SPARE)]
    padded = _padded(maps, kernel // 2, work[(n + _SPARE) * cells :])
    x, spare = _load_sorted(padded, shape, kernel, buf[:n], buf[n])
    mu, var, tmp, g, den = buf[n + 1 : n + _SPARE]
    mu.copy_(x[0])  # the sum in the order of the ranks
    for xi in x[1:]:
        mu += xi
    mu /= n
    torch.mul(torch.sub(x[0], mu, out=tmp), tmp, out=var)
    for xi in x[1:]:
        var.addcmul_(torch.sub(xi, mu, out=tmp), tmp)
    var /= n
    cv2 = var.div_(torch.mul(mu, mu, out=tmp))
    neg_inv = torch.reciprocal(cv2, out=spare).mul_(-0.5)  # -inf where cv = 0: only the median's weight stays
    neg_inv.nan_to_num_(nan=0.0, posinf=math.inf, neginf=-math.inf)  # 0 / 0 (flat zero window): finite weights
    positive = torch.sign(mu, out=tmp).clamp_(min=0)  # 1 where the mean is positive, else 0 (no bool mask: slow)
    num = _weighted_ranks(x, neg_inv, g, den)
    torch.mul(num.div_(den), positive, out=out)


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
            torch.mul(neg_inv, float(d * d), out=g).exp_()
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


def _load_sorted(
    padded: torch.Tensor, shape: torch.Size, kernel: int, x: list[torch.Tensor], spare: torch.Tensor
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The window values of every cell, sorted ascending across the ``x`` buffers (the first
    layer of comparators reads the shifted views directly); returns them and a free buffer."""
    h, w = shape[-2:]
    views = [padded[:, :, i : i + h, j : j + w] for i in range(kernel) for j in range(kernel)]
    network = sorting_network(len(views))
    first: list[tuple[int, int]] = []
    for i, j in network:  # the leading comparators on distinct values, one layer
        if any(k in pair for pair in first for k in (i, j)):
            break
        first.append((i, j))
    touched = {k for pair in first for k in pair}
    for i, j in first:
        torch.minimum(views[i], views[j], out=x[i])
        torch.maximum(views[i], views[j], out=x[j])
    for k in set(range(len(views))) - touched:
        x[k].copy_(views[k])
    for i, j in network[len(first) :]:
        torch.minimum(x[i], x[j], out=spare)
        torch.maximum(x[i], x[j], out=x[j])
        x[i], spare = spare, x[i]
    return x, spare
