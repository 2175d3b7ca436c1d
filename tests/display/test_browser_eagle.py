"""EAGLE on the page: an explanation with EAGLE and TAM opens on EAGLE's map (the grid Python sends),
the method switch redraws TAM's map and back, the tooltip says R_t, π_t and Δ_t as Python computes
them, the curves panel draws Python's per-token insertion and deletion curves, and the answer's
tokens are tinted in the order of their reliance on the image. The ``method`` trait itself is
checked without a browser.

The offline page in headless chromium, network blocked. Screenshots go to build/screenshots/
(eagle-view.png, eagle-switch.png): look at them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets
from browser import screenshot
from display.test_browser_page import SNAPSHOT, browser, demo_exp, open_page  # noqa: F401

from tam_widget import Explanation, demo_model, explain
from tam_widget.core import eagle_maps
from tam_widget.display.widget import TAMWidget, check_view_traits, view_defaults
from tam_widget.methods.eagle import EAGLE
from tam_widget.teaching.scenes import COLOURS, PROMPT

METHOD = "() => window.tamModel.get('method')"
RGBA = re.compile(r"rgba\((\d+), (\d+), (\d+), ([\d.]+)\)")


def _explain(division: int, max_new_tokens: int) -> Explanation:
    model, processor, make = demo_model()
    options = {"eagle": {"variant": "efficient", "division": division}}
    return explain(
        model, processor, make(3).image, PROMPT, method=["eagle", "tam"], options=options,
        max_new_tokens=max_new_tokens, progress=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def eagle_exp() -> Explanation:
    """EAGLE (shown first) and TAM on the demo's scene 3: about 10 s on a CPU."""
    return _explain(16, 40)


@pytest.fixture(scope="module")
def small_exp() -> Explanation:
    """A tiny EAGLE + TAM explanation for the trait checks (under a second)."""
    return _explain(4, 6)


@pytest.fixture
def eagle_page(browser: Any, eagle_exp: Explanation, tmp_path: Path) -> Iterator[Any]:  # noqa: F811
    page, guard = open_page(browser, eagle_exp.save_html(tmp_path / "eagle.html"), width=1250)
    yield page
    guard.check()
    page.context.close()


def wire(exp: Explanation) -> dict[str, np.ndarray]:
    return EAGLE().wire_arrays(exp.results["eagle"], exp)[0]


def explained(exp: Explanation) -> list[int]:
    """The items EAGLE explained, in the order of its tokens."""
    return [int(i) for i in wire(exp)["items"] if i >= 0]


def colour_item(exp: Explanation) -> int:
    """The first answer item that is a colour word (its EAGLE reliance is high: a vision-driven token)."""
    return next(i for i in explained(exp) if exp.item_texts[i].strip() in COLOURS)


def select(page: Any, item: int) -> None:
    page.locator(f'[data-role="token"][data-index="{item}"]').click()
    page.mouse.move(0, 0)  # the selected item, not a hovered one, is on show


def facts(page: Any) -> dict[str, str]:
    rows = page.locator('[data-role="tooltip"] .tam-fact')
    return {rows.nth(i).locator("dt").inner_text(): rows.nth(i).locator("dd").inner_text() for i in range(rows.count())}


def points(page: Any, role: str) -> np.ndarray:
    """A polyline's points back in data units: the curves are drawn in a unit viewBox as (x, 1 - y)."""
    raw = page.locator(f'[data-role="curves"] [data-role="{role}"]').get_attribute("points")
    xy = np.asarray([[float(v) for v in p.split(",")] for p in raw.split()])
    return np.stack([xy[:, 0], 1 - xy[:, 1]], axis=1)


def signed_tint(style: str) -> float:
    """A token's reliance tint as a signed number: +alpha for red (image), -alpha for blue (prior), 0 for none."""
    m = RGBA.search(style)
    if not m:
        return 0.0
    r, _, b, a = (float(x) for x in m.groups())
    return a if r > b else -a


