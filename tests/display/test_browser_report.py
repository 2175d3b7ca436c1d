"""report.html of ``tam-widget eval`` in headless chromium, offline: the plotly figures draw, the
worst cases' pictures load, nothing errs or fetches, and hostile strings stay text.

The full-page screenshot goes to build/screenshots/report.png (or $TAM_SCREENSHOTS): look at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import Guard, screenshot
from display.test_browser_page import browser  # noqa: F401

from tam_widget.evaluation.report import write_report
from tests.evaluation.test_report import HOSTILE, synthetic

pytest.importorskip("plotly")
pytestmark = pytest.mark.browser

PLOTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p =>
    [p.id, p.querySelectorAll('svg.main-svg').length, p.querySelectorAll('.point, .bars path, .boxes path').length])"""
HOSTILE_POINT = """() => { const gd = document.getElementById('tam-report-spreads');
    const c = gd.data.findIndex(t => t.xaxis === 'x3' && t.name === 'EAGLE');  // insertion AUC: never empty
    const p = gd.data[c].text.findIndex(s => s.startsWith('&lt;script'));
    const dot = Array.from(gd.querySelectorAll('.point')).find(e => e.__data__.i === p
        && e.closest('.trace').__data__[0].trace.index === c);
    dot.scrollIntoView({block: 'center'});
    const r = dot.getBoundingClientRect();
    return [r.x + r.width / 2, r.y + r.height / 2]; }"""
HOVER = """() => { const label = document.querySelector('#tam-report-spreads .hoverlayer .hovertext');
    return [label.textContent.replace(/[0-9.]+$/, ''), label.querySelectorAll('script, img').length]; }"""
IMAGES = "() => Array.from(document.querySelectorAll('.case img')).map(i => [i.complete, i.naturalWidth])"


def test_report_renders_offline(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    summary, rows, cases = synthetic(n_samples=16)
    path = write_report(tmp_path / "report.html", summary, rows, cases)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=20_000)
    plots = page.evaluate(PLOTS)
    assert [p[0] for p in plots] == ["tam-report-bars", "tam-report-spreads"]
    assert all(n_svg >= 1 for _, n_svg, _ in plots), plots
    bars, spreads = (n for _, _, n in plots)
    assert bars >= 5 * 6  # a bar per method and main metric (CAM has no deletion AUC: some are empty)
    assert spreads >= len(rows)  # a point per (sample, method), in at least one panel
    images = page.evaluate(IMAGES)
    assert len(images) == len(cases) and all(done and width > 0 for done, width in images), images
    assert page.locator("text=open in the widget").count() == len(cases)
    assert page.locator(".answer").first.inner_text() == f"a dog {HOSTILE}"  # shown as text, not run
    assert page.evaluate("() => document.querySelectorAll('main script, main img:not(.case img)').length") == 4
    shot = screenshot(page, "report", full_page=True)
    assert shot.stat().st_size > 50_000
    page.mouse.move(*page.evaluate(HOSTILE_POINT), steps=3)  # plotly's drag layer covers the points
    page.wait_for_selector("#tam-report-spreads .hoverlayer .hovertext", timeout=5_000)
    hover = page.evaluate(HOVER)  # the hover label names the sample, as text
    assert hover == [f"sample {HOSTILE}EAGLE: ", 0], hover
    guard.check()
    context.close()
