"""The user's images or video, normalised: uint8 RGB arrays to keep, PIL images for the processor.

How pixels become ``uint8`` RGB (:func:`as_media`), one rule per kind of input and never a guess
from the values: a value the rule does not cover is refused with a ``ValueError`` that says why
and what to pass instead.

- **uint8**: kept as is.
- **uint16** (and PIL ``I;16`` images, the mode Pillow opens 16-bit PNG and TIFF files in):
  16-bit values, ``round(x / 257)`` (65535 -> 255).
- **other integers** (``int8``..``int64``, ``uint32``, ``uint64``: what ``np.array`` makes of
  Python ints): 8-bit values, which must lie in ``[0, 255]``; negative values and values above 255
  are refused (cast 16-bit data to ``uint16``). PIL ``I`` images (32-bit) are read as 16-bit
  values in ``[0, 65535]``, as older Pillow versions open 16-bit PNG files.
- **bool** (and PIL ``1`` images): ``False`` -> 0, ``True`` -> 255.
- **floats** (``float16``..``float64``, torch ``bfloat16``, PIL ``F`` images): values in
  ``[0, 1]``, ``round(255 * x)``; any other range is refused, as are NaN and infinities.
- **channels**: ``(H, W)`` and ``(H, W, 1)`` are grey, ``(H, W, 2)`` grey + alpha, ``(H, W, 3)``
  RGB, ``(H, W, 4)`` RGBA; ``(1 | 3 | 4, H, W)`` is channels first (as torch keeps them). For an
  array or tensor the last axis is the channels when it is 1 or 3; otherwise a first axis of 1, 3
  or 4 is; otherwise a last axis of 2 or 4 is (so ``(3, H, 4)`` is a channels-first RGB image).
  PIL images need no such rule.
- **alpha** (RGBA, grey + alpha, PIL ``RGBA``/``LA``/``P`` with transparency/``PA``/``RGBa``/``La``):
  composited over white, as ``transformers``' ``convert_to_rgb`` does: with ``a`` the alpha in
  ``0..255``, ``out = round((c * a + 255 * (255 - a)) / 255)``.
- **other PIL modes** (``CMYK``, ``YCbCr``, ``HSV``, ``RGBX``...): Pillow's ``convert("RGB")``.

The conversion of one image's pixels is :mod:`.pixel_conversion`'s; this module takes the user's
argument apart (images or a video), checks the sizes and kinds, and hands each image there.

Sizes: every image or frame needs at least 1 x 1 pixels and at most :data:`MAX_PIXELS`; all of a
call's images or frames together at most :data:`MAX_TOTAL_PIXELS`. Both are checked from the
shape alone, before anything is allocated or decoded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .. import params
from ..families.base import Media
from .pixel_conversion import from_array, from_pil, hwc, is_tensor, to_rgb, to_uint8

MAX_PIXELS = 2**28  # one image or frame: 268 million pixels (768 MiB as uint8 RGB)
MAX_TOTAL_PIXELS = 2**30  # all the images, or all the frames, of one call together


@dataclass(frozen=True)
class Video:
    """A video as its frames: ``(T, H, W, 3)`` uint8 (or a list of images), optionally with its rate."""

    frames: Any
    fps: float | None = None


def as_media(images_or_video: Any) -> tuple[list[np.ndarray], Media]:
    """``(arrays, media)``: one ``(H, W, 3)`` uint8 array per image, or one ``(T, H, W, 3)`` for a video.

    A :class:`Video`, or a 4-D array/tensor, is a video; a single image or a list of images is a
    list of images. Pixels are converted by the rules in this module's docstring; the arrays are
    copies (changing the input later does not change the explanation).
    """
    x = images_or_video
    if x is None or (isinstance(x, Sequence) and not isinstance(x, str) and len(x) == 0):
        raise ValueError("No image was given. Pass a PIL image, an (H, W, 3) array, a list of them, or a Video.")
    if isinstance(x, Video) or (hasattr(x, "ndim") and x.ndim == 4):
        return _video(x)
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    _check_total([_pixels(img, f"Image {i}") for i, img in enumerate(items)], "images")
    arrays = [_to_array(img, f"Image {i}") for i, img in enumerate(items)]
    return arrays, Media(sizes=tuple((a.shape[0], a.shape[1]) for a in arrays))


def to_pil(arrays: list[np.ndarray], media: Media) -> list[Image.Image] | list[list[Image.Image]]:
    """The arrays as the processor takes them: one PIL image per image, or one list of frames for a video."""
    if media.video:
        return [[Image.fromarray(f) for f in arrays[0]]]
    return [Image.fromarray(a) for a in arrays]


def _video(x: Any) -> tuple[list[np.ndarray], Media]:
    frames = x.frames if isinstance(x, Video) else x
    fps = x.fps if isinstance(x, Video) else None
    if fps is not None:
        fps = params.number("Video fps", fps, 0.0, 1e6, " Pass the frame rate in frames per second, or None.")
        if fps == 0:
            raise ValueError("Video fps must be positive (frames per second), got 0. Pass None when it is unknown.")
    if frames is None or isinstance(frames, (str, bytes, Image.Image)) or not hasattr(frames, "__len__"):
        raise TypeError(
            f"Video frames are a {type(frames).__name__}; pass a (T, H, W, 3) array or tensor, or a list of images."
        )
    if hasattr(frames, "ndim") and frames.ndim == 4:
        n = int(frames.shape[0])
        if n:
            _check_total([n * _pixels(frames[0], "Frame 0")], "frames of the video")
        frames = list(frames)
    if len(frames) == 0:
        raise ValueError("The video has no frames. Pass at least one frame.")
    _check_total([_pixels(f, f"Frame {i}") for i, f in enumerate(frames)], "frames of the video")
    arrays: list[np.ndarray] = []
    for i, f in enumerate(frames):
        a = _to_array(f, f"Frame {i}")
        if arrays and a.shape != arrays[0].shape:
            raise ValueError(
                f"Frame {i} is {a.shape[0]}x{a.shape[1]} but frame 0 is {arrays[0].shape[0]}x{arrays[0].shape[1]}: "
                "all video frames must have the same size. Resize them to one size first."
            )
        arrays.append(a)
    video = np.stack(arrays)
    return [video], Media(sizes=(video.shape[1:3],), video=True, n_frames=len(arrays), fps=fps)


def _check_total(pixels: list[int], what: str) -> None:
    """All of a call's images (or frames) together: at most :data:`MAX_TOTAL_PIXELS`."""
    total = sum(pixels)
    if total > MAX_TOTAL_PIXELS:
        raise ValueError(
            f"The {what} hold {total} pixels in all; at most {MAX_TOTAL_PIXELS} are accepted. "
            "Pass fewer or smaller images (for a video, keep every k-th frame)."
        )


