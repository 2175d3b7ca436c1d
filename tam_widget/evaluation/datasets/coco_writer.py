"""Writing any dataset in TAM's COCO-Caption layout, so ``coco:DIR`` (and the reference) can read it.

Images are JPEG (quality 95, no chroma subsampling) named by a numeric id, label maps 8-bit grey
PNGs, the instances file lists the images and the dataset's own categories, the captions file
every caption. The numeric id is the digits that end each sample id (a scene's seed), or the
sample's position when those are missing or not unique.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .base import Dataset, Sample
from .coco import CAPTIONS, INSTANCES, id12


def write_coco(dataset: Dataset, folder: str | Path, limit: int | None = None) -> Path:
    """Write the first ``limit`` samples (all by default) of ``dataset`` under ``folder`` in the
    COCO layout (see :mod:`.coco`) and return the folder. Every sample needs a caption, and all
    must share one category list (the layout has one per dataset) with ids that fit a uint8."""
    folder = Path(folder)
    samples = list(dataset.samples[:limit] if limit is not None else dataset.samples)
    category = _category(samples)
    ids = numeric_ids([s.id for s in samples])
    for d in ("annotations", "image", "seg_label"):
        (folder / d).mkdir(parents=True, exist_ok=True)
    images = [_write_sample(folder, s, i) for s, i in zip(samples, ids, strict=True)]
    captions = [{"image_id": i, "caption": c} for s, i in zip(samples, ids, strict=True) for c in s.captions]
    categories = [{"id": i, "name": n} for n, i in category]
    _dump(folder / INSTANCES, {"images": images, "annotations": [], "categories": categories})
    _dump(folder / CAPTIONS, {"images": images, "annotations": [{"id": k, **c} for k, c in enumerate(captions, 1)]})
    return folder


def numeric_ids(ids: Sequence[str]) -> list[int]:
    """The digits ending each id (``scene-000012`` -> 12), or the positions if any id has none or
    two ids share them."""
    found = [re.search(r"(\d+)$", i) for i in ids]
    numbers = [int(m.group(1)) for m in found if m is not None]
    if len(numbers) == len(ids) and len(set(numbers)) == len(ids):
        return numbers
    return list(range(len(ids)))


def _category(samples: Sequence[Sample]) -> tuple[tuple[str, int], ...]:
    categories = {s.category for s in samples}
    if len(categories) > 1:
        raise ValueError("the COCO layout holds one category list; these samples have several. Write them apart.")
    category = categories.pop() if categories else ()
    if any(not 0 <= i <= 255 for _, i in category):
        raise ValueError("category ids must be 0-255 to be stored in an 8-bit label map.")
    return category


def _write_sample(folder: Path, sample: Sample, image_id: int) -> dict[str, object]:
    """Write one sample's image and label map; its entry in the ``images`` list."""
    if not sample.captions:
        raise ValueError(f"sample {sample.id!r} has no caption; the COCO layout needs at least one per image.")
    pixels = sample.image()
    # 4:4:4: with JPEG's default 4:2:0 the scenes' 6-pixel stripes bleed colour (errors up to 130)
    Image.fromarray(pixels).save(folder / "image" / f"{id12(image_id)}.jpg", quality=95, subsampling=0)
    mask = sample.mask()
    if mask is not None:
        if mask.dtype != np.uint8 or mask.ndim != 2:
            raise ValueError(
                f"sample {sample.id!r}: the label map must be a (H, W) uint8 array, got {mask.dtype} {mask.shape}."
            )
        Image.fromarray(mask).save(folder / "seg_label" / f"{id12(image_id)}.png")  # 2-D uint8: mode 'L'
    return {"id": image_id, "file_name": f"{id12(image_id)}.jpg", "height": pixels.shape[0], "width": pixels.shape[1]}


def _dump(path: Path, data: object) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
