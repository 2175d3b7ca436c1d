"""Read the reference implementation's golden cases (``shared/golden/tam/*.npz``).

The format is described in that folder's README; :func:`load_golden` turns one file into the
arguments of :func:`tam_widget.compute_tam` plus the reference's outputs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core import TAMInputs, VisionLayout

DEFAULT_GOLDEN_DIR = Path(__file__).resolve().parents[3] / "shared" / "golden" / "tam"


@dataclass(frozen=True)
class GoldenCase(TAMInputs):
    name: str
    expected: dict[str, np.ndarray]  # the reference's outputs, keyed as in the file


def golden_dir() -> Path:
    """``$TAM_GOLDEN_DIR``, else ``shared/golden/tam`` beside the checkout."""
    env = os.environ.get("TAM_GOLDEN_DIR")
    return Path(env) if env else DEFAULT_GOLDEN_DIR


def load_golden(path: str | Path) -> GoldenCase:
    """One golden ``.npz`` file as :func:`~tam_widget.compute_tam`'s inputs plus the reference's outputs."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    grids = json.loads(str(arrays["grids"]))
    return GoldenCase(
        name=path.stem,
        hidden=torch.from_numpy(arrays["hidden"]),
        lm_head=torch.from_numpy(arrays["lm_head"]),
        token_ids=torch.from_numpy(arrays["tokens"]).long(),
        vision=VisionLayout.from_grids(arrays["image_positions"], grids),
        prompt_positions=torch.from_numpy(arrays["prompt_positions"]).long(),
        answer_start=int(arrays["answer_start"]),
        expected={k: v for k, v in arrays.items() if k.startswith(("call_", "eval_"))},
    )
