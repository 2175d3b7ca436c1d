"""exp.figure: a plotly figure of an item's map (image, heatmap, colour bar, the token in context)."""

from __future__ import annotations

import base64
import dataclasses
import html
import sys

import numpy as np
import pytest
from family_fixtures import FIXTURES

from tam_widget import Explanation, explain
from tam_widget.display.figure import figure
from tam_widget.display.images import first_picture

pytest.importorskip("plotly")


@pytest.fixture(scope="module")
def exp() -> Explanation:
    fx = FIXTURES["qwen2_vl"]()  # a character-level tokenizer: every character is an item
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a red cat")


@pytest.fixture(scope="module")
def tiled() -> Explanation:
    fx = FIXTURES["internvl"]()  # tiles + thumbnail + a second, untiled image
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat")


def heatmaps(fig: object) -> list[object]:
    return [t for t in fig.data if t.type == "heatmap"]  # type: ignore[attr-defined]


def test_the_heatmap_is_the_items_map_exactly(exp: Explanation) -> None:
    item = exp.n_prompt + 2  # "r"
    for kw in ({}, {"eci_scale": 0.5, "eci": False}, {"filter": False}):
        fig = exp.figure(item, **kw)
        (hm,) = heatmaps(fig)
        want = exp.view_maps(item, **kw)[0]
        np.testing.assert_array_equal(np.asarray(hm.z), want)
        assert (hm.zmin, hm.zmax) == (0.0, 1.0) and hm.showscale
    images = [t for t in fig.data if t.type == "image"]
    assert len(images) == 1
    assert images[0].z is None and images[0].source.startswith("data:image/")  # a picture, not numbers
    picture = base64.b64decode(images[0].source.split(",", 1)[1])
    assert picture == first_picture(exp, 0)[0]  # the page's own cached picture (display/images.py)


def test_the_map_covers_the_views_box_and_its_low_end_is_clear(tiled: Explanation) -> None:
    for k, v in enumerate(tiled.views):
        fig = figure(tiled, tiled.n_prompt + 2, view=k, colormap="viridis", opacity=0.8)
        (hm,) = heatmaps(fig)
        np.testing.assert_array_equal(np.asarray(hm.z), tiled.view_maps(tiled.n_prompt + 2)[k])
        H, W = tiled.images[v.image].shape[:2]
        h, w = v.grid[-2:]
        x0, y0, x1, y1 = v.box
        assert hm.x0 - hm.dx / 2 == pytest.approx(x0 * W) and hm.x0 + (w - 0.5) * hm.dx == pytest.approx(x1 * W)
        assert hm.y0 - hm.dy / 2 == pytest.approx(y0 * H) and hm.y0 + (h - 0.5) * hm.dy == pytest.approx(y1 * H)
        stops = hm.colorscale
        assert stops[0][1].endswith(",0.0000)") and stops[-1][1].endswith(",0.8000)")


def test_a_word_is_its_last_item_and_the_title_shows_it_in_context(exp: Explanation) -> None:
    fig = exp.figure("a")  # "a" in "a red cat": the last one is cat's
    last = max(exp.find("a"))
    np.testing.assert_array_equal(np.asarray(heatmaps(fig)[0].z), exp.view_maps(last)[0])
    assert fig.layout.title.text.endswith(" c<b>a</b>t")
    assert exp.figure(last).layout.title.text == fig.layout.title.text


def test_the_title_escapes_token_text(exp: Explanation) -> None:
    nasty = "<img src=x onerror=alert(1)>"
    item = exp.n_prompt + 2
    tokens = list(exp.tokens)
    tokens[exp.item_positions[item]] = nasty
    tokens[exp.item_positions[item + 1]] = "</b>&"
    bad = dataclasses.replace(exp, tokens=tokens)
    title = bad.figure(item).layout.title.text
    assert f"<b>{html.escape(nasty)}</b>{html.escape('</b>&')}" in title
    assert "<img" not in title and title.count("<b>") == 1 and title.count("</b>") == 1


def test_small_multiples_have_one_heatmap_per_item_and_one_colour_bar(exp: Explanation) -> None:
    fig = exp.figure(["r", "e", exp.n_prompt + 6])
    maps = heatmaps(fig)
    assert len(maps) == 3 and len([t for t in fig.data if t.type == "image"]) == 3
    for hm, item in zip(maps, [max(exp.find("r")), max(exp.find("e")), exp.n_prompt + 6], strict=True):
        np.testing.assert_array_equal(np.asarray(hm.z), exp.view_maps(item)[0])
    assert [bool(hm.showscale) for hm in maps] == [True, False, False]
    assert len(fig.layout.annotations) == 3 and "<b>" in fig.layout.annotations[0].text


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"item_or_words": 999}, ValueError, "item must be an integer in [0, "),
        ({"item_or_words": 1.5}, TypeError, "item must be an integer"),
        ({"item_or_words": True}, TypeError, "item must be an integer"),
        ({"item_or_words": "zebra"}, ValueError, "No item's text is 'zebra'. Items include ["),
        ({"item_or_words": []}, ValueError, "empty list"),
        ({"item_or_words": ["r", 999]}, ValueError, "item must be an integer in [0, "),
        ({"eci_scale": 3}, ValueError, "eci_scale must be a finite number in [0.0, 2.0]"),
        ({"eci": 1}, TypeError, "eci must be True or False"),
        ({"filter": "yes"}, TypeError, "filter must be True or False"),
        ({"colormap": "rainbow"}, ValueError, "colormap must be one of ['jet', 'viridis', 'inferno']"),
        ({"opacity": 2}, ValueError, "opacity must be a finite number in [0.0, 1.0]"),
        ({"opacity": True}, TypeError, "opacity must be a number"),
        ({"view": 1}, ValueError, "view must be an integer in [0, 0]"),
    ],
)
def test_bad_arguments_get_the_params_messages(
    exp: Explanation, kw: dict[str, object], error: type[Exception], message: str
) -> None:
    kw = {"item_or_words": exp.n_prompt, **kw}
    with pytest.raises(error) as info:
        exp.figure(**kw)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_without_plotly_the_error_names_the_extra(exp: Explanation, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)
    with pytest.raises(ImportError, match=r"pip install 'tam-widget\[figures\]'"):
        exp.figure(exp.n_prompt)
