"""``tam-widget`` command line.

- ``demo [--out FILE.html] [--seed N] [--model teaching|random]``: the shipped teaching model
  captions a fresh synthetic scene; the explanation is written as the interactive page (one
  self-contained HTML file) and its path printed.
- ``parity [--golden DIR]``: TAM on the reference's golden cases (or a synthetic case), parity
  with the reference, and one map drawn in the terminal.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .core import TAMResult
from .explanation import Explanation
from .golden import golden_dir, load_golden
from .synthetic import make_case

SHADES = " .:-=+*#%@"


def ascii_map(grid: np.ndarray) -> str:
    """A ``(h, w)`` map in ``[0, 1]`` as characters, darkest to brightest."""
    idx = np.clip((grid * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "\n".join("  " + "".join(SHADES[i] * 2 for i in row) for row in idx)


def summarise(name: str, res: TAMResult, seconds: float) -> str:
    maps = res.maps()
    lines = [
        f"{name}: {res.n_items} items ({res.n_prompt} prompt + {res.n_answer} answer), "
        f"{res.layout.n_tokens} vision tokens in grids {res.layout.to_json()}, {seconds * 1e3:.1f} ms"
    ]
    candidates = range(res.n_prompt, res.n_items) if res.n_answer else range(res.n_items)
    peak_item = max(candidates, key=lambda v: float(res.A[v].max()))
    frames = maps.frames(peak_item)
    best = int(np.argmax([f.max() for f in frames]))
    lines.append(f"strongest answer item {peak_item} (token id {int(res.token_ids[peak_item])}), frame {best}:")
    lines.append(ascii_map(frames[best]))
    return "\n".join(lines)


def scene(height: int = 224, width: int = 280) -> np.ndarray:
    """A deterministic picture: a red disc, a blue square and a yellow bar on grey."""
    yy, xx = np.mgrid[:height, :width]
    img = np.full((height, width, 3), 200, np.uint8)
    img[(yy - 70) ** 2 + (xx - 80) ** 2 < 45**2] = (220, 40, 40)
    img[140:200, 170:240] = (40, 70, 220)
    img[30:50, 150:260] = (235, 200, 30)
    return img


def demo_explanation(seed: int = 0) -> Explanation:
    """The demo's explanation: the shipped teaching model captions the scene of ``seed``."""
    from .explain import explain
    from .scenes import PROMPT
    from .teaching import demo_model

    model, processor, make = demo_model()
    return explain(model, processor, make(seed).image, PROMPT, max_new_tokens=40)


def random_model_explanation(seed: int = 0) -> Explanation:
    """An untrained tiny Qwen2-VL on :func:`scene`, the answer given: the pipeline without trained weights."""
    from .explain import explain
    from .toy import qwen2_vl_model, qwen2_vl_processor

    model = qwen2_vl_model(seed=seed, hidden=128, layers=2, vision_width=64, vision_depth=2)
    return explain(
        model, qwen2_vl_processor(), scene(), "What is in the picture?", answer="A red disc and a blue square."
    )


def demo(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(0, 100_000))
    if args.model == "random":
        exp = random_model_explanation(seed)
        what = "a random, untrained model: the page shows the tool, not what a trained model sees"
        traits = {}
    else:
        from .scenes import make_scene

        exp = demo_explanation(seed)
        truth = make_scene(seed)
        verdict = "correct" if truth.says(exp.text) else f"the scene is: {truth.caption!r}"
        what = f"the teaching model on scene {seed} said {exp.text.strip()!r} ({verdict})"
        from .scenes import COLOURS

        colours = [i for i in range(exp.n_prompt, exp.n_prompt + exp.n_answer) if exp.item_texts[i].strip() in COLOURS]
        traits = {"selected": colours[0]} if colours else {}  # open on a word with something to see
    out = exp.save_html(args.out, **traits)
    print(
        f"explained {exp.n_prompt} prompt + {exp.n_answer} answer tokens over views "
        f"{[v.grid for v in exp.views]} in {time.perf_counter() - start:.2f} s; {what}"
    )
    print(Path(out).resolve())
    return 0


def parity(args: argparse.Namespace) -> int:
    folder = Path(args.golden) if args.golden else golden_dir()
    cases = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    if not cases:
        case = make_case(seed=args.seed)
        start = time.perf_counter()
        res = case.compute()
        print(summarise("synthetic case", res, time.perf_counter() - start))
        return 0
    worst = 0
    for path in cases:
        golden = load_golden(path)
        start = time.perf_counter()
        res = golden.compute()
        maps = res.maps()
        elapsed = time.perf_counter() - start
        diff = np.abs(maps.u8.numpy().astype(int) - golden.expected["call_map_u8"].astype(int)).max()
        worst = max(worst, int(diff))
        print(
            f"{golden.name:>20}: {res.n_items:3d} items, max |map - reference| = {diff} / 255, {elapsed * 1e3:.1f} ms"
        )
    print(summarise(golden.name, res, elapsed))
    print(f"parity with the reference on {len(cases)} golden cases: {'OK' if worst <= 1 else 'FAILED'}")
    return 0 if worst <= 1 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tam-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="explain a small offline model and write the interactive HTML page")
    p_demo.add_argument("--out", default="tam-demo.html", help="where to write the page (default: tam-demo.html)")
    p_demo.add_argument("--seed", type=int, help="the scene (or the random model's weights); default: a fresh scene")
    p_demo.add_argument(
        "--model",
        choices=["teaching", "random"],
        default="teaching",
        help="the shipped teaching model (default) or an untrained random Qwen2-VL",
    )
    p_par = sub.add_parser("parity", help="TAM on the golden cases (or a synthetic one): parity and one map")
    p_par.add_argument("--golden", help="folder of golden *.npz cases (default: $TAM_GOLDEN_DIR or shared/golden/tam)")
    p_par.add_argument("--seed", type=int, default=0, help="seed of the synthetic case")
    args = parser.parse_args(argv)
    return demo(args) if args.command == "demo" else parity(args)


if __name__ == "__main__":
    sys.exit(main())
