"""Argument types and checks shared by the subcommands: each refuses a bad value with one line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import params

SEED_MAX = 2**32 - 1  # numpy's and torch's generators take seeds in [0, 2**32 - 1]


def seed(text: str) -> int:
    """``--seed``: an integer in ``[0, 2**32 - 1]``, checked by :func:`tam_widget.params.integer`."""
    try:
        return params.integer("seed", int(text), 0, SEED_MAX)
    except ValueError as e:
        detail = str(e) if "seed" in str(e) else f"seed must be an integer in [0, {SEED_MAX}], got {text!r}."
        raise argparse.ArgumentTypeError(detail) from None


def writable_file(path: str, option: str) -> str | None:
    """Why ``path`` cannot be written as a file (its folder missing or read-only, or it is a folder), or None."""
    out = Path(path)
    folder = out.parent
    if out.is_dir():
        return f"{option} {path!r} is a folder; give a file name in it, e.g. {os.fspath(out / 'tam-demo.html')!r}."
    if not folder.exists():
        return f"{option} {path!r}: the folder {os.fspath(folder)!r} does not exist; create it first."
    if not folder.is_dir():
        return f"{option} {path!r}: {os.fspath(folder)!r} is not a folder."
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option} {path!r}: the folder {os.fspath(folder)!r} is not writable."
    if out.exists() and not os.access(out, os.W_OK):
        return f"{option} {path!r} exists and is not writable."
    return None
