"""``tam-widget demo``: the teaching model (or an untrained one) explained, written as the offline page."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ..explanation import Explanation
from . import args as args_


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo`` and its options."""
    p = sub.add_parser("demo", help="explain a small offline model and write the interactive HTML page")
    p.add_argument("--out", default="tam-demo.html", help="where to write the page (default: tam-demo.html)")
    p.add_argument(
        "--seed",
        type=args_.seed,
        help=f"the scene (or the random model's weights), in [0, {args_.SEED_MAX}]; default: a fresh scene",
    )
    p.add_argument(
        "--model",
        choices=["teaching", "random"],
        default="teaching",
        help="the shipped teaching model (default) or an untrained random Qwen2-VL",
    )
    p.set_defaults(run=run, check=check, parser=p)


def check(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments before any work (the page's folder), or None."""
    return args_.writable_file(args.out, "--out")


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
    from ..explainer import explain
    from ..teaching import PROMPT, demo_model

    model, processor, make = demo_model()
    return explain(model, processor, make(seed).image, PROMPT, max_new_tokens=40)


def random_model_explanation(seed: int = 0) -> Explanation:
    """An untrained tiny Qwen2-VL on :func:`scene`, the answer given: the pipeline without trained weights."""
    from ..explainer import explain
    from ..testing.toy import qwen2_vl_model, qwen2_vl_processor

    model = qwen2_vl_model(seed=seed, hidden=128, layers=2, vision_width=64, vision_depth=2)
    return explain(
        model, qwen2_vl_processor(), scene(), "What is in the picture?", answer="A red disc and a blue square."
    )


def run(args: argparse.Namespace) -> int:
    """Explain, write the page, print what was explained and the page's path."""
    start = time.perf_counter()
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(0, 100_000))
    if args.model == "random":
        exp = random_model_explanation(seed)
        what = "a random, untrained model: the page shows the tool, not what a trained model sees"
        traits = {}
    else:
        from ..teaching import COLOURS, make_scene

        exp = demo_explanation(seed)
        truth = make_scene(seed)
        verdict = "correct" if truth.says(exp.text) else f"the scene is: {truth.caption!r}"
        what = f"the teaching model on scene {seed} said {exp.text.strip()!r} ({verdict})"
        colours = [i for i in range(exp.n_prompt, exp.n_prompt + exp.n_answer) if exp.item_texts[i].strip() in COLOURS]
        traits = {"selected": colours[0]} if colours else {}  # open on a word with something to see
    out = exp.save_html(args.out, **traits)
    print(
        f"explained {exp.n_prompt} prompt + {exp.n_answer} answer tokens over views "
        f"{[v.grid for v in exp.views]} in {time.perf_counter() - start:.2f} s; {what}"
    )
    print(Path(out).resolve())
    return 0
