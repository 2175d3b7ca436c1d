"""The hallucination diagnosis in the widget: ``Diagnosis.widget()`` / ``save_html`` open on EAGLE at
the wrong word, a banner says the words, the share removed and the corrected answer as Python has
them, the cells the cut removes (at least half of their pixels) are outlined on the image and stay
so under zoom, the curves mark the cut, and switching to TAM takes the diagnosis away.

The teaching model's planted distractor (tests/test_diagnosis.py): a blue dotted disc and a small red
square the model names first. The offline page in headless chromium, network blocked. Screenshot:
build/screenshots/hallucination-widget.png (look at it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import screenshot
from display.test_browser_page import browser, open_page  # noqa: F401
from test_diagnosis import FAST, with_patch

from tam_widget import demo_model
from tam_widget.core.eagle_maps import grid_means
from tam_widget.diagnosis import Diagnosis, diagnose
from tam_widget.teaching.scenes import PROMPT

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the diagnosis: 10-40 s on a CPU

METHOD = "() => window.tamModel.get('method')"
SELECTED = "() => window.tamModel.get('selected')"
BANNER = '[data-role="diagnosis-banner"]'
CANVAS = '[data-role="heatmap"]'


@pytest.fixture(scope="module")
def diagnosis() -> Diagnosis:
    """The planted red square wrongly named, diagnosed: a cut removes it and the model says "blue"."""
    model, processor, make = demo_model()
    image, _ = with_patch(make(1, n_objects=1), "red")
    d = diagnose(model, processor, image, PROMPT, wrong="red", correct="blue", **FAST)
    assert d.k is not None and 0 < d.r < 1  # the scenario the page is about
    return d


@pytest.fixture
def diagnosis_page(browser: Any, diagnosis: Diagnosis, tmp_path: Path) -> Iterator[Any]:  # noqa: F811
    page, guard = open_page(browser, diagnosis.save_html(tmp_path / "diagnosis.html"), width=1250)
    yield page
    guard.check()
    page.context.close()


def removed_cells(d: Diagnosis) -> list[int]:
    """Python's cells with at least half their pixels removed by the cut (indices into n_v)."""
    assert d.explanation is not None
    views = [v for v in d.explanation.views if v.image == 0]
    share = grid_means(d.removed.astype(np.float64), [v.grid for v in views], [v.box for v in views])
    return [int(i) for i in np.flatnonzero(share >= 0.5)]


def outlined(page: Any) -> list[int]:
    raw = page.locator(CANVAS).first.get_attribute("data-outlined")
    return [int(v) for v in raw.split(",") if v] if raw is not None else []


def test_the_widget_carries_the_diagnosis(diagnosis: Diagnosis) -> None:
    d = diagnosis
    assert d.explanation is not None and list(d.explanation.results) == ["eagle", "tam"]
    assert d.explanation.results["eagle"] is d.eagle  # the diagnosis's EAGLE run is the explanation's
    w = d.widget()
    assert (w.method, w.selected) == ("eagle", d.item) and w.diagnosis is d
    meta = w._meta["diagnosis"]
    assert (meta["item"], meta["wrong"], meta["correct"], meta["k"]) == (d.item, "red", "blue", d.k)
    assert meta["r"] == pytest.approx(d.r) and meta["revised"] == d.revised_answer
    assert len(meta["removed"]) == sum(int(np.prod(v.grid)) for v in d.explanation.views)
    np.testing.assert_allclose(meta["score_curve"]["p"][:-1], d.score[::-1], atol=1e-6)
    assert "diagnosis" not in d.explanation.widget()._meta  # the explanation's own widget: no diagnosis


def test_the_page_opens_on_eagle_at_the_wrong_word_and_says_what_corrects_it(
    diagnosis_page: Any, diagnosis: Diagnosis
) -> None:
    page, d = diagnosis_page, diagnosis
    assert page.locator('[data-role="error"]').count() == 0
    assert page.evaluate(METHOD) == "eagle" and page.evaluate(SELECTED) == d.item
    n = d.eagle.n_regions
    assert d.k is not None
    expected = (
        f"Said 'red' where 'blue' is correct: removing the outlined {d.r:.1%} of the image "
        f"({n - d.k} of {n} regions) corrects it → '{d.revised_answer}'"
    )
    banner = page.locator(BANNER)
    assert banner.is_visible() and banner.inner_text() == expected
    cells = removed_cells(d)
    assert cells and outlined(page) == cells  # the outline is Python's removed cells
    assert _outline_at(page, min(cells))
    marker = page.locator('[data-role="curves"] [data-role="curve-marker"]')
    assert float(marker.get_attribute("data-x")) == pytest.approx(1 - d.r, abs=1e-6)
    assert marker.text_content() == f"cut: {d.r:.1%} removed"
    screenshot(page, "hallucination-widget")


def test_the_outline_stays_under_zoom_and_goes_with_eagle(diagnosis_page: Any, diagnosis: Diagnosis) -> None:
    page, cells = diagnosis_page, removed_cells(diagnosis)
    canvas = page.locator(CANVAS).first
    box = canvas.bounding_box()
    x, y = page.evaluate(CELL_CENTRE, min(cells))
    page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)  # zoom in around the outlined cell: it stays under the pointer
    page.keyboard.up("Control")
    page.wait_for_function("() => document.querySelector('[data-role=\"heatmap\"]').classList.contains('is-zoomed')")
    assert outlined(page) == cells and page.evaluate(WHITE) > 0  # still outlined, drawn on the zoomed canvas
    page.locator('[data-role="method-choice"][data-method="tam"]').click()
    assert page.locator(BANNER).is_hidden() and outlined(page) == []
    assert page.locator('[data-role="curves"]').is_hidden()  # and the marker with it
    page.locator('[data-role="method-choice"][data-method="eagle"]').click()
    assert page.locator(BANNER).is_visible() and outlined(page) == cells


# the centre of a cell of the first view, in fractions of the unzoomed canvas
CELL_CENTRE = """(cell) => {
  const meta = window.tamModel.get('_meta');
  const f = meta.frames[0], [x0, y0, x1, y1] = meta.views[0].box;
  const row = Math.floor((cell - f.offset) / f.width), col = (cell - f.offset) % f.width;
  return [x0 + (x1 - x0) * (col + 0.5) / f.width, y0 + (y1 - y0) * (row + 0.5) / f.height];
}"""
# how many pixels of the canvas are the outline's white (the scene's background is a noisy grey)
WHITE = """() => {
  const c = document.querySelector('[data-role="heatmap"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 250 && d[i + 1] > 250 && d[i + 2] > 250) n++;
  return n;
}"""


def _outline_at(page: Any, cell: int) -> bool:
    """Whether the canvas is the outline's white at the middle of the top edge of ``cell`` (the topmost
    outlined cell: its upper neighbour is not outlined, so that edge is stroked)."""
    return bool(
        page.evaluate(
            """(cell) => {
              const c = document.querySelector('[data-role="heatmap"]');
              const meta = window.tamModel.get('_meta');
              const f = meta.frames[0], [x0, y0, x1, y1] = meta.views[0].box;
              const row = Math.floor((cell - f.offset) / f.width), col = (cell - f.offset) % f.width;
              const x = Math.floor((x0 + (x1 - x0) * (col + 0.5) / f.width) * c.width);
              const y = Math.round((y0 + (y1 - y0) * row / f.height) * c.height);
              const [r, g, b] = c.getContext('2d').getImageData(x, Math.max(0, y - 1), 1, 1).data;
              return r > 250 && g > 250 && b > 250;
            }""",
            cell,
        )
    )
