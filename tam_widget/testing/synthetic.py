"""Structured synthetic TAM inputs of any size, for demos, tests and benchmarks.

Vision tokens carry Gaussian "objects", each aligned with one LM-head row, on top of a shared
context direction; the answer names those objects and repeats a word, like a caption would.
No model is involved: these are the tensors a model would hand to :func:`compute_tam`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..core import TAMInputs, VisionLayout

TEMPLATE_HEAD = 3  # chat-template tokens before the vision block
TEMPLATE_MID = 2  # between the vision block and the prompt
TEMPLATE_TAIL = 4  # after the prompt, before the answer


@dataclass(frozen=True)
class SyntheticCase(TAMInputs):
    objects: list[tuple[int, int, int, int]]  # (class, index into vision.frames, row, col) of each centre


def make_case(
    vocab: int = 400,
    width: int = 48,
    grids: Sequence[Sequence[int]] = ((12, 12),),
    n_prompt: int = 8,
    n_answer: int = 20,
    n_objects: int = 3,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> SyntheticCase:
    """A seeded case: ``n_objects`` Gaussian objects on the ``grids``, each aligned with an LM-head row the
    answer names, plus filler; ``n_prompt`` prompt and ``n_answer`` answer tokens."""
    gen = torch.Generator().manual_seed(seed)
    lm_head = torch.randn(vocab, width, generator=gen) / width**0.5
    layout = VisionLayout.from_grids(torch.arange(TEMPLATE_HEAD, TEMPLATE_HEAD + sum(_cells(g) for g in grids)), grids)
    n_v = layout.n_tokens
    prompt_start = TEMPLATE_HEAD + n_v + TEMPLATE_MID
    answer_start = prompt_start + n_prompt + TEMPLATE_TAIL
    length = answer_start + n_answer
    ids = torch.randint(10, vocab, (length,), generator=gen)
    hidden = 0.3 * torch.randn(length, width, generator=gen)
    context_dir = torch.randn(width, generator=gen)
    hidden[layout.positions] += 0.5 * context_dir / context_dir.norm()
    classes = torch.randperm(vocab - 10, generator=gen)[:n_objects] + 10
    objects = []
    for cls in classes.tolist():
        index = int(torch.randint(len(layout.frames), (1,), generator=gen))
        frame = layout.frames[index]
        r = int(torch.randint(frame.height, (1,), generator=gen))
        c = int(torch.randint(frame.width, (1,), generator=gen))
        yy, xx = torch.meshgrid(torch.arange(frame.height), torch.arange(frame.width), indexing="ij")
        sigma = max(1.0, 0.15 * max(frame.height, frame.width))
        blob = torch.exp(-((yy - r) ** 2 + (xx - c) ** 2) / (2 * sigma**2)).reshape(-1)
        cells = layout.positions[frame.offset : frame.offset + frame.size]
        direction = lm_head[cls] / lm_head[cls].norm()
        hidden[cells] += 4.0 * blob[:, None] * direction
        objects.append((cls, index, r, c))
    # the answer names the objects (one of them twice) between filler words
    answer_ids = ids[answer_start:].clone()
    for j, cls in enumerate(classes.tolist() + classes[:1].tolist()):
        slot = 1 + (j * max(1, n_answer // (n_objects + 1))) % max(1, n_answer - 1)
        answer_ids[slot] = cls
    ids[answer_start:] = answer_ids
    ids[prompt_start + n_prompt - 1] = answer_ids[-1]  # a prompt word the answer repeats
    return SyntheticCase(
        hidden.to(dtype),
        lm_head.to(dtype),
        ids,
        layout,
        torch.arange(prompt_start, prompt_start + n_prompt),
        answer_start,
        objects,
    )


def _cells(grid: Sequence[int]) -> int:
    out = 1
    for g in grid:
        out *= int(g)
    return out