def _pixels(img: Any, what: str) -> int:
    """``H * W`` of one image or frame, from its shape alone; refuses the wrong kind, shape or size."""
    if isinstance(img, Image.Image):
        w, h = img.size  # known without decoding the pixels
    else:
        _check_kind(img, what)
        shape = tuple(int(s) for s in img.shape)
        if 0 in shape:
            raise ValueError(f"{what} is empty (shape {shape}); an image needs at least 1x1 pixels.")
        _, h, w, _ = hwc(shape, what)
    if h < 1 or w < 1:
        raise ValueError(f"{what} is {h}x{w} pixels; an image needs at least 1x1.")
    if h * w > MAX_PIXELS:
        raise ValueError(
            f"{what} is {h}x{w} = {h * w} pixels; at most {MAX_PIXELS} are accepted (the model resizes images to "
            "far fewer anyway). Resize it first."
        )
    return h * w


def _to_array(img: Any, what: str) -> np.ndarray:
    """One image or frame as a fresh ``(H, W, 3)`` uint8 array, by the module's rules."""
    _pixels(img, what)  # before anything is decoded, copied or allocated
    if isinstance(img, Image.Image):
        arr, int_max = from_pil(img, what)
    else:
        arr, int_max = from_array(img, what), 255
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:
        int_max = 65535
    if arr.ndim == 2:
        arr = arr[..., None]
    return to_rgb(to_uint8(arr, what, int_max))


def _check_kind(img: Any, what: str) -> None:
    if isinstance(img, (str, bytes, os.PathLike)):
        raise TypeError(f"{what} is a path ({img!r}); pass a PIL image: open it first with PIL.Image.open(path).")
    if isinstance(img, Video):
        raise TypeError(f"{what} is a Video; pass a Video on its own, not inside a list of images.")
    if not is_tensor(img) and not isinstance(img, np.ndarray):
        raise TypeError(f"{what} is a {type(img).__name__}; pass a PIL image, an (H, W, 3) array or a tensor.")
