"""The rank Gaussian filter's own parity fixture: ``fixtures/filter/maps.json``, written by make_fixtures.py.

Maps of several shapes (one cell, one row, a window wider than the map, a video frame's 32 x 36) and
every kernel the core takes (1, 3, 5, 7), filtered by the core (``tam_widget.core.rgf``): what the
page's filter (js/src/methods/tam-filter.ts, tam-filter3.ts) must give, float32 for float32. The maps
hold zeros (a window of zeros gives 0), a constant patch (its median), a negative corner (a window whose
sum is not positive gives 0) and cubed uniform values (a map's long tail)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from tam_widget.core.rgf import rank_gaussian_filter

# (kernel, height, width)
CASES = [(3, 1, 1), (3, 1, 4), (3, 2, 2), (3, 3, 5), (3, 12, 9), (3, 32, 36), (1, 4, 5), (5, 2, 3), (5, 6, 7)]
CASES += [(5, 24, 24), (7, 9, 11)]


def filter_map(height: int, width: int, seed: int) -> torch.Tensor:
    """A (height, width) float32 map: cubed uniform values, a zero block, a constant patch, a negative corner."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(height, width, generator=g) ** 3
    x[: height // 3, width // 2 :] = 0
    x[height // 2 :, : width // 3] = 0.25
    if height > 2 and width > 2:
        x[-1, -1] = -0.5
    return x


def write_filter(out: Path, floats: Any) -> None:
    cases = []
    for seed, (kernel, height, width) in enumerate(CASES):
        x = filter_map(height, width, seed)
        y = rank_gaussian_filter(x[None], kernel)[0]
        cases.append({"kernel": kernel, "height": height, "width": width, "map": floats(x), "filtered": floats(y)})
    (out / "filter").mkdir(exist_ok=True)
    path = out / "filter" / "maps.json"
    path.write_text(json.dumps({"cases": cases}, separators=(",", ":")))
    print(f"filter: {len(cases)} maps -> {path}")
