"""Class activations ``a_p(c) = max(0, H_p . W_c)`` for the explained classes only.

The ``T`` gathered LM-head rows times the hidden states of the positions TAM reads (vision
and relevance), accumulated in float32 whatever the input dtype, written straight into the
``(T, n)`` layout the maps use (no ``(L, T)`` buffer, no transposed copy). The only
full-vocabulary work is the argmax at ``q_0`` (reference quirk 2): one row of logits. It is
memory-bound (it streams the whole head), so on the CPU it runs as row blocks on parallel
threads (``torch.mv`` uses one core), and a half-precision head is screened in its own dtype,
then its best candidates re-scored in float32.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import torch

_BLOCK = 4096  # hidden states read per product in position_logits
_RESCORE = 64  # candidates re-scored in float32 after a half-precision screen
_SCREEN_MARGIN = 2.0**-5  # relative gap that proves the screen kept the true maximum


def class_logits(
    hidden: torch.Tensor, lm_head: torch.Tensor, classes: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``(L, c) x (T,) -> (L, T)`` float32 logits of the given classes at every position."""
    rows = lm_head[classes.to(lm_head.device)].to(hidden.device, torch.float32)  # (T, c)
    logits = hidden.to(torch.float32) @ rows.T
    if bias is not None:
        logits = logits + bias[classes.to(bias.device)].to(logits.device, torch.float32)
    return logits


def class_rows(lm_head: torch.Tensor, classes: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``(T, c)`` float32 LM-head rows of the given classes, on ``device``."""
    return lm_head[classes.to(lm_head.device)].to(device, torch.float32)


def position_logits(
    hidden: torch.Tensor, rows: torch.Tensor, positions: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``(T, n)`` float32 logits ``rows @ hidden[positions].T`` (plus the classes' ``bias``, ``(T,)``),
    written straight into a contiguous result: runs of consecutive positions are read as views of
    ``hidden``, other positions gathered ``_BLOCK`` at a time, so no ``(n, c)`` copy is made."""
    out = torch.empty(rows.shape[0], positions.numel(), dtype=torch.float32, device=rows.device)
    for start, stop, block in _blocks(positions.cpu()):
        part = hidden[block.start : block.stop] if isinstance(block, range) else hidden[block.to(hidden.device)]
        torch.mm(rows, part.to(rows.device, torch.float32).T, out=out[:, start:stop])
    if bias is not None:
        out += bias[:, None]
    return out


def _blocks(positions: torch.Tensor) -> list[tuple[int, int, range | torch.Tensor]]:
    """``(start, stop, block)`` over ``positions`` in pieces of at most ``_BLOCK``: a ``range`` where
    the piece is consecutive positions, else (scattered positions) the positions themselves."""
    n = positions.numel()
    breaks = (torch.nonzero(positions.diff() != 1).reshape(-1) + 1).tolist()
    if len(breaks) > n // 64:
        return [(a, min(a + _BLOCK, n), positions[a : a + _BLOCK]) for a in range(0, n, _BLOCK)]
    runs = zip([0, *breaks], [*breaks, n], strict=True)
    pieces = [(a, min(a + _BLOCK, stop)) for start, stop in runs for a in range(start, stop, _BLOCK)]
    return [(a, b, range(int(positions[a]), int(positions[a]) + b - a)) for a, b in pieces]


def argmax_class(hidden_row: torch.Tensor, lm_head: torch.Tensor, bias: torch.Tensor | None = None) -> int:
    """The model's own top-1 class for one ``(c,)`` hidden state, over the full vocabulary."""
    exact = lm_head.dtype in (torch.float32, torch.float64)
    scores = _matvec(lm_head, hidden_row.to(lm_head.device, lm_head.dtype)).float()
    if bias is not None:
        scores = scores + bias.to(scores.device, torch.float32)
    if exact:
        return int(torch.argmax(scores))
    k = min(_RESCORE, scores.numel())
    top, idx = torch.topk(scores, k)
    if k < scores.numel() and float(top[0] - top[-1]) <= _SCREEN_MARGIN * float(top[0].abs()):
        idx = torch.arange(scores.numel(), device=scores.device)  # too many near-ties: re-score all
    return int(idx[torch.argmax(_rescore(hidden_row, lm_head, idx, bias))])


def _rescore(
    hidden_row: torch.Tensor, lm_head: torch.Tensor, idx: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """Float32 logits of the classes ``idx``, in blocks so the head is never copied whole."""
    h = hidden_row.to(lm_head.device, torch.float32)
    parts = [lm_head[block].to(torch.float32) @ h for block in torch.split(idx, 4096)]
    out = torch.cat(parts)
    return out + bias[idx].to(out.device, torch.float32) if bias is not None else out


def _matvec(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """``matrix @ vector``; on the CPU, row blocks on all intra-op threads."""
    threads = torch.get_num_threads()
    if matrix.device.type != "cpu" or threads < 2 or matrix.shape[0] < 8192:
        return matrix @ vector
    out = torch.empty(matrix.shape[0], dtype=matrix.dtype)
    blocks = list(zip(matrix.chunk(threads), out.chunk(threads), strict=True))
    # the caller takes the first block itself: it is the one thread sure not to share its core
    # with OpenMP workers still spin-waiting after the previous parallel op
    pending = [_pool(threads - 1).submit(torch.mv, m, vector, out=o) for m, o in blocks[1:]]
    torch.mv(blocks[0][0], vector, out=blocks[0][1])
    for job in pending:
        job.result()
    return out


@lru_cache(maxsize=4)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tam-argmax")
