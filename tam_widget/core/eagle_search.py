"""EAGLE (Chen et al., CVPR 2026): a black-box greedy search for the image regions that make a
multimodal LLM produce its answer tokens, and what those tokens rely on.

:func:`eagle_search` is the entry: it checks every argument, then runs the full greedy (spec
``eagle.md`` §2.2) or the efficient variant (§4) of :mod:`.eagle_greedy` over a label map of
regions, scoring masked images through ``score`` in bounded batches (:mod:`.eagle_masking`), and
returns an :class:`~.eagle_result.EagleResult`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import params
from .eagle_greedy import efficient_greedy, full_greedy
from .eagle_masking import EagleScorer, MaskedScorer
from .eagle_result import EagleResult

VARIANTS = ("full", "efficient")


def eagle_search(
    image: np.ndarray,
    regions: np.ndarray,
    score: EagleScorer,
    *,
    variant: str = "full",
    search_scope: int = 10,
    pending_samples: int = 8,
    update_step: int = 5,
    lambda1: float = 1.0,
    lambda2: float = 1.0,
    batch_size: int = 32,
) -> EagleResult:
    """Order the regions of ``image`` by how much they make ``score``'s tokens likely.

    - ``image``: uint8 ``(H, W, 3)``, or a video ``(F, H, W, 3)``.
    - ``regions``: integer labels ``0 … N−1`` of ``image``'s shape without the channel axis, every
      label used (superpixels, a grid per frame, …).
    - ``score``: takes ``(B, *image.shape)`` uint8 images, hidden pixels 0, and returns ``(B, T)``
      probabilities of the ``T`` explained tokens (teacher-forced on the original answer).
    - ``variant``: ``"full"`` (``N(N + 1)`` images, the paper's) or ``"efficient"`` (spec §4, with
      ``search_scope``, ``pending_samples``, ``update_step``; ``N ≤ 2`` runs the full greedy).
    - ``lambda1``/``lambda2``: weights of insight ``mean p(x ⊙ M)`` and necessity
      ``1 − mean p(x ⊙ (1 − M))``; the reference's results all use 1 and 1.
    - ``batch_size``: most images per ``score`` call (the insertion and deletion images of several
      candidates share a call); no more than this many masked images exist at once.

    A value of the wrong kind is a ``TypeError`` and one out of range a ``ValueError``, each naming
    the argument; ``score``'s output is checked on every call.
    """
    image = _image(image)
    labels = _regions(regions, image.shape[:-1])
    if not callable(score):
        raise TypeError(f"score must be a function of (B, *image.shape) uint8 images, got {type(score).__name__}.")
    variant = params.choice("variant", variant, VARIANTS)
    scope, pending, update, batch = (
        params.integer(name, value, lo=1)
        for name, value in (
            ("search_scope", search_scope),
            ("pending_samples", pending_samples),
            ("update_step", update_step),
            ("batch_size", batch_size),
        )
    )
    l1, l2 = _weights(lambda1, lambda2)
    scorer = MaskedScorer(image, labels, score, batch)
    if variant == "full":
        trace = full_greedy(scorer, l1, l2)
    else:
        trace = efficient_greedy(scorer, l1, l2, scope, pending, update)
    return EagleResult(
        order=trace.order.astype(np.int64),
        insertion_tokens=trace.insertion,
        deletion_tokens=trace.deletion,
        region_area=trace.area.astype(np.float64),
        org_score=trace.full,
        baseline_score=trace.blank,
        regions=labels,
        images_scored=scorer.images_scored,
        variant=variant,
        search_scope=scope,
        pending_samples=pending,
        update_step=update,
        lambda1=l1,
        lambda2=l2,
    )


def _image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise TypeError(f"image must be a uint8 numpy array (np.asarray(pil_image)), got {got}.")
    if image.ndim not in (3, 4) or image.shape[-1] != 3 or 0 in image.shape:
        raise ValueError(f"image must be (H, W, 3) or a video (F, H, W, 3), got shape {image.shape}.")
    return image


def _regions(regions: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The label map as int64, or an error saying what is wrong and how to fix it."""
    if not isinstance(regions, np.ndarray) or regions.dtype.kind not in "iu":
        got = regions.dtype if isinstance(regions, np.ndarray) else type(regions).__name__
        raise TypeError(f"regions must be an integer numpy label map, got {got}.")
    if regions.shape != shape:
        raise ValueError(f"regions must have the image's shape without channels, {shape}, got {regions.shape}.")
    if int(regions.min()) < 0:
        raise ValueError(f"regions must hold labels 0 … N−1, got {int(regions.min())}.")
    counts = np.bincount(regions.ravel().astype(np.int64))
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        raise ValueError(
            f"regions must use every label 0 … {len(counts) - 1}, but {empty[:8].tolist()} have no pixel: "
            "relabel with np.unique(regions, return_inverse=True)[1].reshape(regions.shape)."
        )
    return regions.astype(np.int64)


def _weights(lambda1: Any, lambda2: Any) -> tuple[float, float]:
    l1 = params.number("lambda1", lambda1, 0.0, math.inf)
    l2 = params.number("lambda2", lambda2, 0.0, math.inf)
    if l1 + l2 == 0:
        raise ValueError("lambda1 and lambda2 are both 0: the objective would be constant; the paper uses 1 and 1.")
    return l1, l2


def images_needed(
    n_regions: int, variant: str = "full", search_scope: int = 10, pending_samples: int = 8, update_step: int = 5
) -> int:
    """How many images a search over ``n_regions`` regions scores (spec §5), without running it:
    ``N(N + 1)`` for the full greedy; the efficient variant's count follows its loop (§4)."""
    n = n_regions
    if variant == "full" or n <= 2:
        return n * (n + 1)
    images, left, placed, step = 2, n, 0, 0
    while left > 1:
        whole = placed == 0 or step % update_step == 0
        images += 2 * (left if whole else min(search_scope, left))
        left, placed = left - 1, placed + 1
        if step == 0:
            left -= 1  # the lowest-ranked region goes to the back for free
        elif left > pending_samples:
            images += 2 * pending_samples
            left -= 1
        step += 1
    return images
