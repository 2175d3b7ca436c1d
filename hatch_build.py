"""Hatch build hook: bundle the TypeScript widget (js/) into tam_widget/display/static/.

- From a checkout: bundles with npm whenever the bundle is missing or older than a file under
  ``js/src`` (so wheels and editable installs carry an up-to-date bundle). Needs node and npm.
- From the sdist: the sdist ships the bundle, so installing it never runs npm or reaches the npm
  registry (node need not be installed).
- ``TAM_SKIP_JS=1``: build without touching the bundle (the widget then says how to build it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = Path("tam_widget") / "display" / "static" / "widget.js"


class JSBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        js = root / "js"
        if os.environ.get("TAM_SKIP_JS") or not (js / "package.json").exists() or _fresh(root / BUNDLE, js / "src"):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "Building tam-widget from a checkout needs node and npm to bundle js/ (the sdist ships the bundle "
                "and needs neither); or set TAM_SKIP_JS=1."
            )
        if not (js / "node_modules").exists():
            lock = (js / "package-lock.json").exists()
            subprocess.run([npm, "ci" if lock else "install", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)


def _fresh(bundle: Path, sources: Path) -> bool:
    """The bundle exists and no source is newer (an sdist has no js/src at all)."""
    if not bundle.exists():
        return False
    newest = max((p.stat().st_mtime for p in sources.rglob("*") if p.is_file()), default=0.0)
    return bundle.stat().st_mtime >= newest
