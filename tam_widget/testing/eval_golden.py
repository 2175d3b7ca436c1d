"""Read the evaluation golden cases (``shared/golden/eval/*.json``), shared by every metric family.

JSON has no NaN or infinities, so the files spell them as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (the folder's README); :func:`load_case` turns them back into floats.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_EVAL_GOLDEN_DIR = Path(__file__).resolve().parents[3] / "shared" / "golden" / "eval"
_SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def golden_eval_dir() -> Path:
    """``$EVAL_GOLDEN_DIR``, else ``shared/golden/eval`` beside the checkout."""
    env = os.environ.get("EVAL_GOLDEN_DIR")
    return Path(env) if env else DEFAULT_EVAL_GOLDEN_DIR


def _restore(value: Any) -> Any:
    """``value`` with the special-float strings turned back into floats, recursively."""
    if isinstance(value, str):
        return _SPECIAL.get(value, value)
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    return value


def load_case(path: str | Path) -> dict[str, Any]:
    """One golden ``.json`` file as a dict, with ``"NaN"``/``"Infinity"``/``"-Infinity"`` as floats."""
    return dict(_restore(json.loads(Path(path).read_text())))


def case_files(family: str) -> list[Path]:
    """The golden files of one family (names starting with ``family + "_"``), sorted."""
    return sorted(p for p in golden_eval_dir().glob("*.json") if p.name.startswith(family + "_"))
