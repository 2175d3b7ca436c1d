"""The layer slider in the browser: an explanation with every decoder layer kept
(``explain(..., layers="all")``) opens on the last layer; the slider (by keyboard) and the
"layer × peak" strip (by click) change the canvas, and the drawn map equals ``exp.maps(layer=i)``
within 1/255 at every layer, also with ECI off.

The offline page of a random toy Qwen2-VL with 4 decoder layers in headless chromium, network blocked.
Screenshot: build/screenshots/layers.png (look at it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import screenshot
from display.test_browser_page import SNAPSHOT, browser, canvas_pixels, open_page  # noqa: F401

from tam_widget import Explanation, explain
from tam_widget.cli.demo import scene
from tam_widget.testing.toy import qwen2_vl_model, qwen2_vl_processor

pytestmark = pytest.mark.browser

TOL = 1 / 255
LAYER = "() => window.tamModel.get('layer')"


@pytest.fixture(scope="module")
def layered() -> Explanation:
    model = qwen2_vl_model(seed=3, layers=4)
    processor = qwen2_vl_processor(max_pixels=336 * 336)
    image = scene(336, 336)
    return explain(model, processor, image, "What is here?", answer="a red disc and a blue square.", layers="all")


def _check(page: Any, exp: Explanation, item: int, layer: int, **settings: Any) -> None:
    """The page shows ``layer`` (trait, label, outlined cell) and draws exp.maps(layer=layer) at ``item``."""
    assert page.evaluate(LAYER) == layer
    assert page.locator('[data-role="layer-value"]').inner_text() == f"layer {layer} / {exp.tam.n_layers}"
    current = page.locator('[data-role="layer-cell"].is-current')
    assert current.count() == 1 and current.get_attribute("data-layer") == str(layer)
    snap = page.evaluate(SNAPSHOT)
    assert snap["shown"] == item and snap["settings"]["layer"] == layer
    got = np.asarray(snap["image"])
    want = exp.view_maps(item, layer=layer, **settings)[0].reshape(-1)
    np.testing.assert_allclose(got, want, atol=TOL, err_msg=f"layer {layer} {settings}")


def _changed(a: np.ndarray, b: np.ndarray) -> bool:
    return float(np.abs(a.astype(int) - b.astype(int)).mean()) > 0.5


def test_the_layer_slider_changes_the_map_and_equals_exp_maps(
    browser: Any,  # noqa: F811
    layered: Explanation,
    tmp_path: Path,
) -> None:
    exp = layered
    item = exp.n_prompt + 2  # "red"
    page, guard = open_page(browser, exp.save_html(tmp_path / "p.html", selected=item), width=1200)
    page.mouse.move(0, 0)
    assert page.locator('[data-role="layers"]').is_visible()
    assert page.locator('[data-role="layer-cell"]').count() == len(exp.layers) == 4
    _check(page, exp, item, 3)
    last = canvas_pixels(page)
    slider = page.locator('[data-role="layer"]')
    slider.focus()
    page.keyboard.press("Home")  # keyboard: the first kept layer
    _check(page, exp, item, 0)
    first = canvas_pixels(page)
    assert _changed(first, last), "moving the slider did not change the canvas"
    page.keyboard.press("ArrowRight")
    _check(page, exp, item, 1)
    assert _changed(canvas_pixels(page), first), "the next layer did not change the canvas"
    page.locator('[data-role="layer-cell"][data-layer="2"]').click()  # the strip jumps to a layer
    page.mouse.move(0, 0)
    _check(page, exp, item, 2)
    for other in (exp.n_prompt, exp.n_prompt + 5, exp.n_prompt + 7):  # other tokens at the same layer
        page.locator(f'[data-role="token"][data-index="{other}"]').click()
        page.mouse.move(0, 0)
        _check(page, exp, other, 2)
    page.locator('[data-role="eci"]').uncheck()  # ECI off at an earlier layer
    _check(page, exp, exp.n_prompt + 7, 2, eci=False)
    page.locator('[data-role="eci"]').check()
    page.locator(f'[data-role="token"][data-index="{item}"]').click()
    page.locator('[data-role="layer-cell"][data-layer="1"]').click()
    page.mouse.move(0, 0)
    _check(page, exp, item, 1)
    assert "layer 1 / 4" in page.locator('[data-role="legend-caption"]').inner_text()
    screenshot(page, "layers")
    guard.check()
    page.context.close()


def test_no_slider_without_layers(browser: Any, layered: Explanation, tmp_path: Path) -> None:  # noqa: F811
    import dataclasses

    plain = dataclasses.replace(layered, results={"tam": dataclasses.replace(layered.tam, layers={}, n_layers=None)})
    page, guard = open_page(browser, plain.save_html(tmp_path / "p.html"))
    assert page.locator('[data-role="layers"]').is_hidden()
    assert page.evaluate(LAYER) == -1 and "layer" not in page.evaluate(SNAPSHOT)["settings"]
    guard.check()
    page.context.close()
