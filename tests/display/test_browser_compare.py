"""The side-by-side page in the browser: compare links the selection. A click on a token of the left
view selects the aligned token of the right view and changes the right canvas; the difference view
equals ``Comparison.difference(row)`` within 1/255 and each side's map (its buffer deflated in the
page) Python's; changed rows are marked in both strips; under two tokenizers a word selects the other
side's first token of that word, and there is no difference view.

The offline page (``Comparison.save_html``) in headless chromium, network blocked.
Screenshots: build/screenshots/compare.png and compare-tokenizers.png (look at them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import screenshot
from display.test_browser_page import browser, canvas_pixels, open_page  # noqa: F401

from tam_widget import demo_model, explain
from tam_widget.compare import Comparison, compare
from tam_widget.teaching import PROMPT
from tam_widget.testing.toy import qwen2_vl_model, qwen2_vl_processor

pytestmark = pytest.mark.browser

TOL = 1 / 255
SNAP = "() => document.querySelector('.tam-compare').tamCompare.snapshot()"
ANSWER = "a red dotted shape and a green striped shape ."


def _token(page: Any, side: str, item: int) -> Any:
    return page.locator(f'[data-side="{side}"] [data-role="token"][data-index="{item}"]')


@pytest.fixture(scope="module")
def what_if() -> Comparison:
    model, processor, make = demo_model()
    exp = explain(model, processor, make(2).image, PROMPT, answer=ANSWER)
    return compare(exp, exp.what_if(ANSWER.replace("green", "blue")), labels=("said: green", "what if: blue"))


def test_compare_links_the_selection(browser: Any, what_if: Comparison, tmp_path: Path) -> None:  # noqa: F811
    cmp = what_if
    page, guard = open_page(browser, cmp.save_html(tmp_path / "c.html"), width=1700)
    page.mouse.move(0, 0)
    edited = next(k for k, r in enumerate(cmp.rows) if not r.same_token)  # "green" / "blue"
    snap = page.evaluate(SNAP)
    assert snap["row"] != edited and snap["a"]["selected"] == cmp.rows[snap["row"]].a
    for side, exp in (("a", cmp.a), ("b", cmp.b)):  # each side's deflated buffer draws Python's map
        want = exp.maps(1.0).image.numpy()[snap[side]["shown"]].reshape(-1)
        np.testing.assert_allclose(np.asarray(snap[side]["image"]), want, atol=TOL)
    right = canvas_pixels(page, 1)
    _token(page, "a", cmp.rows[edited].a).click()  # the left view's "green"
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAP)
    assert snap["row"] == edited and page.evaluate("() => window.tamModel.get('selected_row')") == edited
    assert snap["b"]["selected"] == cmp.rows[edited].b
    assert _token(page, "b", cmp.rows[edited].b).get_attribute("aria-selected") == "true"  # the right view follows
    assert _token(page, "b", cmp.rows[edited].b).inner_text().strip() == "blue"
    assert float(np.abs(canvas_pixels(page, 1).astype(int) - right.astype(int)).mean()) > 0.5, "right canvas unchanged"
    want = cmp.difference(edited)[0].reshape(-1)
    np.testing.assert_allclose(np.asarray(snap["difference"]), want, atol=TOL)
    for k, changed in enumerate(cmp.changed()):  # changed rows outlined in both strips
        for side, item in (("a", cmp.rows[k].a), ("b", cmp.rows[k].b)):
            assert ("is-changed" in (_token(page, side, item).get_attribute("class") or "")) == changed
    page.locator('[data-side="b"] [data-role="eci-scale"]').fill("0.5")  # λ is shared
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAP)
    assert snap["a"]["settings"]["lambda"] == snap["b"]["settings"]["lambda"] == pytest.approx(0.5)
    np.testing.assert_allclose(np.asarray(snap["difference"]), cmp.difference(edited, 0.5)[0].reshape(-1), atol=TOL)
    page.locator('[data-side="b"] [data-role="eci-scale"]').fill("1")
    _token(page, "b", cmp.rows[edited].b).click()  # and back from the right: both show the row
    page.mouse.move(0, 0)
    screenshot(page, "compare", full_page=True)
    guard.check()
    page.context.close()


def test_two_tokenizers_link_by_word(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    model, processor, make = demo_model()
    words = "a red dotted shape ."
    a = explain(model, processor, make(2).image, PROMPT, answer=words)
    toy = qwen2_vl_model(seed=1, hidden=32, layers=1, vision_width=32, vision_depth=1)
    b = explain(toy, qwen2_vl_processor(), make(2).image[:224, :224], PROMPT, answer=words)
    cmp = compare(a, b, labels=("teaching model", "toy Qwen2-VL"))
    page, guard = open_page(browser, cmp.save_html(tmp_path / "t.html"), width=1700)
    start = page.evaluate(SNAP)["row"]
    row = next(
        k for k, r in enumerate(cmp.rows) if r.text_a.strip() in ("dotted", "shape") and r.b is not None and k != start
    )
    _token(page, "a", cmp.rows[row].a).click()
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAP)
    first = cmp.rows[row].b
    assert (
        snap["row"] == row
        and snap["b"]["selected"] == first
        and cmp.rows[row].text_a.strip().startswith(cmp.rows[row].text_b.strip())
    )
    assert _token(page, "b", first).get_attribute("aria-selected") == "true"
    assert snap["difference"] is None and "grids differ" in page.locator('[data-role="difference-note"]').inner_text()
    screenshot(page, "compare-tokenizers", full_page=True)
    guard.check()
    page.context.close()


def test_tam_beside_eagle_subtracts_what_each_side_shows(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    model, processor, make = demo_model()
    image = make(2).image
    tam = explain(model, processor, image, PROMPT, answer=ANSWER)
    k = 6  # "green"
    eagle_options = {"division": 9, "variant": "efficient", "search_scope": 3, "pending_samples": 2, "update_step": 3}
    eagle = explain(
        model,
        processor,
        image,
        PROMPT,
        answer=ANSWER,
        method=["eagle", "tam"],
        tokens=[k],
        options={"eagle": eagle_options},
    )
    cmp = compare(tam, eagle, labels=("TAM", "EAGLE"))
    row = next(i for i, r in enumerate(cmp.rows) if r.a == tam.n_prompt + k)
    page, guard = open_page(browser, cmp.save_html(tmp_path / "e.html"), width=1700)
    _token(page, "a", cmp.rows[row].a).click()
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAP)
    assert snap["row"] == row and snap["b"]["method"] == "eagle" and snap["a"]["method"] == "tam"
    np.testing.assert_allclose(np.asarray(snap["difference"]), cmp.difference(row)[0].reshape(-1), atol=TOL)
    screenshot(page, "compare-tam-eagle", full_page=True)
    guard.check()
    page.context.close()
