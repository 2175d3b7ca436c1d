"""Text relevance through CSS highlights, in headless chromium: after a token switch (and after the
tokens are rebuilt for words) each shaded token sits in the highlight of the level the inline fallback
paints (the same page with ``CSS.highlights`` removed), and the pixels under a shaded token are that
shade over the page, as the fallback draws them.
"""

from __future__ import annotations

from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import Guard
from display.test_browser_layers import layered  # noqa: F401 (fixture)
from PIL import Image
from test_browser_page import browser, demo_exp  # noqa: F401 (fixtures)

from tam_widget import Explanation

pytestmark = pytest.mark.browser

AMBER = (245, 158, 11)  # js/src/views/tokens.ts
# the demo's answer item whose relevance has five tokens at the strongest levels (two below the top three)
SHADED = 17

# each token (document order): [first item, level as painted, how ("h": a highlight, "i": inline), top?];
# stale: ranges left on tokens no longer in the page
SHADES = """() => { const lit = new Map();
  for (const [name, set] of (window.CSS && CSS.highlights) || [])
    if (name.startsWith('tam-shade-')) for (const r of set) lit.set(r.startContainer, Number(name.slice(10)));
  const stale = [...lit.keys()].filter((n) => !n.isConnected).length;
  const rows = [...document.querySelectorAll('[data-role="token"]')].map((t) => {
    const m = /^rgba\\(245, 158, 11, ([\\d.]+)\\)$/.exec(t.style.backgroundColor);
    const level = lit.has(t) ? lit.get(t) : m ? Math.round(100 * Number(m[1]))
      : t.classList.contains('has-relevance') ? 0 : -1;
    return [Number(t.dataset.index), level, lit.has(t) ? 'h' : m ? 'i' : '', t.classList.contains('is-top')]; });
  return { rows, stale, api: Boolean(window.CSS && CSS.highlights) }; }"""


def open_pair(browser: Any, path: Path) -> list[tuple[Any, Guard]]:  # noqa: F811
    """The page twice: as chromium has it, and without the Custom Highlight API (the inline fallback)."""
    pages = []
    for fallback in (False, True):
        context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
        if fallback:
            context.add_init_script("delete CSS.highlights;")
        page = context.new_page()
        guard = Guard(context, page)
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        pages.append((page, guard))
    return pages


def shades(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(SHADES))


def check_same_levels(lit: dict[str, Any], inline: dict[str, Any]) -> None:
    assert lit["api"] and not inline["api"]
    assert lit["stale"] == 0  # no range left on a token that is gone
    assert [r[:2] for r in lit["rows"]] == [r[:2] for r in inline["rows"]]
    assert all(how == "i" for _, level, how, _ in inline["rows"] if level >= 0)
    for _, level, how, top in lit["rows"]:  # highlights, except the top few (their amber underline) and level 0
        assert how == ("i" if top and level >= 0 else "h" if level > 0 else ""), (level, how, top)


