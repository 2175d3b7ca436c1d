"""Why this and not that, in the browser: clicking a candidate shows the map
``exp.class_map(item, token)`` computes, "vs" shows ``exp.contrast``, both within 1/255, drawn in
diverging colours for the contrast; a new selection goes back to the item's own map.

The offline page of the demo explanation in headless chromium, network blocked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import screenshot
from display.test_browser_page import SNAPSHOT, browser, canvas_pixels, demo_exp, open_page  # noqa: F401

from tam_widget import Explanation

pytestmark = pytest.mark.browser

TOL = 1 / 255


def _step_with_two_colours(exp: Explanation) -> int:
    """An answer step whose first two candidates are distinct colour words with maps (the demo's colour slot)."""
    for r in range(exp.n_answer):
        item = exp.n_prompt + r
        a, b = (int(i) for i in exp.top_ids[r][:2])
        if item > exp.n_prompt and np.abs(exp.class_map(item, a)[0] - exp.class_map(item, b)[0]).max() > 0.2:
            return r
    raise AssertionError("the demo has no step with two distinct candidate maps")


def _select(page: Any, item: int) -> None:
    page.locator(f'[data-role="token"][data-index="{item}"]').click()
    page.mouse.move(0, 0)  # the selected item, not a hovered one, is on show


def test_a_candidate_click_shows_its_class_map_and_vs_the_contrast(
    browser: Any,  # noqa: F811
    demo_exp: Explanation,  # noqa: F811
    tmp_path: Path,
) -> None:
    exp = demo_exp
    r = _step_with_two_colours(exp)
    item = exp.n_prompt + r
    page, guard = open_page(browser, exp.save_html(tmp_path / "p.html", opacity=0.8), width=1200)
    _select(page, item)
    own = np.asarray(page.evaluate(SNAPSHOT)["image"])
    np.testing.assert_allclose(own, exp.view_maps(item)[0].reshape(-1), atol=TOL)
    before = canvas_pixels(page)
    rows = page.locator('[data-role="candidates"] [data-role="candidate-pick"]')
    assert rows.count() == len(exp.top_ids[r])
    for k, token in enumerate(exp.top_ids[r].tolist()):
        rows.nth(k).click()
        snap = page.evaluate(SNAPSHOT)
        assert snap["pick"] == {"item": item, "a": token, "b": None}
        want = exp.class_map(item, token)[0].reshape(-1)
        np.testing.assert_allclose(np.asarray(snap["image"]), want, atol=TOL, err_msg=f"candidate {k}")
        assert "Map of" in page.locator('[data-role="pick-status"]').inner_text()
    second = int(exp.top_ids[r][1])
    rows.nth(1).click()  # show the runner-up's map...
    assert canvas_pixels(page).astype(int).__sub__(before.astype(int)).__abs__().mean() > 1.0
    screenshot(page, "candidate-map")
    first = int(exp.top_ids[r][0])
    page.locator('[data-role="candidate"]').nth(0).locator('[data-role="candidate-vs"]').click()  # ...vs the first
    snap = page.evaluate(SNAPSHOT)
    assert snap["pick"] == {"item": item, "a": second, "b": first}
    want = exp.contrast(item, second, first)[0].reshape(-1)
    got = np.asarray(snap["image"])
    np.testing.assert_allclose(got, want, atol=TOL)
    assert got.min() < -0.2 and got.max() > 0.2  # signed: both tokens win somewhere
    _check_diverging(canvas_pixels(page), got, exp.views[0].grid)
    assert page.locator('[data-role="contrast-legend"]').is_visible()
    screenshot(page, "candidate-contrast")
    page.locator('[data-role="candidate-back"]').click()
    np.testing.assert_allclose(np.asarray(page.evaluate(SNAPSHOT)["image"]), own, atol=0)
    rows.nth(1).click()
    _select(page, item + 1)  # a new selection shows its own map: the pick belonged to the old item
    snap = page.evaluate(SNAPSHOT)
    assert snap["pick"] is None and snap["shown"] == item + 1
    guard.check()
    page.context.close()


def _check_diverging(pixels: np.ndarray, signed: np.ndarray, grid: tuple[int, ...]) -> None:
    """Where the contrast is most positive the canvas is reddest, where most negative bluest."""
    h, w = grid
    values = signed.reshape(h, w)
    ch, cw = pixels.shape[:2]

    def at(cell: tuple[Any, ...]) -> np.ndarray:
        y, x = int((cell[0] + 0.5) * ch / h), int((cell[1] + 0.5) * cw / w)
        return pixels[y, x, :3].astype(int)

    hot = at(np.unravel_index(values.argmax(), values.shape))
    cold = at(np.unravel_index(values.argmin(), values.shape))
    assert hot[0] > hot[2] + 40, f"most positive cell {hot} is not red"
    assert cold[2] > cold[0] + 40, f"most negative cell {cold} is not blue"


def test_the_chosen_token_outside_the_top_k_can_be_picked(
    browser: Any,  # noqa: F811
    demo_exp: Explanation,  # noqa: F811
    tmp_path: Path,
) -> None:
    exp = demo_exp
    r = 2
    item = exp.n_prompt + r
    chosen = exp.token_ids[exp.answer_start + r]
    top_ids = exp.top_ids.copy()
    others = [int(i) for i in exp.top_ids[1] if int(i) != chosen]
    top_ids[r] = (others * 3)[: top_ids.shape[1]]  # candidates held by the set, the chosen one not among them
    top_texts = [list(t) for t in exp.top_texts]
    top_texts[r] = [exp.top_texts[1][list(exp.top_ids[1]).index(i)] for i in top_ids[r]]
    import dataclasses

    edited = dataclasses.replace(exp, top_ids=top_ids, top_texts=top_texts)
    page, guard = open_page(browser, edited.save_html(tmp_path / "p.html"))
    _select(page, item)
    page.locator('[data-role="chosen"] [data-role="candidate-pick"]').click()
    snap = page.evaluate(SNAPSHOT)
    assert snap["pick"]["a"] == chosen
    np.testing.assert_allclose(np.asarray(snap["image"]), exp.class_map(item, chosen)[0].reshape(-1), atol=TOL)
    guard.check()
    page.context.close()
