#!/usr/bin/env bash
# Second command of the README (and CI): set up if needed, then the whole test suite.
# ruff and mypy run inside pytest (tests/test_code_quality.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== Python: lint, types, tests"
bash scripts/python.sh -m pytest -q "$@"
