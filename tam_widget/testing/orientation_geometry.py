"""Where the orientation check edits an image, and which cells that edit must or may change.

The geometry of :mod:`tam_widget.testing.orientation`, from a view's ``box`` and ``grid`` alone: the
cell boundaries in source pixels (:func:`cell_edges`), how far resampling blurs an edit across them
(:func:`smear`, :func:`filter_reach`), the block of cells to edit (:func:`aligned_block`), the cells
it must and may change (:func:`expected_cells`), the edit itself (:func:`edit`) and, for a video, the
time steps an edited frame falls in (:func:`time_steps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..families.base import View

Rect = tuple[int, int, int, int]  # (x0, y0, x1, y1) in pixels of the original image, end exclusive

#: how far (in resampled pixels) each of PIL's filters reaches, by the processors' ``resample`` value
FILTER_REACH = {0: 0.5, 1: 3.0, 2: 1.0, 3: 2.0, 4: 0.5, 5: 1.0}  # nearest, Lanczos, bilinear, bicubic, box, Hamming


def filter_reach(processor: Any) -> float:
    """How far, in resampled pixels, the image processor's resampling filter reaches (Lanczos: 3, bicubic: 2)."""
    value = getattr(getattr(processor, "image_processor", processor), "resample", None)
    return FILTER_REACH.get(int(value), 3.0) if value is not None else 3.0


def cell_edges(view: View, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The boundaries of ``view``'s rows and columns, ``(gh + 1,)`` and ``(gw + 1,)``, in source pixels."""
    h, w = size
    gh, gw = view.grid[-2:]
    x0, y0, x1, y1 = view.box
    ys = (y0 + (y1 - y0) * np.arange(gh + 1) / gh) * h
    xs = (x0 + (x1 - x0) * np.arange(gw + 1) / gw) * w
    return ys, xs


def smear(view: View, size: tuple[int, int], cell_px: int = 14, reach: float = 3.0) -> tuple[float, float]:
    """``(y, x)``: how many source pixels resampling can blur an edit across a cell boundary of ``view``.

    An output pixel is made from the source pixels within ``reach`` output pixels of its centre
    (the filter's support, :func:`filter_reach`); an output pixel spans ``max(1, scale)``
    source pixels, ``scale`` being a cell's size in source pixels over ``cell_px``, its size in
    resampled pixels (patch times merge; a smaller ``cell_px`` only widens the tolerance). A
    processor that resamples twice (resize, then squash to the tower's size) blurs about twice as far.
    """
    ys, xs = cell_edges(view, size)
    return (
        reach * max(1.0, float(ys[1] - ys[0]) / cell_px),
        reach * max(1.0, float(xs[1] - xs[0]) / cell_px),
    )


CORNERS = ("top-right", "bottom-left")


def aligned_block(
    view: View, size: tuple[int, int], blur: tuple[float, float], corner: str = "top-right"
) -> tuple[Rect, np.ndarray]:
    """A block of ``view``'s cells in a ``corner`` (a third of the rows and columns that lie on the image),
    and the pixels to edit for it: the block's extent, each edge that lies inside the image moved inwards
    by ``blur``. Returns ``(rect, mask)``, ``mask`` the block over ``view.grid[-2:]``.

    The edges inside the image are what test the box: a left edge catches a box placed too far left, a
    right edge one placed too far right (an outer edge on the image border shows nothing, whatever the
    box). A top-right and a bottom-left block together have an inner edge on every side, and either
    one alone tells the grid from its mirror images and its transpose.
    """
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {CORNERS}, got {corner!r}.")
    h, w = size
    ys, xs = cell_edges(view, size)

    def spans(edges: np.ndarray, extent: int, s: float) -> tuple[np.ndarray, np.ndarray]:
        lo = np.where(edges[:-1] > 0, np.ceil(edges[:-1] + s - 1e-9), 0)
        hi = np.where(edges[1:] < extent, np.floor(edges[1:] - s + 1e-9), extent)
        return lo, hi

    (ylo, yhi), (xlo, xhi) = spans(ys, h, blur[0]), spans(xs, w, blur[1])
    rows, cols = np.flatnonzero(yhi - ylo > blur[0]), np.flatnonzero(xhi - xlo > blur[1])
    if not len(rows) or not len(cols):
        raise ValueError(
            f"No cell of the {view.kind} view {view.grid} (box {view.box}) covers more than the resampling blur "
            f"{blur} of the {h}x{w} image: use a larger test image."
        )
    nr, nc = max(1, len(rows) // 3), max(1, len(cols) // 3)
    rows, cols = (rows[:nr], cols[-nc:]) if corner == "top-right" else (rows[-nr:], cols[:nc])
    mask = np.zeros(view.grid[-2:], dtype=bool)
    mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    rect = (int(xlo[cols[0]]), int(ylo[rows[0]]), int(xhi[cols[-1]]), int(yhi[rows[-1]]))
    return rect, mask


def expected_cells(
    view: View, rect: Rect, size: tuple[int, int], blur: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """``(must, may)`` over ``view.grid[-2:]`` for an edit of ``rect``: a cell must change where it overlaps the
    edit by more than ``blur`` along both axes, and may change where it is less than ``blur`` away from it."""
    ys, xs = cell_edges(view, size)
    x0, y0, x1, y1 = rect
    over_y = np.minimum(ys[1:], y1) - np.maximum(ys[:-1], y0)  # negative: the gap between the row and the edit
    over_x = np.minimum(xs[1:], x1) - np.maximum(xs[:-1], x0)
    eps = 1e-6  # cell edges are computed in floating point
    must = (over_y[:, None] > blur[0] + eps) & (over_x[None, :] > blur[1] + eps)
    may = (over_y[:, None] > -blur[0] + eps) & (over_x[None, :] > -blur[1] + eps)
    return must, may


def edit(image: np.ndarray, rect: Rect, frames: Sequence[int] | None = None) -> np.ndarray:
    """A copy of ``image`` (``(H, W, 3)``, or a video ``(T, H, W, 3)`` with ``frames`` edited) with ``rect``
    inverted: every pixel changes."""
    out: np.ndarray = np.array(image, copy=True)
    x0, y0, x1, y1 = rect
    if image.ndim == 4:
        idx = list(frames if frames is not None else range(len(image)))
        out[idx, y0:y1, x0:x1] = 255 - out[idx, y0:y1, x0:x1]
    else:
        out[y0:y1, x0:x1] = 255 - out[y0:y1, x0:x1]
    return out


def time_steps(view: View, n_frames: int, frames: Sequence[int]) -> np.ndarray:
    """Which of ``view``'s ``t`` time steps hold one of ``frames`` (steps of ``ceil(n_frames / t)`` frames)."""
    t = view.grid[0]
    per = math.ceil(n_frames / t)
    hit = np.zeros(t, dtype=bool)
    hit[[f // per for f in frames]] = True
    return hit
