"""One chunk of the rank Gaussian filter, recorded as torch calls on workspace buffers.

:func:`record` lays out the buffers of a ``(b, F, h, w)`` chunk in a flat workspace and records every
call that takes the padded maps to the filter's numerator and denominator (reflect padding's edges,
window sums, the weights' width, the sorted windows, the weighted ranks). The calls only touch the
workspace, so :mod:`.rgf` replays the same tape on every chunk of that shape: it loads the chunk into
``interior`` first and divides ``num`` by ``den`` into the output after (see :mod:`.rgf` for the math).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .rgf_networks import Tape, run_network, sorting_network, window_network

SPARE = 4  # workspace buffers besides the k^2 + 1 of the window values
# lowest exponent of a weight: exp(-87) ~ 1.6e-38, float32's smallest normal. (exp, not exp2: exp2's vector
# and scalar paths round differently, so a cell's value would depend on where its chunk starts)
EXP_FLOOR = -87.0


@dataclass(frozen=True)
class ChunkTape:
    """A chunk's recorded calls and the buffers they read and leave their results in."""

    tape: Tape
    padded: torch.Tensor  # (b, F, h + 2 pad, w + 2 pad)
    interior: torch.Tensor  # padded's (b, F, h, w) middle, where the chunk's maps go before the tape plays
    num: torch.Tensor  # (b, F, h, w): sum_i w_i x_(i)
    den: torch.Tensor  # (b, F, h, w): sum_i w_i
    positive: torch.Tensor | None  # 1 where a window's mean is positive, else 0 (None: maps promised >= 0)


def work_size(shape: tuple[int, ...], kernel: int) -> int:
    """Elements of workspace one ``(b, F, h, w)`` chunk needs: ``k^2 + 1 + SPARE`` buffers of its cells, its
    padded maps and ``k + 1`` buffers of its padded columns."""
    b, f, h, w = shape
    pad = kernel // 2
    return b * f * ((kernel * kernel + 1 + SPARE) * h * w + (h + 2 * pad + (kernel + 1) * h) * (w + 2 * pad))


def record(shape: tuple[int, ...], kernel: int, space: torch.Tensor, *, nonnegative: bool) -> ChunkTape:
    """Record the filter of one ``(b, F, h, w)`` chunk on buffers carved from ``space``."""
    (b, f, h, w), n, pad = shape, kernel * kernel, kernel // 2
    cells, tape = b * f * h * w, Tape()
    buf = [space[i * cells : (i + 1) * cells].view(shape) for i in range(n + 1 + SPARE)]
    at = (n + 1 + SPARE) * cells
    padded = space[at : at + b * f * (h + 2 * pad) * (w + 2 * pad)].view(b, f, h + 2 * pad, w + 2 * pad)
    rest, col_cells = space[at + padded.numel() :], b * f * h * (w + 2 * pad)
    flat = [rest[i * col_cells : (i + 1) * col_cells] for i in range(kernel + 1)]
    cols = [c.view(b, f, h, w + 2 * pad) for c in flat]
    if pad < min(h, w):  # else the chunk is loaded with its padding, gathered by index
        _reflect_edges(tape, padded, pad)
    total, squares, positive, den = buf[n + 1 : n + 1 + SPARE]
    _window_sums(tape, padded, kernel, cols[0], total, square=False)
    _window_sums(tape, padded, kernel, cols[0], squares, square=True)
    if not nonnegative:  # else a window's mean is positive or the window is all zeros, which gives 0 anyway
        tape(torch.sign, total, out=positive)  # 1 where the mean is positive, else 0 (no bool mask: slow)
        tape(torch.Tensor.clamp_, positive, min=0)
    expo = _neg_inv(tape, total, squares, n)
    x = _sorted_windows(tape, padded, w, kernel, cols, buf[: n + 1])
    # the sorted columns are spent once the windows are merged: their buffers hold the weights' powers
    num, den = _weighted_ranks(tape, x, expo, [den, *(c[:cells].view(shape) for c in flat)])
    interior = padded[:, :, pad : pad + h, pad : pad + w]
    return ChunkTape(tape, padded, interior, num, den, None if nonnegative else positive)


