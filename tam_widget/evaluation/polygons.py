"""OpenCV 4.x's ``cv2.fillPoly`` (8-connected, no shift) in numpy, for the Point Game's COCO masks.

The golden fixtures were rasterised by OpenCV 4.10; OpenCV 5 moved a span end that falls exactly
on a half pixel (a 4.x span runs from ``round_half_up(x_left)`` to ``round_half_up(x_right)``),
so the installed ``cv2`` is not the reference there. This is 4.x's algorithm: every edge drawn as
an 8-connected Bresenham line (``LineIterator``, left to right), then each row ``y`` filled between
pairs of the non-horizontal edges active on it (``y0 <= y < y1``, even-odd), their ``x`` held in
16.16 fixed point from the upper vertex and stepped by the truncated slope.
"""

from __future__ import annotations

import numpy as np

XY_SHIFT = 16
HALF = 1 << (XY_SHIFT - 1)


def _trunc_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def draw_line(mask: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], value: int = 1) -> None:
    """OpenCV 4.x's 8-connected ``Line``: Bresenham from the left end, ``err = dx − 2·dy``."""
    (x0, y0), (x1, y1) = p0, p1
    if x1 < x0:
        x0, y0, x1, y1 = x1, y1, x0, y0
    dx, dy = x1 - x0, y1 - y0
    step_y = 1 if dy >= 0 else -1
    dy = abs(dy)
    vert = dy > dx
    if vert:
        dx, dy = dy, dx
    err, x, y = dx - 2 * dy, x0, y0
    height, width = mask.shape
    for _ in range(dx + 1):
        if 0 <= y < height and 0 <= x < width:
            mask[y, x] = value
        minor = err < 0
        err += -2 * dy + (2 * dx if minor else 0)
        if vert:
            y += step_y
            x += 1 if minor else 0
        else:
            x += 1
            y += step_y if minor else 0


def fill_poly(mask: np.ndarray, points: np.ndarray, value: int = 1) -> None:
    """``cv2.fillPoly(mask, [points], value)`` as OpenCV 4.10 draws it; ``points`` ``(K, 2)`` int ``x, y``."""
    pts = [(int(x), int(y)) for x, y in np.asarray(points).reshape(-1, 2)]
    edges: list[tuple[int, int, int, int]] = []  # (y0, y1, x at y0 in 16.16, dx per row)
    for i, (x1, y1) in enumerate(pts):
        x0, y0 = pts[i - 1]
        draw_line(mask, (x0, y0), (x1, y1), value)
        if y0 == y1:
            continue
        top = (x0, y0) if y0 < y1 else (x1, y1)
        edges.append((min(y0, y1), max(y0, y1), top[0] << XY_SHIFT, _trunc_div((x1 - x0) << XY_SHIFT, y1 - y0)))
    if len(edges) < 2:
        return
    height, width = mask.shape
    for y in range(max(min(e[0] for e in edges), 0), min(max(e[1] for e in edges), height)):
        xs = sorted(x + (y - y0) * d for y0, y1, x, d in edges if y0 <= y < y1)
        for left, right in zip(xs[0::2], xs[1::2], strict=False):
            a, b = (left + HALF) >> XY_SHIFT, (right + HALF) >> XY_SHIFT
            if a < width and b >= 0:
                mask[y, max(a, 0) : min(b, width - 1) + 1] = value
