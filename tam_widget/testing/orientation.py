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

The geometry (boxes, blur, blocks, expected cells) is :mod:`.orientation_geometry`'s, the passes with
attention off :mod:`.attention_off`'s; their names are re-exported here.

Model-agnostic: ``run(images)`` is any call that makes one forward over the images and returns
an object with ``views`` (an :class:`~tam_widget.Explanation`); the final norm
(``model.get_decoder().norm`` unless given) is where the hidden states are read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..families.base import View
from .attention_off import changed_cells as changed_cells
from .attention_off import final_states as final_states
from .attention_off import position_local as position_local
from .orientation_geometry import CORNERS as CORNERS
from .orientation_geometry import FILTER_REACH as FILTER_REACH
from .orientation_geometry import Rect as Rect
from .orientation_geometry import aligned_block as aligned_block
from .orientation_geometry import cell_edges as cell_edges
from .orientation_geometry import edit as edit
from .orientation_geometry import expected_cells as expected_cells
from .orientation_geometry import filter_reach as filter_reach
from .orientation_geometry import smear as smear
from .orientation_geometry import time_steps as time_steps


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
