#!/usr/bin/env bash
# The checks that need a GPU, in one go, on a machine with an NVIDIA GPU (a bare Debian with python3 and
# PyPI is enough; a few minutes):   bash scripts/gpu-check.sh
#
#   1. a venv with a CUDA torch (reused if the system python already has one) and tam-widget, without
#      the JS bundle (TAM_SKIP_JS=1: no node needed);
#   2. the tests marked gpu: fails if CUDA is missing, or if any of them was skipped or none ran;
#   3. benchmarks/bench_core.py and benchmarks/bench_explain.py on the GPU.
#
# Logs, the tests' JUnit XML and the benchmarks' output go to $OUT when it is set (else a temporary folder).
# Settings: TAM_TORCH_SPEC (default torch==2.14.1, the CUDA build on PyPI), GPU_VENV (default
# /tmp/tam-gpu-venv), GPU_CHECK_SKIP_INSTALL=1 (no venv, no pip: run with $PYTHON, default python3, and
# the repository on PYTHONPATH, e.g. where nothing can be installed).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$(mktemp -d -t tam-gpu-check.XXXXXX)}"
mkdir -p "$out"
echo "gpu-check: writing to $out"

if [[ "${GPU_CHECK_SKIP_INSTALL:-0}" == 1 ]]; then
  py="${PYTHON:-python3}"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  venv="${GPU_VENV:-/tmp/tam-gpu-venv}"
  echo "== venv $venv"
  # --system-site-packages: a CUDA torch the machine already has is used as it is
  python3 -m venv --system-site-packages "$venv" \
    || { echo "gpu-check: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
  py="$venv/bin/python"
  if ! "$py" -c 'import sys, torch; sys.exit(torch.version.cuda is None)' 2>/dev/null; then
    "$py" -m pip install --quiet "${TAM_TORCH_SPEC:-torch==2.14.1}"
  fi
  TAM_SKIP_JS=1 "$py" -m pip install --quiet -e ".[dev]"
fi

echo "== CUDA"
"$py" - <<'EOF' 2>&1 | tee "$out/device.txt"
import sys

import torch

if not torch.cuda.is_available():
    sys.exit(f"gpu-check: no CUDA device (torch {torch.__version__}, built for CUDA {torch.version.cuda})")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
EOF

echo "== tests marked gpu"
"$py" -m pytest -m gpu -q -rs -p no:cacheprovider --junitxml="$out/gpu-tests.xml" 2>&1 | tee "$out/gpu-tests.log"
"$py" - "$out/gpu-tests.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
if tests == 0 or skipped:
    sys.exit(f"gpu-check: {tests} gpu test(s) collected, {skipped} skipped; every one must run on the GPU")
print(f"gpu-check: {tests} gpu tests ran")
EOF

echo "== benchmarks"
"$py" benchmarks/bench_core.py --quick --device cuda 2>&1 | tee "$out/bench_core.txt"
"$py" benchmarks/bench_explain.py --quick --device cuda 2>&1 | tee "$out/bench_explain.txt"
echo "gpu-check: all done; output in $out"
