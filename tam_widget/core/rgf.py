"""Rank Gaussian filter, batched over any number of same-shaped maps.

For every cell, the ``k x k`` window (reflect padding, numpy's ``reflect``) is sorted and
averaged with Gaussian weights over *ranks*, centred on the median, whose width is the
window's coefficient of variation ``cv``. A window whose mean is not positive gives 0; a
constant window (``cv = 0``) gives its median, the limit of the weights as ``cv -> 0``.

The ``k^2`` window values are kept as ``k^2`` shifted views of the padded maps and sorted by a
compare-exchange network, so no ``(cells, k^2)`` window tensor or sort index is ever built and
peak memory stays near ``k^2`` maps of one chunk.
"""

from __future__ import annotations

import torch

_CHUNK_CELLS = 16384  # cells filtered at once: bounds the temporaries to a few hundred KiB each


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
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"The rank Gaussian filter needs an odd kernel size >= 1, got {kernel}.")
    batch, h, w = maps.shape
    out = torch.empty_like(maps)
    step = max(1, _CHUNK_CELLS // max(1, h * w))
    for start in range(0, batch, step):
        out[start : start + step] = _filter_chunk(maps[start : start + step], kernel)
    return out


def _filter_chunk(maps: torch.Tensor, kernel: int) -> torch.Tensor:
    _, h, w = maps.shape
    pad, n = kernel // 2, kernel * kernel
    padded = maps[:, reflect_index(h, pad, maps.device)][:, :, reflect_index(w, pad, maps.device)]
    x = [padded[:, i : i + h, j : j + w].contiguous() for i in range(kernel) for j in range(kernel)]
    _sort_network(x)
    mu = _total(x) / n
    var = torch.zeros_like(mu)
    for xi in x:
        var += (xi - mu) ** 2
    var /= n
    positive = mu > 0
    cv2 = var / torch.where(positive, mu, torch.ones_like(mu)) ** 2
    inv = 0.5 / cv2  # inf where cv = 0: every weight but the median's vanishes
    num = torch.zeros_like(mu)
    den = torch.zeros_like(mu)
    for i, xi in enumerate(x):
        d2 = float((i - n // 2) ** 2)
        g = torch.exp(-d2 * inv) if d2 else torch.ones_like(mu)
        num.addcmul_(g, xi)
        den += g
    return torch.where(positive, num / den, torch.zeros_like(mu))


def _total(x: list[torch.Tensor]) -> torch.Tensor:
    acc = x[0].clone()
    for xi in x[1:]:
        acc += xi
    return acc


def _sort_network(x: list[torch.Tensor]) -> None:
    """Sort the list elementwise ascending in place (odd-even transposition network)."""
    n = len(x)
    for rnd in range(n):
        for i in range(rnd % 2, n - 1, 2):
            x[i], x[i + 1] = torch.minimum(x[i], x[i + 1]), torch.maximum(x[i], x[i + 1])
