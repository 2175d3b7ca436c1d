"""OpenCV's uint8 bilinear resize and Otsu threshold, rebuilt in numpy bit for bit.

TAM's ``eval.py`` resizes each token's uint8 map to the mask size with ``cv2.resize`` (INTER_LINEAR,
fixed point) and binarises it with ``cv2.threshold(..., THRESH_BINARY | THRESH_OTSU)``. These are
the recipes of ``shared/golden/eval/README.md`` §8, so the plausibility metrics need no OpenCV.
Caveat (README §8.2): opencv-python wheels compute 8-bit Otsu with Intel IPP, which breaks exact
ties of the between-class variance its own way; this is OpenCV's non-IPP algorithm.
"""

from __future__ import annotations

import numpy as np

FLT_EPSILON = float(np.finfo(np.float32).eps)


def _axis(n_src: int, n_dst: int, clamp: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index and 11-bit weights ``(s, w0, w1)`` per destination index along one axis."""
    scale = 1.0 / (n_dst / n_src)
    f = ((np.arange(n_dst) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = (f - s.astype(np.float32)).astype(np.float32)
    if clamp:  # only the x axis clamps the fraction at the borders
        low, high = s < 0, s >= n_src - 1
        s[low], f[low] = 0, 0
        s[high], f[high] = n_src - 1, 0
    w0 = np.rint((np.float32(1) - f) * np.float32(2048)).astype(np.int64)
    w1 = np.rint(f * np.float32(2048)).astype(np.int64)
    return s, w0, w1


def resize_u8(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(image, (W, H))`` with INTER_LINEAR for a 2-D uint8 map (up-scales, same size)."""
    src = np.asarray(image, dtype=np.uint8)
    (h, w), (out_h, out_w) = src.shape, shape
    if (h, w) == (out_h, out_w):
        return np.array(src, dtype=np.uint8)
    sx, ax0, ax1 = _axis(w, out_w, clamp=True)
    sy, by0, by1 = _axis(h, out_h, clamp=False)
    rows = src.astype(np.int64)
    horizontal = rows[:, sx] * ax0 + rows[:, np.minimum(sx + 1, w - 1)] * ax1
    s0 = horizontal[np.clip(sy, 0, h - 1)] >> 4
    s1 = horizontal[np.clip(sy + 1, 0, h - 1)] >> 4
    out = (((by0[:, None] * s0) >> 16) + ((by1[:, None] * s1) >> 16) + 2) >> 2
    return np.asarray(out, dtype=np.uint8)


def otsu_u8(image: np.ndarray) -> tuple[float, np.ndarray]:
    """``cv2.threshold(image, 0, 255, THRESH_BINARY | THRESH_OTSU)``: ``(t, 255·(image > t))``."""
    img = np.asarray(image, dtype=np.uint8)
    hist = np.bincount(img.ravel(), minlength=256).astype(np.float64)
    scale = 1.0 / img.size
    mu = float(np.dot(np.arange(256, dtype=np.float64), hist)) * scale
    q1 = mu1 = best = 0.0
    t = 0
    for i in range(256):
        p = hist[i] * scale
        mu1 *= q1
        q1 += p
        q2 = 1.0 - q1
        if min(q1, q2) < FLT_EPSILON or max(q1, q2) > 1.0 - FLT_EPSILON:
            continue
        mu1 = (mu1 + i * p) / q1
        mu2 = (mu - q1 * mu1) / q2
        sigma = q1 * q2 * (mu1 - mu2) ** 2
        if sigma > best:
            best, t = sigma, i
    return float(t), np.where(img > t, 255, 0).astype(np.uint8)
