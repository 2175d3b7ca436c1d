"""The image panel in headless chromium on the exported demo page: it takes the output area's width,
zooms around the pointer (redrawn at the screen's resolution, not a stretched bitmap), pans, resets;
Save PNG downloads a figure at twice its CSS size with the views as drawn and a colour bar.

Screenshots: build/screenshots/panel-wide.png, panel-zoomed.png and the saved figure
saved-figure.png: look at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import SCREENSHOTS, screenshot
from PIL import Image
from test_browser_page import browser, canvas_pixels, colour, demo_exp, open_page  # noqa: F401 (fixtures)

from tam_widget import Explanation
from tam_widget.display.widget import first_item

pytestmark = pytest.mark.browser

CANVAS = '[data-role="heatmap"]'
STATE = """() => { const c = document.querySelector('[data-role="heatmap"]'); const r = c.getBoundingClientRect();
  return { width: c.width, height: c.height, css: r.width, left: r.left, top: r.top, border: c.clientLeft,
           content: c.clientWidth, level: document.querySelector('[data-role="zoom-level"]').textContent }; }"""


def blue_disc(page: Any) -> np.ndarray:
    """The demo's blue disc on the canvas (the image alone at opacity 0): its box [left, top, right, bottom]
    in CSS px from the canvas's content box."""
    px = canvas_pixels(page)[..., :3].astype(int)
    mask = (px[..., 2] > 180) & (px[..., 0] < 100) & (px[..., 1] < 120)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 50, "no blue disc on the canvas"
    s = page.evaluate(STATE)
    k = s["content"] / s["width"]  # CSS px per canvas pixel
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) * k


def point(page: Any, x: float, y: float) -> tuple[float, float]:
    """A point given in CSS px from the canvas's content box, in page coordinates."""
    s = page.evaluate(STATE)
    return s["left"] + s["border"] + x, s["top"] + s["border"] + y


