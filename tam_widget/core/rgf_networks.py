"""Compare-exchange networks of the rank Gaussian filter and their runner.

A network is a sequence of pairs ``(i, j)``, ``i < j``: each puts the smaller of ``x[i]``, ``x[j]`` at ``i`` and
the larger at ``j``. :func:`run_network` applies one to whole tensors (every cell at once) into pooled buffers,
recording the torch calls on a :class:`Tape`, so one chunk's calls are replayed on every chunk of its shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

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

# merges three sorted triples (0-2, 3-5, 6-8, each ascending) into 9 sorted values: 16 comparators (found by
# a beam search over compare-exchange sequences, checked on every 0-1 input in the tests)
_MERGE_3X3 = (
    (0, 3), (1, 4), (2, 5), (2, 8), (1, 7), (3, 6), (4, 7), (0, 3),
    (5, 8), (2, 6), (1, 3), (5, 7), (2, 3), (3, 4), (4, 6), (5, 6),
)  # fmt: skip


def sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs ``(i, j)``, ``i < j``, that sort ``n`` values ascending."""
    if n == 9:
        return _NETWORK_9
    return tuple((i, i + 1) for rnd in range(n) for i in range(rnd % 2, n - 1, 2))  # odd-even transposition


def window_network(kernel: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs that sort a ``kernel x kernel`` window whose columns are each sorted
    ascending, stored column after column (``k = 3``: a 16-comparator merge; else a full sort)."""
    return _MERGE_3X3 if kernel == 3 else sorting_network(kernel * kernel)


class Tape:
    """Torch calls recorded once, on fixed buffers, and replayed as often as needed."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.calls.append((fn, args, kwargs))

    def play(self) -> None:
        """Make every recorded call, in order."""
        for fn, args, kwargs in self.calls:
            fn(*args, **kwargs)


def run_network(
    tape: Tape, values: list[torch.Tensor], network: Sequence[tuple[int, int]], pool: list[torch.Tensor]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Record the compare-exchange ``network`` on ``values``: the given tensors are only read, every
    result goes into a ``pool`` buffer (one more than the values suffices). Returns the buffers that
    will hold the values in order and the pool's buffers left free."""
    x, free = list(values), list(pool)
    owned: set[int] = {id(p) for p in pool}
    for i, j in network:
        a, b = x[i], x[j]
        if id(a) in owned and id(b) in owned:
            lo = free.pop()
            tape(torch.minimum, a, b, out=lo)
            tape(torch.maximum, a, b, out=b)
            free.append(a)
            x[i] = lo
        elif id(a) in owned:
            x[j] = free.pop()
            tape(torch.maximum, a, b, out=x[j])
            tape(torch.minimum, a, b, out=a)
        else:
            x[i] = free.pop()
            tape(torch.minimum, a, b, out=x[i])
            x[j] = b if id(b) in owned else free.pop()
            tape(torch.maximum, a, b, out=x[j])
    return x, free
