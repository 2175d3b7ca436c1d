"""The teaching scenes as a built-in dataset: exact masks, true captions, no files to download.

Seeds ``0 .. n-1`` are held out (the teaching model trains on seeds >= 1,000,000). Each scene's
categories are the five colours (ids 1-5 in :data:`~tam_widget.teaching.scenes.COLOURS` order)
and its label map paints every object with its colour's id: in this world the colour word names
the object, so a colour is tagged a noun (``NN``) whatever a part-of-speech tagger would say.
Fixing every caption word's tag also makes the figures independent of whether NLTK's tagger data
is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import overload

import numpy as np

from tam_widget.teaching.scenes import COLOURS, NOUN, PROMPT, TEXTURES, Scene, make_scene

from .base import Dataset, Sample

CATEGORY: tuple[tuple[str, int], ...] = tuple((colour, i) for i, colour in enumerate(COLOURS, 1))
TAGS: dict[str, str] = {
    **dict.fromkeys(COLOURS, "NN"),
    **dict.fromkeys(TEXTURES, "JJ"),
    NOUN: "NN",
    "a": "DT",
    "and": "CC",
}


def scenes_dataset(n: int = 500) -> Dataset:
    """The first ``n`` held-out scenes (seeds ``0 .. n-1``), ids ``scene-<seed, 6 digits>``."""
    if n < 1:
        raise ValueError(f"the number of scenes must be at least 1, got {n}.")
    return Dataset("scenes", _Scenes(n), tags=dict(TAGS), source=f"scenes:{n}")


def scene_sample(seed: int) -> Sample:
    """The sample of one scene; its pixels and label map are built on demand, once for both."""
    return Sample(
        id=f"scene-{seed:06d}",
        prompt=PROMPT,
        captions=(_scene(seed).caption,),
        category=CATEGORY,
        pixels=lambda: _scene(seed).image.copy(),
        label_map=lambda: label_map(_scene(seed)),
    )


def label_map(scene: Scene) -> np.ndarray:
    """``(H, W)`` uint8: each object's pixels hold its colour's category id, the background 0."""
    ids = dict(CATEGORY)
    out = np.zeros(scene.masks.shape[1:], np.uint8)
    for obj, mask in zip(scene.objects, scene.masks, strict=True):
        out[mask] = ids[obj.colour]
    return out


class _Scenes(Sequence[Sample]):
    """Seeds ``0 .. n-1`` as samples, each built when first read (the caption needs the scene,
    about 7 ms), so opening 500 scenes costs nothing."""

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | Sequence[Sample]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(f"scene index {i} out of range for {self._n} scenes")
        return scene_sample(i % self._n)


@lru_cache(maxsize=16)
def _scene(seed: int) -> Scene:
    """A scene is built once while its sample is in use (image, then mask), yet 500 of them are
    not all kept in memory (about 0.7 MB each)."""
    return make_scene(seed)
