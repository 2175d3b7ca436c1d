"""EAGLE's Point Game as ``evals/eval_point_game.py`` scores it (spec ``eagle.md`` §7.2): pure
functions on a map, a box and COCO polygons. The maps need OpenCV (the ``eagle`` extra) for the
reference's bilinear resize (its float path runs through Intel IPP in the wheels, which no
from-scratch code reproduces bit-exactly); the polygons are rasterised by
:func:`~.polygons.fill_poly`, OpenCV 4.10's ``fillPoly`` (the reference's), which OpenCV 5 changed.

A hit is ``max(map · region) == max(map)``: ties count (an EAGLE map's maximum is its whole
first-ranked region), a map whose maximum is 0 hits every region (even an empty box), and a NaN
map misses both games.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .eagle_metrics import attribution_map
from .polygons import fill_poly


def _cv2() -> Any:
    """OpenCV, or an ImportError naming the extra that brings it."""
    try:
        import cv2  # type: ignore[import-not-found]
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the Point Game needs OpenCV: pip install 'tam-widget[eagle]'") from err
    return cv2


def eagle_point_map(
    label_map: np.ndarray,
    order: Sequence[int] | np.ndarray,
    smdl_score: Sequence[float] | np.ndarray,
    org_score: Sequence[float] | np.ndarray,
    baseline_score: Sequence[float] | np.ndarray,
    image_size: tuple[int, int],
) -> np.ndarray:
    """EAGLE's map on the image grid ``(H_img, W_img)``: ``add_value`` (float16), as float64, resized
    bilinearly (an exact copy at equal size). No NaN check, as the reference: a NaN map scores 0/0."""
    amap, _ = attribution_map(label_map, order, smdl_score, org_score, baseline_score)
    height, width = image_size
    return np.asarray(_cv2().resize(amap.astype(np.float64), (width, height)))


def baseline_point_map(heat: np.ndarray, image_size: tuple[int, int]) -> np.ndarray | None:
    """A baseline's map on the image grid: ``m − min``, then ``/ (max + 1e-8)`` in the map's own dtype
    (float32 stays float32), resized bilinearly; ``None`` when its minimum is NaN (both games miss)."""
    m = np.asarray(heat)
    if math.isnan(m.min()):
        return None
    m = m - m.min()
    m = m / (m.max() + 0.00000001)
    height, width = image_size
    return np.asarray(_cv2().resize(m, (width, height), interpolation=_cv2().INTER_LINEAR))


def box_mask(box: Sequence[int], height: int, width: int) -> np.ndarray:
    """``(H, W)`` float64, 1 on ``[y1:y2, x1:x2]`` of an ``x1, y1, x2, y2`` box (Python slicing: past
    the border is clipped, an empty or reversed box covers nothing)."""
    x1, y1, x2, y2 = box
    mask = np.zeros((height, width))
    mask[y1:y2, x1:x2] = 1
    return mask


def segmentation_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """COCO polygons rasterised as the reference: ``(H, W)`` uint8 0/1.

    ``None`` or ``[]``: empty. A flat list of numbers is one polygon, a list of lists several; a
    polygon under 6 numbers is skipped. Points: float32, ``np.round`` (half to even), int32, x
    clipped to ``[0, W−1]`` and y to ``[0, H−1]``, filled as OpenCV 4.10's ``cv2.fillPoly``
    (:func:`~.polygons.fill_poly`). (The reference's RLE branch through pycocotools is not covered.)"""
    mask = np.zeros((height, width), dtype=np.uint8)
    if segmentation is None or len(segmentation) == 0:
        return mask
    polygons = segmentation if isinstance(segmentation[0], (list, tuple, np.ndarray)) else [segmentation]
    for poly in polygons:
        if poly is None or len(poly) < 6:
            continue
        pts = np.round(np.asarray(poly, dtype=np.float32).reshape(-1, 2)).astype(np.int32)
        pts[:, 0] = np.clip(pts[:, 0], 0, width - 1)
        pts[:, 1] = np.clip(pts[:, 1], 0, height - 1)
        fill_poly(mask, pts, 1)
    return mask


def hit(saliency: np.ndarray, region: np.ndarray) -> int:
    """1 when the map's maximum inside ``region`` (0/1, the map's shape) equals its global maximum."""
    return int((saliency * region).max() == saliency.max())


def point_game(saliency: np.ndarray | None, box: Sequence[int], segmentation: Any) -> tuple[int, int]:
    """``(pg_box, pg_mask)`` of one file on its image-grid map; ``(0, 0)`` for ``None`` (a NaN baseline)."""
    if saliency is None:
        return 0, 0
    height, width = saliency.shape
    return hit(saliency, box_mask(box, height, width)), hit(saliency, segmentation_mask(segmentation, height, width))