# -- the page ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_eagle_page_opens_on_eagles_map(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    result = exp.results["eagle"]
    assert page.locator('[data-role="error"]').count() == 0
    assert page.evaluate(METHOD) == "eagle"
    snap = page.evaluate(SNAPSHOT)
    assert snap["method"] == "eagle" and snap["shown"] in explained(exp) and snap["settings"] == {}
    np.testing.assert_allclose(snap["image"], wire(exp)["grid"], atol=1e-6)
    label = f"EAGLE (efficient, {result.n_regions} regions, {result.images_scored} images)"
    assert page.locator('[data-role="method"]').inner_text() == label
    assert page.locator('[data-role="method"]').get_attribute("href") == "https://arxiv.org/abs/2509.22496"
    caption = page.locator('[data-role="legend-caption"]').inner_text()
    assert f"one map for the {result.n_tokens} tokens it explained together" in caption
    choices = page.locator('[data-role="method-choice"]')
    assert [choices.nth(i).inner_text() for i in range(choices.count())] == ["EAGLE", "TAM"]
    assert choices.nth(0).get_attribute("aria-pressed") == "true"
    assert page.locator('[data-role="eci"]').is_disabled()  # EAGLE's map depends on no setting
    assert page.locator('[data-role="candidate-pick"]:visible').count() == 0  # candidate maps: TAM only
    assert page.locator('[data-role="candidates-tam-only"]').is_visible()
    assert page.locator('[data-role="signal-strip"]').is_hidden()  # TAM's visual signal
    item = colour_item(exp)
    select(page, item)
    assert page.evaluate(SNAPSHOT)["shown"] == item
    np.testing.assert_allclose(page.evaluate(SNAPSHOT)["image"], wire(exp)["grid"], atol=1e-6)  # one map for all
    screenshot(page, "eagle-view")


