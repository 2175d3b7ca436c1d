"""``Comparison.widget()`` / ``save_html``: both sides crossed exactly as a TAMWidget gets them, the
alignment and changed rows, and the shared view traits checked by params (Python and the page alike)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import traitlets

from tam_widget import demo_model, explain
from tam_widget.compare import Comparison, compare
from tam_widget.display.compare_widget import CompareWidget, default_row
from tam_widget.display.wire import encode
from tam_widget.teaching import PROMPT


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    model, processor, make = demo_model()
    exp = explain(model, processor, make(2).image, PROMPT, answer="a red dotted shape and a green striped shape .")
    return compare(exp, exp.what_if("a red dotted shape and a blue striped shape ."), labels=("said", "what if"))


def test_each_side_crosses_as_a_single_widget_would(cmp: Comparison) -> None:
    w = cmp.widget()
    assert isinstance(w, CompareWidget)
    for side, exp in (("a", cmp.a), ("b", cmp.b)):
        data, meta, images = encode(exp)
        assert getattr(w, f"_data_{side}") == data and getattr(w, f"_meta_{side}") == meta
        assert getattr(w, f"_images_{side}") == images
    c = w._compare
    assert c["rows"] == [[r.a, r.b] for r in cmp.rows] and c["changed"] == cmp.changed()
    assert c["labels"] == ["said", "what if"] and c["same_grids"] is True
    assert w.selected_row == default_row(cmp) and cmp.rows[w.selected_row].a is not None


def test_one_sided_rows_cross_as_minus_one() -> None:
    model, processor, make = demo_model()
    a = explain(model, processor, make(2).image, PROMPT, answer="a red shape .")
    b = a.what_if("a red dotted shape .")
    c = CompareWidget(compare(a, b))._compare
    assert [-1, b.n_prompt + 2] in c["rows"]  # "dotted": side b only
    assert c["changed"][c["rows"].index([-1, b.n_prompt + 2])]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("selected_row", 10_000, "selected_row"),
        ("eci_scale", 3, "eci_scale"),
        ("opacity", True, "opacity"),
        ("colormap", "rainbow", "colormap"),
        ("difference", 1, "difference"),
        ("layer", 0, "layer"),
    ],
)
def test_bad_view_traits_are_refused(cmp: Comparison, name: str, value: object, message: str) -> None:
    w = cmp.widget()
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(w, name, value)
    with pytest.raises((TypeError, ValueError), match=message):
        cmp.widget(**{name: value})
    with pytest.raises(ValueError, match="Unknown view settings"):
        cmp.widget(selected=3)


def test_the_browser_cannot_set_data_or_bad_values(cmp: Comparison) -> None:
    w = cmp.widget()
    before = (w._meta_a, w.selected_row)
    w.set_state({"_meta_a": {}, "selected_row": 10_000})
    assert (w._meta_a, w.selected_row) == before
    w.set_state({"selected_row": 3, "eci_scale": 0.5})
    assert (w.selected_row, w.eci_scale) == (3, 0.5)


def test_select_and_the_offline_page(cmp: Comparison, tmp_path: Path) -> None:
    w = cmp.widget()
    row = w.select("blue")
    assert cmp.rows[row].text_b.strip() == "blue" and w.selected_row == row
    path = cmp.save_html(tmp_path / "c.html", selected_row=row, eci_scale=0.5)
    text = path.read_text(encoding="utf-8")
    state = json.loads(re.search(r'id="tam-state">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert state["traits"]["selected_row"] == row and state["traits"]["eci_scale"] == 0.5
    assert state["traits"]["_meta_b"] == encode(cmp.b)[1] and set(state["bytes"]) == {
        "_data_a",
        "_images_a",
        "_data_b",
        "_images_b",
    }
    with pytest.raises(ValueError, match="opacity"):
        cmp.save_html(tmp_path / "bad.html", opacity=2)


def test_the_offline_page_carries_each_side_deflated(cmp: Comparison, tmp_path: Path) -> None:
    """Each side's buffer as html.pack makes it (the single page's): its 4 byte planes deflated, the
    wire buffer exactly once inflated and interleaved, and well under half its plain base64."""
    import base64
    import zlib

    import numpy as np

    text = cmp.save_html(tmp_path / "c.html").read_text(encoding="utf-8")
    state = json.loads(re.search(r'id="tam-state">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert state["deflated"] == ["_data_a", "_data_b"]
    for side, exp in (("a", cmp.a), ("b", cmp.b)):
        raw, packed = encode(exp)[0], state["bytes"][f"_data_{side}"]
        planes = np.frombuffer(zlib.decompress(base64.b64decode(packed)), np.uint8)
        assert planes.reshape(4, -1).T.tobytes() == raw
        assert len(packed) < 0.5 * len(base64.b64encode(raw)), (len(packed), len(raw))


def test_the_output_carries_a_static_picture_of_both_sides(cmp: Comparison) -> None:
    import base64
    import io

    from PIL import Image

    from tam_widget.display.snapshot import picture
    from tam_widget.display.widget import view_defaults

    hostile = compare(cmp.a, cmp.b, labels=("said", "<script>x</script>"))
    bundle = hostile.widget()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data  # the live view is still there
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    row = hostile.rows[hostile.widget().selected_row]
    one = picture(cmp.a, view_defaults(cmp.a) | {"selected": row.a})
    assert image.width > 2 * one.width and image.height > one.height  # both sides, under their labels
    page = data["text/html"]
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert html.escape(cmp.a.text) in page and html.escape(cmp.b.text) in page
