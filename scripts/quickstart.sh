#!/usr/bin/env bash
# First command of the README: set everything up, then run the main job (the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-js.sh
exec bash scripts/python.sh -m tam_widget demo "$@"