@pytest.mark.browser
def test_an_item_eagle_did_not_explain_shows_a_flat_map_and_says_so(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    select(page, 0)  # a prompt token
    snap = page.evaluate(SNAPSHOT)
    assert snap["flat"] and max(snap["image"]) == 0
    items = explained(exp)
    notice = page.locator('[data-role="map-notice"]')
    assert notice.is_visible()
    assert notice.inner_text().startswith(f"EAGLE explained {len(items)} tokens (#{items[0]}–#{items[-1]}) together")
    assert page.locator('[data-role="curves-none"]').inner_text() == "not explained by EAGLE"


@pytest.mark.browser
def test_the_method_switch_redraws_tams_map_and_back(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    item = colour_item(exp)
    select(page, item)
    grid = wire(exp)["grid"]
    tam = exp.view_maps(item)[0].reshape(-1)
    assert np.abs(tam - grid).max() > 0.2  # the two methods' maps differ: a switch that did nothing would fail
    page.locator('[data-role="method-choice"][data-method="tam"]').click()
    assert page.evaluate(METHOD) == "tam"
    snap = page.evaluate(SNAPSHOT)
    assert snap["method"] == "tam" and snap["shown"] == item
    np.testing.assert_allclose(snap["image"], tam, atol=1 / 255)
    assert page.locator('[data-role="method"]').inner_text() == "TAM (ECI + filter)"
    assert page.locator('[data-role="eci"]').is_enabled()
    assert page.locator('[data-role="candidate-pick"]:visible').count() > 0
    assert page.locator('[data-role="candidates-tam-only"]').is_hidden()
    assert page.locator('[data-role="curves"]').is_hidden()
    assert page.locator('[data-role="reliance-legend"]').is_hidden()
    assert page.locator('[data-role="token"][data-reliance]').count() == 0
    screenshot(page, "eagle-switch")
    page.locator('[data-role="method-choice"][data-method="eagle"]').click()
    snap = page.evaluate(SNAPSHOT)
    assert page.evaluate(METHOD) == "eagle" and snap["method"] == "eagle"
    np.testing.assert_allclose(snap["image"], grid, atol=1e-6)


@pytest.mark.browser
def test_the_tooltip_says_eagles_reliance_prior_and_lift(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    result = exp.results["eagle"]
    for t, item in enumerate(explained(exp)[:6]):
        page.locator(f'[data-role="token"][data-index="{item}"]').hover()
        got = facts(page)
        assert "map peak" not in got  # TAM's signal: not EAGLE's
        assert float(got["Rₜ reliance on the image"]) == pytest.approx(result.word_reliance[t], abs=1e-3)
        assert float(got["πₜ prior (p, black image)"]) == pytest.approx(result.prior[t], abs=1e-3)
        assert float(got["Δₜ lift p(full) − p(black)"]) == pytest.approx(result.lift[t], abs=1e-3)
        assert float(got["p(full image)"]) == pytest.approx(result.org_score[t], abs=1e-3)
    page.locator('[data-role="token"][data-index="0"]').hover()
    assert facts(page)["EAGLE"] == "not explained"


@pytest.mark.browser
def test_the_curves_are_pythons_per_token_curves(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    r = exp.results["eagle"]
    items = explained(exp)
    for t in (0, items.index(colour_item(exp)), len(items) - 1):
        select(page, items[t])
        x, y = eagle_maps.insertion_curve(r.region_area, r.insertion_tokens[:, t], r.baseline_score[t])
        np.testing.assert_allclose(points(page, "curve-insertion"), np.stack([x, y], 1), atol=1e-3)
        x, y = eagle_maps.deletion_curve(r.region_area, r.deletion_tokens[:, t], r.org_score[t])
        np.testing.assert_allclose(points(page, "curve-deletion"), np.stack([x, y], 1), atol=1e-3)
        aucs = [float(page.locator(f'[data-role="curve-auc-{k}"]').inner_text()) for k in ("insertion", "deletion")]
        np.testing.assert_allclose(aucs, [r.insertion_auc_tokens[t], r.deletion_auc_tokens[t]], atol=1e-3)
    x, y = eagle_maps.insertion_curve(r.region_area, r.insertion, r.baseline_score.mean())
    np.testing.assert_allclose(points(page, "curve-mean-insertion"), np.stack([x, y], 1), atol=1e-3)
    x, y = eagle_maps.deletion_curve(r.region_area, r.deletion, r.org_score.mean())
    np.testing.assert_allclose(points(page, "curve-mean-deletion"), np.stack([x, y], 1), atol=1e-3)


@pytest.mark.browser
def test_the_answer_is_tinted_in_the_order_of_its_reliance(eagle_page: Any, eagle_exp: Explanation) -> None:
    page, exp = eagle_page, eagle_exp
    reliance = exp.results["eagle"].word_reliance
    items = explained(exp)
    token = '[data-role="token"][data-index="{}"]'
    tint = [signed_tint(page.locator(token.format(i)).get_attribute("style") or "") for i in items]
    unit = (reliance - reliance.min()) / (reliance.max() - reliance.min())
    np.testing.assert_allclose(tint, np.round(40 * (2 * unit - 1)) / 100, atol=0.011)  # bwr hue, alpha 0.4 |2u - 1|
    order = np.argsort(reliance, kind="stable")
    assert np.all(np.diff(np.asarray(tint)[order]) >= 0)  # more reliance on the image: never less red
    assert tint[items.index(colour_item(exp))] > 0.2  # a colour word relies on the image
    assert min(tint) < -0.2  # and some token on the prior
    unexplained = [i for i in range(len(exp.item_positions)) if i not in items]
    styles = [page.locator(token.format(i)).get_attribute("style") or "" for i in unexplained]
    assert all("background" not in s for s in styles)  # tokens EAGLE did not explain stay plain
    legend = page.locator('[data-role="reliance-legend"]').inner_text()
    assert " ".join(legend.split()) == "reliance on the image: prior ◀ ▶ image"


@pytest.mark.browser
def test_a_tam_only_explanation_shows_no_method_switch(browser: Any, demo_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    page, guard = open_page(browser, demo_exp.save_html(tmp_path / "tam.html"))
    assert page.evaluate(METHOD) == "tam"
    assert page.locator('[data-role="method-switch"]').count() == 0
    assert page.locator('[data-role="curves"]').is_hidden()
    assert page.locator('[data-role="reliance-legend"]').is_hidden()
    assert page.locator('[data-role="candidates-tam-only"]').is_hidden()
    guard.check()
    page.context.close()


@pytest.mark.browser
def test_a_page_opened_on_tam_switches_to_eagle(browser: Any, eagle_exp: Explanation, tmp_path: Path) -> None:  # noqa: F811
    page, guard = open_page(browser, eagle_exp.save_html(tmp_path / "p.html", method="tam"))
    assert page.evaluate(SNAPSHOT)["method"] == "tam"
    page.locator('[data-role="method-choice"][data-method="eagle"]').click()
    item = page.evaluate(SNAPSHOT)["shown"]
    np.testing.assert_allclose(page.evaluate(SNAPSHOT)["image"], wire(eagle_exp)["grid"], atol=1e-6)
    assert item in explained(eagle_exp)
    guard.check()
    page.context.close()


# -- the method trait, without a browser --------------------------------------------------


def test_the_method_trait_defaults_to_the_explanations_first_and_takes_its_others(small_exp: Explanation) -> None:
    assert small_exp.method == "eagle"
    assert TAMWidget(small_exp).method == "eagle" == view_defaults(small_exp)["method"]
    w = small_exp.widget(method="tam")
    assert w.method == "tam"
    w.method = "eagle"
    assert w.method == "eagle"
    assert list(w._meta["methods"]) == ["eagle", "tam"]


def test_a_method_the_explanation_lacks_is_refused(small_exp: Explanation, demo_exp: Explanation) -> None:  # noqa: F811
    with pytest.raises(ValueError, match=r"method must be one of \['tam'\], got 'eagle'"):
        demo_exp.widget(method="eagle")
    w = TAMWidget(small_exp)
    with pytest.raises(traitlets.TraitError, match=r"method must be one of \['eagle', 'tam'\], got 'gradcam'"):
        w.method = "gradcam"
    with pytest.raises(ValueError, match="method must be one of"):
        check_view_traits({"method": 3}, len(small_exp.item_positions), ["eagle", "tam"])
    assert check_view_traits({"method": "tam"}, 5) == {"method": "tam"}  # without the explanation: any registered


def test_the_browser_may_switch_the_method_but_not_to_one_the_page_lacks(
    small_exp: Explanation, caplog: pytest.LogCaptureFixture
) -> None:
    w = TAMWidget(small_exp)
    w.set_state({"method": "tam"})
    assert w.method == "tam"
    with caplog.at_level(logging.WARNING):
        w.set_state({"method": "gradcam"})
    assert w.method == "tam" and "refused method from the browser" in caplog.text


def test_a_page_shown_first_with_eagle_opens_on_a_token_it_explained(small_exp: Explanation) -> None:
    model, processor, make = demo_model()
    options = {"eagle": {"variant": "efficient", "division": 4}}
    exp = explain(
        model, processor, make(3).image, PROMPT, method=["eagle", "tam"], tokens="red", options=options,
        max_new_tokens=8, progress=False,
    )  # fmt: skip
    (red,) = [i for i in range(exp.n_prompt, len(exp.item_positions)) if exp.item_texts[i].strip() == "red"]
    assert TAMWidget(exp).selected == red == view_defaults(exp)["selected"]
    assert TAMWidget(small_exp).selected in explained(small_exp)  # the whole answer explained: TAM's strongest
