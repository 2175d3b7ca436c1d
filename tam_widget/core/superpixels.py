"""Regions for black-box methods (EAGLE): SLICO superpixels of an image, a uniform grid per video frame.

Every function returns a label map: ``int32`` labels ``0..N-1``, each used by at least one
pixel, so region ``i`` is ``labels == i`` and ``N = labels.max() + 1``.

- :func:`slico`: the reference's superpixels. With OpenCV-contrib importable (``pip install
  "tam-widget[eagle]"``) it is exactly the reference: ``cv2.ximgproc.createSuperpixelSLIC`` on the
  **BGR** image with ``region_size = floor(sqrt(H * W / division))`` and ``ruler = 20.0`` (OpenCV's
  default algorithm, SLICO), ``iterate(20)``, and no ``enforceLabelConnectivity``: a region may be
  several pieces, and regions of a single pixel occur. Without OpenCV it falls back to
  :func:`slic` (scikit-image), which is **not** bit-equal to the reference.
- :func:`slic`: scikit-image's SLIC in its zero-parameter mode (SLIC-zero, the same idea as
  SLICO), ``n_segments = division`` seeds on the RGB values (no Lab conversion, as the reference
  feeds raw BGR to OpenCV), 20 iterations, connectivity not enforced. It gives about ``division``
  regions (measured: 63-64 at ``division = 64`` on 84x112 to 480x640 images).
- :func:`grid`: the reference video notebook's partition: each frame cut by ``np.linspace(0, side,
  cells + 1, dtype=int)`` along both axes; label ``t * cells**2 + r * cells + c``.

Guards: a label no pixel uses (SLICO can leave some) is dropped and the labels after it move down
(:func:`relabel`), so no region is empty; the labels keep their order (the reference's element
order: raster order of the seeds). A region of one pixel is kept as a region of its own, as the
reference keeps it: merging it would change ``N`` and the search order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

METHODS = ("auto", "slico", "slic", "grid")
VIDEO_CELLS = 5  # the reference video notebook's 5 x 5 grid per frame


def opencv_slico_available() -> bool:
    """Whether ``cv2.ximgproc`` (OpenCV-contrib) imports, so :func:`slico` is the reference's own."""
    try:
        import cv2  # type: ignore[import-not-found]

        return hasattr(cv2, "ximgproc") and hasattr(cv2.ximgproc, "createSuperpixelSLIC")
    except ImportError:
        return False


def relabel(labels: np.ndarray) -> np.ndarray:
    """``labels`` renumbered ``0..N-1`` in their order, labels no pixel uses dropped; ``int32``."""
    _, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return inverse.reshape(np.shape(labels)).astype(np.int32)


def region_size(height: int, width: int, division: int) -> int:
    """The reference's SLICO seed spacing: ``floor(sqrt(H * W / division))`` pixels."""
    return math.floor(math.sqrt(height * width / division))


def slico(image_rgb: np.ndarray, division: int = 64) -> np.ndarray:
    """``(H, W)`` labels: the reference's SLICO superpixels of an ``(H, W, 3)`` uint8 RGB image
    (OpenCV-contrib), or the scikit-image fallback :func:`slic` when OpenCV-contrib is missing."""
    h, w = _check_image(image_rgb, "image_rgb")
    division = _check_division(division, h, w)
    if not opencv_slico_available():
        return slic(image_rgb, division)
    import cv2  # type: ignore[import-not-found]

    bgr = np.ascontiguousarray(image_rgb[..., ::-1])
    engine = cv2.ximgproc.createSuperpixelSLIC(bgr, region_size=region_size(h, w, division), ruler=20.0)
    engine.iterate(20)
    return relabel(engine.getLabels())


def slic(image_rgb: np.ndarray, division: int = 64) -> np.ndarray:
    """``(H, W)`` labels: scikit-image's SLIC-zero with about ``division`` regions (not bit-equal to
    the reference's OpenCV SLICO; see the module docstring)."""
    h, w = _check_image(image_rgb, "image_rgb")
    division = _check_division(division, h, w)
    try:
        from skimage.segmentation import slic as sk_slic
    except ImportError as err:
        raise ImportError(
            "Superpixels need OpenCV-contrib or scikit-image: pip install 'tam-widget[eagle]' (the reference's "
            "SLICO) or scikit-image."
        ) from err
    labels = sk_slic(
        image_rgb,
        n_segments=division,
        slic_zero=True,
        max_num_iter=20,
        convert2lab=False,
        enforce_connectivity=False,
        start_label=0,
        channel_axis=-1,
    )
    return relabel(labels)