def test_highlights_hold_the_levels_the_fallback_paints(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    path = demo_exp.save_html(tmp_path / "p.html", group_words=False)
    (lit, g1), (inline, g2) = open_pair(browser, path)
    answer = range(demo_exp.n_prompt, demo_exp.n_prompt + demo_exp.n_answer)
    for words in (False, True):
        if words:  # the tokens are rebuilt as words: new spans, new ranges
            for page in (lit, inline):
                page.locator('[data-role="group-words"]').check()
        for item in [SHADED, 12, answer[-1], answer[0], SHADED]:
            for page in (lit, inline):
                page.locator(f'[data-role="token"][data-index="{item}"]').first.click()
            a, b = shades(lit), shades(inline)
            check_same_levels(a, b)
            assert sum(level > 0 and how == "h" for _, level, how, _ in a["rows"]) >= (1 if item in (SHADED, 12) else 0)
    for page, guard in ((lit, g1), (inline, g2)):
        guard.check()
        page.context.close()


def background_under(page: Any, item: int) -> tuple[int, ...]:
    """The most common colour inside a token's box: its background, as drawn (the glyphs are fewer)."""
    box = page.locator(f'[data-role="token"][data-index="{item}"]').bounding_box()
    clip = {"x": box["x"] + 2, "y": box["y"] + 3, "width": box["width"] - 4, "height": box["height"] - 6}
    pixels = np.asarray(Image.open(BytesIO(page.screenshot(clip=clip))).convert("RGB")).reshape(-1, 3)
    return Counter(map(tuple, pixels.tolist())).most_common(1)[0][0]


def test_a_highlighted_token_is_drawn_in_its_shade(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    path = demo_exp.save_html(tmp_path / "p.html", selected=SHADED, group_words=False)
    (lit, g1), (inline, g2) = open_pair(browser, path)
    lit.mouse.move(0, 0)
    inline.mouse.move(0, 0)
    rows = shades(lit)["rows"]
    item, level = next((i, level) for i, level, how, _ in rows if how == "h" and level >= 30)
    widget_bg = "() => getComputedStyle(document.querySelector('.tam-widget')).backgroundColor.match(/\\d+/g)"
    page_bg = np.asarray(lit.evaluate(widget_bg), dtype=float)
    token = f'[data-role="token"][data-index="{item}"]'
    opacity = float(lit.locator(token).evaluate("(t) => getComputedStyle(t).opacity"))  # a muted token: all of it
    expected = page_bg[:3] + opacity * level / 100 * (np.asarray(AMBER) - page_bg[:3])
    drawn = background_under(lit, item)
    assert np.abs(np.asarray(drawn) - expected).max() <= 2, (drawn, expected, level)
    assert np.abs(np.asarray(drawn) - background_under(inline, item)).max() <= 1  # as the fallback draws it
    for page, guard in ((lit, g1), (inline, g2)):
        guard.check()
        page.context.close()


# a drag of a slider (data-role `role`): `steps` input events at once (one task: well within a throttle
# interval) alternating between two values, then the last value
DRAG = """([role, values, last]) => { const slider = document.querySelector(`[data-role="${role}"]`);
  for (const v of [...values, last]) {
    slider.value = String(v);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  } }"""
# the shade is back in the highlights (or never left them): no token but the top few shaded inline
SETTLED = """() => [...document.querySelectorAll('[data-role="token"]')].every((t) =>
  t.classList.contains('is-top') || t.style.backgroundColor === '')"""


def test_a_drag_ends_with_the_shades_of_a_fresh_selection(browser: Any, layered: Explanation, tmp_path: Path) -> None:  # noqa: F811
    """While a slider drags (the layer slider: each layer shows other relevance), the text's shade waits
    and is painted inline (tokens.ts, drag.ts); once the drag settles, the page shows the shades a fresh
    selection shows at the final value, in the highlights again."""
    last = layered.n_prompt + layered.n_answer - 1
    path = layered.save_html(tmp_path / "p.html", selected=last, group_words=False)
    (page, guard), (other, _) = open_pair(browser, path)
    other.context.close()
    page.mouse.move(0, 0)
    by_layer = []
    for layer in range(layered.tam.n_layers):  # each layer's shades, each a fresh selection
        page.evaluate(DRAG, ["layer", [], layer])
        page.wait_for_function(SETTLED, timeout=5_000)
        page.locator(f'[data-role="token"][data-index="{last - 1}"]').first.click()
        page.locator(f'[data-role="token"][data-index="{last}"]').first.click()
        by_layer.append(shades(page))
    first, final = 0, 2
    assert [r[1] for r in by_layer[first]["rows"]] != [r[1] for r in by_layer[final]["rows"]]  # what a drag changes
    page.evaluate(DRAG, ["layer", [first, 3] * 4 + [first], final])
    mid = shades(page)
    assert any(how == "i" and not top for _, level, how, top in mid["rows"])  # inline while it drags
    assert [r[1] for r in mid["rows"]] == [r[1] for r in by_layer[first]["rows"]]  # throttled: the last step waits
    page.wait_for_function(SETTLED, timeout=5_000)
    assert shades(page) == by_layer[final]  # the trailing paint: the final value's, as a fresh selection, highlights
    guard.check()
    page.context.close()
