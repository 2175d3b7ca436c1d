"""Write the vitest parity fixtures: one ``js/tests/fixtures/<case>.json`` per golden TAM case.

Run from anywhere: ``PYTHONPATH=/path/to/checkout python js/tests/make_fixtures.py``.

Each fixture holds the case's arrays (``A``, ``omega``, ``scale`` with NaN as null, ``R``,
``n_visible``, flattened row-major), its ``frames`` and ``kernel``, the real wire encoding (version
4: ``meta["methods"]["tam"]`` holds TAM's array specs and kernel) of an ``Explanation`` built around
the case (``wire.data`` base64 + ``wire.meta``, so the TypeScript decoder is tested on what Python
actually sends), the expected ``u8`` maps (and normalised text relevance) of every item for each
setting the widget can show, and ``class_maps``: the u8 maps of three candidate classes, the
item's own class and an earlier item's token at a few items (``TAMResult.class_maps``), for the page's candidate clicks.

``layers/<name>.json``: an explanation of a random toy Qwen2-VL with 4 decoder layers, every layer kept
(``explain(..., layers="all")``), the same with its earlier layers' raw maps raised per row (their
minima not 0, :func:`shifted`), and one of a 16-frame video (:func:`video_explanation`): its wire (every
layer compact, A as uint16) and, per kept layer and setting (:data:`LAYER_SETTINGS`), every item's map as
float32 (``exp.maps(layer=i)``) and the last layer's class maps at a few items, to measure the browser's
error against 1/255.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filter_fixtures import write_filter  # beside this file: the script's folder is on the path

from tam_widget.core.result import TAMResult
from tam_widget.display import wire
from tam_widget.explanation import Explanation
from tam_widget.families.base import View
from tam_widget.testing.golden import GoldenCase, golden_dir, load_golden

OUT = Path(__file__).resolve().parent / "fixtures"

# (label, eci_scale, eci, filter): the settings checked item by item against result.maps().
SETTINGS = [
    ("lambda_1", 1.0, True, True),
    ("lambda_0.5", 0.5, True, True),
    ("lambda_1.37", 1.37, True, True),  # a slider value float32 cannot hold exactly
    ("lambda_2", 2.0, True, True),
    ("lambda_0", 0.0, True, True),
    ("no_eci", 1.0, False, True),
    ("no_filter", 1.0, True, False),
    ("lambda_0.5_no_filter", 0.5, True, False),
    ("lambda_2_no_filter", 2.0, True, False),
    ("no_eci_no_filter", 1.0, False, False),
]


def floats(x: Any) -> list[float | None]:
    """Flattened float32 values as exact JSON numbers, NaN as null."""
    flat = np.asarray(x, dtype=np.float32).reshape(-1).astype(np.float64).tolist()
    return [None if math.isnan(v) else v for v in flat]


def explanation(case: GoldenCase, result: TAMResult) -> Explanation:
    """A plain Explanation around the case (token texts, images and candidates are placeholders)."""
    ids = case.token_ids.tolist()
    tokens = [f"t{i}" for i in ids]
    views, images, start = [], [], 0
    for index, grid in enumerate(result.layout.grids):
        cells = int(np.prod(grid))
        positions = tuple(result.layout.positions[start : start + cells].tolist())
        start += cells
        h, w = grid[-2], grid[-1]
        video = len(grid) == 3
        shape = (2 * grid[0], 4 * h, 4 * w, 3) if video else (4 * h, 4 * w, 3)
        images.append(np.full(shape, 128, dtype=np.uint8))
        views.append(View(image=index, kind="video" if video else "image", grid=tuple(grid), positions=positions))
    n_answer = len(ids) - case.answer_start
    probs = np.tile(np.array([[0.7, 0.2, 0.1]]), (n_answer, 1))
    return Explanation(
        results={"tam": result},
        token_ids=ids,
        tokens=tokens,
        special=[False] * len(ids),
        words=list(range(len(ids))),
        prompt_positions=case.prompt_positions.tolist(),
        answer_start=case.answer_start,
        images=images,
        views=views,
        top_ids=np.zeros((n_answer, 3), dtype=np.int64),
        top_probs=probs,
        top_texts=[["a", "b", "c"]] * n_answer,
        text=" ".join(tokens[case.answer_start :]),
        meta={"model": "golden", "family": case.name},
    )


# settings the candidate (class) maps are checked at, and how many items of each case
CLASS_SETTINGS = [SETTINGS[0], SETTINGS[1], SETTINGS[3], SETTINGS[6]]
CLASS_ITEMS = 8


def class_maps(r: TAMResult, extra: list[int]) -> list[dict[str, Any]]:
    """u8 maps of the candidate classes ``extra``, each item's own class and an earlier item's token at up to
    CLASS_ITEMS items."""
    items = sorted({round(i) for i in np.linspace(0, r.n_items - 1, CLASS_ITEMS)})
    return candidate_maps(r, CLASS_SETTINGS, items, extra, u8=True)


def candidate_maps(
    r: TAMResult, settings: list[tuple[str, float, bool, bool]], items: list[int], extra: list[int], *, u8: bool
) -> list[dict[str, Any]]:
    """Per setting and item of ``items``: the class maps of ``extra``, the item's own class and an earlier
    item's (the repeat rule), as ``u8`` (floor(255 x), as the page shows them) or else as float32 ``image``."""
    out = []
    for label, eci_scale, eci, filt in settings:
        for v in items:
            ids = [*extra, int(r.classes[v]), int(r.classes[v // 2])]  # an earlier item's class: the repeat rule
            maps = r.class_maps(v, torch.tensor(ids), eci_scale, eci=eci, filter=filt)
            values = torch.floor(maps * 255).clamp(0, 255).to(torch.uint8).reshape(-1).tolist() if u8 else floats(maps)
            shown = {"label": label, "eci_scale": eci_scale, "eci": eci, "filter": filt, "item": v, "ids": ids}
            out.append(shown | {"u8" if u8 else "image": values})
    return out


def fixture(case: GoldenCase) -> dict[str, Any]:
    plain = case.compute()
    vocab = case.lm_head.shape[0]
    extra = [c for c in range(vocab) if c not in set(plain.classes.tolist())][:: max(1, vocab // 7)][:3]
    r = case.compute(candidates=extra)
    data, meta, _ = wire.encode(explanation(case, r))
    expected = []
    for label, eci_scale, eci, filt in SETTINGS:
        maps = r.maps(eci_scale, eci=eci, filter=filt)
        expected.append(
            {
                "label": label,
                "eci_scale": eci_scale,
                "eci": eci,
                "filter": filt,
                "u8": maps.u8.reshape(-1).tolist(),
                "text": floats(maps.text),
            }
        )
    return {
        "name": case.name,
        "T": r.n_items,
        "n_v": r.layout.n_tokens,
        "n_prompt": r.n_prompt,
        "n_answer": r.n_answer,
        "kernel": r.kernel,
        "frames": [{"offset": f.offset, "height": f.height, "width": f.width} for f in r.layout.frames],
        "A": floats(r.A),
        "omega": floats(r.omega),
        "scale": floats(r.scale),
        "R": floats(r.R),
        "n_visible": r.n_visible.tolist(),
        "wire": {"data": base64.b64encode(data).decode("ascii"), "meta": meta},
        "expected": expected,
        "class_maps": class_maps(r, extra),
    }


# (label, eci_scale, eci, filter): lambda in {0, 0.5, 1, 2}, ECI on/off, filter on/off
LAYER_SETTINGS = [
    (f"lambda_{lam:g}{'' if filt else '_no_filter'}", lam, True, filt)
    for filt in (True, False)
    for lam in (0.0, 0.5, 1.0, 2.0)
] + [("no_eci", 1.0, False, True), ("no_eci_no_filter", 1.0, False, False)]


def layered_explanation() -> Explanation:
    """A random toy Qwen2-VL (4 layers, two images) explained with every layer kept, teacher-forced."""
    from tam_widget import explain
    from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor

    model = qwen2_vl_model(seed=3, layers=4)
    processor = qwen2_vl_processor(max_pixels=224 * 252)
    images = [noise_image(224, 252, seed=1), noise_image(84, 84, seed=2)]
    return explain(model, processor, images, "What is here?", answer="a cat on a red mat.", layers="all")


def video_explanation() -> Explanation:
    """A random toy Qwen2-VL (4 layers) on a 16-frame video (8 temporal grids of 4 x 5 cells), every layer kept:
    a many-frame layout, with candidates."""
    from tam_widget import Video, explain
    from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor
    from tam_widget.testing.video import with_video_processor

    model = qwen2_vl_model(seed=5, layers=4)
    processor = with_video_processor(qwen2_vl_processor(max_pixels=224 * 252), max_pixels=224 * 252)
    frames = np.stack([np.roll(noise_image(112, 140, seed=7), 9 * i, axis=1) for i in range(16)])
    return explain(
        model, processor, Video(frames, fps=1.0), "What happens?", answer="a cat runs, a cat sits.", layers="all"
    )


def shifted(exp: Explanation) -> Explanation:
    """The same explanation with every earlier layer's raw maps raised by a per-row amount (E = omega @ A
    again): rows whose minimum is not 0, which the ReLU'd maps of a model rarely have, so that the
    uint16 rows' offsets are exercised."""
    from dataclasses import replace

    g = torch.Generator().manual_seed(0)
    layers = {}
    for i, r in exp.tam.layers.items():
        A = r.A + 0.5 + torch.rand(r.A.shape[0], 1, generator=g)
        layers[i] = replace(r, A=A, E=r.omega @ A)
    return replace(exp, results={"tam": replace(exp.tam, layers=layers)})


def layered_fixture(exp: Explanation, name: str) -> dict[str, Any]:
    """The wire of ``exp`` and, at every kept layer and LAYER_SETTINGS, every item's map in float32."""
    data, meta, _ = wire.encode(exp)
    expected = []
    for layer in exp.layers:
        for label, eci_scale, eci, filt in LAYER_SETTINGS:
            image = exp.maps(eci_scale, eci=eci, filter=filt, layer=layer).image
            expected.append(
                {
                    "layer": layer,
                    "label": label,
                    "eci_scale": eci_scale,
                    "eci": eci,
                    "filter": filt,
                    "image": floats(image),
                }
            )
    r = exp.tam
    return {
        "name": name,
        "T": r.n_items,
        "n_v": r.layout.n_tokens,
        "layers": exp.layers,
        "n_layers": r.n_layers,
        "frames": len(meta["frames"]),
        "wire": {"data": base64.b64encode(data).decode("ascii"), "meta": meta},
        "expected": expected,
        "class_maps": float_class_maps(r),
    }


def float_class_maps(r: TAMResult) -> list[dict[str, Any]]:
    """The last layer's class maps in float32 at a few items (every candidate, the item's own class and an
    earlier item's: the repeat rule and the activations past an item's shown relevance), per LAYER_SETTINGS."""
    if r.candidates is None:
        return []
    items = sorted({round(i) for i in np.linspace(1, r.n_items - 1, 4)})
    return candidate_maps(r, LAYER_SETTINGS, items, r.candidates.classes.tolist()[:4], u8=False)


def write_layered() -> None:
    exp = layered_explanation()
    (OUT / "layers").mkdir(exist_ok=True)
    cases = [(exp, "toy_qwen2_vl_4_layers"), (shifted(exp), "shifted_rows"), (video_explanation(), "video_16_frames")]
    for fx in (layered_fixture(e, name) for e, name in cases):
        path = OUT / "layers" / f"{fx['name']}.json"
        path.write_text(json.dumps(fx, separators=(",", ":")))
        print(f"{fx['name']}: T={fx['T']} n_v={fx['n_v']} layers {fx['layers']} -> {path}")


def main() -> int:
    paths = sorted(golden_dir().glob("*.npz"))
    if not paths:
        print(f"No golden cases in {golden_dir()} (set TAM_GOLDEN_DIR).", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    for path in paths:
        fx = fixture(load_golden(path))
        (OUT / f"{fx['name']}.json").write_text(json.dumps(fx, separators=(",", ":")))
        print(f"{fx['name']}: T={fx['T']} n_v={fx['n_v']} -> {OUT / (fx['name'] + '.json')}")
    write_layered()
    write_filter(OUT, floats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
