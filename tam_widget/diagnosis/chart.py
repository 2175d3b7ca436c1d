"""Panel (c) of the diagnosis picture, drawn with PIL: the correct token's probability against the
share of the image removed from the tail of EAGLE's order, as the reference's "Corrected Target
Score" curve, with each prefix's revised answer marked and the cut as a red vertical line.

:func:`curve` gives the points (shared with the plotly figure); :func:`draw` the panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from .result import Diagnosis

LEFT, RIGHT, TOP, BOTTOM = 44, 12, 10, 40  # px around the plot area
BLUE, FILL, GREY, RED, GREEN = (31, 119, 180), (198, 219, 239), (150, 150, 150), (214, 39, 40), (44, 160, 44)


def font(px: int) -> Any:
    """PIL's default font at ``px`` pixels (a TrueType face on Pillow >= 10.1)."""
    try:
        return ImageFont.load_default(px)
    except TypeError:  # Pillow < 10.1: one small bitmap font
        return ImageFont.load_default()


def curve(d: Diagnosis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(removed, p, says)`` by rising ``removed``: the share of the image removed at each prefix
    ``k = N … 1`` and then the all-black image (1), the correct token's probability there, and
    whether that prefix's revised answer says the correct word (False for the black image, never asked)."""
    removed = np.concatenate([d.removed_area[::-1], [1.0]])
    p = np.concatenate([d.score[::-1], [float(d.eagle.baseline_score[0])]])
    says = np.concatenate([np.asarray(d.corrected, dtype=bool)[::-1], [False]])
    return removed, p, says


def draw(d: Diagnosis, size: int) -> np.ndarray:
    """``(size, size, 3)`` uint8: the panel (see the module docstring)."""
    img = Image.new("RGB", (size, size), "white")
    g = ImageDraw.Draw(img)
    w, h = size - LEFT - RIGHT, size - TOP - BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return LEFT + x * w, TOP + (1 - y) * h

    removed, p, says = curve(d)
    points = [at(x, y) for x, y in zip(removed, p, strict=True)]
    g.polygon([at(removed[0], 0), *points, at(removed[-1], 0)], fill=FILL)
    small = font(11)
    for v in (0.0, 0.5, 1.0):  # y grid and labels
        g.line([at(0, v), at(1, v)], fill=(225, 225, 225))
        g.text((LEFT - 6, at(0, v)[1]), f"{v:.1f}", fill="#444", font=small, anchor="rm")
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        g.text((at(v, 0)[0], TOP + h + 5), f"{v:.0%}", fill="#444", font=small, anchor="mt")
    g.text((LEFT + w / 2, size - 4), "share of the image removed", fill="#222", font=font(12), anchor="md")
    g.rectangle([at(0, 1), at(1, 0)], outline=(120, 120, 120))
    g.line(points, fill=BLUE, width=2)
    for (x, y), ok in zip(points[:-1], says[:-1], strict=True):
        g.ellipse([x - 3, y - 3, x + 3, y + 3], fill=GREEN if ok else "white", outline=GREEN if ok else GREY)
    if d.k is not None:
        x, _ = at(d.r, 0)
        g.line([(x, TOP), (x, TOP + h)], fill=RED, width=2)
        label = f"r = {d.r:.1%}"
        right = x + 6 + g.textlength(label, font=small) < LEFT + w
        g.text((x + 6 if right else x - 6, TOP + 4), label, fill=RED, font=small, anchor="lt" if right else "rt")
    return np.asarray(img)
