"""``results.jsonl``: one JSON object per (sample, method), appended as each is scored.

Every line is written whole and flushed to disk before the next sample starts, so a killed run
loses at most the sample in flight; a torn last line (the kill landed mid-write) is ignored on
reading. Non-finite numbers are written as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
(the golden files' convention) so the file stays strict JSON, and read back as floats.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

RESULTS = "results.jsonl"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its string name."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (strings that name a non-finite float become that float)."""
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dumps(row: dict[str, Any]) -> str:
    """One row as a strict-JSON line (floats as Python's shortest repr: they read back bit-equal)."""
    return json.dumps(encode(row), allow_nan=False, ensure_ascii=False)


def append(path: Path, row: dict[str, Any]) -> None:
    """Append ``row`` as one line and push it to disk before returning."""
    with path.open("a", encoding="utf-8") as f:
        f.write(dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of ``path`` (none when it does not exist); a torn line is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill: that pair is scored again
            if isinstance(row, dict) and isinstance(row.get("sample"), str) and isinstance(row.get("method"), str):
                yield decode(row)


def write_all(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace ``path`` by ``rows`` atomically (a temporary file renamed over it)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def key(row: dict[str, Any]) -> tuple[str, str]:
    """``(sample, method)``: what a row is the result of."""
    return str(row["sample"]), str(row["method"])
