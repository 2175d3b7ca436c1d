"""Pixels in, uint8 RGB out: one row per kind of input, with the exact result or the error it gets.

The rules are in :mod:`tam_widget.runtime.media`'s docstring; every row here is one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from tam_widget.runtime.media import MAX_PIXELS, MAX_TOTAL_PIXELS, Video, as_media


def grey(*values: int) -> np.ndarray:
    """A 1 x n grey image as the (1, n, 3) uint8 array it must become."""
    return np.repeat(np.array(values, np.uint8)[None, :, None], 3, axis=2)


def rgb(*pixels: tuple[int, int, int]) -> np.ndarray:
    """A 1 x n colour image as the (1, n, 3) uint8 array it must become."""
    return np.array([pixels], np.uint8)


def tall(a: np.ndarray) -> np.ndarray:
    """Five rows of ``a``: a (5, W, 2 | 4) array is unambiguously channels last."""
    return np.repeat(a, 5, axis=0)


def pil(mode: str, size: tuple[int, int], colour: Any) -> Callable[[], Image.Image]:
    return lambda: Image.new(mode, size, colour)


def pil_from(arr: np.ndarray) -> Callable[[], Image.Image]:
    return lambda: Image.fromarray(arr)


def huge(shape: tuple[int, ...], dtype: Any = np.uint8) -> Callable[[], np.ndarray]:
    """A view of one value, so that a test of a too-large image allocates nothing itself."""
    return lambda: np.broadcast_to(np.zeros((), dtype), shape)


def palette_with_transparency() -> Image.Image:
    img = Image.new("P", (2, 1))
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.putdata([0, 1])
    img.info["transparency"] = 1  # index 1 (blue) is transparent: composited over white
    return img


# (input factory, expected (H, W, 3) uint8 array)
CONVERTED = {
    "uint8 RGB kept": (lambda: rgb((1, 2, 3), (250, 128, 0)), rgb((1, 2, 3), (250, 128, 0))),
    "uint8 grey (H, W)": (lambda: np.array([[0, 7, 255]], np.uint8), grey(0, 7, 255)),
    "uint8 (H, W, 1)": (lambda: np.array([[[9], [10]]], np.uint8), grey(9, 10)),
    "uint8 channels first (3, H, W)": (lambda: rgb((1, 2, 3), (4, 5, 6)).transpose(2, 0, 1), rgb((1, 2, 3), (4, 5, 6))),
    "uint8 (3, H, 4) is channels first": (lambda: np.zeros((3, 5, 4), np.uint8), np.zeros((5, 4, 3), np.uint8)),
    "uint16 by /257, rounded": (
        lambda: np.array([[0, 128, 129, 257, 32896, 65535]], np.uint16),
        grey(0, 0, 1, 1, 128, 255),
    ),
    "uint16 big-endian": (lambda: np.array([[65535, 514]], ">u2"), grey(255, 2)),
    "uint16 full-white RGB is white, not clipped": (
        lambda: np.full((1, 1, 3), 65535, np.uint16),
        grey(255),
    ),
    "int64 8-bit values (np.array of ints)": (lambda: np.array([[[255, 0, 7]]]), rgb((255, 0, 7))),
    "int32 8-bit values": (lambda: np.array([[3, 200]], np.int32), grey(3, 200)),
    "int8 non-negative": (lambda: np.array([[0, 127]], np.int8), grey(0, 127)),
    "bool -> 0/255": (lambda: np.array([[True, False]]), grey(255, 0)),
    "float64 [0, 1] -> x255 rounded": (lambda: np.array([[0.0, 0.2, 1.0]]), grey(0, 51, 255)),
    "float32 all ones is white": (lambda: np.ones((1, 2), np.float32), grey(255, 255)),
    "float16": (lambda: np.array([[0.5, 1.0]], np.float16), grey(128, 255)),
    "torch bfloat16 channels first": (lambda: torch.ones(3, 1, 2, dtype=torch.bfloat16), grey(255, 255)),
    "torch uint8 with grad-free detach": (lambda: torch.tensor([[[1, 2, 3]]], dtype=torch.uint8), rgb((1, 2, 3))),
    "RGBA over white": (
        lambda: tall(np.array([[[255, 0, 0, 128], [0, 0, 0, 0], [10, 20, 30, 255]]], np.uint8)),
        tall(rgb((255, 127, 127), (255, 255, 255), (10, 20, 30))),
    ),
    "RGBA channels first (4, H, W)": (
        lambda: np.zeros((5, 6, 4), np.uint8).transpose(2, 0, 1),
        np.full((5, 6, 3), 255, np.uint8),
    ),
    "grey + alpha (H, W, 2)": (lambda: tall(np.array([[[0, 255], [0, 0]]], np.uint8)), tall(grey(0, 255))),
    "uint16 RGBA: alpha by the same rule": (
        lambda: tall(np.array([[[0, 0, 0, 65535], [0, 0, 0, 0]]], np.uint16)),
        tall(rgb((0, 0, 0), (255, 255, 255))),
    ),
    "(1, H, W) is channels first (a first axis of 1, 3 or 4 wins over a last axis of 2 or 4)": (
        lambda: np.zeros((1, 6, 4), np.uint8),
        np.zeros((6, 4, 3), np.uint8),
    ),
    "PIL RGB": (pil("RGB", (2, 1), (1, 2, 3)), rgb((1, 2, 3), (1, 2, 3))),
    "PIL L": (pil("L", (1, 1), 77), grey(77)),
    "PIL 1": (pil("1", (2, 1), 1), grey(255, 255)),
    "PIL I;16 (16-bit PNG)": (pil_from(np.array([[65535, 257]], np.uint16)), grey(255, 1)),
    "PIL I;16B": (pil("I;16B", (1, 1), 65535), grey(255)),
    "PIL I (32-bit) as 16-bit": (pil_from(np.array([[65535, 1000]], np.int32)), grey(255, 4)),
    "PIL F in [0, 1]": (pil_from(np.array([[0.0, 0.5, 1.0]], np.float32)), grey(0, 128, 255)),
    "PIL RGBA over white": (pil("RGBA", (1, 1), (255, 0, 0, 128)), rgb((255, 127, 127))),
    "PIL LA over white": (pil("LA", (1, 1), (0, 0)), grey(255)),
    "PIL P (opaque)": (pil_from(np.array([[5]], np.uint8)), grey(5)),
    "PIL P with a transparent index": (palette_with_transparency, rgb((255, 0, 0), (255, 255, 255))),
    "PIL CMYK -> RGB": (pil("CMYK", (1, 1), (0, 255, 255, 0)), rgb((255, 0, 0))),
    "PIL YCbCr -> RGB": (pil("YCbCr", (1, 1), (255, 128, 128)), grey(255)),
}

# (input factory, error type, message fragment)
REFUSED = {
    "None": (lambda: None, ValueError, "No image was given"),
    "empty list": (lambda: [], ValueError, "No image was given"),
    "zero-size array": (lambda: np.zeros((0, 4, 3), np.uint8), ValueError, "is empty (shape (0, 4, 3))"),
    "zero-width tensor": (lambda: torch.zeros(4, 0, 3), ValueError, "is empty"),
    "1-D array": (lambda: np.zeros(5, np.uint8), ValueError, "or (H, W), (H, W, C) or (C, H, W) with C = 1"),
    "5 channels": (lambda: np.zeros((6, 6, 5), np.uint8), ValueError, "has shape (6, 6, 5)"),
    "NaN pixel": (lambda: np.array([[0.5, np.nan, 0.1]]), ValueError, "has 1 NaN or infinite value(s) of 3"),
    "inf pixels": (lambda: np.array([[np.inf, -np.inf]], np.float32), ValueError, "2 NaN or infinite"),
    "float above 1": (lambda: np.array([[0.0, 255.0]]), ValueError, "float images must lie in [0, 1]"),
    "float below 0": (lambda: np.array([[-0.5, 0.5]], np.float32), ValueError, "values in [-0.5, 0.5]"),
    "signed negative": (lambda: np.array([[-1, 5]], np.int16), ValueError, "negative values (min -1)"),
    "int64 above 255": (lambda: np.array([[300, 0]]), ValueError, "must hold 8-bit values in [0, 255]"),
    "uint32 above 255": (lambda: np.array([[70000]], np.uint32), ValueError, "pass 16-bit data as uint16"),
    "PIL I above 16 bits": (pil_from(np.array([[70000]], np.int32)), ValueError, "values in [0, 65535]"),
    "PIL I negative": (pil_from(np.array([[-3]], np.int32)), ValueError, "negative values"),
    "PIL F above 1": (pil_from(np.array([[2.0]], np.float32)), ValueError, "float images must lie in [0, 1]"),
    "complex dtype": (lambda: np.zeros((2, 2), np.complex64), TypeError, "has dtype complex64"),
    "object dtype": (lambda: np.array([[None, 1]], dtype=object), TypeError, "has dtype object"),
    "a path": (lambda: "cat.jpg", TypeError, "open it first"),
    "nested lists": (lambda: [[[1, 2, 3]]], TypeError, "Image 0 is a list"),
    "a Video inside a list": (lambda: [Video(np.zeros((1, 2, 2, 3), np.uint8))], TypeError, "on its own"),
    "too many pixels (array)": (huge((2**15, 2**13 + 1, 3)), ValueError, f"at most {MAX_PIXELS} are accepted"),
    "too many pixels (PIL, not decoded)": (
        lambda: _pil_claiming(2**15, 2**13 + 1),
        ValueError,
        f"at most {MAX_PIXELS} are accepted",
    ),
    "too many pixels in all": (
        lambda: [huge((2**14, 2**14, 3))() for _ in range(5)],
        ValueError,
        f"hold {5 * 2**28} pixels in all; at most {MAX_TOTAL_PIXELS}",
    ),
    # video frames: the same rules, and a few of their own
    "video: empty list": (lambda: Video([]), ValueError, "The video has no frames"),
    "video: zero frames": (lambda: Video(np.zeros((0, 4, 4, 3), np.uint8)), ValueError, "The video has no frames"),
    "video: None frames": (lambda: Video(None), TypeError, "Video frames are a NoneType"),
    "video: frames of two sizes": (
        lambda: Video([np.zeros((20, 30, 3), np.uint8), np.zeros((10, 30, 3), np.uint8)]),
        ValueError,
        "Frame 1 is 10x30 but frame 0 is 20x30: all video frames must have the same size",
    ),
    "video: NaN in a frame": (
        lambda: Video([np.zeros((2, 2)), np.full((2, 2), np.nan)]),
        ValueError,
        "Frame 1 has 4 NaN or infinite",
    ),
    "video: float frames above 1": (lambda: np.full((2, 2, 2, 3), 9.0), ValueError, "Frame 0 is float64"),
    "video: empty frame": (lambda: Video([np.zeros((0, 2, 3), np.uint8)]), ValueError, "Frame 0 is empty"),
    "video: too many pixels in all": (
        huge((5000, 2**14, 2**14, 3)),
        ValueError,
        f"at most {MAX_TOTAL_PIXELS} are accepted",
    ),
    "video: negative fps": (lambda: Video(np.zeros((1, 2, 2, 3), np.uint8), fps=-1), ValueError, "Video fps"),
    "video: zero fps": (lambda: Video(np.zeros((1, 2, 2, 3), np.uint8), fps=0), ValueError, "must be positive"),
    "video: fps as text": (lambda: Video(np.zeros((1, 2, 2, 3), np.uint8), fps="30"), TypeError, "Video fps"),
}


def _pil_claiming(height: int, width: int) -> Image.Image:
    """A PIL image whose header says ``height x width``: opened lazily, never decoded."""
    import io

    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    img = Image.open(io.BytesIO(buf.getvalue()))
    img._size = (width, height)  # what a lazily opened huge file looks like before load()
    return img


@pytest.mark.parametrize(("make", "expected"), list(CONVERTED.values()), ids=list(CONVERTED))
def test_images_convert_by_their_dtype_and_mode(make: Callable[[], Any], expected: np.ndarray) -> None:
    given = make()
    arrays, media = as_media(given)
    assert len(arrays) == 1 and not media.video
    out = arrays[0]
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)
    assert media.sizes == (expected.shape[:2],)


@pytest.mark.parametrize(("make", "error", "fragment"), list(REFUSED.values()), ids=list(REFUSED))
def test_bad_images_are_refused_with_a_reason(make: Callable[[], Any], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        as_media(make())
    assert fragment in str(info.value)


def test_the_arrays_are_copies_of_the_input() -> None:
    given = np.zeros((2, 2, 3), np.uint8)
    arrays, _ = as_media(given)
    given[:] = 9
    assert arrays[0].max() == 0


def test_pil_rgba_matches_the_same_array() -> None:
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (6, 7, 4), dtype=np.uint8)
    from_pil = as_media(Image.fromarray(rgba, "RGBA"))[0][0]
    np.testing.assert_array_equal(from_pil, as_media(rgba)[0][0])
    # and agrees with Pillow's own compositing over white within one level
    white = Image.new("RGBA", (7, 6), (255, 255, 255, 255))
    pillow = np.asarray(Image.alpha_composite(white, Image.fromarray(rgba, "RGBA")).convert("RGB"))
    assert np.abs(pillow.astype(int) - from_pil.astype(int)).max() <= 1


def test_video_frames_follow_the_image_rules() -> None:
    frames = np.array([[[[0, 65535, 257]]], [[[65535, 0, 0]]]], np.uint16)  # (2, 1, 1, 3)
    arrays, media = as_media(Video(frames, fps=2))
    assert media.video and media.n_frames == 2 and media.fps == 2.0
    np.testing.assert_array_equal(arrays[0], np.array([[[[0, 255, 1]]], [[[255, 0, 0]]]], np.uint8))
    bools = [np.array([[True]]), np.array([[False]])]
    np.testing.assert_array_equal(as_media(Video(bools))[0][0].reshape(2, 3), [[255] * 3, [0] * 3])
