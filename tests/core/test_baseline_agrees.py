"""The benchmark's two methods (reference procedure, core) give the same maps.

Covers a layout the golden cases do not: an image, a video and a 1 x N image in one sequence.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_core import run_baseline, run_core
from tam_widget.testing.synthetic import make_case


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baseline_and_core_agree_on_mixed_grids(seed: int) -> None:
    case = make_case(vocab=300, width=32, grids=((5, 6), (2, 3, 4), (1, 7)), n_prompt=5, n_answer=9, seed=seed)
    assert len(case.vision.frames) == 4
    want = run_baseline(case)
    got = run_core(case)
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert want.max() > 0  # a non-trivial case
