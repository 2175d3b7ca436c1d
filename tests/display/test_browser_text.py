"""Text relevance that reads, in headless chromium on the exported demo page: earlier tokens are shaded
quietly (one hue, low alpha, text readable in light and dark themes) with the top few underlined; a
token's tooltip says its id, probability, map peak and ECI scale as Python has them; the "?" popover
explains the view and links the paper; a token switch re-lays out no token (it changes paint only).

Screenshots: build/screenshots/text-relevance.png, text-relevance-dark.png and help.png: look at them.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import screenshot
from test_browser_page import browser, demo_exp, open_page  # noqa: F401 (fixtures)

from tam_widget import Explanation
from tam_widget.display.signal import strength

pytestmark = pytest.mark.browser

MAX_ALPHA = 0.4  # js/src/views/tokens.ts
MIN_TOP = 0.1
PAPER = "https://arxiv.org/abs/2506.23270"

# JupyterLab's dark theme, as the variables widget.css reads
DARK = {
    "--jp-layout-color1": "#111111",
    "--jp-ui-font-color1": "rgba(255, 255, 255, 0.87)",
    "--jp-ui-font-color2": "rgba(255, 255, 255, 0.54)",
    "--jp-border-color2": "#424242",
    "--jp-brand-color1": "#2196f3",
}

# a token's relevance shade as painted: the ::highlight rule's colour of the CSS highlight holding its range
# (tokens.ts), else its own background (the inline fallback)
SHADE_OF = """const rules = {};
  for (const sheet of document.styleSheets) for (const r of sheet.cssRules) {
    const m = /^::highlight\\((.+)\\)$/.exec(r.selectorText || ''); if (m) rules[m[1]] = r.style.backgroundColor; }
  const lit = new Map();
  for (const [name, set] of (window.CSS && CSS.highlights) || [])
    for (const r of set) lit.set(r.startContainer, rules[name]);
  const shadeOf = (t) => lit.get(t) ?? getComputedStyle(t).backgroundColor;"""

# every token's computed look: its class, colours, opacity, underline; and the widget's background
LOOKS = f"""() => {{ {SHADE_OF}
  return [getComputedStyle(document.querySelector('.tam-widget')).backgroundColor,
  [...document.querySelectorAll('[data-role="token"]')].map((t) => {{ const s = getComputedStyle(t);
    return {{ index: Number(t.dataset.index), cls: t.className, bg: shadeOf(t), fg: s.color,
      opacity: Number(s.opacity), line: s.textDecorationLine, thickness: s.textDecorationThickness }}; }})]; }}"""


def rgba(css: str) -> tuple[float, float, float, float]:
    """``rgb(r, g, b)`` / ``rgba(r, g, b, a)`` as four floats (alpha 1 when absent)."""
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)  # type: ignore[return-value]


def over(top: tuple[float, ...], below: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top[:3], below[:3], strict=True))


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The WCAG contrast ratio of two sRGB colours (0..255)."""

    def lum(c: tuple[float, ...]) -> float:
        lin = [(x / 255 / 12.92) if x / 255 <= 0.04045 else ((x / 255 + 0.055) / 1.055) ** 2.4 for x in c[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def shown_contrast(tok: dict[str, Any], page_bg: str) -> float:
    """The token's text against its shaded background, as drawn (its own opacity included)."""
    page = rgba(page_bg)
    bg = rgba(tok["bg"])
    shaded = over(bg, page, bg[3])
    fg = rgba(tok["fg"])
    text = over(fg, shaded, fg[3])
    return contrast(over(text, page, tok["opacity"]), over(shaded, page, tok["opacity"]))


def richest_item(exp: Explanation) -> int:
    """The answer item with a visual signal and the most earlier tokens of relevance >= MIN_TOP (at least two)."""
    text, peaks = exp.maps().text, strength(exp)
    assert peaks is not None
    counts = {
        v: int((text[v, : int(exp.tam.n_visible[v])] >= MIN_TOP).sum())
        for v in range(exp.n_prompt, exp.n_prompt + exp.n_answer)
        if peaks[v] >= 0.01
    }
    item = max(counts, key=counts.__getitem__)
    assert counts[item] >= 2, counts
    return item


def check_relevance(looks: list[Any], values: np.ndarray, dark: bool) -> None:
    page_bg, toks = looks
    shaded = [t for t in toks if "has-relevance" in t["cls"]]
    assert [t["index"] for t in shaded] == list(range(len(values)))
    hues = {rgba(t["bg"])[:3] for t in shaded if rgba(t["bg"])[3] > 0}  # alpha 0: transparent, no hue
    assert len(hues) == 1, hues  # one hue, not a rainbow
    for t, v in zip(shaded, values, strict=True):
        assert rgba(t["bg"])[3] <= MAX_ALPHA + 1e-6  # quiet
        assert rgba(t["bg"])[3] == pytest.approx(MAX_ALPHA * v, abs=0.006)
        if "is-flat" not in t["cls"]:
            assert shown_contrast(t, page_bg) >= 4.5, (t, dark)  # WCAG AA, light and dark
    n_top = min(3, int((values >= MIN_TOP).sum()))  # the top three, of those at least MIN_TOP
    last = np.sort(values)[-n_top]
    top = [t for t in toks if "is-top" in t["cls"]]
    assert len(top) == n_top and all(values[t["index"]] >= last - 1 / 255 for t in top), (top, values)
    assert all(t["line"] == "underline" and t["thickness"] == "2px" for t in top)
    assert not any(t["line"] == "underline" and t["thickness"] == "2px" for t in toks if t not in top)


def test_relevance_is_quiet_and_the_top_three_stand_out(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    item = richest_item(demo_exp)
    values = demo_exp.maps().text[item, : int(demo_exp.tam.n_visible[item])].numpy()
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", selected=item, group_words=False))
    page.mouse.move(0, 0)
    check_relevance(page.evaluate(LOOKS), values, dark=False)
    page.locator(f'[data-role="token"][data-index="{item}"]').hover()  # its tooltip over its own relevance
    screenshot(page, "text-relevance", clip={"x": 0, "y": 0, "width": 1100, "height": 420})
    page.mouse.move(0, 0)
    for name, value in DARK.items():  # CSSOM, which the page's style-src policy allows
        page.evaluate("([k, v]) => document.documentElement.style.setProperty(k, v)", [name, value])
    page.evaluate("() => { document.body.style.background = '#111111'; }")
    check_relevance(page.evaluate(LOOKS), values, dark=True)
    page.locator(f'[data-role="token"][data-index="{item}"]').hover()
    screenshot(page, "text-relevance-dark", clip={"x": 0, "y": 0, "width": 1100, "height": 420})
    guard.check()
    page.context.close()


def tooltip_facts(page: Any, item: int) -> dict[str, str]:
    page.locator(f'[data-role="token"][data-index="{item}"]').hover()
    tip = page.locator('[data-role="tooltip"]')
    assert tip.is_visible()
    labels, values = tip.locator("dt").all_inner_texts(), tip.locator("dd").all_inner_texts()
    return dict(zip(labels, values, strict=True))


def number(text: str) -> float:
    return float(re.match(r"[-+\d.e]+", text).group(0))  # type: ignore[union-attr]


def test_tooltip_says_what_python_has(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    exp = demo_exp
    scale = exp.tam.scale.numpy()
    peaks = strength(exp)
    assert peaks is not None and exp.chosen_probs is not None
    answer = range(exp.n_prompt, exp.n_prompt + exp.n_answer)
    with_eci = next(v for v in answer if math.isfinite(scale[v]) and scale[v] > 0)
    no_eci = next(v for v in range(len(scale)) if math.isnan(scale[v]))
    page, guard = open_page(browser, exp.save_html(tmp_path / "p.html", group_words=False))
    for item in [no_eci, exp.n_prompt, exp.n_prompt + exp.n_answer - 1, with_eci]:  # with_eci last: hovered still
        facts = tooltip_facts(page, item)
        assert facts["token id"] == str(exp.token_ids[exp.item_positions[item]])
        if item >= exp.n_prompt:
            p = float(exp.chosen_probs[item - exp.n_prompt])
            assert number(facts["probability"]) / 100 == pytest.approx(p, abs=0.0006)
        else:
            assert facts["probability"] == "n/a (a prompt token)"
        assert number(facts["map peak"]) / 100 == pytest.approx(peaks[item], abs=0.0051)
        if math.isnan(scale[item]):
            assert facts["ECI scale sᵥ"] == "n/a (no ECI context)"
        else:
            assert number(facts["ECI scale sᵥ"]) == pytest.approx(scale[item], rel=5e-3, abs=1e-6)
    token = page.locator(f'[data-role="token"][data-index="{with_eci}"]')
    assert token.get_attribute("aria-describedby") == page.locator('[data-role="tooltip"]').get_attribute("id")
    page.keyboard.press("Escape")
    assert not page.locator('[data-role="tooltip"]').is_visible()
    page.mouse.move(0, 0)
    assert token.get_attribute("title", timeout=1000)  # the title is back once the tooltip is gone
    token.click()  # the keyboard: focus shows it, arrows move it
    page.mouse.move(0, 0)
    page.keyboard.press("ArrowRight")
    assert page.locator('[data-role="tooltip"] dd').first.inner_text() == str(
        exp.token_ids[exp.item_positions[with_eci + 1]]
    )
    guard.check()
    page.context.close()


# after two animation frames: the token's, the tooltip's and its container's boxes
PLACED = """(item) => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const tip = document.querySelector('[data-role="tooltip"]');
  const token = document.querySelector(`[data-role="token"][data-index="${item}"]`);
  resolve([box(token), box(tip), box(tip.offsetParent), tip.hidden]); })))"""


def assert_under(page: Any, item: int) -> None:
    token, tip, frame, hidden = page.evaluate(PLACED, item)
    assert not hidden
    assert tip[1] == pytest.approx(token[3] + 6, abs=0.5)  # 6 px below the token
    left = max(frame[0], min(token[0], frame[2] - (tip[2] - tip[0])))  # at the token's left, inside its container
    assert tip[0] == pytest.approx(left, abs=0.5)


def test_the_tooltip_lands_under_its_token(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    """Hover, a click and the arrow keys: the tooltip lies just below the token on show, at the token's left
    edge unless that would run off its container's right edge."""
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", group_words=False))
    page.mouse.move(0, 0)
    tokens = page.locator('[data-role="token"]')
    n = tokens.count()
    far = max(range(n), key=lambda k: tokens.nth(k).bounding_box()["x"])  # the rightmost token: clamped
    for item in [3, n - 2, far]:
        tokens.nth(item).hover()
        assert_under(page, item)
    page.mouse.move(0, 0)
    for item in [5, 2 * n // 3]:
        # a click without the pointer over it: the focus shows it
        page.evaluate("(i) => document.querySelectorAll('[data-role=\"token\"]')[i].click()", item)
        assert_under(page, item)
    page.keyboard.press("ArrowRight")
    assert_under(page, 2 * n // 3 + 1)
    guard.check()
    page.context.close()


def test_help_explains_the_view_and_links_the_paper(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    help_panel = page.locator('[data-role="help"]')
    assert not help_panel.is_visible()
    assert page.locator('[data-role="method"]').get_attribute("href") == PAPER
    page.locator('[data-role="help-button"]').click()
    assert help_panel.is_visible()
    assert help_panel.locator("a").first.get_attribute("href") == PAPER
    text = help_panel.inner_text()
    for words in ["LM head", "ECI", "least squares", "CAM", "rank Gaussian filter", "relevance"]:
        assert words.lower() in text.lower()
    help_panel.scroll_into_view_if_needed()
    screenshot(page, "help", full_page=True)
    page.keyboard.press("Escape")
    assert not help_panel.is_visible()
    page.locator('[data-role="help-button"]').click()
    page.mouse.click(1000, 700)  # outside
    assert not help_panel.is_visible()
    guard.check()
    page.context.close()


def token_nodes(page: Any) -> set[int]:
    """The backend ids (the trace's nodeId) of the token paragraphs and every node inside them."""
    root = page.context.new_cdp_session(page).send("DOM.getDocument", {"depth": -1})["root"]
    ids: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, inside = stack.pop()
        attrs = node.get("attributes", [])
        inside = inside or "tam-tokens" in dict(zip(attrs[::2], attrs[1::2], strict=True)).get("class", "").split()
        if inside:
            ids.add(node["backendNodeId"])
        stack += [(child, inside) for child in node.get("children", [])]
    return ids


def test_a_token_switch_lays_out_no_token(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    """Chromium's layout invalidations during switches (the selection, the hover, the top three and
    the shade all move) touch the candidates and the tooltip, never a token: a layout-affecting
    property on a token state (a heavier font, a stroke width, a text-shadow, padding) would lay the
    whole answer out again on every switch, ~10 ms at 2,048 tokens."""
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", group_words=False))
    tokens = page.locator('[data-role="token"]')
    ids = token_nodes(page)
    browser.start_tracing(page=page, categories=["disabled-by-default-devtools.timeline.invalidationTracking"])
    for k in range(tokens.count() - 1, tokens.count() - 8, -1):
        tokens.nth(k).click()
        page.evaluate("() => document.body.getBoundingClientRect()")  # lay out now, inside the trace
    events = json.loads(browser.stop_tracing())["traceEvents"]
    invalid = [e["args"]["data"] for e in events if e["name"] == "LayoutInvalidationTracking"]
    assert any("tam-candidate" in d["nodeName"] for d in invalid)  # the trace does see the switches' layouts
    assert [(d["nodeName"], d["reason"]) for d in invalid if d["nodeId"] in ids] == []
    assert page.locator(".tam-token.is-selected").get_attribute("data-index") == str(tokens.count() - 7)
    guard.check()
    page.context.close()
