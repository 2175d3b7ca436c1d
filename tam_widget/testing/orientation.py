"""The orientation check: edit a region of an image and see which vision cells change.

With every attention output zeroed (:func:`position_local`) a model is position-local: each
token's final hidden state depends on its own input only (the vision tower's per-patch layers,
the merger or pooling, the language model's MLPs). So when a region of an image is edited, the
cells of a view whose part of the image the region covers change, and no other cell does. That
checks at once a view's ``grid`` (shape and row-major order), its ``positions`` and its ``box``.

The check is exact. :func:`check` runs the model once on the images, then twice per view with a
block of that view's cells edited (a top-right and a bottom-left one, so that the block's inner
edges face every way), the block's edges put on the view's cell boundaries (as its ``box``
places them) and moved inwards by :func:`smear`: what resampling can blur across an edge, a few
*source* pixels, far less than a cell. Every cell of the view is then either inside (it must
change) or outside (it must not), so a box that is off by more than the smear fails.
The image's other views are checked with the same source-pixel tolerance around the block, the
other images' views must not change at all, and for a video only the time steps holding an
edited frame may change.

Model-agnostic: ``run(images)`` is any call that makes one forward over the images and returns
an object with ``views`` (an :class:`~tam_widget.Explanation`); the final norm
(``model.get_decoder().norm`` unless given) is where the hidden states are read.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..families.base import View

Rect = tuple[int, int, int, int]  # (x0, y0, x1, y1) in pixels of the original image, end exclusive

#: how far (in resampled pixels) each of PIL's filters reaches, by the processors' ``resample`` value
FILTER_REACH = {0: 0.5, 1: 3.0, 2: 1.0, 3: 2.0, 4: 0.5, 5: 1.0}  # nearest, Lanczos, bilinear, bicubic, box, Hamming


@contextlib.contextmanager
def position_local(model: Any) -> Iterator[None]:
    """Within the block every attention output of ``model`` (vision tower and language model) is zero."""

    def zero(module: Any, args: Any, out: Any) -> Any:
        return (torch.zeros_like(out[0]), *out[1:]) if isinstance(out, tuple) else torch.zeros_like(out)

    hooks = [m.register_forward_hook(zero) for m in model.modules() if type(m).__name__.endswith("Attention")]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def final_states(model: Any, run: Callable[[], Any], norm: Any = None) -> tuple[Any, torch.Tensor]:
    """``run()`` with attention off: its result, and the final norm's output ``(L, H)`` of its first forward."""
    recorded: list[torch.Tensor] = []
    module = norm if norm is not None else model.get_decoder().norm
    handle = module.register_forward_hook(lambda m, a, o: recorded.append(o[0].detach().float().cpu().clone()))
    try:
        with position_local(model), torch.no_grad():
            out = run()
    finally:
        handle.remove()
    if not recorded:
        raise RuntimeError("The final norm never ran: run() made no forward pass of this model.")
    return out, recorded[0]


def changed_cells(before: torch.Tensor, after: torch.Tensor, view: View, rtol: float = 1e-4) -> np.ndarray:
    """Which cells of ``view`` (shape ``view.grid``) hold different final states in the two passes."""
    pos = torch.tensor(view.positions)
    diff = (before[pos] - after[pos]).abs().amax(dim=-1).reshape(view.grid)
    return (diff > rtol * before.abs().max()).numpy()


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


def _grid(cells: np.ndarray) -> str:
    rows = cells.reshape(-1, cells.shape[-1]).astype(int)
    return "\n".join("    " + "".join(str(c) for c in r) for r in rows)


def check(
    model: Any,
    run: Callable[[list[np.ndarray]], Any],
    images: Sequence[np.ndarray],
    *,
    cell_px: int = 14,
    reach: float | Callable[[View], float] = 3.0,
    frames: Sequence[int] | None = None,
    rtol: float = 1e-4,
    norm: Any = None,
) -> Any:
    """Check that every view of ``run(images)`` is oriented; return that result.

    ``images``: uint8 ``(H, W, 3)`` images, or ``(T, H, W, 3)`` videos; ``run`` gets them (edited) as a
    list. For each view, and each of its two :data:`CORNERS`, the block :func:`aligned_block` chooses is
    edited (in a video, in ``frames``; by default the frames of the middle time step), and the cells of
    every view that change are compared with :func:`expected_cells`; ``cell_px`` and ``reach`` (a
    number, or one per view) go to :func:`smear`. Raises ``AssertionError`` listing what is off.
    """
    shown = [np.asarray(i) for i in images]
    base, before = final_states(model, functools.partial(run, shown), norm)
    views: list[View] = list(base.views)
    if not views:
        raise AssertionError("run(images) found no views.")

    def blur(view: View) -> tuple[float, float]:
        return smear(view, _size(shown[view.image]), cell_px, reach(view) if callable(reach) else reach)

    problems: list[str] = []
    for k, target in enumerate(views):
        img = shown[target.image]
        hit: list[int] = []
        if img.ndim == 4:
            per = math.ceil(len(img) / target.grid[0])
            middle = target.grid[0] // 2 * per
            hit = list(frames) if frames is not None else [f for f in range(middle, middle + per) if f < len(img)]
        for corner in CORNERS:
            rect, block = aligned_block(target, _size(img), blur(target), corner)
            edited = list(shown)
            edited[target.image] = edit(img, rect, hit)
            after_run, after = final_states(model, functools.partial(run, edited), norm)
            if [v.positions for v in after_run.views] != [v.positions for v in views]:
                problems.append(f"editing input {target.image} moved the views' positions")
                continue
            for j, view in enumerate(views):
                changed = changed_cells(before, after, view, rtol)
                must = may = np.zeros(view.grid, dtype=bool)
                if view.image == target.image:
                    must, may = expected_cells(view, rect, _size(img), blur(view))
                    if j == k and not (np.array_equal(must, block) and np.array_equal(may, block)):
                        raise RuntimeError(f"aligned_block left cells undecided: {rect} for {view}")  # a harness bug
                    if len(view.grid) == 3:
                        steps = time_steps(view, len(img), hit)[:, None, None]
                        must, may = steps & must, steps & may
                if (changed & ~may).any() or (must & ~changed).any():
                    problems.append(
                        f"{view.kind} view {j} {view.grid} of input {view.image}, box {view.box}: editing pixels "
                        f"{rect} (x0, y0, x1, y1) of input {target.image} (the {corner} block of view {k}"
                        + (f", frames {hit}" if hit else "")
                        + f") changed\n{_grid(changed)}\n  must change\n{_grid(must)}\n  may change\n{_grid(may)}"
                    )
    if problems:
        raise AssertionError("Views not oriented as their boxes say:\n" + "\n".join(problems))
    return base


def _size(image: np.ndarray) -> tuple[int, int]:
    return int(image.shape[-3]), int(image.shape[-2])
