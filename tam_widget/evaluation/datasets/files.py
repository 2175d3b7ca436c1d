"""Reading the files a dataset points at: RGB images and 8-bit greyscale label maps.

Both follow the reference code: TAM's Qwen loader opens the image with PIL and converts it to RGB
(no EXIF rotation), and ``eval.py`` reads a mask with ``cv2.imread(path, IMREAD_GRAYSCALE)``. A
grey PNG reads the same through PIL; any other kind of file would be turned into luminance by
OpenCV (a palette PNG's indices lost), so it is refused rather than read differently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


def read_image(path: str | Path) -> np.ndarray:
    """The ``(H, W, 3)`` uint8 RGB pixels of the image at ``path``.

    Raises ``FileNotFoundError`` naming the file when it is missing, ``ValueError`` when PIL
    cannot read it.
    """
    with _open(path, "image") as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_label_map(path: str | Path) -> np.ndarray:
    """The ``(H, W)`` uint8 label map at ``path`` (pixel = category id), an 8-bit greyscale image.

    Any other mode (palette, RGB, 16-bit, 1-bit) raises ``ValueError``: the reference reads
    masks as OpenCV greyscale, which would not give back the category ids of such a file.
    """
    with _open(path, "label map") as image:
        if image.mode != "L":
            raise ValueError(
                f"label map {path} is a {image.mode!r}-mode image; save the label map as an 8-bit "
                "greyscale PNG (PIL mode 'L', pixel = category id)."
            )
        return np.array(image, dtype=np.uint8)


def _open(path: str | Path, what: str) -> Image.Image:
    """``Image.open`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        return Image.open(path)
    except UnidentifiedImageError as e:
        raise ValueError(f"cannot read {what} {path}: not an image file PIL recognises.") from e


def read_json(path: Path, layout: str) -> object:
    """The parsed JSON at ``path``; a missing file raises ``FileNotFoundError`` that names it and
    describes the expected ``layout``, a malformed one ``ValueError`` naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found. Expected layout: {layout}")
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}). Expected layout: {layout}") from e
