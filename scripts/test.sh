#!/usr/bin/env bash
# Second command of the README (and CI): set up if needed, then every check.
# JavaScript: type check, bundle, unit tests (with parity fixtures written by Python from the golden cases).
# Python: ruff and mypy run inside pytest (tests/test_code_quality.py), then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== JavaScript: install, typecheck, build, tests"
bash scripts/build-js.sh
(cd js && npm run --silent typecheck)
bash scripts/python.sh js/tests/make_fixtures.py
(cd js && npm test --silent)
echo "== Python: lint, types, tests"
bash scripts/python.sh -m pytest -q "$@"
