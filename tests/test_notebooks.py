"""The notebooks run top to bottom in a fresh kernel, so they never rot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run(path: Path, cwd: Path) -> Any:
    nb = nbformat.read(path, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), env_path]) if env_path else str(ROOT)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    return nb


def outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_every_notebook_is_tested() -> None:
    assert {p.name for p in NOTEBOOKS} == {"quickstart.ipynb", "why-tam-works.ipynb"}


def test_quickstart(tmp_path: Path) -> None:
    nb = run(ROOT / "notebooks" / "quickstart.ipynb", tmp_path)
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


@pytest.mark.parametrize("name", ["why-tam-works.ipynb"])
def test_teacher_notebook(tmp_path: Path, name: str) -> None:
    nb = run(ROOT / "notebooks" / name, tmp_path)
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
