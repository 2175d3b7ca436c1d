"""The explanation's images and video frames as the page draws them: encoded once, cached on the Explanation.

What is encoded (:func:`encoded_images`, the rule :data:`RULE`):

- **Which frames**: a still image is one picture. A video view with ``t`` temporal grid steps over ``F``
  raw frames shows, at step ``k``, raw frame ``min(F - 1, floor(k * F / t))`` (the first raw frame of the
  step's group: Qwen's temporal patch of 2 makes it every second frame), so only those ``t`` frames are
  sent. The page reads image ``first + min(frames - 1, floor(k * frames / t))`` (js/src/views/heatmap.ts),
  which with ``frames = t`` is ``first + k``: the same raw frame as before, with no change to the page.
  Views of one video that disagree on ``t`` get every raw frame, as before.
- **What size**: the long side at most :data:`MAX_SIDE` px (smaller images keep their size). The page's
  canvas is the image's own resolution kept in [256, 512] while the shown size is unknown, and up to the
  screen's resolution once laid out (js/src/views/layout.ts ``backingSize``): a 512 CSS px panel (size L)
  on a device pixel ratio 2 screen, and the page's "Save PNG" (``FIGURE_SCALE`` 2), draw 1024 px. Only a
  zoom (up to 16x) or a fitted panel wider than 512 CSS px at ratio 2 draws more, and then magnifies an
  image already more detailed than the map's cells (28 px each in a 1008 px image).
- **Which format**: PNG (lossless) for an image of at most 256 colours (a diagram, a toy scene: small as
  PNG and with sharp edges); else JPEG quality 90, 4:2:0, unless that loses more than the eye forgives
  under a map (PSNR below :data:`MIN_PSNR` dB, e.g. pixel noise or fine text): then PNG too. Measured side
  by side on 1008 x 1008 photos, JPEG takes 5-8 ms and 130-270 KB where PNG takes 500-700 ms and
  0.8-1.8 MB (WebP 90: 45-85 ms, 65-260 KB), at 35-47 dB PSNR: nothing visible under the map's colours.
  The browser decodes either (images.ts sniffs the type).

``meta["images"][i]`` is ``{first, frames, height, width}``: ``frames`` the pictures sent for image ``i``
(one per grid step of a video), ``height`` and ``width`` the image's own size (the page sizes its panel
and canvas by it and draws the picture scaled to the canvas, whatever its pixel size).

The cache is ``exp._encoded`` (never saved): each image's pictures, keyed by the rule, the frames picked
and a digest of those frames' pixels, so replaced or edited images (in place too) and a changed rule are
encoded again; entries for images no longer shown are dropped.
"""

from __future__ import annotations

import io
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from ..explanation import Explanation

MAX_SIDE = 1024  # the long side of a picture, px: layout.ts MAX_SIDE (512) x device pixel ratio 2
JPEG_QUALITY = 90
PNG_COLOURS = 256  # at most this many colours: PNG
MIN_PSNR = 32.0  # dB: a JPEG further from the image than this is sent as PNG instead
RULE = ("v2", MAX_SIDE, JPEG_QUALITY, PNG_COLOURS, MIN_PSNR)  # part of every cache key: a new rule re-encodes


def encoded_images(exp: Explanation) -> tuple[list[bytes], list[dict[str, int]]]:
    """``(pictures, meta)``: the encoded pictures of every image and video frame the page draws, in order,
    and per image ``{first, frames, height, width}`` (see the module's docstring); cached on ``exp``."""
    cache: dict[Any, list[bytes]] = getattr(exp, "_encoded", {})
    kept: dict[Any, list[bytes]] = {}
    pictures: list[bytes] = []
    meta: list[dict[str, int]] = []
    for i, img in enumerate(exp.images):
        frames = img if img.ndim == 4 else img[None]
        picked = shown_frames(exp, i, frames.shape[0])
        key = (RULE, i, frames.shape, frames.dtype.str, picked, _digest(frames, picked))
        kept[key] = cache[key] if key in cache else [encode(frames[f]) for f in picked]
        meta.append(
            {"first": len(pictures), "frames": len(picked), "height": frames.shape[1], "width": frames.shape[2]}
        )
        pictures.extend(kept[key])
    exp._encoded = kept
    return pictures, meta


def first_picture(exp: Explanation, image: int) -> tuple[bytes, int, int]:
    """Image ``image``'s first picture (a video's first frame, as the page opens) as the page gets it,
    from the cache, and its pixel width and height (the PNG or JPEG header's)."""
    pictures, meta = encoded_images(exp)
    data = pictures[meta[image]["first"]]
    width, height = Image.open(io.BytesIO(data)).size
    return data, width, height


def shown_frames(exp: Explanation, image: int, n_frames: int) -> tuple[int, ...]:
    """The raw frames of image ``image`` (``n_frames`` of them) the page shows: one per temporal grid step."""
    steps = {v.grid[0] if len(v.grid) == 3 else 1 for v in exp.views if v.image == image}
    if len(steps) > 1:  # views that step differently through one video: every frame, as the page indexes them
        return tuple(range(n_frames))
    t = steps.pop() if steps else 1
    return tuple(min(n_frames - 1, k * n_frames // t) for k in range(t))


def encode(rgb: np.ndarray) -> bytes:
    """One ``(H, W, 3)`` uint8 picture, at most :data:`MAX_SIDE` on its long side, as PNG or JPEG."""
    image = Image.fromarray(np.ascontiguousarray(rgb))
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if image.getcolors(PNG_COLOURS) is None:
        jpeg = _save(image, format="JPEG", quality=JPEG_QUALITY)
        if psnr(np.asarray(image), np.asarray(Image.open(io.BytesIO(jpeg)))) >= MIN_PSNR:
            return jpeg
    return _save(image, format="PNG", compress_level=6)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 pictures, dB (inf when equal)."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0**2 / mse))


def _save(image: Image.Image, **options: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, **options)
    return buf.getvalue()


def mime(picture: bytes) -> str:
    """``image/jpeg`` or ``image/png``, by the picture's first bytes."""
    return "image/jpeg" if picture[:3] == b"\xff\xd8\xff" else "image/png"


def _digest(frames: np.ndarray, picked: tuple[int, ...]) -> tuple[int, ...]:
    """A CRC-32 of each picked frame's pixels (about 0.5 ms a megabyte, a tenth of encoding it): an image
    edited in place is encoded again."""
    return tuple(zlib.crc32(np.ascontiguousarray(frames[f]).data) for f in picked)
