"""COCO Caption in the layout of TAM's ``eval.py`` (``prepare_input``), and the reference's categories.

::

    DIR/annotations/instances_minival2014.json   its "images" list, in file order, gives the samples
    DIR/annotations/captions_val2014.json        "annotations": image_id, caption (in file order)
    DIR/image/<id, 12 digits>.jpg
    DIR/seg_label/<id, 12 digits>.png            8-bit grey label map (pixel = category id), optional

The category list is the reference's hard-coded dict (COCO's 80 with ``sports ball`` -> ``ball``
and ``wine glass`` -> ``glass``), unless the instances file lists categories other than COCO's:
then other data written in this layout (e.g. by :func:`~.scenes.write_coco`) keeps its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .base import Dataset, Sample
from .files import read_json

PROMPT = "Write a one-sentence caption for this image:"
INSTANCES = Path("annotations/instances_minival2014.json")
CAPTIONS = Path("annotations/captions_val2014.json")
LAYOUT = (
    "DIR/annotations/instances_minival2014.json (an 'images' list of {'id': int}), "
    "DIR/annotations/captions_val2014.json (an 'annotations' list of {'image_id', 'caption'}), "
    "DIR/image/<id as 12 digits>.jpg and DIR/seg_label/<id as 12 digits>.png."
)

# The reference's ordered category dict, as (name, id) pairs; the order matters (the last match wins).
# fmt: off
COCO_CATEGORY: tuple[tuple[str, int], ...] = (
    ("person", 1), ("bicycle", 2), ("car", 3), ("motorcycle", 4), ("airplane", 5), ("bus", 6), ("train", 7),
    ("truck", 8), ("boat", 9), ("traffic light", 10), ("fire hydrant", 11), ("stop sign", 13), ("parking meter", 14),
    ("bench", 15), ("bird", 16), ("cat", 17), ("dog", 18), ("horse", 19), ("sheep", 20), ("cow", 21),
    ("elephant", 22), ("bear", 23), ("zebra", 24), ("giraffe", 25), ("backpack", 27), ("umbrella", 28),
    ("handbag", 31), ("tie", 32), ("suitcase", 33), ("frisbee", 34), ("skis", 35), ("snowboard", 36), ("ball", 37),
    ("kite", 38), ("baseball bat", 39), ("baseball glove", 40), ("skateboard", 41), ("surfboard", 42),
    ("tennis racket", 43), ("bottle", 44), ("glass", 46), ("cup", 47), ("fork", 48), ("knife", 49), ("spoon", 50),
    ("bowl", 51), ("banana", 52), ("apple", 53), ("sandwich", 54), ("orange", 55), ("broccoli", 56), ("carrot", 57),
    ("hot dog", 58), ("pizza", 59), ("donut", 60), ("cake", 61), ("chair", 62), ("couch", 63), ("potted plant", 64),
    ("bed", 65), ("dining table", 67), ("toilet", 70), ("tv", 72), ("laptop", 73), ("mouse", 74), ("remote", 75),
    ("keyboard", 76), ("cell phone", 77), ("microwave", 78), ("oven", 79), ("toaster", 80), ("sink", 81),
    ("refrigerator", 82), ("book", 84), ("clock", 85), ("vase", 86), ("scissors", 87), ("teddy bear", 88),
    ("hair drier", 89), ("toothbrush", 90),
)
# fmt: on
_RENAMED = {"ball": "sports ball", "glass": "wine glass"}  # the reference's name -> COCO's
_COCO_PAIRS = (
    frozenset((_RENAMED.get(n, n), i) for n, i in COCO_CATEGORY),  # as COCO's files name them
    frozenset(COCO_CATEGORY),  # as the reference (and write_coco of a COCO dataset) names them
)


def coco_dataset(folder: str | Path) -> Dataset:
    """The samples of a COCO-Caption folder in TAM's layout (see the module docstring), in the
    order of the instances file's ``images``; ids are the 12-digit file stems."""
    folder = Path(folder)
    instances = _mapping(read_json(folder / INSTANCES, LAYOUT), folder / INSTANCES)
    captions = _captions(_mapping(read_json(folder / CAPTIONS, LAYOUT), folder / CAPTIONS), folder / CAPTIONS)
    category = categories(instances.get("categories"), folder / INSTANCES)
    samples = [_sample(folder, image_id, captions, category) for image_id in _image_ids(instances, folder)]
    return Dataset("coco", samples, source=str(folder))


def categories(listed: object, path: Path) -> tuple[tuple[str, int], ...]:
    """The reference's :data:`COCO_CATEGORY`, unless ``listed`` (an instances file's ``categories``)
    holds other (id, name) pairs than COCO's 80: then those, ordered by id."""
    if listed is None or listed == []:
        return COCO_CATEGORY
    if not isinstance(listed, list) or not all(_is_category(c) for c in listed):
        raise ValueError(f"{path}: 'categories' must be a list of {{'id': int, 'name': str}} objects.")
    pairs = [(str(c["name"]), int(c["id"])) for c in listed]
    if frozenset(pairs) in _COCO_PAIRS:
        return COCO_CATEGORY
    return tuple(sorted(pairs, key=lambda p: p[1]))


def id12(image_id: int) -> str:
    """A COCO image id as the reference names its files: zero-padded to 12 digits."""
    return f"{image_id:012d}"


def _sample(
    folder: Path, image_id: int, captions: Mapping[int, list[str]], category: Sequence[tuple[str, int]]
) -> Sample:
    stem = id12(image_id)
    if image_id not in captions:
        raise ValueError(
            f"image {image_id} of {folder / INSTANCES} has no caption in {folder / CAPTIONS}; add at least one "
            "caption annotation for it or remove it from 'images'."
        )
    return Sample(
        id=stem,
        prompt=PROMPT,
        captions=tuple(captions[image_id]),
        category=tuple(category),
        image_path=folder / "image" / f"{stem}.jpg",
        mask_path=folder / "seg_label" / f"{stem}.png",
    )


def _image_ids(instances: Mapping[str, object], folder: Path) -> list[int]:
    images = instances.get("images")
    if not isinstance(images, list):
        raise ValueError(f"{folder / INSTANCES} has no 'images' list. Expected layout: {LAYOUT}")
    ids = []
    for k, image in enumerate(images):
        if not (isinstance(image, dict) and _is_int(image.get("id")) and image["id"] >= 0):
            raise ValueError(f"{folder / INSTANCES}: images[{k}] must be an object with a non-negative integer 'id'.")
        ids.append(int(image["id"]))
    return ids


def _captions(captions: Mapping[str, object], path: Path) -> dict[int, list[str]]:
    """image id -> its captions, in file order."""
    annotations = captions.get("annotations")
    if not isinstance(annotations, list):
        raise ValueError(f"{path} has no 'annotations' list. Expected layout: {LAYOUT}")
    out: dict[int, list[str]] = {}
    for k, a in enumerate(annotations):
        if not (isinstance(a, dict) and _is_int(a.get("image_id")) and isinstance(a.get("caption"), str)):
            raise ValueError(
                f"{path}: annotations[{k}] must be an object with an integer 'image_id' and a string 'caption'."
            )
        out.setdefault(int(a["image_id"]), []).append(a["caption"])
    return out


def _mapping(data: object, path: Path) -> Mapping[str, object]:
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object. Expected layout: {LAYOUT}")
    return data


def _is_category(c: object) -> bool:
    return isinstance(c, dict) and _is_int(c.get("id")) and isinstance(c.get("name"), str)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
