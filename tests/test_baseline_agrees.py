"""The benchmark's reference-procedure baseline and the core give the same maps.

Covers a layout the golden cases do not: an image, a video and a 1 x N image in one sequence.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reference_procedure import reference_maps
from tam_widget.synthetic import make_case


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baseline_and_core_agree_on_mixed_grids(seed: int) -> None:
    case = make_case(vocab=300, width=32, grids=((5, 6), (2, 3, 4), (1, 7)), n_prompt=5, n_answer=9, seed=seed)
    frames = [(f.height, f.width) for f in case.vision.frames]
    assert len(frames) == 4
    want = reference_maps(
        case.hidden,
        case.lm_head,
        case.token_ids,
        case.vision.positions,
        frames,
        case.prompt_positions,
        case.answer_start,
    )
    got = case.compute().maps().u8.numpy()
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert want.max() > 0  # a non-trivial case
