"""The static picture in the widget's output bundle: where the widget cannot run, the explanation still shows.

The bundle carries ``image/png`` (the selected item's map over its image, composed like the page)
and ``text/html`` (that picture, a JPEG where it is much smaller, and the answer text, escaped) next to
anywidget's live view; nbconvert's
HTML of a notebook saved without widget state shows them.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from tam_widget import Explanation
from tam_widget.cli.demo import demo_explanation
from tam_widget.display import colormaps, snapshot, view_picture
from tam_widget.display.widget import TAMWidget

ROOT = Path(__file__).resolve().parents[2]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NASTY = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def exp() -> Explanation:
    return demo_explanation()  # one square image, 12 x 12 vision tokens


def bundle(w: TAMWidget) -> dict[str, Any]:
    data, _ = w._repr_mimebundle_()
    return dict(data)


def decode(data: dict[str, Any]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB"))


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_bundle_keeps_the_live_view_and_adds_a_png_of_the_current_view(exp: Explanation) -> None:
    data = bundle(TAMWidget(exp))
    assert WIDGET_VIEW in data and "text/plain" in data  # anywidget's own entries stay
    png = decode(data)
    side = view_picture.PANEL_H  # the demo's one square image, scaled to a panel's height
    assert png.shape == (view_picture.TITLE_H + side + view_picture.PAD, side + 2 * view_picture.PAD, 3)
    assert json.loads(json.dumps(data)) == data  # plain JSON, as nbformat stores it


def test_where_the_map_is_low_the_image_keeps_its_colours(exp: Explanation) -> None:
    w = TAMWidget(exp, smooth=False, opacity=1.0)  # blocky: every pixel of a cell has the cell's value
    png = decode(bundle(w))
    m = exp.view_maps(w.selected)[0]
    side, cell = view_picture.PANEL_H, view_picture.PANEL_H / m.shape[0]
    panel = png[view_picture.TITLE_H : view_picture.TITLE_H + side, view_picture.PAD : view_picture.PAD + side].astype(
        int
    )
    image = np.asarray(Image.fromarray(exp.images[0]).resize((side, side), Image.Resampling.BILINEAR)).astype(int)
    low, high = np.argwhere(m < 1 / 255), np.argwhere(np.floor(255 * m) >= 128)  # alpha 0; alpha 1
    assert len(low) and len(high)

    def inside(r: int, c: int) -> tuple[slice, slice]:  # a cell's pixels, one pixel in from its edges
        return slice(int(r * cell) + 1, int((r + 1) * cell) - 1), slice(int(c * cell) + 1, int((c + 1) * cell) - 1)

    for r, c in low:
        np.testing.assert_array_equal(panel[inside(r, c)], image[inside(r, c)])
    jet = colormaps.lut("jet").astype(int)
    for r, c in high:  # full alpha at opacity 1: the colour map's own colour
        i = int(np.floor(m[r, c] * 255))
        np.testing.assert_array_equal(panel[inside(r, c)], np.broadcast_to(jet[i], panel[inside(r, c)].shape))


def test_the_picture_follows_the_widget_settings(exp: Explanation) -> None:
    w = TAMWidget(exp)
    base = decode(bundle(w))
    w.colormap = "viridis"
    assert not np.array_equal(decode(bundle(w)), base)
    w.opacity = 0.0  # no map at all: the image alone under the title
    clear = decode(bundle(w))
    w.selected = exp.n_prompt + 4 if w.selected != exp.n_prompt + 4 else exp.n_prompt + 1
    assert np.array_equal(clear[view_picture.TITLE_H :], decode(bundle(w))[view_picture.TITLE_H :])


def test_the_html_fallback_is_the_picture_and_the_escaped_answer_without_script(exp: Explanation) -> None:
    tokens = list(exp.tokens)
    item = exp.n_prompt + 1
    tokens[exp.item_positions[item]] = NASTY
    nasty = replace(exp, tokens=tokens, text=f"a {NASTY} shape & more")
    data = bundle(TAMWidget(nasty, selected=item))
    page = data["text/html"]
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &lt;script&gt;alert(1)&lt;/script&gt; shape &amp; more" in page  # the answer text
    parser = Tags()
    parser.feed(page)
    assert {t for t, _ in parser.tags} <= {"div", "img", "p", "b"}
    imgs = [a for t, a in parser.tags if t == "img"]
    assert len(imgs) == 1 and (imgs[0]["src"] or "").startswith("data:image/jpeg;base64,")  # the demo: a JPEG
    jpeg = Image.open(io.BytesIO(base64.b64decode((imgs[0]["src"] or "").split(",", 1)[1])))
    assert jpeg.format == "JPEG" and np.abs(np.asarray(jpeg).astype(int) - decode(data)).mean() < 3  # the same picture
    assert not [k for _, a in parser.tags for k in a if k.startswith("on")]  # no event handlers


def test_the_html_picture_is_a_jpeg_only_where_it_saves_bytes(exp: Explanation) -> None:
    def sizes(e: Explanation, **traits: Any) -> tuple[int, int, str]:
        data = bundle(TAMWidget(e, **traits))
        src = re.search(r'src="data:(image/\w+);base64,([^"]+)"', data["text/html"])
        assert src
        return len(base64.b64decode(data["image/png"])), len(base64.b64decode(src.group(2))), src.group(1)

    png, small, mime = sizes(exp)  # the demo's lightly noisy image: the PNG is large, its JPEG a fraction
    assert mime == "image/jpeg" and small < snapshot.JPEG_GAIN * png
    flat = replace(exp, images=[np.full_like(np.asarray(im), 200) for im in exp.images])
    png, small, mime = sizes(flat, opacity=0.0)  # flat grey and text: the PNG is smaller, it stays
    assert mime == "image/png" and small == png


def test_a_picture_that_cannot_be_drawn_leaves_the_live_widget(exp: Explanation, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no maps today")

    w = TAMWidget(exp)
    monkeypatch.setattr(w.explanation, "view_maps", broken)
    data = bundle(w)
    assert WIDGET_VIEW in data and "image/png" not in data and "text/html" not in data


def test_the_colour_tables_are_the_pages() -> None:
    source = (ROOT / "js" / "src" / "colormap.ts").read_text()
    for name in ("jet", "viridis", "inferno"):
        block = re.search(rf"const {name.upper()}_HEX =\s*((?:\"[0-9a-f]+\"\s*\+?\s*)+);", source)
        assert block, f"{name}'s table is not in js/src/colormap.ts"
        assert "".join(re.findall(r'"([0-9a-f]+)"', block.group(1))) == colormaps.HEX[name]
    assert f"ALPHA_FULL = {colormaps.ALPHA_FULL}" in source


CELLS = [
    "from tam_widget.cli.demo import demo_explanation\nexp = demo_explanation()\n"
    f"exp.text = {'a ' + NASTY + ' green plain shape'!r}",
    "w = exp.widget(colormap='viridis')\nw",
]


@pytest.mark.slow
def test_nbconvert_html_shows_the_picture_of_a_notebook_saved_without_widget_state(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    output = nb.cells[1].outputs[0]["data"]
    assert {WIDGET_VIEW, "image/png", "text/html"} <= set(output)
    assert "widgets" in nb.metadata  # nbclient saved the widget state (its default)
    html_of = {}
    for name, keep_state in [("no-state", False), ("state", True)]:
        copy = nbformat.from_dict(json.loads(json.dumps(nb)))
        if not keep_state:
            del copy.metadata["widgets"]  # as JupyterLab saves by default ("Save Widget State Automatically" off)
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(copy, path)
        subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(path)], check=True, capture_output=True)
        html_of[name] = path.with_suffix(".html").read_text()
    page = html_of["no-state"]
    src = re.search(r'src="(data:image/jpeg;base64,[^"]+)"', output["text/html"])
    assert src and f'src="{src.group(1)}"' in page  # the text/html entry, with its JPEG
    assert "a &lt;script&gt;alert(1)&lt;/script&gt; green plain shape" in page and "<script>alert(1)" not in page
    assert f'<script type="{WIDGET_VIEW}">' not in page
    # With the widget state saved, nbconvert embeds the live widget instead (its front end from a CDN).
    assert f'<script type="{WIDGET_VIEW}">' in html_of["state"]
