"""One image's pixels as a fresh ``(H, W, 3)`` uint8 RGB array, by the rules in
:mod:`tam_widget.runtime.media`'s docstring (which says what each dtype, channel layout and PIL
mode becomes, and what is refused): reading a PIL image or an array/tensor (:func:`from_pil`,
:func:`from_array`, with the layout from the shape alone, :func:`hwc`), the dtype rule
(:func:`to_uint8`) and the channel rule (:func:`to_rgb`, alpha over white).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

_ALPHA_MODES = ("RGBA", "LA", "P", "PA", "RGBa", "La")  # PIL modes that carry (or may carry) transparency
_NATIVE_MODES = ("1", "L", "RGB", "I", "F")  # PIL modes read as their own array, then by the media rules


def from_pil(img: Image.Image, what: str) -> tuple[np.ndarray, int]:
    """``(the PIL image's array, the largest integer value its mode holds)``; other modes via ``RGB``."""
    mode = img.mode
    if mode.startswith("I;16"):
        return np.asarray(img), 65535
    if mode in _ALPHA_MODES:
        rgba = img.convert("RGBA") if mode in ("P", "PA", "RGBa") else img
        rgba = img.convert("LA") if mode == "La" else rgba
        return np.asarray(rgba), 255
    if mode in _NATIVE_MODES:
        return np.asarray(img), (65535 if mode == "I" else 255)
    try:
        return np.asarray(img.convert("RGB")), 255
    except ValueError as e:  # Pillow has no conversion from this mode
        raise ValueError(
            f"{what} is a PIL image of mode {mode!r}, which Pillow cannot convert to RGB ({e}). "
            "Convert it to 'RGB' yourself first."
        ) from e


def is_tensor(img: Any) -> bool:
    """Whether ``img`` is a tensor (anything with ``detach``, ``numpy`` and ``shape``)."""
    return hasattr(img, "detach") and hasattr(img, "numpy") and hasattr(img, "shape")


def from_array(img: Any, what: str) -> np.ndarray:
    """The array or tensor as a NumPy ``(H, W, C)`` array (channels first transposed, bfloat16 as float32)."""
    transpose = hwc(tuple(int(s) for s in img.shape), what)[0]
    if is_tensor(img):
        t = img.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # numpy has no bfloat16; float32 holds it exactly
            t = t.float()
        img = t.numpy()
    arr: np.ndarray = img
    if transpose:
        arr = arr.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    return arr if arr.ndim == 3 else arr[..., None]


def hwc(shape: tuple[int, ...], what: str) -> tuple[bool, int, int, int]:
    """``(transpose, H, W, C)`` of an image of ``shape``, from the shape alone."""
    if len(shape) == 2:
        return False, shape[0], shape[1], 1
    if len(shape) == 3 and shape[-1] in (1, 3):
        return False, shape[0], shape[1], shape[2]
    if len(shape) == 3 and shape[0] in (1, 3, 4):
        return True, shape[1], shape[2], shape[0]
    if len(shape) == 3 and shape[-1] in (2, 4):
        return False, shape[0], shape[1], shape[2]
    raise ValueError(
        f"{what} has shape {shape}; expected (H, W, 3) for RGB, or (H, W), (H, W, C) or (C, H, W) with C = 1 "
        "(grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)."
    )


def to_uint8(arr: np.ndarray, what: str, int_max: int) -> np.ndarray:
    """``arr`` (any supported dtype) as uint8 by the media rules; a fresh array."""
    kind, dtype = arr.dtype.kind, arr.dtype
    if kind == "b":
        binary: np.ndarray = arr.astype(np.uint8) * np.uint8(255)
        return binary
    if kind == "u" and dtype.itemsize == 1:
        return np.array(arr, dtype=np.uint8, order="C")
    if kind in "ui":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            raise ValueError(
                f"{what} is {dtype} with negative values (min {lo}); pixel values cannot be negative. If the image "
                "was normalised (e.g. by a mean and std), undo that; otherwise pass uint8 values in [0, 255]."
            )
        if hi > int_max:
            if int_max == 255:
                hint = "pass 16-bit data as uint16 (arr.astype(np.uint16)), or scale it to uint8 values in [0, 255]"
                rule = f"{dtype} images must hold 8-bit values in [0, 255] (uint16 holds 16-bit ones)"
            else:
                hint = "scale it to uint8 values in [0, 255] first"
                rule = "16-bit images must hold values in [0, 65535]"
            raise ValueError(f"{what} has values up to {hi}; {rule}: {hint}.")
        if int_max == 255:
            return arr.astype(np.uint8)
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(x / 257), exactly
    if kind == "f":
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(
                f"{what} has {bad} NaN or infinite value(s) of {arr.size}; such a pixel has no colour. Replace them "
                "(np.nan_to_num) or fix what produced them."
            )
        low, high = float(arr.min()), float(arr.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{what} is {dtype} with values in [{low:g}, {high:g}]; float images must lie in [0, 1] (scaled by "
                "255). For values in [0, 255] pass uint8 (np.clip(x, 0, 255).round().astype(np.uint8)); for a "
                "normalised tensor (mean/std), undo the normalisation first."
            )
        work = arr.astype(np.float32) if dtype.itemsize < 4 else arr
        out: np.ndarray = np.rint(work * 255).astype(np.uint8)
        return out
    raise TypeError(f"{what} has dtype {dtype}; pass uint8, uint16, other integer, bool or float pixels.")


def to_rgb(arr: np.ndarray) -> np.ndarray:
    """``(H, W, 1 | 2 | 3 | 4)`` uint8 as ``(H, W, 3)``, alpha composited over white."""
    channels = arr.shape[-1]
    if channels in (2, 4):
        colour, alpha = arr[..., :-1].astype(np.uint32), arr[..., -1:].astype(np.uint32)
        arr = ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return np.ascontiguousarray(arr)
