"""The exported page's first view (html.py's host, js/src/pending.ts): the tokens and the pictures show
while the page's buffer still inflates, the map says it is decoding meanwhile, and the map drawn once
the buffer is here is Python's (within 1/255), as when the page decoded everything first.

The offline page in headless chromium, network blocked; a MutationObserver installed before the
page's own script records what the page shows the moment its first token appears.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import Guard
from display.test_browser_page import SNAPSHOT, browser, demo_exp  # noqa: F401

from tam_widget import Explanation

pytestmark = pytest.mark.browser

FIRST_VIEW = """
window.__first = null;
new MutationObserver((_, observer) => {
  const tokens = document.querySelectorAll('[data-role="token"]');
  if (!tokens.length) return;
  observer.disconnect();
  const notice = document.querySelector('[data-role="map-notice"]');
  const snap = document.querySelector('.tam-widget').tam.snapshot();
  window.__first = {
    tokens: tokens.length, pictures: document.querySelectorAll('[data-role="heatmap"]').length,
    notice: notice.hidden ? null : notice.textContent, peak: Math.max(...snap.image),
    mapped: performance.getEntriesByName('tam-map').length,
  };
}).observe(document, { childList: true, subtree: true });
"""


def test_the_tokens_show_before_the_map_and_the_map_is_pythons(
    browser: Any,  # noqa: F811
    demo_exp: Explanation,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = demo_exp.save_html(tmp_path / "p.html", eci_scale=0.5)
    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    context.add_init_script(FIRST_VIEW)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    first = page.evaluate("() => window.__first")
    assert first["tokens"] == len(demo_exp.item_positions) and first["pictures"] >= 1
    assert first["notice"] == "Decoding the maps…" and first["peak"] == 0 and first["mapped"] == 0
    assert page.locator('[data-role="map-notice"]').is_hidden()  # gone once the map is drawn
    snap = page.evaluate(SNAPSHOT)
    want = demo_exp.maps(0.5).image.numpy()[snap["shown"]].reshape(-1)
    np.testing.assert_allclose(np.asarray(snap["image"]), want, atol=1 / 255)
    assert max(snap["image"]) > 0
    guard.check()
    context.close()
