#!/usr/bin/env bash
# Bundle the widget's TypeScript (js/) into tam_widget/display/static/ (what the hatch build hook does on install).
set -euo pipefail
cd "$(dirname "$0")/../js"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
