"""Class activations ``a_p(c) = max(0, H_p . W_c)`` for the explained classes only.

One product of the hidden states with the ``T`` gathered LM-head rows, accumulated in
float32 whatever the input dtype. The only full-vocabulary work is the argmax at ``q_0``
(reference quirk 2): one row of logits. It is memory-bound (it streams the whole head), so on
the CPU it runs as row blocks on parallel threads (``torch.mv`` uses one core), and a
half-precision head is screened in its own dtype, then its best candidates re-scored in float32.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import torch

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
