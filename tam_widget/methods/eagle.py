"""EAGLE (Chen et al., CVPR 2026): black-box, perturbation only. A greedy search orders image
regions by how much they make the answer's tokens likely (:func:`tam_widget.core.eagle_search.eagle_search`).

Saved as the label map and the order (never ``N`` masks) plus the per-token curves; everything
else is derived from them again on load.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from ..core.eagle_maps import grid_means
from ..core.eagle_result import EagleResult
from ..core.eagle_search import VARIANTS, eagle_search, images_needed
from ..core.layout import VisionLayout
from ..core.superpixels import regions as superpixel_regions
from .base import JSON, Captured, Method

# the tensors of an EagleResult saved to a file: name -> (dtype, shape as "N"/"T" letters or None)
STATE: dict[str, tuple[torch.dtype, str | None]] = {
    "order": (torch.int64, "N"),
    "regions": (torch.int32, None),
    "insertion_tokens": (torch.float64, "NT"),
    "deletion_tokens": (torch.float64, "NT"),
    "region_area": (torch.float64, "N"),
    "org_score": (torch.float64, "T"),
    "baseline_score": (torch.float64, "T"),
}
PROBABILITIES = ("insertion_tokens", "deletion_tokens", "org_score", "baseline_score")
SETTINGS = ("search_scope", "pending_samples", "update_step")
# what the browser gets as float32: (N,) by label or by rank, (N, T) curves, (T,) per-token read-outs
WIRE_FLOAT32 = (
    *("attribution", "insertion", "deletion", "objective", "region_area", "insertion_tokens", "deletion_tokens"),
    *("word_reliance", "prior", "lift", "org_score", "baseline_score"),
)


class EAGLE(Method):
    """Black-box: needs ``captured.score`` (probabilities of the explained tokens for masked images)
    and a ``regions`` label map of the one image; never reads hidden states."""

    name = "eagle"
    title = "EAGLE"

    needs_scorer = True  # explain builds captured.score (runtime.scoring) for it
    explain_options = ("progress",)  # the explain() keywords it takes

    def run(
        self,
        captured: Captured,
        *,
        regions: np.ndarray | None = None,
        division: int | None = None,
        superpixels: str = "auto",
        progress: bool = False,
        **options: Any,
    ) -> EagleResult:
        """:func:`~tam_widget.core.eagle_search.eagle_search` on the run's image with ``captured.score``.

        ``regions``: the label map; by default the image's superpixels
        (:func:`tam_widget.core.superpixels.regions` with ``division``, default 64, and
        ``superpixels``: ``"auto"``, ``"slico"``, ``"slic"`` or ``"grid"``). ``progress``: a tqdm
        bar over the images scored. ``options``: ``variant``, ``search_scope``,
        ``pending_samples``, ``update_step``, ``lambda1``, ``lambda2``, ``batch_size``."""
        known = {"variant", *SETTINGS, "lambda1", "lambda2", "batch_size"}
        if set(options) - known:
            raise TypeError(
                f"EAGLE takes regions, division, superpixels, progress and {sorted(known)}, "
                f"not {sorted(set(options) - known)}."
            )
        if captured.score is None:
            raise ValueError(
                "EAGLE needs a scorer: Captured.score, the explained tokens' probabilities for masked images. "
                "This run captured none; run a black-box capture or pick method='tam'."
            )
        if len(captured.images) != 1:
            raise ValueError(f"EAGLE explains one image or one video, got {len(captured.images)} images.")
        image = captured.images[0]
        if regions is None:
            regions = superpixel_regions(image, division, superpixels)
        score = _with_progress(captured.score, regions, options) if progress else captured.score
        try:
            result = eagle_search(image, regions, score, **options)
        finally:
            getattr(score, "close", lambda: None)()
        positions = tuple(int(p) for p in captured.explained_positions or ())
        return dataclasses.replace(result, positions=positions) if positions else result

    def to_state(self, result: EagleResult) -> tuple[dict[str, torch.Tensor], JSON]:
        tensors = {k: torch.from_numpy(np.array(getattr(result, k))).to(dtype) for k, (dtype, _) in STATE.items()}
        header = {**result.params, "images_scored": result.images_scored, "positions": list(result.positions)}
        return tensors, header | {"n_regions": result.n_regions, "n_tokens": result.n_tokens}

    def check_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> None:
        """Refuse a saved state :meth:`from_state` cannot turn into a correct result (``ValueError``).

        The header holds ``variant``, the three efficient settings (integers ≥ 1), ``lambda1``,
        ``lambda2`` (finite, ≥ 0, not both 0), ``images_scored`` (≥ 0), ``n_regions`` ``N`` and
        ``n_tokens`` ``T`` (≥ 1). The tensors are all of :data:`STATE` with those dtypes and shapes;
        ``order`` is a permutation of ``0 … N−1``; ``regions`` (2-D or 3-D) uses every label
        ``0 … N−1``; the probabilities are in ``[0, 1]``; ``region_area`` is the cumulative area of
        ``order``'s regions in ``regions``. ``layout`` is not used: EAGLE works on pixels.
        """
        n, t = _check_header(header)
        positions = header.get("positions", [])
        if not isinstance(positions, list) or any(
            isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in positions
        ):
            raise ValueError(
                f"field 'methods.eagle.positions' must be a list of sequence positions, got {positions!r}."
            )
        if positions and len(positions) != t:
            raise ValueError(f"field 'methods.eagle.positions' has {len(positions)} entries for {t} explained tokens.")
        missing = [f"eagle.{k}" for k in STATE if k not in tensors]
        if missing:
            raise ValueError(f"tensor(s) {missing} are missing.")
        for key, (dtype, letters) in STATE.items():
            _check_tensor(key, tensors[key], dtype, letters, n, t)
        _check_regions(tensors["order"], tensors["regions"], tensors["region_area"], n)
        for key in PROBABILITIES:
            values = tensors[key]
            if not bool(((values >= 0) & (values <= 1)).all()):
                raise ValueError(f"tensor 'eagle.{key}' must hold probabilities in [0, 1] (no NaN).")

    def from_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> EagleResult:
        """The result saved by :meth:`to_state`, after :meth:`check_state` (``ValueError`` when it refuses)."""
        self.check_state(tensors, header, layout)
        fields: dict[str, Any] = {k: tensors[k].cpu().numpy() for k in STATE}
        fields["regions"] = fields["regions"].astype(np.int64)
        fields |= {k: int(header[k]) for k in (*SETTINGS, "images_scored")}
        fields |= {k: float(header[k]) for k in ("lambda1", "lambda2")}
        fields["positions"] = tuple(int(p) for p in header.get("positions", []))
        return EagleResult(**fields, variant=str(header["variant"]))

    def wire_arrays(self, result: EagleResult, exp: Any = None) -> tuple[dict[str, np.ndarray], JSON]:
        """Float32 ``attribution`` (N,) by label, int32 ``order`` (N,), float32 curves ``insertion``,
        ``deletion``, ``objective``, ``region_area`` (N,) and ``insertion_tokens``,
        ``deletion_tokens`` (N, T), and float32 ``word_reliance``, ``prior``, ``lift``,
        ``org_score``, ``baseline_score`` (T,); JSON: the settings, N, T, images scored, AUCs.

        With ``exp`` (the page's explanation): float32 ``grid`` (n_v,), the attribution map as the
        mean over each vision cell of ``exp``'s views (drawn like a TAM map, on the same cells),
        and int32 ``items`` (T,), the item each explained token is (-1: not an item). The pixel
        label map itself stays in Python (``result.attribution_map()``)."""
        arrays = {k: np.asarray(getattr(result, k), dtype=np.float32) for k in WIRE_FLOAT32}
        arrays["order"] = np.asarray(result.order, dtype=np.int32)
        if exp is not None:
            views = [v for v in exp.views if v.image == 0]
            grid = grid_means(result.attribution_map(), [v.grid for v in views], [v.box for v in views])
            arrays["grid"] = grid.astype(np.float32)
            item_of = {p: i for i, p in enumerate(exp.item_positions)}
            arrays["items"] = np.asarray([item_of.get(p, -1) for p in result.positions], dtype=np.int32)
        extra = {**result.params, "n_regions": result.n_regions, "n_tokens": result.n_tokens}
        extra["positions"] = list(result.positions)
        extra |= {"images_scored": result.images_scored, "insertion_auc": result.insertion_auc}
        return arrays, extra | {"deletion_auc": result.deletion_auc}


def _check_header(header: JSON) -> tuple[int, int]:
    """The header's ``(N, T)`` after checking every field."""
    if header.get("variant") not in VARIANTS:
        raise ValueError(
            f"field 'methods.eagle.variant' must be one of {list(VARIANTS)}, got {header.get('variant')!r}."
        )
    lows = {**dict.fromkeys(SETTINGS, 1), "images_scored": 0, "n_regions": 1, "n_tokens": 1}
    for key, lo in lows.items():
        v = header.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"field 'methods.eagle.{key}' must be an integer >= {lo}, got {v!r}.")
    weights = [header.get(k) for k in ("lambda1", "lambda2")]
    for key, v in zip(("lambda1", "lambda2"), weights, strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"field 'methods.eagle.{key}' must be a finite number >= 0, got {v!r}.")
    if sum(weights) == 0:  # type: ignore[arg-type]
        raise ValueError("fields 'methods.eagle.lambda1' and 'lambda2' are both 0: the objective is constant.")
    return int(header["n_regions"]), int(header["n_tokens"])


