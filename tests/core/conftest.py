"""Fixtures of the core tests: the rank Gaussian filter's two paths."""

from __future__ import annotations

import pytest

from tam_widget.core import rgf_fused


@pytest.fixture(params=["tape", "compiled"])
def filter_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test on each path of the filter: the recorded torch calls and the compiled kernels (numba,
    which the dev install has: a missing numba fails the compiled run instead of skipping it)."""
    compiled = request.param == "compiled"
    monkeypatch.setattr(rgf_fused, "enabled", compiled)
    if compiled:
        assert rgf_fused.kernels() is not None, "the compiled filter needs numba: pip install -e '.[dev]'"
    return str(request.param)
