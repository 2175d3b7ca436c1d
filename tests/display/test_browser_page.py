"""The exported page in headless chromium with the network blocked: it loads, clicks, keys and the
slider work, the browser's maps equal the Python core's, and token text stays text.

Screenshots go to build/screenshots/ (or $TAM_SCREENSHOTS): look at them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import Guard, launch, screenshot
from family_fixtures import FIXTURES
from playwright.sync_api import sync_playwright

from tam_widget import Explanation, explain
from tam_widget.cli import main as cli_main
from tam_widget.cli.demo import demo_explanation
from tam_widget.display.wire import NonFiniteWarning
from tam_widget.teaching.scenes import COLOURS

pytestmark = pytest.mark.browser

NASTY = ["<img src=x onerror=alert(1)>", "</script>", "<!--", "&amp;", "<b>bold</b>"]

SNAPSHOT = "() => document.querySelector('.tam-widget').tam.snapshot()"
SELECTED = "() => window.tamModel.get('selected')"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def demo_exp() -> Explanation:
    return demo_explanation()


def open_page(browser: Any, path: Path, width: int = 1100) -> tuple[Any, Guard]:
    """Open the file offline, with every non-file request aborted and recorded."""
    context = browser.new_context(viewport={"width": width, "height": 800}, offline=True, accept_downloads=True)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page, guard


def canvas_pixels(page: Any, index: int = 0) -> np.ndarray:
    data = page.evaluate(
        """(i) => { const c = document.querySelectorAll('[data-role="heatmap"]')[i];
        return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""",
        index,
    )
    w, h, values = data
    return np.asarray(values, np.uint8).reshape(h, w, 4)


def test_demo_page_works_offline(browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.html"
    assert cli_main(["demo", "--out", str(out), "--seed", "12"]) == 0
    said = capsys.readouterr().out
    assert str(out.resolve()) in said and "(correct)" in said
    page, guard = open_page(browser, out)
    tokens = page.locator('[data-role="token"]')
    n = tokens.count()
    meta_items = page.evaluate("() => JSON.parse(document.getElementById('tam-state').textContent).meta.items.length")
    assert n == meta_items >= 4 + 5  # the prompt's words and at least "a <colour> <texture> shape ."
    assert page.locator('[data-role="heatmap"]').count() == 1
    assert page.locator(".tam-line").first.inner_text().replace("\n", "") == "Prompt describe the picture ."
    selected = page.locator(".tam-token.is-selected").inner_text().strip()
    assert selected in COLOURS  # the demo opens on a colour word, whose map shows something
    screenshot(page, "demo-page")
    guard.check()
    page.context.close()


def test_click_changes_the_canvas_and_the_canvas_shows_the_map(
    browser: Any, demo_exp: Explanation, tmp_path: Path
) -> None:
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", opacity=1.0))
    before = canvas_pixels(page)
    first = page.evaluate(SELECTED)
    answer = demo_exp.maps().image[first + 1 :].amax(dim=1)
    target = first + 1 + int(answer.argmax())  # the answer item with the strongest image map
    page.locator(f'[data-role="token"][data-index="{target}"]').click()
    assert page.evaluate(SELECTED) == target
    page.mouse.move(0, 0)  # leave the tokens: the selected item, not a hovered one, is on show
    after = canvas_pixels(page)
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0
    # opacity 1: the canvas is the colour map of the map; check the hottest and coldest cells
    snap = page.evaluate(SNAPSHOT)
    assert snap["shown"] == target
    (h, w) = demo_exp.views[0].grid
    grid = np.asarray(snap["image"]).reshape(h, w)
    ch, cw = after.shape[:2]
    hot, cold = np.unravel_index(grid.argmax(), grid.shape), np.unravel_index(grid.argmin(), grid.shape)

    def centre(cell: tuple[Any, ...]) -> np.ndarray:
        y, x = int((cell[0] + 0.5) * ch / h), int((cell[1] + 0.5) * cw / w)
        return after[y, x, :3].astype(int)

    def warmth(cell: tuple[Any, ...]) -> int:
        r, _, b = centre(cell)
        return int(r - b)  # jet runs from blue to red

    assert grid.max() - grid.min() > 0.5
    assert warmth(hot) > warmth(cold) + 100, (centre(hot), centre(cold))
    screenshot(page, "demo-clicked-opacity-1")
    guard.check()
    page.context.close()


def sensitive_items(exp: Explanation, k: int = 2) -> list[int]:
    """The ``k`` answer items whose maps move most with the ECI scale (their interference is not zero)."""
    low, high = exp.maps(0.0).image, exp.maps(2.0).image
    answer = range(exp.n_prompt, exp.n_prompt + exp.n_answer)
    moved = {v: float((low[v] - high[v]).abs().max()) for v in answer}
    return sorted(moved, key=moved.__getitem__, reverse=True)[:k]


@pytest.mark.parametrize("value", [0.0, 0.37, 1.0, 1.85, 2.0])
def test_slider_map_equals_the_python_core(browser: Any, demo_exp: Explanation, tmp_path: Path, value: float) -> None:
    items = sensitive_items(demo_exp)
    want, other = demo_exp.maps(value), demo_exp.maps(1.0 if value != 1.0 else 0.0)
    for item in items:  # a browser that ignored the slider would fail here, not pass by accident
        assert float((want.image[item] - other.image[item]).abs().max()) > 4 / 255, item
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    page.locator('[data-role="eci-scale"]').fill(str(value))
    assert page.locator('[data-role="eci-scale-value"]').inner_text() == f"{value:.2f}"
    assert page.evaluate("() => window.tamModel.get('eci_scale')") == pytest.approx(value)
    for item in items:
        page.locator(f'[data-role="token"][data-index="{item}"]').click()
        page.mouse.move(0, 0)
        snap = page.evaluate(SNAPSHOT)
        assert snap["shown"] == item and snap["settings"]["lambda"] == pytest.approx(value)
        got = np.asarray(snap["image"], np.float32)
        assert np.abs(got - want.image[item].numpy()).max() <= 1 / 255
        n_text = int(demo_exp.tam.n_visible[item])
        np.testing.assert_allclose(snap["text"], want.text[item, :n_text].numpy(), atol=1 / 255)
    if value == 0.37:
        screenshot(page, "demo-slider-0.37")
    guard.check()
    page.context.close()


def test_toggles_compute_cam_and_the_ablations(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    item = sensitive_items(demo_exp, 1)[0]
    cases = [
        ("eci", "CAM + rank Gaussian filter (no ECI)", {"eci": False}),
        ("filter", "CAM", {"eci": False, "filter": False}),
        ("eci", "ECI, no filter", {"filter": False}),
    ]
    shown = [demo_exp.maps().image[item]] + [demo_exp.maps(**kw).image[item] for _, _, kw in cases]
    for before, after in itertools.pairwise(shown):  # every click must change this item's map
        assert float((before - after).abs().max()) > 4 / 255
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    page.locator(f'[data-role="token"][data-index="{item}"]').click()
    page.mouse.move(0, 0)
    for role, label, kwargs in cases:
        page.locator(f'[data-role="{role}"]').click()
        assert page.locator('[data-role="method"]').inner_text() == label
        got = np.asarray(page.evaluate(SNAPSHOT)["image"], np.float32)
        want = demo_exp.maps(**kwargs).image[item].numpy()
        assert np.abs(got - want).max() <= 1 / 255, label
    assert page.locator('[data-role="eci-scale"]').is_enabled()
    page.locator('[data-role="eci"]').click()
    assert page.locator('[data-role="eci-scale"]').is_disabled()
    page.locator('[data-role="colormap"]').select_option("viridis")
    page.locator('[data-role="group-words"]').check()
    screenshot(page, "demo-cam-viridis-words")
    guard.check()
    page.context.close()


def test_keyboard_navigation(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    start = page.evaluate(SELECTED)
    page.locator(".tam-token.is-selected").focus()

    def state() -> tuple[int, str]:
        return page.evaluate(SELECTED), page.evaluate("() => document.activeElement.dataset.index")

    page.keyboard.press("ArrowRight")
    assert state() == (start + 1, str(start + 1))
    page.keyboard.press("ArrowRight")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    assert state() == (start - 1, str(start - 1))  # the last prompt token
    page.keyboard.press("End")
    last = demo_exp.n_prompt + demo_exp.n_answer - 1
    assert state() == (last, str(last))
    page.keyboard.press("Home")
    assert state() == (0, "0")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-selected')") == "true"
    # Tab reaches the token list in one stop, then the controls
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.role") != "token"
    screenshot(page, "demo-keyboard-home")
    guard.check()
    page.context.close()


def test_hover_previews_without_selecting(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    start = page.evaluate(SELECTED)
    page.locator('[data-role="token"][data-index="2"]').hover()
    snap = page.evaluate(SNAPSHOT)
    assert (snap["shown"], snap["selected"]) == (2, start)
    page.mouse.move(0, 0)
    assert page.evaluate(SNAPSHOT)["shown"] == start
    guard.check()
    page.context.close()


def test_save_png_downloads_the_view(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))
    with page.expect_download() as info:
        page.locator('[data-role="save-png"]').click()
    download = info.value
    assert download.suggested_filename.startswith(f"tam_{page.evaluate(SELECTED)}")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    guard.check()
    page.context.close()


def test_several_views_each_get_a_panel(browser: Any, tmp_path: Path) -> None:
    fx = FIXTURES["internvl"]()  # tiles + thumbnail of one image, and a second, untiled image
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat on a mat")
    page, guard = open_page(browser, exp.save_html(tmp_path / "p.html"))
    captions = page.locator(".tam-caption").all_inner_texts()
    assert len(captions) == 3 and "tiles" in captions[0] and "thumbnail" in captions[1]
    for i in range(3):
        assert canvas_pixels(page, i)[..., :3].std() > 5  # something drawn, not a blank canvas
    screenshot(page, "internvl-three-panels", full_page=True)
    guard.check()
    page.context.close()


def test_nasty_token_text_stays_text(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    tokens = list(demo_exp.tokens)
    answer = demo_exp.item_positions[demo_exp.n_prompt :]
    for p, text in zip(answer, NASTY, strict=False):
        tokens[p] = text
    top = [[NASTY[(i + k) % len(NASTY)] for k in range(3)] for i in range(demo_exp.n_answer)]
    nasty = dataclasses.replace(demo_exp, tokens=tokens, top_texts=top, text="".join(NASTY))
    # on the first answer token, whose candidates start with NASTY[0] (the page would open on the strongest)
    page, guard = open_page(browser, nasty.save_html(tmp_path / "nasty.html", selected=demo_exp.n_prompt))
    shown = page.locator('[data-role="token"]').all_text_contents()[demo_exp.n_prompt :]
    assert shown[: len(NASTY)] == NASTY
    assert page.locator(".tam-widget img, .tam-widget b").count() == 0
    assert NASTY[0] in page.locator(".tam-candidates, [data-role='candidates']").first.inner_text()
    screenshot(page, "nasty-tokens")
    guard.check()  # no alert dialog, no request for "x"
    page.context.close()


# -- bad input: the page always opens, says n/a, and runs only its own script ------------------

VIOLATIONS = "() => window.__csp ?? []"
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener(
  "securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI)
);
"""


def open_recording(browser: Any, path: Path, width: int = 1100) -> tuple[Any, Guard]:
    """open_page, also recording Content-Security-Policy violations in window.__csp."""
    context = browser.new_context(viewport={"width": width, "height": 800}, offline=True)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page, guard


def test_non_finite_numbers_open_the_page_and_show_as_na(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    P = demo_exp.n_prompt
    top = demo_exp.top_probs.astype(np.float32).copy()
    top[1, :] = np.nan  # an overflowing float16 model
    top[2, 0] = np.inf
    chosen = np.full(demo_exp.n_answer, 0.5, np.float32)
    chosen[3] = np.nan
    top_ids = demo_exp.top_ids.copy()
    top_ids[3] = -1  # the chosen token is not among the top k at step 3: its own row, n/a
    r = demo_exp.tam
    A = r.A.clone()
    A[P + 4, :5] = float("nan")
    bad = dataclasses.replace(
        demo_exp,
        top_probs=top,
        top_ids=top_ids,
        chosen_probs=chosen,
        results={"tam": dataclasses.replace(r, A=A)},
    )
    with pytest.warns(NonFiniteWarning, match=r"answer positions \[1, 2, 3\]"):
        path = bad.save_html(tmp_path / "nan.html", opacity=1.0, selected=P + 1)
    page, guard = open_recording(browser, path)
    values = page.locator("[data-role='candidates'] .tam-candidate-p").all_inner_texts()
    assert values == ["n/a"] * len(values) and len(values) == top.shape[1]
    screenshot(page, "non-finite-probabilities")
    page.locator(f'[data-role="token"][data-index="{P + 3}"]').click()
    assert page.locator("[data-role='chosen']").inner_text().endswith("n/a")
    assert "chosen:" in page.locator("[data-role='chosen']").inner_text()
    page.locator(f'[data-role="token"][data-index="{P + 4}"]').click()
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAPSHOT)
    assert (snap["shown"], snap["finite"]) == (P + 4, False)
    notice = page.locator("[data-role='map-notice']")
    assert notice.is_visible() and "n/a" in notice.inner_text()
    heat_at_1 = canvas_pixels(page)
    screenshot(page, "non-finite-map")
    page.evaluate("() => window.tamModel.set('opacity', 0)")
    assert np.array_equal(canvas_pixels(page), heat_at_1)  # no heat drawn: the image alone
    page.locator(f'[data-role="token"][data-index="{P + 1}"]').click()  # a clean item with signal: its map again
    assert page.evaluate(SNAPSHOT)["finite"] is True and not notice.is_visible()
    assert page.evaluate(VIOLATIONS) == []
    guard.check()
    page.context.close()


def test_the_page_runs_only_its_own_script(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    breakout = "</script><script>window.__pwned = 1</script>"
    tokens = list(demo_exp.tokens)
    answer = demo_exp.item_positions[demo_exp.n_prompt :]
    tokens[answer[0]] = breakout
    tokens[answer[1]] = '<img src=x onerror="window.__pwned = 2">'
    path = dataclasses.replace(demo_exp, tokens=tokens).save_html(tmp_path / "p.html")
    page, guard = open_recording(browser, path)
    shown = page.locator('[data-role="token"]').all_text_contents()[demo_exp.n_prompt :]
    assert shown[0] == breakout and shown[1].startswith("<img")
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate(VIOLATIONS) == []  # the page's own script runs under the policy
    guard.check()
    page.context.close()
    # the file modified afterwards: an added inline script and inline handler are refused, the page still works
    text = path.read_text(encoding="utf-8")
    added = (
        '<script>window.__pwned = 3</script><img src="data:," onerror="window.__pwned = 4">'
        '<script type="module">window.__pwned = 5</script>'
    )
    modified = tmp_path / "modified.html"
    modified.write_text(
        text.replace('<div id="tam-root"></div>', '<div id="tam-root"></div>' + added), encoding="utf-8"
    )
    page, guard = open_recording(browser, modified)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator('[data-role="token"]').count() == len(demo_exp.item_positions)
    violations = page.evaluate(VIOLATIONS)
    assert len(violations) == 3 and all(v.startswith("script-src") for v in violations), violations
    assert guard.errors and all("Content Security Policy" in e for e in guard.errors), guard.errors
    assert not guard.requests and not guard.dialogs
    page.context.close()


def test_end_of_turn_whitespace_and_chosen_tokens(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    tokens, special = list(demo_exp.tokens), list(demo_exp.special)
    prompt, last = demo_exp.prompt_positions, len(tokens) - 1
    tokens[prompt[1]] = "\n"
    tokens[prompt[2]] = " "
    tokens[last], special[last] = "<|im_end|>", True
    top_ids = demo_exp.top_ids.copy()
    top_ids[0] = -1
    chosen = np.full(demo_exp.n_answer, 0.9, np.float32)
    chosen[0] = 0.003
    exp = dataclasses.replace(demo_exp, tokens=tokens, special=special, top_ids=top_ids, chosen_probs=chosen)
    page, guard = open_page(browser, exp.save_html(tmp_path / "p.html", selected=demo_exp.n_prompt))
    token = page.locator('[data-role="token"]')
    assert token.nth(1).inner_text() == "⏎" and token.nth(2).inner_text() == "·"
    # the demo's prompt tokens have all-zero raw maps: below the noise floor
    assert token.nth(1).get_attribute("title") == '#1 "\\n" · whitespace · no visual signal'
    end = token.nth(token.count() - 1)
    assert "is-end-of-turn" in (end.get_attribute("class") or "") and end.inner_text() == "<|im_end|>"
    assert (end.get_attribute("title") or "").endswith("end of turn · no visual signal")
    caps = "() => getComputedStyle(document.querySelector('.is-end-of-turn')).fontVariantCaps"
    assert page.evaluate(caps) == "small-caps"
    row = page.locator("[data-role='chosen']")  # the first answer token: not among the top k
    assert row.inner_text().replace("\n", "").startswith("chosen:") and row.inner_text().strip().endswith("0.3%")
    screenshot(page, "end-of-turn-whitespace-chosen")
    guard.check()
    page.context.close()


# -- issue 12: the image stays readable, the first view says something -------------------------------

ORIGINAL_PIXELS = """() => { const c = document.querySelector('[data-role="original"]');
    return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }"""


def original_pixels(page: Any) -> np.ndarray:
    w, h, values = page.evaluate(ORIGINAL_PIXELS)
    return np.asarray(values, np.uint8).reshape(h, w, 4)


def colour(name: str, v: float) -> tuple[int, ...]:
    """The colour js/src/colormap.ts draws for ``v`` (its hex table at floor(255 v))."""
    import re

    ts = (Path(__file__).resolve().parents[2] / "js" / "src" / "colormap.ts").read_text()
    found = re.search(rf"const {name.upper()}_HEX =(.*?);", ts, re.S)
    assert found, name
    table = bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', found.group(1))))
    i = min(255, max(0, int(np.floor(v * 255))))
    return tuple(table[3 * i : 3 * i + 3])


def cell_centre(cell: tuple[int, int], grid: tuple[int, int], shape: tuple[int, ...]) -> tuple[int, int]:
    return int((cell[0] + 0.5) * shape[0] / grid[0]), int((cell[1] + 0.5) * shape[1] / grid[1])


def shown_picture(exp: Explanation) -> np.ndarray:
    """The first image as the page received it: its encoded picture (display/images.py), decoded."""
    import io

    from PIL import Image

    from tam_widget.display.images import first_picture

    return np.asarray(Image.open(io.BytesIO(first_picture(exp, 0)[0])).convert("RGB"))


def test_the_image_shows_its_true_colours_where_the_map_is_low(
    browser: Any, demo_exp: Explanation, tmp_path: Path
) -> None:
    from tam_widget.display.widget import first_item

    item = first_item(demo_exp)
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", opacity=1.0, selected=item))
    snap = page.evaluate(SNAPSHOT)
    assert snap["shown"] == item and not snap["flat"]
    grid_hw = demo_exp.views[0].grid
    grid = np.asarray(snap["image"]).reshape(grid_hw)
    canvas = canvas_pixels(page)
    image = shown_picture(demo_exp)  # the picture the page received (display/images.py: JPEG for a photo)
    assert canvas.shape[:2] == image.shape[:2]  # drawn 1:1, so a canvas pixel is an image pixel
    # low cells: the cell and its neighbours are 0, so the bilinear map is 0 at the cell's centre
    padded = np.pad(grid, 1, constant_values=1.0)
    low = [
        (y, x) for y in range(grid.shape[0]) for x in range(grid.shape[1]) if padded[y : y + 3, x : x + 3].max() < 1e-6
    ]
    assert low
    # of those, the most colourful image pixel (an object, not the background)
    saturation = [int(np.ptp(image[cell_centre(c, grid_hw, image.shape)].astype(int))) for c in low]
    cell = low[int(np.argmax(saturation))]
    y, x = cell_centre(cell, grid_hw, canvas.shape)
    got, want = canvas[y, x, :3].astype(int), image[y, x].astype(int)
    assert np.abs(got - want).max() <= 3, (cell, got, want)  # opacity 1, yet the image's own colour
    # where the map is high the map's colour covers the image (jet's red at the hottest cell)
    hot = np.unravel_index(grid.argmax(), grid.shape)
    hy, hx = cell_centre((int(hot[0]), int(hot[1])), grid_hw, canvas.shape)
    r, _, b = canvas[hy, hx, :3].astype(int)
    assert r - b > 100 and np.abs(canvas[hy, hx, :3].astype(int) - image[hy, hx].astype(int)).max() > 60
    screenshot(page, "readable-opacity-1")
    guard.check()
    page.context.close()


def test_smooth_blocky_inferno_and_the_original(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:
    from tam_widget.display.widget import first_item

    item = first_item(demo_exp)
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html", opacity=1.0, selected=item))
    grid_hw = demo_exp.views[0].grid
    grid = np.asarray(page.evaluate(SNAPSHOT)["image"]).reshape(grid_hw)
    smooth = canvas_pixels(page)
    page.locator('[data-role="smooth"]').uncheck()
    assert page.evaluate("() => window.tamModel.get('smooth')") is False
    blocky = canvas_pixels(page)
    assert np.abs(smooth.astype(int) - blocky.astype(int)).mean() > 1.0
    # blocky: the hottest cell (value 1: full alpha) is one colour from edge to edge
    hot = np.unravel_index(grid.argmax(), grid.shape)
    ch, cw = blocky.shape[:2]
    y0, y1 = int(np.ceil(hot[0] * ch / grid_hw[0])), int(np.floor((hot[0] + 1) * ch / grid_hw[0]))
    x0, x1 = int(np.ceil(hot[1] * cw / grid_hw[1])), int(np.floor((hot[1] + 1) * cw / grid_hw[1]))
    block = blocky[y0:y1, x0:x1, :3].reshape(-1, 3)
    v = float(grid.max())
    assert v >= 0.5  # full alpha (colormap.ts ALPHA_FULL): the table's colour exactly
    assert (block == block[0]).all() and tuple(block[0]) == colour("jet", v)
    assert len({tuple(p) for p in smooth[y0:y1, x0:x1, :3].reshape(-1, 3)}) > 1  # smooth: a gradient
    # inferno draws with its own table (matplotlib's: black, purple, orange, pale yellow)
    page.locator('[data-role="colormap"]').select_option("inferno")
    assert page.evaluate("() => window.tamModel.get('colormap')") == "inferno"
    inferno = canvas_pixels(page)
    assert colour("inferno", 0) == (0, 0, 4) and colour("inferno", 1) == (252, 255, 164)
    assert tuple(inferno[(y0 + y1) // 2, (x0 + x1) // 2, :3]) == colour("inferno", v)
    # the original beside the overlay, under a toggle
    original = page.locator('[data-role="original"]')
    assert not original.is_visible()
    page.locator('[data-role="show-original"]').check()
    assert original.is_visible() and page.evaluate("() => window.tamModel.get('show_original')") is True
    shown = original_pixels(page)
    assert np.abs(shown[..., :3].astype(int) - shown_picture(demo_exp).astype(int)).max() <= 3  # the image itself
    assert (shown[..., 3] == 255).all()
    screenshot(page, "readable-inferno-blocky-original")
    page.locator('[data-role="show-original"]').uncheck()
    assert not original.is_visible()
    guard.check()
    page.context.close()


def test_the_page_opens_on_a_token_with_signal_and_says_when_there_is_none(
    browser: Any, demo_exp: Explanation, tmp_path: Path
) -> None:
    from tam_widget.display.signal import strength

    P, N = demo_exp.n_prompt, demo_exp.n_answer
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "p.html"))  # no `selected`: the default
    snap = page.evaluate(SNAPSHOT)
    first = page.locator(".tam-token.is-selected")
    assert snap["selected"] > P and first.inner_text().strip() in COLOURS  # not the first "a"
    assert not snap["flat"] and max(snap["image"]) - min(snap["image"]) > 0.5
    notice = page.locator("[data-role='map-notice']")
    assert not notice.is_visible()
    screenshot(page, "first-view")
    # the first "a": below the noise floor, said on the canvas, muted in the text, nothing drawn
    s = strength(demo_exp)
    assert s is not None and s[P] < 0.01
    page.locator(f'[data-role="token"][data-index="{P}"]').click()
    page.mouse.move(0, 0)
    snap = page.evaluate(SNAPSHOT)
    assert (snap["shown"], snap["flat"]) == (P, True)
    assert notice.is_visible() and "No visual signal" in notice.inner_text()
    token = page.locator(f'[data-role="token"][data-index="{P}"]')
    assert "is-flat" in (token.get_attribute("class") or "")
    assert float(page.evaluate("(el) => getComputedStyle(el).opacity", token.element_handle())) < 0.8
    strong = page.locator(f'[data-role="token"][data-index="{snap["selected"] + 1}"]')
    assert "is-flat" not in (page.locator(".tam-token").nth(int(np.argmax(s))).get_attribute("class") or "")
    assert strong.count() == 1
    page.evaluate("() => window.tamModel.set('show_original', true)")
    overlay, original = canvas_pixels(page), original_pixels(page)
    assert np.array_equal(overlay, original)  # no heat at all: the image alone
    screenshot(page, "no-visual-signal")
    # the strip: one bar per answer token, flat ones muted, a click selects
    bars = page.locator('[data-role="signal-bar"]')
    assert bars.count() == N
    flat = [i for i in range(N) if "is-flat" in (bars.nth(i).get_attribute("class") or "")]
    assert flat == [i for i in range(N) if s[P + i] < 0.01]
    blue = next(i for i in range(P, P + N) if demo_exp.item_texts[i].strip() == "blue")
    bars.nth(blue - P).click()
    assert page.evaluate(SELECTED) == blue
    assert "is-selected" in (bars.nth(blue - P).get_attribute("class") or "")
    page.mouse.move(0, 0)
    assert page.evaluate(SNAPSHOT)["shown"] == blue and not notice.is_visible()
    guard.check()
    page.context.close()


@pytest.fixture(scope="module")
def video_exp() -> Explanation:
    """A random toy Qwen2-VL on a 16-frame video (8 temporal grids of 4 x 5 cells), with candidates."""
    from tam_widget import Video
    from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor
    from tam_widget.testing.video import with_video_processor

    processor = with_video_processor(qwen2_vl_processor(max_pixels=224 * 252), max_pixels=224 * 252)
    frames = np.stack([np.roll(noise_image(112, 140, seed=7), 9 * i, axis=1) for i in range(16)])
    return explain(qwen2_vl_model(seed=5), processor, Video(frames, fps=1.0), "What happens?", answer="a cat runs.")


def test_the_deflated_page_of_a_video_opens_offline_with_pythons_maps(
    browser: Any, video_exp: Explanation, tmp_path: Path
) -> None:
    """The page carries the wire deflated (html.pack); inflated in the browser, every item's map at every
    lambda, with ECI and the filter on and off, is Python's within 1/255."""
    import base64
    import json
    import zlib

    path = video_exp.save_html(tmp_path / "video.html")
    text = path.read_text(encoding="utf-8")
    state = json.loads(text.split('id="tam-state">')[1].split("</script>")[0])
    packed = base64.b64decode(text.split('id="tam-data">')[1].split("</script>")[0])
    assert state["deflated"] == ["_data"] and len(zlib.decompress(packed)) % 4 == 0
    assert len(state["meta"]["frames"]) == 8
    page, guard = open_page(browser, path)
    worst = 0.0
    for lam, eci, filt in itertools.product((0.0, 0.5, 1.0, 2.0), (True, False), (True, False)):
        want = video_exp.maps(lam, eci=eci, filter=filt).image.numpy()
        page.evaluate(
            "([l, e, f]) => { const m = window.tamModel; m.set('eci_scale', l); m.set('eci', e); m.set('filter', f); }",
            [lam, eci, filt],
        )
        for item in range(video_exp.tam.n_items):
            page.evaluate("(v) => window.tamModel.set('selected', v)", item)
            snap = page.evaluate(SNAPSHOT)
            assert snap["shown"] == item
            worst = max(worst, float(np.abs(np.asarray(snap["image"], np.float32) - want[item]).max()))
    assert worst <= 1 / 255, worst
    guard.check()
    page.context.close()
