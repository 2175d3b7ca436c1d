"""GranDf and OpenPSG in the layout of TAM's ``eval.py``: one ``anno.json`` per folder.

::

    DIR/anno.json   a list of [image path, caption, label-map path, {category name: id, ...}]

Paths are relative to ``DIR``; the label map is an 8-bit grey PNG (pixel = category id). The two
datasets differ only in the prompt the reference asks (two sentences for GranDf, three for OpenPSG).
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset, Sample
from .files import read_json

PROMPTS = {
    "grandf": "Write a description for this image using around two sentences:",
    "openpsg": "Write a description for this image using around three sentences:",
}
ANNO = "anno.json"
LAYOUT = "DIR/anno.json, a JSON list of [image_rel_path, caption, seg_rel_path, {category_name: category_id}] entries."


def anno_dataset(folder: str | Path, name: str) -> Dataset:
    """The samples of a GranDf (``name="grandf"``) or OpenPSG (``"openpsg"``) folder, in file order;
    ids are the image file stems (unique within the folder)."""
    if name not in PROMPTS:
        raise ValueError(f"unknown anno.json dataset {name!r}; one of {sorted(PROMPTS)}.")
    folder = Path(folder)
    entries = read_json(folder / ANNO, LAYOUT)
    if not isinstance(entries, list):
        raise ValueError(f"{folder / ANNO} must hold a JSON list. Expected layout: {LAYOUT}")
    samples = [_sample(folder, k, entry, PROMPTS[name]) for k, entry in enumerate(entries)]
    _check_unique(samples, folder / ANNO)
    return Dataset(name, samples, source=str(folder))


def _sample(folder: Path, k: int, entry: object, prompt: str) -> Sample:
    """Entry ``k`` of ``anno.json`` as a sample, or a ``ValueError`` naming the entry."""
    where = f"{folder / ANNO}, entry {k}"
    if not (isinstance(entry, list) and len(entry) == 4):
        raise ValueError(
            f"{where}: expected [image_rel_path, caption, seg_rel_path, category_dict], got {entry!r:.200}."
        )
    image, caption, seg, category = entry
    if not (isinstance(image, str) and image):
        raise ValueError(f"{where}: the image path must be a non-empty string relative to {folder}.")
    if not isinstance(caption, str):
        raise ValueError(f"{where}: the caption must be a string.")
    if not isinstance(seg, str):
        raise ValueError(f"{where}: the label-map path must be a string relative to {folder}.")
    if not (isinstance(category, dict) and all(_is_pair(n, i) for n, i in category.items())):
        raise ValueError(f"{where}: the category must be an object {{name: integer id}}.")
    return Sample(
        id=Path(image).stem,
        prompt=prompt,
        captions=(caption,),
        category=tuple((n, int(i)) for n, i in category.items()),
        image_path=folder / image,
        mask_path=folder / seg if seg else None,
    )


def _check_unique(samples: list[Sample], path: Path) -> None:
    first: dict[str, int] = {}
    for k, s in enumerate(samples):
        if s.id in first:
            raise ValueError(
                f"{path}: entries {first[s.id]} and {k} both use an image named {s.id!r}; sample ids are the "
                "image file stems, so give each entry's image a distinct file name."
            )
        first[s.id] = k


def _is_pair(name: object, i: object) -> bool:
    return isinstance(name, str) and isinstance(i, int) and not isinstance(i, bool)
