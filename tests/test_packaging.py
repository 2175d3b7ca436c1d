"""What a user installs: the sdist carries the built widget and installs without node; the
installed package (not this checkout) writes a page that renders; the metadata is complete."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--sdist", "--wheel", "--no-isolation", "-o", str(out), str(ROOT)])
    return out


def no_node_env(tmp: Path) -> dict[str, str]:
    """The environment with a PATH that holds this Python and nothing else: no node, no npm."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TAM_SKIP_JS")}
    env["PATH"] = str(bin_dir)
    return env


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The sdist installed into a fresh folder with node hidden (dependencies from this environment)."""
    tmp = tmp_path_factory.mktemp("site")
    env = no_node_env(tmp)
    sdist = next(dist.glob("tam_widget-*.tar.gz"))
    target = tmp / "site"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(sdist),
        ],
        env=env,
        cwd=tmp,
    )
    yield target, {**env, "PYTHONPATH": str(target)}


def test_sdist_ships_the_bundle_and_the_sources(dist: Path) -> None:
    with tarfile.open(next(dist.glob("tam_widget-*.tar.gz"))) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"tam_widget/display/static/widget.js", "tam_widget/display/static/widget.css"} <= names
    assert {"js/package.json", "js/src/widget.ts", "LICENSE", "tam_widget/py.typed"} <= names
    assert not [n for n in names if "node_modules" in n]


def test_wheel_metadata_is_complete(dist: Path) -> None:
    with zipfile.ZipFile(next(dist.glob("tam_widget-*.whl"))) as whl:
        names = set(whl.namelist())
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(whl.read(meta_name).decode())
    assert {"tam_widget/display/static/widget.js", "tam_widget/py.typed"} <= names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert meta["License-Expression"] == "MIT"
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert len(meta.get_all("Project-URL")) >= 2
    extras = set(meta.get_all("Provides-Extra"))
    assert {"eval", "teaching", "all", "dev"} <= extras
    requires = " ".join(meta.get_all("Requires-Dist"))
    for heavy in ("scikit-image", "plotly", "scipy"):  # only the extras need them
        assert all(heavy not in r or "extra ==" in r for r in meta.get_all("Requires-Dist")), heavy
    assert "anywidget" in requires


def test_readme_links_work_on_the_package_index() -> None:
    """PyPI shows the README without the repository around it: no links to files in the tree."""
    import re

    text = (ROOT / "README.md").read_text()
    relative = [u for u in re.findall(r"\]\(([^)]+)\)", text) if not u.startswith(("http://", "https://", "#"))]
    assert not relative, relative


@pytest.mark.browser
def test_installed_sdist_renders_the_widget(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    target, env = installed
    where = _run([sys.executable, "-c", "import tam_widget; print(tam_widget.__file__)"], env=env, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(target))  # the installed copy, not this checkout
    page = tmp_path / "page.html"
    _run([sys.executable, "-m", "tam_widget", "demo", "--model", "random", "--out", str(page)], env=env, cwd=tmp_path)
    from browser import Guard, launch, screenshot
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1000, "height": 700}, offline=True)
        tab = context.new_page()
        guard = Guard(context, tab)
        tab.goto(page.as_uri())
        tab.wait_for_selector("body[data-ready='1']", timeout=20_000)
        assert tab.locator('[data-role="token"]').count() > 5
        assert tab.locator('[data-role="heatmap"]').count() == 1
        screenshot(tab, "installed-sdist-page")
        guard.check()
        browser.close()