def _reflect_edges(tape: Tape, padded: torch.Tensor, pad: int) -> None:
    """numpy's ``reflect`` padding of the interior onto the ``pad`` edge rows and columns (``pad`` is
    below the height and width: one reflection)."""
    h, w = padded.shape[-2] - 2 * pad, padded.shape[-1] - 2 * pad
    mid = slice(pad, pad + w)
    for i in range(1, pad + 1):
        tape(torch.Tensor.copy_, padded[:, :, pad - i, mid], padded[:, :, pad + i, mid])
        tape(torch.Tensor.copy_, padded[:, :, pad + h - 1 + i, mid], padded[:, :, pad + h - 1 - i, mid])
    for j in range(1, pad + 1):
        tape(torch.Tensor.copy_, padded[:, :, :, pad - j], padded[:, :, :, pad + j])
        tape(torch.Tensor.copy_, padded[:, :, :, pad + w - 1 + j], padded[:, :, :, pad + w - 1 - j])


def _window_sums(
    tape: Tape, padded: torch.Tensor, kernel: int, cols: torch.Tensor, out: torch.Tensor, *, square: bool
) -> None:
    """``out``: every cell's window sum of the values (or their squares), separably: the ``k``-row
    column sums into ``cols``, then ``k`` of those side by side."""
    h, w = out.shape[-2:]
    if kernel == 1:
        tape(torch.mul, padded, padded, out=out) if square else tape(torch.Tensor.copy_, out, padded)
        return
    rows = [padded[:, :, i : i + h] for i in range(kernel)]
    if square:
        tape(torch.mul, rows[0], rows[0], out=cols)
        for r in rows[1:]:
            tape(torch.Tensor.addcmul_, cols, r, r)
    else:
        tape(torch.add, rows[0], rows[1], out=cols)
        for r in rows[2:]:
            tape(torch.Tensor.add_, cols, r)
    tape(torch.add, cols[..., 0:w], cols[..., 1 : 1 + w], out=out)
    for j in range(2, kernel):
        tape(torch.Tensor.add_, out, cols[..., j : j + w])


def _neg_inv(tape: Tape, total: torch.Tensor, squares: torch.Tensor, n: int) -> torch.Tensor:
    """From the window sums of the values (``total``) and of their squares (``squares``, overwritten and
    returned): ``-1 / (2 cv^2)``, the weights' exponent at rank distance 1, at least ``EXP_FLOOR``. With
    ``S`` the sum and ``Q`` the sum of squares, ``n var = Q - S^2 / n`` and ``1 / cv^2 = S (S / (n var)) / n``."""
    tape(torch.Tensor.addcmul_, squares, total, total, value=-1.0 / n)  # n var
    # at least the smallest normal: a constant window may round either way (its weights then vanish: the
    # median), and a flat zero window gives 0 / tiny = 0 instead of 0 / 0 (weights 1, sum 0)
    tape(torch.Tensor.clamp_, squares, min=torch.finfo(squares.dtype).tiny)
    tape(torch.div, total, squares, out=squares)
    zero = squares.new_zeros(1).expand(squares.shape)
    tape(torch.addcmul, zero, squares, total, value=-0.5 / n, out=squares)
    # no exponent below EXP_FLOOR: exp leaves its fast path there (10-40x slower a cell), and the weights it
    # would give are below float32's smallest normal anyway
    tape(torch.Tensor.clamp_, squares, min=EXP_FLOOR)
    return squares


