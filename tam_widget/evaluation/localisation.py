"""Scoring maps against exact object masks: Otsu IoU, the pointing game, named-over-others.

Used by ``benchmarks/bench_toy_localisation.py`` and the tests on the teaching model's scenes.
A map is a ``(h, w)`` grid in ``[0, 1]`` over the whole image; it is upsampled bilinearly to the
image size with scikit-image and thresholded with Otsu's method (scikit-image), as TAM's paper
evaluates maps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..explanation import Explanation
from ..teaching.scenes import COLOURS, TEXTURES, Scene

# the maps compared: name -> Explanation.maps keyword arguments
METHODS: dict[str, dict[str, bool]] = {
    "CAM (raw)": {"eci": False, "filter": False},
    "TAM without ECI": {"eci": False, "filter": True},
    "TAM without filter": {"eci": True, "filter": False},
    "TAM": {"eci": True, "filter": True},
}


def _skimage() -> Any:
    """scikit-image, or an ImportError that names the extra to install."""
    try:
        import skimage.filters
        import skimage.transform
    except ImportError as err:
        raise ImportError("Scoring maps needs scikit-image: pip install 'tam-widget[eval]' (or scikit-image).") from err
    return skimage


def upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``grid`` resized bilinearly to ``shape`` (scikit-image, edge mode, no anti-aliasing)."""
    resize = _skimage().transform.resize

    return np.asarray(resize(grid.astype(np.float64), shape, order=1, mode="edge", anti_aliasing=False))


def otsu_iou(heat: np.ndarray, mask: np.ndarray) -> float:
    """IoU of the Otsu-thresholded map with the mask (0 for a flat map)."""
    threshold_otsu = _skimage().filters.threshold_otsu
    if float(heat.max() - heat.min()) <= 1e-12:
        return float(mask.mean())  # a flat map is the whole image
    region = heat > threshold_otsu(heat)
    union = np.logical_or(region, mask).sum()
    return float(np.logical_and(region, mask).sum() / union) if union else 0.0


def pointing(heat: np.ndarray, mask: np.ndarray) -> float:
    """1 if the map's maximum falls on the mask (ties: their mean)."""
    top = heat >= heat.max() - 1e-12
    return float(mask[top].mean())


def outweighs(heat: np.ndarray, masks: np.ndarray, named: tuple[int, ...]) -> float | None:
    """1 if the mean map over each named object exceeds the mean over every other object; None
    when there is no other object."""
    others = [j for j in range(len(masks)) if j not in named]
    if not others:
        return None
    means = [float(heat[m].mean()) for m in masks]
    return float(min(means[k] for k in named) > max(means[j] for j in others))


@dataclass(frozen=True)
class Target:
    item: int  # the answer item of the word
    word: str
    kind: str  # "colour" or "texture"
    objects: tuple[int, ...]  # what the word denotes: indices into scene.objects


def targets(exp: Explanation, scene: Scene) -> Iterator[Target]:
    """Every colour and texture word of the generated caption and the objects it denotes.

    A colour word denotes the scene's one object of that colour; a texture word every object with
    that texture. The vision tokens come before the text in a causal model, so their states, and
    the raw map of *dotted*, cannot know which dotted object a clause is about. A clause whose
    colour is not in the scene is skipped (exact match counts it); so is its texture word.
    """
    colour_of = {o.colour: k for k, o in enumerate(scene.objects)}
    in_scene = False
    for item in range(exp.n_prompt, exp.n_prompt + exp.n_answer):
        word = exp.tokens[exp.item_positions[item]].strip()
        if word in COLOURS:
            in_scene = word in colour_of
            if in_scene:
                yield Target(item, word, "colour", (colour_of[word],))
        elif word in TEXTURES and in_scene:
            same = tuple(k for k, o in enumerate(scene.objects) if o.texture == word)
            if same:
                yield Target(item, word, "texture", same)
        elif word in ("and", "."):
            in_scene = False


def score(exp: Explanation, scene: Scene) -> list[dict[str, object]]:
    """One record per (word, method): iou, pointing and outweighs, plus the two trivial baselines."""
    h, w = scene.image.shape[:2]
    records: list[dict[str, object]] = []
    found = list(targets(exp, scene))
    if not found:
        return records
    grid = exp.views[0].grid
    for method, kwargs in METHODS.items():
        maps = exp.maps(**kwargs).image.float().cpu().numpy()
        for t in found:
            heat = upsample(maps[t.item].reshape(grid), (h, w))
            records.append(_record(scene, t, method, heat))
    centre = np.zeros((h, w))
    centre[h // 4 : h - h // 4, w // 4 : w - w // 4] = 1.0
    for t in found:
        mask = _union(scene, t)
        whole = {"iou": float(mask.mean()), "pointing": float(mask.mean()), "outweighs": None}
        records.append({"method": "whole image", "kind": t.kind, "word": t.word, **whole})
        records.append(_record(scene, t, "centred box", centre))
        records[-1]["pointing"] = float(mask[h // 2, w // 2])
    return records


def _union(scene: Scene, t: Target) -> np.ndarray:
    return np.asarray(scene.masks[list(t.objects)].any(axis=0))


def _record(scene: Scene, t: Target, method: str, heat: np.ndarray) -> dict[str, object]:
    mask = _union(scene, t)
    return {
        "method": method,
        "kind": t.kind,
        "word": t.word,
        "iou": otsu_iou(heat, mask),
        "pointing": pointing(heat, mask),
        "outweighs": outweighs(heat, scene.masks, t.objects),
    }


def summarise(records: list[dict[str, object]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{method: {kind: {iou, pointing, outweighs, n}}}``: means over the records (``outweighs``
    over the scenes with two or more objects)."""
    values: dict[tuple[str, str, str], list[float]] = {}
    for r in records:
        for key in ("iou", "pointing", "outweighs"):
            v = r[key]
            if isinstance(v, float):
                values.setdefault((str(r["method"]), str(r["kind"]), key), []).append(v)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (method, kind, key), vs in values.items():
        cell = out.setdefault(method, {}).setdefault(kind, {})
        cell[key] = float(np.mean(vs))
        if key == "iou":
            cell["n"] = float(len(vs))
    return out
