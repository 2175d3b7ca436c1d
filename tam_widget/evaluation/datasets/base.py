"""What every dataset reader yields: :class:`Sample`, one image with its prompt and ground truth.

A reader is a :class:`Dataset`: a name, an ordered list of samples (the order is the aggregation
order, so one process and many give the same figures), and the word tags it fixes (the scenes tag
their colour words as nouns whatever the tagger says). Pixels and masks load lazily, so opening a
dataset of thousands of images reads only its annotation files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Sample:
    """One image to explain and score.

    ``id``: unique and stable within its dataset (a file stem, a scene's seed); results are keyed
    by it. ``prompt``: the user's words (the reference's prompt for its datasets). ``captions``:
    reference texts for ROUGE-L and METEOR. ``category``: ordered ``(name, id)`` pairs matched to
    the answer's nouns (the last match wins, as the reference). ``label``: a yes/no question's
    correct answer (``"yes"``/``"no"``), ``None`` for captioning samples.
    """

    id: str
    prompt: str
    captions: tuple[str, ...] = ()
    category: tuple[tuple[str, int], ...] = ()
    label: str | None = None
    image_path: Path | None = None
    mask_path: Path | None = None
    pixels: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)
    label_map: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def image(self) -> np.ndarray:
        """The ``(H, W, 3)`` uint8 RGB image."""
        if self.pixels is not None:
            return self.pixels()
        if self.image_path is None:
            raise ValueError(f"sample {self.id!r} has neither pixels nor an image path.")
        from .files import read_image

        return read_image(self.image_path)

    def mask(self) -> np.ndarray | None:
        """The uint8 ``(H, W)`` label map (pixel = category id), or ``None`` when the mask file is
        missing (the reference then scores against zeros: no object IoU, thresholds still count)."""
        if self.label_map is not None:
            return self.label_map()
        if self.mask_path is None or not self.mask_path.exists():
            return None
        from .files import read_label_map

        return read_label_map(self.mask_path)


@dataclass(frozen=True)
class Dataset:
    """An ordered, indexable list of samples, the words whose tags it fixes, and where it came from."""

    name: str
    samples: Sequence[Sample]
    tags: Mapping[str, str] = field(default_factory=dict)  # word -> Penn tag, before the tagger
    source: str = ""  # the folder or file read, for the report

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]
