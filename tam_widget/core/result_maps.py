"""The steps of :meth:`~.result.TAMResult.maps` after the model: ECI's correction, the joint min-max
with the text relevance, and the rank Gaussian filter of every frame, each written into given outputs
so that ``maps()`` can run them a chunk of items at a time."""

from __future__ import annotations

import math

import torch

from .layout import VisionLayout
from .rgf import Workspace, filter_into


def normalise(image: torch.Tensor, R: torch.Tensor, n_visible: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint min-max of each item's image map and its shown text relevance (all-zero if flat)."""
    image, text = image.clone(), torch.empty_like(R)
    normalise_into(image, R, n_visible, text)
    return image, text


def filter_frames(image: torch.Tensor, layout: VisionLayout, kernel: int = 3) -> torch.Tensor:
    """Rank Gaussian filter of every item's every frame, one batch per distinct grid shape."""
    out = torch.empty_like(image)
    filter_frames_into(image, layout, kernel, out)
    return out


def corrected_into(A: torch.Tensor, E: torch.Tensor, coef: torch.Tensor | None, out: torch.Tensor) -> None:
    """``out = max(0, A - coef * E)`` (``coef = lambda * s``, ``None`` for ``lambda = 0``), as :func:`corrected`."""
    if coef is None:
        out.copy_(A)
        return
    torch.mul(E, coef[:, None], out=out)
    torch.sub(A, out, out=out).clamp_(min=0)


def normalise_into(image: torch.Tensor, R: torch.Tensor, n_visible: torch.Tensor, text: torch.Tensor) -> None:
    """:func:`normalise` with ``image`` normalised in place and the text written into ``text``. A flat
    item (``hi == lo``) has every image entry and every shown text entry equal to ``lo``: 0 as it should."""
    visible = torch.arange(R.shape[1], device=R.device)[None, :] < n_visible[:, None]
    lo_img, hi_img = image.amin(dim=1), image.amax(dim=1)  # two passes: aminmax(dim=) is ~10x slower on the CPU
    lo = torch.minimum(lo_img, torch.where(visible, R, math.inf).amin(dim=1))[:, None]
    hi = torch.maximum(hi_img, torch.where(visible, R, -math.inf).amax(dim=1))[:, None]
    span = hi - lo
    denom = torch.where(span <= 0, torch.ones_like(span), span)
    image.sub_(lo).div_(denom)
    torch.sub(R, lo, out=text).div_(denom).masked_fill_(~visible, math.nan)


_U8_CHUNK_CELLS = 1 << 19  # cells quantised at once (a 2 MiB float32 temporary, near the caches)


def u8_into(image: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out = floor(255 * image)`` clamped to ``[0, 255]``, as uint8 (``image``: ``(T, n)`` maps), a
    few rows at a time through one small temporary. Clamping first and then truncating, as the cast
    does, is the floor on ``[0, 255]``: the same bytes as ``floor(255 x).clamp(0, 255)``, in one pass
    instead of four full-size temporaries. Returns ``out``."""
    rows = max(1, _U8_CHUNK_CELLS // max(1, image.shape[1]))
    tmp = image.new_empty((min(rows, image.shape[0]), image.shape[1]))
    for start in range(0, image.shape[0], rows):
        part = tmp[: min(rows, image.shape[0] - start)]
        torch.mul(image[start : start + rows], 255, out=part).clamp_(0, 255)
        out[start : start + rows].copy_(part)
    return out


def filter_frames_into(
    image: torch.Tensor,
    layout: VisionLayout,
    kernel: int,
    out: torch.Tensor,
    work: Workspace | None = None,
    *,
    nonnegative: bool = False,
) -> Workspace | None:
    """:func:`filter_frames` into ``out``; frames of one shape that sit side by side are filtered as
    views (no copy); ``nonnegative`` as for :func:`~.rgf.filter_into` (normalised maps lie in ``[0, 1]``).
    Returns the filter's workspace for the next call."""
    for (h, w), cols in layout.groups().items():
        first, size = int(cols[0, 0]), cols.numel()
        if torch.equal(cols.reshape(-1), torch.arange(first, first + size)):
            frames = (image.shape[0], cols.shape[0], h, w)
            src, dst = image[:, first : first + size].view(frames), out[:, first : first + size].view(frames)
            work = filter_into(src, dst, kernel, work, nonnegative=nonnegative)
            continue
        cols = cols.to(image.device)
        block = image[:, cols].view(image.shape[0], cols.shape[0], h, w)
        filtered = torch.empty_like(block)
        work = filter_into(block, filtered, kernel, work, nonnegative=nonnegative)
        out[:, cols] = filtered.flatten(2)
    return work
