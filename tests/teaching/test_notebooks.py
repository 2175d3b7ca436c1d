"""The notebooks run top to bottom in a fresh kernel, so they never rot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run(path: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch, extra: str | None = None) -> Any:
    """Execute the notebook in ``cwd`` with a fresh kernel that imports this checkout; ``extra``:
    a test cell appended after the notebook's own cells."""
    nb = nbformat.read(path, as_version=4)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_every_notebook_is_tested() -> None:
    assert {p.name for p in NOTEBOOKS} == {"quickstart.ipynb", "why-tam-works.ipynb"}


def test_quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = run(ROOT / "notebooks" / "quickstart.ipynb", tmp_path, monkeypatch)
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    views = [o for o in outs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the widget
    text = "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream")
    assert "at λ = 0.0" in text and "TAM" in text
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outs)
    page = tmp_path / "quickstart.html"
    assert page.exists() and page.stat().st_size > 10_000
    state = page.read_text()
    assert json.loads(state.split('id="tam-state">')[1].split("</script>")[0])["meta"]["family"] == "Qwen2-VL"


def test_why_tam_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs, and what it teaches holds: the aligned model's maps point, the caption-only one's do not."""
    check = """
aligned, caption_only = results["aligned"], results["caption only"]
assert aligned[0] >= 0.9 and caption_only[0] >= 0.9, "both models caption well"
a, c = aligned[1]["TAM"]["colour"], caption_only[1]["TAM"]["colour"]
assert a["pointing"] >= 0.8 and a["pointing"] > c["pointing"] + 0.4, (a, c)
t = aligned[1]
assert t["TAM"]["texture"]["outweighs"] < t["TAM without ECI"]["texture"]["outweighs"], "ECI costs texture words"
print("checked")
"""
    nb = run(ROOT / "notebooks" / "why-tam-works.ipynb", tmp_path, monkeypatch, extra=check)
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert "checked" in outs[-1].get("text", "")
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outs)