def _sorted_windows(
    tape: Tape, padded: torch.Tensor, w: int, kernel: int, cols: list[torch.Tensor], space: list[torch.Tensor]
) -> list[torch.Tensor]:
    """Every cell's ``k^2`` window values across ``k^2`` of the ``space`` buffers, ordered by
    :func:`~.rgf_networks.window_network`: each padded column's ``k`` vertical values are sorted once
    (into ``cols``), shared by the ``k`` windows that hold them, then every window merges its ``k``
    sorted columns."""
    h = cols[0].shape[-2]
    column, _ = run_network(tape, [padded[:, :, i : i + h] for i in range(kernel)], sorting_network(kernel), cols)
    views = [column[r][..., c : c + w] for c in range(kernel) for r in range(kernel)]  # column after column
    x, free = run_network(tape, views, window_network(kernel), space)
    owned = {id(s) for s in space}
    out = []
    for v in x:  # kernel 1: no comparator wrote the value
        out.append(v if id(v) in owned else free.pop())
        if out[-1] is not v:
            tape(torch.Tensor.copy_, out[-1], v)
    return out


def _weighted_ranks(
    tape: Tape, x: list[torch.Tensor], expo: torch.Tensor, spare: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``sum_i w_i x_(i)`` (in ``x``'s median buffer) and ``sum_i w_i`` (in ``spare[0]``), returned, with
    ``w = exp(d^2 expo)`` at rank distance ``d`` from the median. Only the pairs ``x[m - d] + x[m + d]``
    are read, so ``x`` need only be sorted up to swaps within those pairs. Clobbers ``x``, ``expo`` and
    ``spare`` (``den``, then scratch: four buffers for ``k = 3``, one otherwise)."""
    m = len(x) // 2
    num, den = x[m], spare[0]
    if m == 0:
        tape(torch.Tensor.fill_, den, 1)
        return num, den
    sums = [tape_add(tape, x[m - d], x[m + d]) for d in range(1, m + 1)]
    if m == 4:
        _weights_3x3(tape, expo, sums, num, spare)
    else:
        g = spare[1]
        tape(torch.Tensor.zero_, den)
        for d in range(1, m + 1):
            tape(torch.mul, expo, float(d * d), out=g)
            tape(torch.Tensor.clamp_, g, min=EXP_FLOOR)
            tape(torch.Tensor.exp_, g)
            tape(torch.Tensor.addcmul_, num, g, sums[d - 1])
            tape(torch.Tensor.add_, den, g)
        tape(torch.Tensor.mul_, den, 2)
        tape(torch.Tensor.add_, den, 1)
    return num, den


def _weights_3x3(
    tape: Tape, expo: torch.Tensor, sums: list[torch.Tensor], num: torch.Tensor, p: list[torch.Tensor]
) -> None:
    """Kernel 3: one ``exp`` a cell, ``g = exp(expo)``; the weights ``g, g^4, g^9, g^16`` by Horner's rule,
    ``num = x4 + g (s1 + g^3 (s2 + g^5 (s3 + g^7 s4)))`` and ``den = 1 + 2 g (1 + g^3 (1 + g^5 (1 + g^7)))``
    (``s_d`` the pair sums) into ``num`` and ``p[0]``, with ``g^2, g^3, g^5, g^7`` in ``p[1:5]``."""
    g, den, (g2, g3, g5, g7) = expo, p[0], p[1:5]
    one = den.new_ones(1).expand(den.shape)
    tape(torch.Tensor.exp_, g)
    tape(torch.mul, g, g, out=g2)
    tape(torch.mul, g2, g, out=g3)
    tape(torch.mul, g3, g2, out=g5)
    tape(torch.mul, g5, g2, out=g7)
    s1, s2, s3, s4 = sums
    tape(torch.Tensor.addcmul_, s3, g7, s4)
    tape(torch.Tensor.addcmul_, s2, g5, s3)
    tape(torch.Tensor.addcmul_, s1, g3, s2)
    tape(torch.Tensor.addcmul_, num, g, s1)
    tape(torch.add, g7, 1, out=den)
    tape(torch.addcmul, one, g5, den, out=den)
    tape(torch.addcmul, one, g3, den, out=den)
    tape(torch.addcmul, one, g, den, value=2, out=den)


def tape_add(tape: Tape, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Record ``a += b``; returns ``a``."""
    tape(torch.Tensor.add_, a, b)
    return a
