"""TAM's compact wire rows (methods/tam_wire.py): quantised rows, and a non-finite row marked by NaN lo."""

from __future__ import annotations

import numpy as np

from tam_widget.methods.tam import A_LEVELS, dequantise_rows, quantise_rows


def test_rows_round_trip_within_half_a_level_and_a_bad_row_crosses_as_nan() -> None:
    rng = np.random.default_rng(0)
    A = np.maximum(rng.normal(size=(5, 300)), 0).astype(np.float32) + np.arange(5, dtype=np.float32)[:, None]
    A[1] = 2.5  # a flat row: step 0, exact
    A[3, 7] = np.nan
    A[4, 0] = np.inf
    q, lo, step = quantise_rows(A)
    assert q.dtype == np.uint16 and lo.dtype == step.dtype == np.float32
    back = dequantise_rows(q, lo, step)
    ok = [0, 1, 2]
    half = (A[ok].max(axis=1) - A[ok].min(axis=1))[:, None] / A_LEVELS / 2
    assert (np.abs(back[ok] - A[ok]) <= half + 1e-6 * np.abs(A[ok])).all()
    np.testing.assert_array_equal(back[1], A[1])
    assert np.isnan(lo[3:]).all() and np.isnan(step[3:]).all() and not q[3:].any()
