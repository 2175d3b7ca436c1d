"""Markers for the test loops.

- ``slow``: over a few seconds each (notebooks, training, JupyterLab, the type checker);
- ``browser``: drives headless chromium (the exported page, JupyterLab);
- ``gpu``: needs a CUDA device; where none exists these fail to collect nothing and are *skipped
  with a reason*, and ``scripts/gpu-check.sh`` runs them on a machine that has one.

``pytest -m "not slow and not browser"`` is the fast inner loop; ``bash scripts/test.sh`` runs
everything.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds (deselect with -m 'not slow')")
    config.addinivalue_line("markers", "browser: drives headless chromium (deselect with -m 'not browser')")
    config.addinivalue_line("markers", "gpu: needs a CUDA device (scripts/gpu-check.sh runs them on one)")
