"""EAGLE beside TAM and CAM on the teaching model: localisation against exact masks and faithfulness.

For each held-out scene the teaching model captions it (greedy, through ``tam_widget.explain``);
for every colour word of the caption, three maps of that one token are scored against the mask of
the object it names (Otsu IoU, the pointing game, named-over-others; ``evaluation.localisation``)
and by faithfulness (``evaluation.faithfulness``: pixels ranked by the map, kept or blacked out at
rates i/64, the word's teacher-forced probability; insertion AUC higher is better, deletion lower):

- ``CAM (raw)`` and ``TAM``: the word's maps from the one pass, upsampled bilinearly;
- ``EAGLE``: the efficient search (tutorial settings 6, 4, 15) over SLICO superpixels
  (``--division``, default 16 to keep the CPU run short; the paper uses 64) explaining that word.

The same batched scorer (``runtime.scoring``) scores EAGLE's search and every map's curves.

    python benchmarks/bench_toy_eagle.py            # 12 scenes
    python benchmarks/bench_toy_eagle.py --quick    # 3 scenes

The last line is one JSON object with the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tam_widget import demo_model, explain  # noqa: E402
from tam_widget.core.eagle_search import eagle_search  # noqa: E402
from tam_widget.core.superpixels import regions  # noqa: E402
from tam_widget.evaluation.faithfulness import faithfulness  # noqa: E402
from tam_widget.evaluation.localisation import otsu_iou, outweighs, pointing, targets, upsample  # noqa: E402
from tam_widget.explainer import model_inputs  # noqa: E402
from tam_widget.runtime.scoring import make_scorer  # noqa: E402
from tam_widget.teaching.scenes import PROMPT  # noqa: E402

METHODS = ("CAM (raw)", "TAM", "EAGLE")


def scene_records(model: Any, processor: Any, scene: Any, division: int) -> list[dict[str, Any]]:
    exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=40, progress=False)
    inputs = model_inputs(model, processor, scene.image, PROMPT)
    h, w = scene.image.shape[:2]
    grid = exp.views[0].grid
    cam, tam = (exp.maps(eci=e, filter=f).image.float().numpy() for e, f in ((False, False), (True, True)))
    labels = regions(scene.image, division, "slico")
    out = []
    for t in targets(exp, scene):
        if t.kind != "colour":
            continue
        pos = exp.item_positions[t.item]
        score = make_scorer(model, processor, scene.image, inputs, exp.token_ids, [pos])
        found = eagle_search(
            scene.image, labels, score, variant="efficient", search_scope=6, pending_samples=4, update_step=15
        )
        heats = {
            "CAM (raw)": upsample(cam[t.item].reshape(grid), (h, w)),
            "TAM": upsample(tam[t.item].reshape(grid), (h, w)),
            "EAGLE": found.attribution_map(),
        }
        mask = scene.masks[list(t.objects)].any(axis=0)
        for method, heat in heats.items():
            f = faithfulness(score, scene.image, heat)
            out.append(
                {
                    "method": method,
                    "word": t.word,
                    "iou": otsu_iou(heat, mask),
                    "pointing": pointing(heat, mask),
                    "outweighs": outweighs(heat, scene.masks, t.objects),
                    "insertion_auc": f.insertion_auc,
                    "deletion_auc": f.deletion_auc,
                }
            )
        out[-1]["eagle_images"] = found.images_scored
    return out


def summarise(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    table = {}
    for method in METHODS:
        rows = [r for r in records if r["method"] == method]
        over = [r["outweighs"] for r in rows if r["outweighs"] is not None]
        table[method] = {
            key: round(float(np.mean([r[key] for r in rows])), 4)
            for key in ("iou", "pointing", "insertion_auc", "deletion_auc")
        } | {"named_over_others": round(float(np.mean(over)), 4) if over else float("nan"), "n": len(rows)}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=12)
    parser.add_argument("--division", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="3 scenes")
    args = parser.parse_args()
    n = 3 if args.quick else args.scenes
    model, processor, make = demo_model()
    t0 = time.perf_counter()
    records = [r for seed in range(n) for r in scene_records(model, processor, make(seed), args.division)]
    table = summarise(records)
    print(f"{n} held-out scenes, colour words, EAGLE efficient (6, 4, 15) at division {args.division}")
    print(f"{'method':<12}{'IoU':>7}{'pointing':>10}{'named>others':>14}{'ins AUC':>9}{'del AUC':>9}{'n':>5}")
    for method, c in table.items():
        print(
            f"{method:<12}{c['iou']:7.3f}{c['pointing']:10.3f}{c['named_over_others']:14.3f}"
            f"{c['insertion_auc']:9.3f}{c['deletion_auc']:9.3f}{c['n']:5d}"
        )
    print(
        "baseline beside them: the whole image has IoU = pointing = the object's area share "
        f"({np.mean([s.masks.any(0).mean() for s in [make(i) for i in range(n)]]):.3f} of the image is objects)"
    )
    print(json.dumps({"scenes": n, "division": args.division, "seconds": round(time.perf_counter() - t0, 1), **table}))


if __name__ == "__main__":
    main()