def test_the_panel_takes_the_width_and_zooms_sharply(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    path = demo_exp.save_html(tmp_path / "p.html", selected=first_item(demo_exp))
    page, guard = open_page(browser, path, width=1400)
    wide = page.evaluate(STATE)
    assert wide["css"] > 384  # the old cap is gone: the panel follows the output area's width
    assert page.locator(".tam-right").bounding_box()["x"] > wide["left"] + wide["css"]  # the text beside it
    assert (wide["width"], wide["height"]) == demo_exp.images[0].shape[:2]  # unzoomed: the image's own pixels
    screenshot(page, "panel-wide")
    page.evaluate("() => window.tamModel.set('opacity', 0)")  # the image alone: its shapes are easy to find
    before = canvas_pixels(page)
    disc = blue_disc(page)
    cx, cy = (disc[0] + disc[2]) / 2, (disc[1] + disc[3]) / 2
    # Ctrl + wheel over the disc's centre: twice as large, still under the pointer, drawn at the screen's resolution
    page.mouse.move(*point(page, cx, cy))
    page.keyboard.down("Control")
    page.mouse.wheel(0, -np.log(2) / 0.0025)  # zoom.ts: factor exp(-deltaY * 0.0025)
    page.keyboard.up("Control")
    zoomed = page.evaluate(STATE)
    assert zoomed["level"] == "2.0×"
    assert zoomed["width"] == round(zoomed["content"])  # the canvas redrawn at the screen's pixels (dpr 1)
    assert zoomed["css"] == wide["css"]  # zooming changes what is shown, not the panel's size
    want = np.array([cx, cy, cx, cy]) + 2 * (disc - [cx, cy, cx, cy])  # twice as far from the pointer
    want[0] = max(0.0, want[0])  # the disc is near the left edge: the canvas cuts it there
    big = blue_disc(page)
    assert np.abs(big - want).max() < 3, (disc, big, want)
    assert big[3] - big[1] > 1.9 * (disc[3] - disc[1])  # a feature twice as large
    # dragging pans: the disc moves with the pointer
    page.mouse.down()
    page.mouse.move(*point(page, cx - 60, cy - 40), steps=4)
    page.mouse.up()
    moved = blue_disc(page)
    assert np.abs(moved[1:] - (big[1:] - [40, 60, 40])).max() < 3, (big, moved)
    page.evaluate("() => window.tamModel.set('opacity', 0.5)")
    screenshot(page, "panel-zoomed")
    # reset: the whole image again, pixel for pixel
    page.locator('[data-role="zoom-reset"]').click()
    page.evaluate("() => window.tamModel.set('opacity', 0)")
    assert np.array_equal(canvas_pixels(page), before)
    # the + button zooms around the centre; a double-click resets
    page.locator('[data-role="zoom-in"]').click()
    assert page.evaluate(STATE)["level"] == "1.5×"
    page.locator(CANVAS).dblclick()
    assert page.evaluate(STATE)["level"] == ""
    guard.check()
    page.context.close()


def test_size_buttons_and_several_views(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"), width=1400)
    fit = page.evaluate(STATE)["css"]
    page.locator('[data-role="panel-size"][data-size="S"]').click()
    assert page.evaluate(STATE)["css"] == 256
    page.locator('[data-role="panel-size"][data-size="L"]').click()
    assert page.evaluate(STATE)["css"] == 512
    page.locator('[data-role="panel-size"][data-size="fit"]').click()
    assert page.evaluate(STATE)["css"] == fit
    # the original beside the overlay: both fit side by side, the same size
    page.locator('[data-role="show-original"]').check()
    boxes = [page.locator(f'[data-role="{r}"]').bounding_box() for r in ("original", "heatmap")]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["width"] == boxes[1]["width"] > 256
    guard.check()
    page.context.close()


RECORD_SAVED = (
    "() => { window.__saved = []; document.addEventListener('tam-saved', (e) => window.__saved.push(e.detail)); }"
)


def jet_table() -> np.ndarray:
    return np.asarray([colour("jet", (i + 0.5) / 255) for i in range(256)], int)


def colour_bar_column(png: np.ndarray) -> tuple[int, np.ndarray]:
    """A column of the figure whose pixels run through jet from top (1) to bottom (0): its x and table indices."""
    table = jet_table()
    for x in range(png.shape[1] - 1, png.shape[1] // 2, -1):
        col = png[:, x, :3].astype(int)
        dist = np.abs(col[:, None, :] - table[None, :, :]).sum(axis=2)
        rows = np.nonzero(dist.min(axis=1) <= 3)[0]
        if len(rows) < 200:
            continue
        idx = dist[rows].argmin(axis=1)
        if idx.max() - idx.min() >= 250 and (np.diff(idx) <= 0).all():
            return x, idx
    raise AssertionError("no column of the figure runs through the colour map")


def test_save_png_is_a_figure_at_twice_the_size(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", selected=first_item(demo_exp)), width=1400)
    page.evaluate(RECORD_SAVED)
    with page.expect_download() as info:
        page.locator('[data-role="save-png"]').click()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = SCREENSHOTS / "saved-figure.png"
    info.value.save_as(saved)
    (detail,) = page.evaluate("() => window.__saved")
    png = np.asarray(Image.open(saved).convert("RGB"))
    assert info.value.suggested_filename == detail["name"] == f"tam_{first_item(demo_exp)}_green.png"
    assert detail["scale"] == 2 and png.shape[:2] == (2 * detail["height"], 2 * detail["width"])
    # the view sits in the figure at its CSS size on the page, and holds what the page shows
    css = page.evaluate(STATE)["css"]
    (view,) = detail["views"]
    assert view["width"] == pytest.approx(css)
    x, y, w, h = (round(2 * view[k]) for k in ("x", "y", "width", "height"))
    crop = Image.fromarray(png[y : y + h, x : x + w]).resize((round(css) - 2, round(css) - 2))
    page.locator(CANVAS).screenshot(path=str(tmp_path / "c.png"))
    shown = Image.open(tmp_path / "c.png").convert("RGB")
    shown = np.asarray(shown)[1:-1, 1:-1]  # inside the border
    assert np.abs(np.asarray(crop).astype(int) - shown.astype(int)).mean() < 6
    # the colour bar: a column through jet, top to bottom, beside the view
    bar_x, idx = colour_bar_column(png)
    assert bar_x > x + w and idx[0] >= 250 and idx[-1] <= 5
    # not blank: the image varies and the title's text is dark ink on white above the view
    assert png.std() > 20
    assert (png[: y - 4, : x + w].min(axis=2) < 80).sum() > 200
    guard.check()
    page.context.close()
