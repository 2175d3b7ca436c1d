"""A long answer's visual-signal strip in headless chromium: its bars narrow and then the strip scrolls
sideways inside the text column, never the page, and selecting a token brings its bar into view.

Screenshots go to build/screenshots/ (or $TAM_SCREENSHOTS): look at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import Guard, screenshot
from test_browser_page import browser  # noqa: F401 (fixtures)

from tam_widget import Explanation, explain

pytestmark = pytest.mark.browser

BAR_IN_VIEW = """(i) => { const row = document.querySelector('.tam-strip-bars');
  const bar = row.querySelector(`[data-index="${i}"]`);
  const r = row.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return b.left >= r.left - 0.5 && b.right <= r.right + 0.5; }"""


@pytest.fixture(scope="module")
def long_exp() -> Explanation:
    """A random toy Qwen2-VL teacher-forced on an answer of several hundred tokens."""
    from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor

    answer = " ".join(f"a red disc {i} moves right past a yellow bar." for i in range(40))
    image = noise_image(112, 112, seed=3)
    return explain(qwen2_vl_model(seed=5), qwen2_vl_processor(), image, "Describe.", answer=answer)


def test_a_long_answers_strip_scrolls_inside_the_column_and_follows_the_selection(
    browser: Any,  # noqa: F811 (the shared fixture)
    long_exp: Explanation,
    tmp_path: Path,
) -> None:
    n_answer = long_exp.tam.n_answer
    assert n_answer >= 300  # enough bars that even 4 px ones cannot fit a 1,100 px page
    path = long_exp.save_html(tmp_path / "long.html")
    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    bars = page.locator('[data-role="signal-bar"]')
    assert bars.count() == n_answer
    # the page does not scroll sideways: the strip does, inside the text column
    assert page.evaluate("document.documentElement.scrollWidth") <= 1100
    row = page.locator(".tam-strip-bars")
    assert page.evaluate("(r) => r.scrollWidth > r.clientWidth", row.element_handle())
    assert 4 <= bars.nth(0).bounding_box()["width"] <= 12
    last = long_exp.tam.n_prompt + n_answer - 1
    page.locator(f'[data-role="token"][data-index="{last}"]').click()
    page.wait_for_function(BAR_IN_VIEW, arg=last, timeout=5_000)
    assert page.evaluate("window.scrollX") == 0
    screenshot(page, "long-answer-strip-last")
    first = long_exp.tam.n_prompt
    page.locator(f'[data-role="token"][data-index="{first}"]').click()
    page.wait_for_function(BAR_IN_VIEW, arg=first, timeout=5_000)
    guard.check()
    context.close()
