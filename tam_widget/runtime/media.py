"""The user's images or video, normalised: uint8 RGB arrays to keep, PIL images for the processor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..families.base import Media


@dataclass(frozen=True)
class Video:
    """A video as its frames: ``(T, H, W, 3)`` uint8 (or a list of images), optionally with its rate."""

    frames: Any
    fps: float | None = None


def _to_array(img: Any, what: str) -> np.ndarray:
    if isinstance(img, Image.Image):
        return np.asarray(img.convert("RGB"))
    if hasattr(img, "detach"):  # torch tensor
        img = img.detach().cpu().numpy()
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{what} is a {type(img).__name__}; pass a PIL image, an (H, W, 3) array or a tensor.")
    arr = img
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = arr.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{what} has shape {arr.shape}; expected (H, W, 3) or (3, H, W).")
    if arr.dtype != np.uint8:
        scale = 255.0 if arr.dtype.kind == "f" and float(arr.max(initial=0)) <= 1.0 else 1.0
        arr = np.clip(arr.astype(np.float64) * scale, 0, 255).round().astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3])


def as_media(images_or_video: Any) -> tuple[list[np.ndarray], Media]:
    """``(arrays, media)``: one ``(H, W, 3)`` array per image, or one ``(T, H, W, 3)`` for a video.

    A :class:`Video`, or a 4-D array/tensor, is a video; a single image or a list of images is a
    list of images.
    """
    x = images_or_video
    if x is None or (isinstance(x, Sequence) and not isinstance(x, str) and len(x) == 0):
        raise ValueError("No image was given. Pass a PIL image, an (H, W, 3) array, a list of them, or a Video.")
    if isinstance(x, Video) or (hasattr(x, "ndim") and x.ndim == 4):
        frames = x.frames if isinstance(x, Video) else x
        if hasattr(frames, "ndim") and frames.ndim == 4:
            frames = list(frames)
        arrays = [_to_array(f, f"Frame {i}") for i, f in enumerate(frames)]
        if not arrays:
            raise ValueError("The video has no frames.")
        if len({a.shape for a in arrays}) != 1:
            raise ValueError("All video frames must have the same size.")
        video = np.stack(arrays)
        fps = x.fps if isinstance(x, Video) else None
        return [video], Media(sizes=(video.shape[1:3],), video=True, n_frames=len(arrays), fps=fps)
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    arrays = [_to_array(img, f"Image {i}") for i, img in enumerate(items)]
    return arrays, Media(sizes=tuple((a.shape[0], a.shape[1]) for a in arrays))


def to_pil(arrays: list[np.ndarray], media: Media) -> list[Image.Image] | list[list[Image.Image]]:
    """The arrays as the processor takes them: one PIL image per image, or one list of frames for a video."""
    if media.video:
        return [[Image.fromarray(f) for f in arrays[0]]]
    return [Image.fromarray(a) for a in arrays]