def _check_tensor(key: str, value: torch.Tensor, dtype: torch.dtype, letters: str | None, n: int, t: int) -> None:
    if value.dtype != dtype:
        raise ValueError(f"tensor 'eagle.{key}' is {value.dtype}; it must be {dtype}.")
    if letters is None:
        if value.ndim not in (2, 3) or 0 in value.shape:
            raise ValueError(f"tensor 'eagle.{key}' must be a (H, W) or (F, H, W) label map, got {tuple(value.shape)}.")
        return
    shape = tuple({"N": n, "T": t}[c] for c in letters)
    if tuple(value.shape) != shape:
        raise ValueError(f"tensor 'eagle.{key}' has shape {tuple(value.shape)}; expected {shape} (N = {n}, T = {t}).")


def _check_regions(order: torch.Tensor, regions: torch.Tensor, area: torch.Tensor, n: int) -> None:
    """``order`` ranks every label once, ``regions`` uses each, ``area`` is their cumulative share."""
    if not torch.equal(torch.sort(order).values, torch.arange(n)):
        raise ValueError(f"tensor 'eagle.order' must be a permutation of 0 … {n - 1}, got {order.tolist()[:8]} ….")
    flat = regions.reshape(-1).long()
    if int(flat.min()) < 0 or int(flat.max()) != n - 1 or bool((torch.bincount(flat, minlength=n) == 0).any()):
        raise ValueError(f"tensor 'eagle.regions' must use every label 0 … {n - 1} (one per ranked region).")
    expected = torch.cumsum(torch.bincount(flat, minlength=n)[order].double(), 0) / flat.numel()
    if not torch.allclose(area, expected, rtol=0, atol=1e-6):
        raise ValueError("tensor 'eagle.region_area' is not the cumulative area of 'eagle.order' in 'eagle.regions'.")


class _Progress:
    """``score`` with a tqdm bar over the images it scores (the total is known before the search)."""

    def __init__(self, score: Any, total: int) -> None:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

        self.score = score
        self.bar = tqdm(total=total, desc="EAGLE", unit="img")

    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = self.score(images)
        self.bar.update(len(images))
        return np.asarray(out)

    def close(self) -> None:
        self.bar.close()


def _with_progress(score: Any, regions: Any, options: dict[str, Any]) -> _Progress:
    n = int(np.max(regions)) + 1 if np.size(regions) else 0
    keys = ("variant", *SETTINGS)
    return _Progress(score, images_needed(n, **{k: options[k] for k in keys if k in options}))
