"""bench_scale's trees: the baseline materialised at a revision, and each tree's children and pages.

:func:`materialise` builds the baseline tree once under the cache (``git archive``, its own JS bundle);
:func:`child` starts a scale_* script under a tree's ``tam_widget`` and :func:`finish` checks that its
answer came from that tree; :func:`page_digest` names what a tree's pages are made of, so that a page is
built again whenever any of it changes; :func:`prune` keeps the cache's page folders few.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGE_PACKAGES = ("torch", "transformers", "numpy", "pillow")


def materialise(rev: str, cache: Path) -> Path:
    """The baseline tree at ``rev`` with its JS bundle, built once under ``cache``."""
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", rev + "^{commit}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = cache / f"base-{full[:12]}"
    if (tree / ".built").exists():
        return tree
    tree.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", full], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {rev} failed")
    js = tree / "js"
    if (js / "package-lock.json").read_bytes() == (ROOT / "js" / "package-lock.json").read_bytes():
        (js / "node_modules").symlink_to(ROOT / "js" / "node_modules")
    else:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=js, check=True)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=js, check=True, capture_output=True)
    (tree / ".built").write_text(full)
    return tree


def page_digest(tree: Path) -> str:
    """What a tree's pages are made of: its tam_widget files, the recipe and the packages' versions."""
    h = hashlib.sha256((HERE / "scale_page.py").read_bytes())
    h.update(" ".join(metadata.version(p) for p in PAGE_PACKAGES).encode())
    package = tree / "tam_widget"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def child(tree: Path, script: str, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A scale_* script started under ``tree``'s tam_widget (see :func:`finish`)."""
    env = {**os.environ, "PYTHONPATH": str(tree), **env}
    cmd = [sys.executable, str(HERE / script), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], tree: Path) -> dict[str, Any]:
    """A child's last stdout line, checked to come from ``tree``."""
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, proc.args))} under {tree} failed:\n{stderr[-3000:]}")  # type: ignore[arg-type]
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if not Path(out["tam_widget"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{proc.args} imported {out['tam_widget']}, not the tree {tree}")
    return out


def prune(cache: Path, keep: int) -> None:
    """Drop all but the ``keep`` most recently used page folders."""
    folders = sorted(cache.glob("pages-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder)


def stale_bundle(tree: Path) -> None:
    """Warn when a tree's JS sources are newer than its bundle (scripts/build-js.sh rebuilds it)."""
    bundle = tree / "tam_widget" / "display" / "static" / "widget.js"
    newest = max(p.stat().st_mtime for p in (tree / "js" / "src").rglob("*"))
    if not bundle.exists() or bundle.stat().st_mtime < newest:
        print(f"warning: {tree}/js/src is newer than its bundle: run scripts/build-js.sh there", flush=True)
