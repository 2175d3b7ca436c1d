"""The widget's traits, what crosses the wire, and the offline HTML export (the browser side: js/tests)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import numpy as np
import pytest
import torch
import traitlets
from family_fixtures import FIXTURES
from PIL import Image

from tam_widget import Explanation, explain
from tam_widget.cli import main as cli_main
from tam_widget.display.html import page
from tam_widget.display.images import encoded_images
from tam_widget.display.signal import NOISE_FLOOR, raw_peaks, strength
from tam_widget.display.widget import TAMWidget, first_item, view_defaults
from tam_widget.display.wire import WIRE_VERSION, encode
from tam_widget.methods.tam import A_LEVELS, dequantise_rows

NASTY = ["<img src=x onerror=alert(1)>", "</script>", "<!--", "&amp;"]


@pytest.fixture(scope="module")
def exp() -> Explanation:
    fx = FIXTURES["internvl"]()  # tiles + thumbnail + a second, untiled image
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat")


def read_array(data: bytes, spec: dict[str, Any]) -> np.ndarray:
    """One array out of the wire buffer, as the browser reads it (little-endian at its 4-byte aligned offset)."""
    assert spec["offset"] % 4 == 0
    n = int(np.prod(spec["shape"]))
    dtype = np.dtype(spec["dtype"]).newbyteorder("<")
    return np.frombuffer(data, dtype=dtype, count=n, offset=spec["offset"]).reshape(spec["shape"])


def test_buffer_holds_every_array_the_browser_needs(exp: Explanation) -> None:
    data, meta, images = encode(exp)
    r = exp.result
    assert meta["version"] == WIRE_VERSION == 4 and meta["method"] == "tam" and list(meta["methods"]) == ["tam"]
    arrays = meta["methods"]["tam"]["arrays"]
    assert meta["methods"]["tam"]["kernel"] == r.kernel
    a = {k: read_array(data, spec) for k, spec in arrays.items()}
    T, nv = r.A.shape
    assert a["A"].dtype == np.uint16 and a["A"].shape == (T, nv)
    want = r.A.cpu().numpy()
    A = dequantise_rows(a["A"], a["A_lo"], a["A_step"])  # within half a level (and float32 rounding) of the map
    half = (want.max(axis=1) - want.min(axis=1))[:, None] / A_LEVELS / 2
    assert (np.abs(A - want) <= half + 1e-6 * np.abs(want)).all()
    lower = np.tril_indices(T, -1)  # omega's strict lower triangle row by row: all of omega
    np.testing.assert_array_equal(a["omega"], r.omega.cpu().numpy()[lower])
    assert not np.triu(r.omega.cpu().numpy()).any()
    nvis = r.n_visible.cpu().numpy()
    np.testing.assert_array_equal(a["n_visible"], nvis)
    np.testing.assert_array_equal(a["R"], np.concatenate([r.R.cpu().numpy()[v, : nvis[v]] for v in range(T)]))
    np.testing.assert_array_equal(a["scale"], r.scale.cpu().numpy())
    torch.testing.assert_close(r.omega @ r.A, r.E)  # the browser forms E from omega and A
    sizes = [int(np.prod(s["shape"])) * np.dtype(s["dtype"]).itemsize for s in arrays.values()]
    assert len(data) == sum(n + -n % 4 for n in sizes)  # each array 4-byte aligned
    assert [v["kind"] for v in meta["views"]] == ["tiles", "thumbnail", "image"]
    assert meta["frames"] == [{"offset": f.offset, "height": f.height, "width": f.width} for f in r.layout.frames]
    assert len(meta["items"]) == r.n_items and len(meta["top"]) == exp.n_answer
    for spec, png in zip(meta["images"], images, strict=True):
        img = np.asarray(Image.open(io.BytesIO(png)))
        assert img.shape == (spec["height"], spec["width"], 3)
    assert images == encoded_images(exp)[0]  # the pictures encoded once (display/images.py), cached on exp
    shown = np.asarray(Image.open(io.BytesIO(images[0])).convert("RGB")).astype(int)
    assert np.abs(shown - exp.images[0]).mean() < 3  # the picture is the image (PNG exact, JPEG 90 close)
    json.dumps(meta)  # plain JSON


def test_widget_traits_and_validation(exp: Explanation) -> None:
    w = TAMWidget(exp)
    assert w.selected == first_item(exp) and w.eci_scale == 1.0 and w.colormap == "jet"
    # tam_widget.params' messages (tests/display/test_display_safety.py checks every view trait)
    with pytest.raises(traitlets.TraitError, match=r"selected must be an integer in \[0, "):
        w.selected = exp.result.n_items
    with pytest.raises(traitlets.TraitError, match=r"eci_scale must be a finite number in \[0.0, 2.0\]"):
        w.eci_scale = 2.5
    with pytest.raises(traitlets.TraitError, match="colormap must be one of"):
        w.colormap = "hot"
    assert w.select("c") == exp.n_prompt + 2
    with pytest.raises(TypeError, match="needs an Explanation"):
        TAMWidget("not an explanation")  # type: ignore[arg-type]


def test_big_traits_travel_as_binary_buffers(exp: Explanation) -> None:
    from ipywidgets.widgets.widget import _remove_buffers

    w = TAMWidget(exp)
    state, paths, buffers = _remove_buffers(w.get_state())
    assert ["_data"] in paths and ["_images", 0] in paths
    assert sum(len(b) for b in buffers) >= len(w._data)
    small = {k: v for k, v in state.items() if k not in ("_data", "_images", "_meta", "_esm", "_css")}
    assert len(json.dumps(small)) < 2000  # what the browser may send back is small


def test_explanation_displays_itself(exp: Explanation) -> None:
    data = exp._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data  # (data, metadata) from ipywidgets
    assert "application/vnd.jupyter.widget-view+json" in data


def _nasty(exp: Explanation) -> Explanation:
    from dataclasses import replace

    tokens = list(exp.tokens)
    for k, p in enumerate(range(exp.answer_start, len(tokens))):
        tokens[p] = NASTY[k % len(NASTY)]
    return replace(exp, tokens=tokens, text="".join(NASTY))


def test_exported_page_is_offline_and_escapes_token_text(exp: Explanation, tmp_path: Any) -> None:
    text = page(_nasty(exp))
    assert text.count("</script>") == 4  # only the page's own four script elements (state, data, bundle, host)
    assert "<img src=x" not in text and "<!--" not in text
    assert "default-src 'none'" in text  # nothing may be fetched
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    state = json.loads(re.search(r'id="tam-state">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert [i["text"] for i in state["meta"]["items"][exp.n_prompt :]][:4] == NASTY
    path = exp.save_html(tmp_path / "e.html", selected=0, eci_scale=0.5)
    assert path.read_text().startswith("<!doctype html>")
    with pytest.raises(ValueError, match="Unknown view settings"):
        page(exp, zoom=2)


def test_demo_writes_the_page(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.html"
    assert cli_main(["demo", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(str(out.resolve()))
    assert out.stat().st_size > 10_000 and 'id="tam-esm"' in out.read_text()
    assert cli_main(["demo", "--out", str(out), "--model", "random", "--seed", "1"]) == 0
    assert "a random, untrained model" in capsys.readouterr().out


def test_prompt_items_keep_their_spaces(exp: Explanation) -> None:
    """Whitespace tokens are not prompt items; ``gap`` puts the space back when the view draws them."""
    _, meta, _ = encode(exp)
    prompt = [it for it in meta["items"] if it["prompt"]]
    assert "".join((" " if it["gap"] else "") + it["text"] for it in prompt) == "Describe the pictures."
    assert not any(it["gap"] for it in meta["items"] if not it["prompt"])


def test_first_item_is_the_answer_token_with_the_strongest_visual_signal(exp: Explanation) -> None:
    from dataclasses import replace

    P, N = exp.n_prompt, exp.n_answer
    peaks = exp.tam.A.amax(dim=1)
    answer = [i for i in range(P, P + N) if not exp.special[exp.item_positions[i]]]
    want = max(answer, key=lambda i: float(peaks[i]))
    assert float(peaks[want]) > 0 and want != P  # this case opens elsewhere than the first answer token
    assert first_item(exp) == want == TAMWidget(exp).selected == view_defaults(exp)["selected"]
    assert TAMWidget(exp, selected=0).selected == 0  # a given item wins
    s = strength(exp)
    assert s is not None and s[want] == 1.0 and s.max() <= 1.0
    np.testing.assert_allclose(raw_peaks(exp), peaks.clamp(min=0).numpy(), rtol=1e-6)  # type: ignore[arg-type]
    # a special answer token (the end of turn) never opens, however strong its map
    A = exp.tam.A.clone()
    last = P + N - 1
    A[last] = A.max() * 10
    special = list(exp.special)
    special[exp.item_positions[last]] = True
    strong_end = replace(exp, results={"tam": replace(exp.tam, A=A)}, special=special)
    assert first_item(strong_end) == want
    # every answer map below the noise floor: the first answer token
    A = exp.tam.A.clone()
    A[P:] = 0
    flat = replace(exp, results={"tam": replace(exp.tam, A=A)})
    assert first_item(flat) == P
    assert (strength(flat) == 0).all()
    # no answer: item 0
    assert first_item(replace(exp, token_ids=exp.token_ids[: exp.answer_start], results=exp.results)) == 0


def test_demo_opens_on_a_word_with_signal_and_marks_the_flat_ones() -> None:
    from tam_widget.cli.demo import demo_explanation

    demo = demo_explanation()
    item = first_item(demo)
    assert demo.item_texts[item].strip() not in ("a", "<|im_end|>")
    s = strength(demo)
    assert s is not None and s[item] == 1.0
    _, meta, _ = encode(demo)
    assert meta["signal"]["floor"] == NOISE_FLOOR == 0.01
    assert meta["signal"]["strength"] == pytest.approx(s.tolist(), abs=1e-6)
    flat = [demo.item_texts[i].strip() for i in range(demo.n_prompt, len(s)) if s[i] < NOISE_FLOOR]
    assert "a" in flat and "shape" in flat and "green" not in flat  # articles, "shape", "and", "."


def test_view_traits_for_a_readable_image(exp: Explanation) -> None:
    w = TAMWidget(exp)
    assert (w.smooth, w.show_original, w.opacity) == (True, False, 0.5)
    w.colormap, w.smooth, w.show_original = "inferno", False, True
    assert (w.colormap, w.smooth, w.show_original) == ("inferno", False, True)
    with pytest.raises(traitlets.TraitError, match="smooth must be True or False"):
        w.smooth = "no"
    text = page(exp, smooth=False, show_original=True, colormap="inferno")
    state = json.loads(re.search(r'id="tam-state">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert {k: state["traits"][k] for k in ("smooth", "show_original", "colormap")} == {
        "smooth": False,
        "show_original": True,
        "colormap": "inferno",
    }
    assert state["traits"]["selected"] == first_item(exp)
