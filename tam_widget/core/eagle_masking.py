"""The one place EAGLE touches the model: masked copies of the image, scored in bounded batches.

A set of regions is a boolean membership vector over the labels ``0 … N−1``; its union mask is
``member[regions]``. The insertion image shows only the set, ``x ⊙ M``; the deletion image hides
it, ``x ⊙ (1 − M)``. Hidden pixels are 0 in pixel space (black), before any processor (spec
§1.3). Images are built ``batch_size`` at a time, right before the ``score`` call that takes
them, so memory stays at one batch whatever the number of candidates; every image handed to
``score`` is counted (one image = one forward pass of the reference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ROUNDING = 1e-6  # a probability may overshoot [0, 1] by this much (float rounding); it is kept as given
EagleScorer = Callable[[np.ndarray], np.ndarray]  # (B, *image.shape) uint8 -> (B, T) probabilities


class MaskedScorer:
    """Scores region sets of one image (``(H, W, 3)``) or video (``(F, H, W, 3)``) with ``score``.

    ``regions`` is the checked label map (the image's shape without the channel axis), every label
    ``0 … N−1`` present. ``score`` takes ``(B, *image.shape)`` uint8 and returns ``(B, T)``
    probabilities; its output is checked on every call (cheap: ``B × T`` numbers) and ``T`` must
    stay the same. ``images_scored`` counts the images scored so far.
    """

    def __init__(self, image: np.ndarray, regions: np.ndarray, score: EagleScorer, batch_size: int) -> None:
        self.image = image
        self.regions = regions
        self.score = score
        self.batch_size = batch_size
        self.counts = np.bincount(regions.ravel())
        self.n_regions = len(self.counts)
        self.n_tokens: int | None = None
        self.images_scored = 0

    def area(self, member: np.ndarray) -> float:
        """``|M| / size``: the share of the image's pixels (all frames' for a video) in the set."""
        return float(self.counts[member].sum()) / self.regions.size

    def insertion_deletion(self, sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(p(x ⊙ M_S), p(x ⊙ (1 − M_S)))`` for every set ``S``: two ``(K, T)`` float64 arrays.

        Both images of a set go in the same stream, so one ``score`` call takes the insertion and
        deletion images of several candidates."""
        keeps = [keep for member in sets for keep in (member, ~member)]
        probs = self.probabilities(keeps)
        return probs[0::2], probs[1::2]

    def probabilities(self, keeps: Sequence[np.ndarray]) -> np.ndarray:
        """``(K, T)`` float64: the scores of ``x ⊙ M_keep`` for every membership vector ``keep``."""
        rows = [self._call(keeps[i : i + self.batch_size]) for i in range(0, len(keeps), self.batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, self.n_tokens or 0))

    def _call(self, keeps: Sequence[np.ndarray]) -> np.ndarray:
        batch = np.empty((len(keeps), *self.image.shape), dtype=np.uint8)
        for out, keep in zip(batch, keeps, strict=True):
            np.multiply(self.image, keep[self.regions][..., None], out=out)
        probs = self._checked(self.score(batch), len(keeps))
        self.images_scored += len(keeps)
        return probs

    def _checked(self, out: object, n_images: int) -> np.ndarray:
        """``score``'s output as ``(B, T)`` float64, or a ValueError saying what was wrong."""
        try:
            arr = np.asarray(out)
        except (TypeError, ValueError, RuntimeError) as e:
            raise TypeError(f"score must return a (B, T) array of probabilities, got {type(out).__name__}: {e}") from e
        expected = f"({n_images}, T)" if self.n_tokens is None else f"({n_images}, {self.n_tokens})"
        if arr.dtype.kind not in "fiu" or arr.ndim != 2 or arr.shape[0] != n_images or arr.shape[1] < 1:
            raise ValueError(
                f"score returned {arr.dtype} {arr.shape} for {n_images} image(s); it must return {expected} "
                "probabilities, one row per image and one column per explained token."
            )
        if self.n_tokens is not None and arr.shape[1] != self.n_tokens:
            raise ValueError(
                f"score returned {arr.shape[1]} tokens per image, before {self.n_tokens}: expected {expected}."
            )
        probs = arr.astype(np.float64)
        bad = ~((probs >= -ROUNDING) & (probs <= 1 + ROUNDING))  # NaN compares False
        if bad.any():
            raise ValueError(
                f"score must return probabilities in [0, 1] (a softmax entry per explained token), got "
                f"{int(bad.sum())} value(s) outside, e.g. {probs[bad][0]}."
            )
        self.n_tokens = int(arr.shape[1])
        return probs
