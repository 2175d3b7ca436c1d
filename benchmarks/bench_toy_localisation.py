"""Do the maps point at the named object? The teaching model on held-out scenes with exact masks.

For each held-out scene (seeds 0, 1, ...; training used seeds >= 1,000,000) the shipped teaching
model generates its caption through ``tam_widget.explain`` (greedy), then for every colour and
texture word of that caption the map of the word is scored against the mask of the object it
names: IoU of the Otsu-thresholded map (upsampled bilinearly to the image), the pointing game
(the map's maximum on the object) and how often the mean map over the named object exceeds the
mean over every other object (scenes with 2-3 objects). Methods: CAM (raw activation), TAM
without ECI, TAM without the rank Gaussian filter, TAM; baselines: the whole image and a centred
box covering half of each side.

    python benchmarks/bench_toy_localisation.py            # 200 scenes
    python benchmarks/bench_toy_localisation.py --quick    # 50 scenes, well under two minutes

The last line is one JSON object: ``caption_exact``, ``tam_iou`` / ``cam_iou`` / ``tam_pointing``
(colour words), the texture figures, and the whole table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tam_widget import explain, teaching  # noqa: E402
from tam_widget.evaluation.localisation import METHODS, score, summarise  # noqa: E402
from tam_widget.teaching.scenes import PROMPT, make_scene  # noqa: E402

ROWS = [*METHODS, "whole image", "centred box"]


def run(n: int, checkpoint: Path, threads: int) -> dict[str, Any]:
    torch.set_num_threads(threads)
    model, processor = teaching.load(checkpoint)
    records: list[dict[str, object]] = []
    exact = 0
    start = time.perf_counter()
    for seed in range(n):
        scene = make_scene(seed)
        exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=40)
        exact += scene.says(exp.text)
        records.extend(score(exp, scene))
    table = summarise(records)
    return {"scenes": n, "caption_exact": exact / n, "seconds": time.perf_counter() - start, "table": table}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="50 scenes instead of 200")
    ap.add_argument("--scenes", type=int, default=None)
    ap.add_argument("--checkpoint", default=str(teaching.CHECKPOINT), help="a teaching-model folder")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    n = args.scenes or (50 if args.quick else 200)
    res = run(n, Path(args.checkpoint), args.threads)
    table = res["table"]

    print(f"{n} held-out scenes, {res['seconds']:.1f} s; caption exact match {res['caption_exact']:.3f}")
    print(f"{'method':<22}{'words':<9}{'IoU':>7}{'pointing':>10}{'named>others':>14}{'n':>6}")
    for method in ROWS:
        for kind in ("colour", "texture"):
            c = table.get(method, {}).get(kind)
            if not c:
                continue
            over = f"{c['outweighs']:.3f}" if "outweighs" in c else "-"
            print(f"{method:<22}{kind:<9}{c['iou']:7.3f}{c['pointing']:10.3f}{over:>14}{int(c['n']):6d}")

    def get(method: str, kind: str, key: str) -> float:
        return round(float(table.get(method, {}).get(kind, {}).get(key, float("nan"))), 4)

    summary = {
        "scenes": n,
        "caption_exact": round(res["caption_exact"], 4),
        "tam_iou": get("TAM", "colour", "iou"),
        "cam_iou": get("CAM (raw)", "colour", "iou"),
        "tam_pointing": get("TAM", "colour", "pointing"),
        "cam_pointing": get("CAM (raw)", "colour", "pointing"),
        "tam_outweighs": get("TAM", "colour", "outweighs"),
        "tam_iou_texture": get("TAM", "texture", "iou"),
        "tam_pointing_texture": get("TAM", "texture", "pointing"),
        "whole_image_iou": get("whole image", "colour", "iou"),
        "table": table,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