def grid(frames: np.ndarray, cells: int = VIDEO_CELLS) -> np.ndarray:
    """``(T, H, W)`` labels: a ``cells x cells`` grid on each frame of ``(T, H, W, 3)`` frames, one
    label per cell of each frame, cut at ``np.linspace(0, side, cells + 1, dtype=int)``."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be a (T, H, W, 3) array, got {_describe(frames)}.")
    t, h, w = frames.shape[:3]
    if t < 1:
        raise ValueError("frames holds no frame; pass at least one (H, W, 3) frame.")
    if isinstance(cells, bool) or not isinstance(cells, (int, np.integer)) or not 1 <= cells <= min(h, w):
        raise ValueError(
            f"cells must be an integer from 1 to the frame's shorter side ({min(h, w)}), got {cells!r}: "
            "more cells than pixels would leave empty cells."
        )
    n = int(cells)
    rows = np.searchsorted(np.linspace(0, h, n + 1, dtype=int)[1:], np.arange(h), side="right")
    cols = np.searchsorted(np.linspace(0, w, n + 1, dtype=int)[1:], np.arange(w), side="right")
    frame = (rows[:, None] * n + cols[None, :]).astype(np.int32)
    return (np.arange(t, dtype=np.int32)[:, None, None] * (n * n) + frame[None]).astype(np.int32)


def regions(images_or_video: Any, division: int | None = None, method: str = "auto") -> Any:
    """Label maps for an image ``(H, W, 3)`` -> ``(H, W)``, a video ``(T, H, W, 3)`` -> ``(T, H, W)``,
    or a list of images -> a list of maps (all uint8 RGB).

    ``method``: ``"slico"`` (:func:`slico`), ``"slic"`` (:func:`slic`), ``"grid"`` (:func:`grid`,
    ``round(sqrt(division))`` cells a side), or ``"auto"``: SLICO for images, the grid for a video.
    ``division``: about how many regions per image or frame; ``None`` takes the reference's
    defaults, 64 superpixels per image and the 5 x 5 grid (25 cells) per video frame.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
    x = images_or_video
    if isinstance(x, (list, tuple)):
        return [regions(_as_image(im, f"images_or_video[{i}]"), division, method) for i, im in enumerate(x)]
    if isinstance(x, np.ndarray) and x.ndim == 4:
        if method in ("slico", "slic"):
            raise ValueError(
                f"method={method!r} splits one image; a video is split by method='grid' (a grid per frame), "
                "or pass its frames as a list of images."
            )
        return grid(x, VIDEO_CELLS if division is None else _cells(division))
    image = _as_image(x, "images_or_video")
    d = 64 if division is None else division
    if method == "grid":
        return grid(image[None], _cells(d))[0]
    return slic(image, d) if method == "slic" else slico(image, d)


def _cells(division: Any) -> int:
    if isinstance(division, bool) or not isinstance(division, (int, np.integer)) or division < 1:
        raise ValueError(f"division must be a positive integer (regions per image or frame), got {division!r}.")
    return max(1, round(math.sqrt(int(division))))


def _as_image(x: Any, what: str) -> np.ndarray:
    _check_image(x, what)
    image: np.ndarray = x
    return image


def _check_image(image: Any, what: str) -> tuple[int, int]:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"{what} must be an (H, W, 3) uint8 RGB array, got {_describe(image)}. Convert a PIL image with "
            "np.asarray(img.convert('RGB')); pass a video as one (T, H, W, 3) array."
        )
    h, w = image.shape[:2]
    if h < 1 or w < 1:
        raise ValueError(f"{what} is {h}x{w} pixels; it needs at least one pixel.")
    return int(h), int(w)


def _check_division(division: Any, h: int, w: int) -> int:
    if isinstance(division, bool) or not isinstance(division, (int, np.integer)) or not 1 <= division <= h * w:
        raise ValueError(
            f"division must be an integer from 1 to the image's pixel count ({h * w}), got {division!r}: it is "
            "about how many superpixels to make (the reference uses 64)."
        )
    return int(division)


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, Sequence) and not isinstance(x, str):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"
