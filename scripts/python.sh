#!/usr/bin/env bash
# Run the project's Python (the active env, else .venv) with the given arguments.
set -euo pipefail
if [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then exec python "$@"; fi
exec "$(dirname "$0")/../.venv/bin/python" "$@"
