"""Parity with the reference implementation on every golden case in ``$TAM_GOLDEN_DIR``.

Every output key listed in that folder's README is checked, with the README's tolerances:
``A_v`` 1e-4 absolute, ``A_hat_v`` and ``s_v`` 1e-5 relative to the case's largest value,
uint8 maps at most 1 apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tam_widget.core import TAMResult
from tam_widget.testing.golden import DEFAULT_GOLDEN_DIR, GoldenCase, golden_dir, load_golden

GOLDEN = golden_dir()
CASES = sorted(GOLDEN.glob("*.npz"))
INPUT_KEYS = {"tokens", "hidden", "lm_head", "image_positions", "prompt_positions", "answer_start", "grids"}


def _readme_keys() -> set[str]:
    """Keys of the README's table; a folder without a README uses the default folder's."""
    readme = GOLDEN / "README.md"
    text = (readme if readme.exists() else DEFAULT_GOLDEN_DIR / "README.md").read_text()
    return set(re.findall(r"^\|\s*`([A-Za-z0-9_]+)`\s*\|", text, flags=re.MULTILINE))


def _relative(case: GoldenCase) -> float:
    return 1e-5 * float(np.abs(case.expected["call_raw_img_scores"]).max())


def check_items(case: GoldenCase, res: TAMResult) -> None:
    np.testing.assert_array_equal(case.expected["call_vis_token_idx"], np.arange(res.n_items))


def check_raw(case: GoldenCase, res: TAMResult) -> None:
    np.testing.assert_allclose(res.A.numpy(), case.expected["call_raw_img_scores"], rtol=0, atol=1e-4)


def check_eci(case: GoldenCase, res: TAMResult) -> None:
    expected = case.expected["call_img_scores_after_eci"]
    np.testing.assert_allclose(res.corrected(1.0).numpy(), expected, rtol=0, atol=_relative(case))


def check_scale(case: GoldenCase, res: TAMResult) -> None:
    expected = case.expected["call_scale"]
    got = res.scale.numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg="items with/without ECI differ")
    np.testing.assert_allclose(got, expected, rtol=0, atol=_relative(case), equal_nan=True)


def check_text(case: GoldenCase, res: TAMResult) -> None:
    expected = case.expected["call_txt_scores"]
    for v, row in enumerate(expected):
        ref = row[~np.isnan(row)]
        got = res.reference_relevance(v).numpy()
        assert got.shape == ref.shape, f"item {v}: R_v has {got.size} entries, reference {ref.size}"
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4, err_msg=f"item {v}")


def _max_u8_diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) if a.size else 0


def check_maps(case: GoldenCase, res: TAMResult) -> None:
    got = res.maps().u8.numpy()
    assert got.shape == case.expected["call_map_u8"].shape
    assert _max_u8_diff(got, case.expected["call_map_u8"]) <= 1


def check_eval(case: GoldenCase, res: TAMResult) -> None:
    got = res.eval_maps().numpy()
    assert got.shape == case.expected["eval_maps_u8"].shape
    assert _max_u8_diff(got, case.expected["eval_maps_u8"]) <= 1


CHECKS: dict[str, Callable[[GoldenCase, TAMResult], None]] = {
    "call_vis_token_idx": check_items,
    "call_raw_img_scores": check_raw,
    "call_img_scores_after_eci": check_eci,
    "call_scale": check_scale,
    "call_txt_scores": check_text,
    "call_map_u8": check_maps,
    "eval_maps_u8": check_eval,
}


def test_golden_folder_has_cases() -> None:
    assert CASES, f"no *.npz golden cases in {GOLDEN} (set TAM_GOLDEN_DIR)"


def test_readme_keys_are_all_checked() -> None:
    unknown = _readme_keys() - INPUT_KEYS - set(CHECKS)
    assert not unknown, f"README lists output keys this test does not check: {sorted(unknown)}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_reference_parity(path: Path) -> None:
    case = load_golden(path)
    res = case.compute()
    listed = _readme_keys() & set(CHECKS)
    assert listed, "the golden README lists no output keys"
    for key in sorted(listed):
        assert key in case.expected, f"{path.name} lacks {key}, which the README lists"
        CHECKS[key](case, res)


@pytest.mark.parametrize("key", sorted(CHECKS))
def test_each_check_rejects_a_perturbed_reference(key: str) -> None:
    """A check that cannot fail proves nothing: perturb the reference and expect a failure."""
    case = load_golden(CASES[0])
    res = case.compute()
    bad = {k: v.copy() for k, v in case.expected.items()}
    target = bad[key]
    if target.dtype == np.uint8:
        target[-1, -1] = (int(target[-1, -1]) + 2) % 256
    elif key == "call_vis_token_idx":
        target[[0, 1]] = target[[1, 0]]
    else:
        target[np.unravel_index(np.nanargmax(np.where(np.isnan(target), -np.inf, target)), target.shape)] += 1.0
    broken = replace(case, expected=bad)
    with pytest.raises(AssertionError):
        CHECKS[key](broken, res)
