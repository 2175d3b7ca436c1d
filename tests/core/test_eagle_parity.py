"""Parity of the EAGLE search with the reference classes on every golden case in ``$EAGLE_GOLDEN_DIR``.

Every output key of that folder's README is checked with the README's tolerances: ``order`` and
``forward_calls`` exactly, the curves, ``org_score``, ``baseline_score`` and ``word_saliency``
within 1e-5, ``attribution_per_region`` within 5e-4 (float16). Each case runs one image per
``score`` call and many per call: the results must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tam_widget.core.eagle_result import EagleResult
from tam_widget.testing.eagle_golden import (
    DEFAULT_EAGLE_GOLDEN_DIR,
    INPUT_KEYS,
    EagleGoldenCase,
    eagle_golden_dir,
    load_eagle_golden,
)

GOLDEN = eagle_golden_dir()
CASES = sorted(GOLDEN.glob("*.json"))
BATCH_SIZES = (1, 16)


def _readme_keys() -> set[str]:
    """The backticked names in the first cell of each row of the README's table."""
    readme = GOLDEN / "README.md"
    text = (readme if readme.exists() else DEFAULT_EAGLE_GOLDEN_DIR / "README.md").read_text()
    cells = re.findall(r"^\|([^|\n]*)\|", text, flags=re.MULTILINE)
    return {k for cell in cells for k in re.findall(r"`([A-Za-z0-9_]+)`", cell)}


def _close(atol: float, got: Callable[[EagleResult], np.ndarray]) -> Callable[[Any, EagleResult], None]:
    def check(expected: Any, res: EagleResult) -> None:
        np.testing.assert_allclose(got(res), np.asarray(expected, dtype=np.float64), rtol=0, atol=atol)

    return check


def check_order(expected: Any, res: EagleResult) -> None:
    assert res.order.tolist() == list(expected)


def check_calls(expected: Any, res: EagleResult) -> None:
    assert res.images_scored == int(expected)


CHECKS: dict[str, Callable[[Any, EagleResult], None]] = {
    "order": check_order,
    "forward_calls": check_calls,
    "insertion_score": _close(1e-5, lambda r: r.insertion),
    "deletion_score": _close(1e-5, lambda r: r.deletion),
    "smdl_score": _close(1e-5, lambda r: r.objective),
    "region_area": _close(1e-5, lambda r: r.region_area),
    "org_score": _close(1e-5, lambda r: r.org_score),
    "baseline_score": _close(1e-5, lambda r: r.baseline_score),
    "attribution_per_region": _close(5e-4, lambda r: r.attribution),
    "word_saliency": _close(1e-5, lambda r: r.word_reliance),
}


def test_golden_folder_has_cases() -> None:
    assert CASES, f"no *.json golden cases in {GOLDEN} (set EAGLE_GOLDEN_DIR)"


def test_readme_keys_are_all_checked() -> None:
    listed = _readme_keys()
    assert {"order", "forward_calls", "attribution_per_region"} <= listed, "the README's table was not parsed"
    unknown = listed - set(INPUT_KEYS) - set(CHECKS)
    assert not unknown, f"README lists output keys this test does not check: {sorted(unknown)}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_eagle_parity(path: Path) -> None:
    case = load_eagle_golden(path)
    listed = _readme_keys() & set(CHECKS)
    results = [case.search(batch_size=b) for b in BATCH_SIZES]
    for key in sorted(listed):
        assert key in case.expected, f"{path.name} lacks {key}, which the README lists"
        for res in results:
            CHECKS[key](case.expected[key], res)
    one, many = results
    for field in ("order", "insertion_tokens", "deletion_tokens", "region_area", "org_score", "baseline_score"):
        np.testing.assert_array_equal(getattr(one, field), getattr(many, field), err_msg=field)
    assert one.images_scored == many.images_scored


def _perturbed(case: EagleGoldenCase, key: str) -> EagleGoldenCase:
    bad = dict(case.expected)
    value = bad[key]
    if key == "order":
        bad[key] = [value[1], value[0], *value[2:]]
    elif key == "forward_calls":
        bad[key] = value + 1
    else:
        arr = np.array(value, dtype=np.float64)
        arr.flat[int(np.argmax(arr))] += 1e-3
        bad[key] = arr.tolist()
    return replace(case, expected=bad)


@pytest.mark.parametrize("key", sorted(CHECKS))
def test_each_check_rejects_a_perturbed_reference(key: str) -> None:
    """A check that cannot fail proves nothing: perturb the reference just past its tolerance."""
    case = load_eagle_golden(CASES[0])
    res = case.search()
    CHECKS[key](case.expected[key], res)
    with pytest.raises(AssertionError):
        CHECKS[key](_perturbed(case, key).expected[key], res)
