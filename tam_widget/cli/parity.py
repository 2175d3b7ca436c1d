"""``tam-widget parity``: TAM on the reference's golden cases (or a synthetic one), and one map drawn."""

from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from ..core import TAMResult
from ..testing.golden import golden_dir, load_golden
from ..testing.synthetic import make_case
from . import args as args_

SHADES = " .:-=+*#%@"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``parity`` and its options."""
    p = sub.add_parser("parity", help="TAM on the golden cases (or a synthetic one): parity and one map")
    p.add_argument("--golden", help="folder of golden *.npz cases (default: $TAM_GOLDEN_DIR or shared/golden/tam)")
    p.add_argument("--seed", type=args_.seed, default=0, help=f"seed of the synthetic case, in [0, {args_.SEED_MAX}]")
    p.set_defaults(run=run, check=check, parser=p)


def check(args: argparse.Namespace) -> str | None:
    """A folder given (``--golden`` or ``$TAM_GOLDEN_DIR``) must exist and hold ``*.npz`` cases; else None."""
    if args.golden is not None:
        given, option = args.golden, "--golden"
    else:
        given, option = os.environ.get("TAM_GOLDEN_DIR"), "$TAM_GOLDEN_DIR"
    if given is None:
        return None  # the default folder, or the synthetic case where it is absent
    folder = Path(given)
    if not folder.exists():
        return f"{option} {given!r} does not exist; pass the folder of golden *.npz cases (or leave it out)."
    if not folder.is_dir():
        return f"{option} {given!r} is not a folder; pass the folder of golden *.npz cases (or leave it out)."
    if not any(folder.glob("*.npz")):
        return f"{option} {given!r} holds no *.npz golden cases."
    return None


def ascii_map(grid: np.ndarray) -> str:
    """A ``(h, w)`` map in ``[0, 1]`` as characters, darkest to brightest."""
    idx = np.clip((grid * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "\n".join("  " + "".join(SHADES[i] * 2 for i in row) for row in idx)


def describe(name: str, res: TAMResult, seconds: float) -> str:
    """A few lines on a result: its items and grids, the time, and its strongest answer item's map."""
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


def run(args: argparse.Namespace) -> int:
    """Compare every golden case with the reference; 0 when all agree within one level of 255."""
    folder = Path(args.golden) if args.golden is not None else golden_dir()
    cases = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    if not cases:  # only with no folder given (check refused an empty one) and the default one absent
        case = make_case(seed=args.seed)
        start = time.perf_counter()
        res = case.compute()
        print(describe("synthetic case", res, time.perf_counter() - start))
        return 0
    worst = 0
    for path in cases:
        try:
            golden = load_golden(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            print(f"tam-widget parity: error: cannot read the golden case {os.fspath(path)!r}: {e!r}", file=sys.stderr)
            return 2
        start = time.perf_counter()
        res = golden.compute()
        maps = res.maps()
        elapsed = time.perf_counter() - start
        diff = np.abs(maps.u8.numpy().astype(int) - golden.expected["call_map_u8"].astype(int)).max()
        worst = max(worst, int(diff))
        print(
            f"{golden.name:>20}: {res.n_items:3d} items, max |map - reference| = {diff} / 255, {elapsed * 1e3:.1f} ms"
        )
    print(describe(golden.name, res, elapsed))
    print(f"parity with the reference on {len(cases)} golden cases: {'OK' if worst <= 1 else 'FAILED'}")
    return 0 if worst <= 1 else 1
