"""``tam-widget eval``: score explanations over a dataset with the papers' metrics.

    tam-widget eval --dataset scenes --limit 16 --methods tam,cam --out runs/scenes
    accelerate launch --cpu --num_processes 2 -m tam_widget eval --dataset scenes ... --out runs/b

Writes ``results.jsonl``, ``summary.json`` and ``report.html`` into ``--out``
(:mod:`tam_widget.evaluation.runner`); a rerun resumes. Prints the summary table at the end.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

DTYPES = ("auto", "float32", "bfloat16", "float16")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``eval`` and its options."""
    from ..evaluation.eval_methods import EVAL_METHODS

    p = sub.add_parser("eval", help="score explanations over a dataset (TAM's and EAGLE's metrics)")
    p.add_argument(
        "--dataset",
        required=True,
        help="scenes[:N] (the teaching scenes), coco:DIR, grandf:DIR, openpsg:DIR (the TAM reference's layouts)",
    )
    p.add_argument("--model", default="teaching", help="'teaching' (the shipped model) or a checkpoint folder")
    p.add_argument("--methods", default="tam,cam", help=f"comma-separated, among {','.join(EVAL_METHODS)}")
    p.add_argument("--limit", type=_positive, help="score only the first N samples")
    p.add_argument("--out", required=True, help="the run's folder (created; a rerun resumes it)")
    p.add_argument("--prompt", help="ask every sample this instead of the dataset's prompt (the reference's)")
    p.add_argument("--steps", type=_count, default=64, help="faithfulness rates i/STEPS (default 64; 0 skips it)")
    p.add_argument("--max-new-tokens", type=_positive, default=256, help="answer length (default 256, the reference's)")
    p.add_argument("--eagle-division", type=_positive, default=64, help="EAGLE's number of regions (default 64)")
    p.add_argument(
        "--eagle-variant", choices=["full", "efficient"], default="full", help="EAGLE's search (default full)"
    )
    p.add_argument("--batch-size", type=_positive, help="images per forward when scoring (default: from free memory)")
    p.add_argument("--dtype", choices=DTYPES, default="auto", help="a checkpoint's weights dtype (default auto)")
    p.add_argument("--device", help="a checkpoint's device in one process, e.g. cuda (launched: each rank's own)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run, check=check, parser=p)


def _positive(text: str) -> int:
    return _int(text, 1)


def _count(text: str) -> int:
    return _int(text, 0)


def _int(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
    return value


def check(args: argparse.Namespace) -> str | None:
    """What is wrong before any work: the dataset spec, the methods, the model, the output folder."""
    from ..evaluation.datasets import open_dataset
    from ..evaluation.eval_methods import eval_methods

    try:
        eval_methods(args.methods)
        args.dataset_obj = open_dataset(args.dataset)
    except (ValueError, FileNotFoundError, TypeError) as err:
        return str(err)
    if args.model != "teaching" and not Path(args.model).is_dir():
        return (
            f"--model {args.model!r}: not 'teaching' and not a checkpoint folder; pass the folder holding config.json."
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return f"--out {args.out!r} is a file; give a folder for the run."
    parent = out if out.exists() else out.parent
    if not parent.exists() or not os.access(parent, os.W_OK | os.X_OK):
        return f"--out {args.out!r}: {os.fspath(parent)!r} does not exist or is not writable."
    return None


def load(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """``(model, processor, name)``: the teaching model, or a checkpoint folder through transformers' Auto classes."""
    if args.model == "teaching":
        from ..teaching import demo_model

        model, processor, _ = demo_model()
        return model, processor, "tam-widget teaching model"
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    dtype = "auto" if args.dtype == "auto" else getattr(torch, args.dtype)
    model = AutoModelForImageTextToText.from_pretrained(args.model, dtype=dtype)
    if args.device and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        model = model.to(args.device)
    processor = AutoProcessor.from_pretrained(args.model)  # type: ignore[no-untyped-call]
    return model.eval(), processor, str(args.model)


def run(args: argparse.Namespace) -> int:
    """Load, evaluate, print the summary table (rank 0) and where the files are."""
    from ..evaluation.runner import evaluate
    from ..evaluation.sample_scores import Settings
    from ..evaluation.summary import table

    model, processor, name = load(args)
    eagle = {"division": args.eagle_division, "variant": args.eagle_variant}
    settings = Settings(args.max_new_tokens, args.steps, eagle, args.batch_size, args.prompt)
    summary = evaluate(
        model,
        processor,
        args.dataset_obj,
        args.methods,
        args.out,
        limit=args.limit,
        settings=settings,
        model_name=name,
        report=not args.no_report,
        progress=not args.quiet,
    )
    if int(os.environ.get("RANK", "0")) == 0:
        print(table(summary))
        print(Path(args.out).resolve())
    return 0
