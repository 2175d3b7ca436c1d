"""Hatch build hook: bundle the TypeScript widget (js/) into tam_widget/static/ for every build.

Runs for wheels and editable installs alike, so both contain the bundle; the bundle itself is
never committed. Needs node and npm; set TAM_SKIP_JS=1 to build without them (the widget then
has no front end until ``npm run build`` is run in js/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class JSBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        js = root / "js"
        build_data.setdefault("artifacts", []).append("tam_widget/static/*")
        if os.environ.get("TAM_SKIP_JS") or not (js / "package.json").exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("Building tam-widget needs node and npm to bundle js/ (or set TAM_SKIP_JS=1).")
        if not (js / "node_modules").exists():
            lock = (js / "package-lock.json").exists()
            subprocess.run([npm, "ci" if lock else "install", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)
