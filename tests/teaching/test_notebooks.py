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
    assert {p.name for p in NOTEBOOKS} == {
        "quickstart.ipynb",
        "why-tam-works.ipynb",
        "debug-a-failure.ipynb",
        "teach-mllm-interpretability.ipynb",
    }


def test_notebooks_are_stored_without_outputs() -> None:
    """The committed notebooks carry no outputs (the tests and readers run them)."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not [c for c in code if c.outputs or c.execution_count is not None], path.name


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


def small_outputs(outs: list[dict[str, Any]], limit: int = 400_000) -> None:
    """Every output stays small: static figures, no embedded full-size images."""
    for o in outs:
        size = len(json.dumps(o))
        assert size < limit, (size, list(o.get("data", {})))


def test_debug_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The four-object scene really fails, and each diagnosis says what the notebook's text says."""
    check = """
assert len(scene.objects) == 4 and not scene.says(exp.text), "the model fails on four objects"
assert exp.text.count(" shape") == 3, "it names three objects"
assert wrong != right and {wrong, right} <= set(colour_of), (wrong, right)
assert exp.layers == [0, 1]
assert len(layer_fig.data) == len(answer_items) == exp.n_answer - 1, "one trace per answer word"
assert all(len(t.y) == len(exp.layers) for t in layer_fig.data)
assert set(points_at.values()) == {wrong}, points_at
assert scene.says(fixed.text) and forced[step] == right, "the what-if answer is the corrected one"
assert fixed.chosen_probs[step] < 0.01 < 0.5 < exp.chosen_probs[step]
assert [k for k, *_ in surprises] == [step, step + 3], surprises
assert max(fixed_hits, key=fixed_hits.get) == right
assert continued.text.count(" shape") == 3 and f" {right} " in continued.text and f" {wrong} " not in continued.text
assert contrast_on[wrong] > 0.3 and contrast_on[right] < -0.3, contrast_on
assert all(abs(v) < 0.2 for c, v in contrast_on.items() if c not in (wrong, right)), contrast_on
assert max(first_on, key=first_on.get) == wrong
assert eagle.prior[0] > 0.9 and eagle.word_reliance[0] < 0.1
assert diagnosis.k is not None and 0 < diagnosis.r < 0.2 and removed_on[wrong] > 0.5, diagnosis.summary()
assert scene.says(diagnosis.revised_answer) is False and f" {right} " in diagnosis.revised_answer
print("checked")
"""
    nb = run(ROOT / "notebooks" / "debug-a-failure.ipynb", tmp_path, monkeypatch, extra=check)
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert "checked" in outs[-1].get("text", "")
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outs) >= 4
    small_outputs(outs)


def test_teach_mllm_interpretability(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lesson runs, and each section's point holds on its own numbers."""
    check = """
assert scene.says(exp.text) and scene.says(other.text), "both models caption the scene"
assert (rows, cols) == (12, 12) and tuple(state.shape) == (128,)
assert set(cell_words[:2]) == {first.colour, first.texture}, cell_words
assert abs(own - float(scores[int(exp.tam.classes[colour_item])])) < 1e-4, "TAM's raw map is the LM-head score"
numbers = [x for pair in scores_cam_tam.values() for x in pair] + list(layer_iou.values())
assert numbers and all(isinstance(x, float) and 0.0 <= x <= 1.0 for x in numbers), numbers
assert len(scores_cam_tam) == 2 * len(colours)
assert table["TAM"]["colour"]["pointing"] > table["CAM (raw)"]["colour"]["pointing"]
assert table["TAM"]["texture"]["iou"] < table["CAM (raw)"]["texture"]["iou"]
later, texture = eci_items
named = scene.objects[1].colour
assert on_objects[texture, 0.0][named] > 0.5 > 0.1 > on_objects[texture, 1.0][named], "ECI removes the named object"
leak = lambda lam: max(v for c, v in on_objects[later, lam].items() if c != last_colour)
assert on_objects[later, 1.0][last_colour] > 0.5 and leak(1.0) < leak(0.0), "ECI removes the earlier words' leak"
assert exp.layers == [0, 1]
assert all(layer_iou[0, c] > 0.3 for c in colours), layer_iou
aligned, caption = misleading["aligned"], misleading["caption only"]
assert min(v[0] for v in aligned.values()) > max(v[0] for v in caption.values()) + 0.3, misleading
shape = {name: max(strength(e)[i] for i in e.find("shape")) for name, e in [("aligned", exp), ("caption", other)]}
assert shape["caption"] == 1.0 and shape["aligned"] < 0.01, shape
print("checked")
"""
    nb = run(ROOT / "notebooks" / "teach-mllm-interpretability.ipynb", tmp_path, monkeypatch, extra=check)
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert "checked" in outs[-1].get("text", "")
    views = [o for o in outs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the widget, once
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outs) >= 4
    small_outputs(outs)
