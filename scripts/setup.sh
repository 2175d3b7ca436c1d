#!/usr/bin/env bash
# Set up a development environment in .venv (or the active virtualenv/conda env) and install
# tam-widget editable with its dev tools. Idempotent: a second run with an unchanged
# pyproject.toml does nothing. See DEVELOPERS.md for why torch is installed first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then
  PY=python
else
  if [[ ! -x .venv/bin/python ]]; then
    # --system-site-packages: a torch the user already has (e.g. a CUDA build) stays in use.
    python3 -m venv --system-site-packages .venv
  fi
  PY=.venv/bin/python
fi

if ! command -v npm >/dev/null; then
  # the widget's front end is bundled from TypeScript at install time (hatch_build.py)
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else echo "tam-widget needs node and npm to build its widget: install them (e.g. apt-get install nodejs npm)." >&2; exit 1
  fi
fi

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && [[ -z "${TAM_CHROMIUM:-}" ]]; then
  # the browser tests drive the system's chromium through Playwright (never `playwright install`)
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else echo "The browser tests need chromium: apt-get install chromium (or set TAM_CHROMIUM)." >&2; exit 1
  fi
fi

stamp="$($PY -c 'import sys; print(sys.prefix)')/.tam-widget-setup"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

if ! $PY -c "import torch" 2>/dev/null; then
  # A bare "torch" would pull the newest CUDA build (gigabytes); this pin takes the CPU wheel.
  $PY -m pip install --quiet "${TAM_TORCH_SPEC:-torch==2.13.0}"
fi
$PY -m pip install --quiet -e ".[dev]"
echo "$want" > "$stamp"
