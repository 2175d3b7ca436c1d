"""``open_dataset(spec)``: a dataset named by one string, as the command line and the runner take it.

The accepted forms are kept in one registry, so adding a reader is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from .anno import anno_dataset
from .base import Dataset
from .coco import coco_dataset
from .repope import repope_dataset
from .scenes import scenes_dataset

FORMS = (
    "scenes (500 held-out teaching scenes)",
    "scenes:N",
    "coco:DIR",
    "grandf:DIR",
    "openpsg:DIR",
    "repope:FILE",
    "repope:FILE:IMAGES_DIR",
)


def open_dataset(spec: str) -> Dataset:
    """The dataset ``spec`` names: one of :data:`FORMS`. Paths are read as given (relative to the
    working directory); an unknown or malformed spec raises ``ValueError`` listing the forms."""
    kind, _, rest = spec.partition(":")
    if kind not in _READERS:
        raise _malformed(spec, f"unknown dataset kind {kind!r}")
    return _READERS[kind](spec, rest)


def _scenes(spec: str, rest: str) -> Dataset:
    if spec == "scenes":
        return scenes_dataset()
    if not (rest.isdigit() and int(rest) >= 1):
        raise _malformed(spec, "N must be a positive integer")
    return scenes_dataset(int(rest))


def _folder(name: str) -> Callable[[str, str], Dataset]:
    def read(spec: str, rest: str) -> Dataset:
        if not rest:
            raise _malformed(spec, f"{name} needs a folder")
        return coco_dataset(rest) if name == "coco" else anno_dataset(rest, name)

    return read


def _repope(spec: str, rest: str) -> Dataset:
    path, _, images = rest.partition(":")  # a path holding ':' cannot be named here
    if not path:
        raise _malformed(spec, "repope needs a question file")
    return repope_dataset(path, images or None)


def _malformed(spec: str, why: str) -> ValueError:
    return ValueError(f"dataset spec {spec!r}: {why}. Accepted forms: {', '.join(FORMS)}.")


_READERS: dict[str, Callable[[str, str], Dataset]] = {
    "scenes": _scenes,
    "coco": _folder("coco"),
    "grandf": _folder("grandf"),
    "openpsg": _folder("openpsg"),
    "repope": _repope,
}
