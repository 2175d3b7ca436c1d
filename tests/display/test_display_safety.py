"""Bad input to the display: a clear error or a correct page, never a blank page or a silent wrong result.

Non-finite numbers cross as strict JSON and are warned about once; every view setting is checked by
``tam_widget.params`` whoever sets it (Python, ``save_html``, the browser); the browser cannot set
the data traits; the page runs only its own script; the items carry what the view needs to show
end-of-turn and whitespace tokens, and the chosen token's probability.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets

from tam_widget import Explanation
from tam_widget.cli.demo import demo_explanation
from tam_widget.display.html import HOST, page
from tam_widget.display.widget import CHECKS, TAMWidget, check_view_traits, view_traits
from tam_widget.display.wire import NonFiniteWarning, encode, wire_number

# (setting, bad value, error type, message) -- the same from the widget, save_html and page; LAST: the last item
BAD_VIEW = [
    ("selected", 999, ValueError, r"selected must be an integer in \[0, LAST\], got 999\. Items are 0\.\.LAST"),
    ("selected", -1, ValueError, r"selected must be an integer in \[0, LAST\], got -1"),
    ("selected", True, TypeError, r"selected must be an integer in \[0, LAST\], got True \(bool\)"),
    ("selected", "3", TypeError, r"selected must be an integer in \[0, LAST\], got '3' \(str\)"),
    ("selected", 2.5, TypeError, r"selected must be an integer in \[0, LAST\], got 2\.5 \(float\)"),
    ("eci_scale", 2.5, ValueError, r"eci_scale must be a finite number in \[0\.0, 2\.0\], got 2\.5\. 1 is TAM"),
    ("eci_scale", float("nan"), ValueError, r"eci_scale must be a finite number in \[0\.0, 2\.0\], got nan"),
    ("eci_scale", float("inf"), ValueError, r"eci_scale must be a finite number in \[0\.0, 2\.0\], got inf"),
    ("eci_scale", None, TypeError, r"eci_scale must be a number in \[0\.0, 2\.0\], got None \(NoneType\)"),
    ("opacity", -0.1, ValueError, r"opacity must be a finite number in \[0\.0, 1\.0\], got -0\.1"),
    ("opacity", True, TypeError, r"opacity must be a number in \[0\.0, 1\.0\], got True \(bool\)"),
    ("colormap", "hot", ValueError, r"colormap must be one of \['jet', 'viridis', 'inferno'\], got 'hot'"),
    ("colormap", None, ValueError, r"colormap must be one of \['jet', 'viridis', 'inferno'\], got None"),
    ("eci", 1, TypeError, r"eci must be True or False, got 1 \(int\)"),
    ("filter", "no", TypeError, r"filter must be True or False, got 'no' \(str\)"),
    ("group_words", None, TypeError, r"group_words must be True or False, got None \(NoneType\)"),
    ("smooth", "yes", TypeError, r"smooth must be True or False, got 'yes' \(str\)"),
    ("show_original", 0, TypeError, r"show_original must be True or False, got 0 \(int\)"),
]
GOOD_VIEW = [
    ("selected", np.int64(3), 3),
    ("selected", 3.0, 3),
    ("eci_scale", 0, 0.0),
    ("eci_scale", np.float32(0.5), 0.5),
    ("opacity", 1, 1.0),
    ("eci", np.bool_(False), False),
    ("colormap", "viridis", "viridis"),
    ("colormap", "inferno", "inferno"),
    ("smooth", np.bool_(False), False),
    ("show_original", True, True),
]


@pytest.fixture(scope="module")
def exp() -> Explanation:
    return demo_explanation()


def expect(message: str, exp: Explanation) -> str:
    return message.replace("LAST", str(len(exp.item_positions) - 1))


def nan_probs(exp: Explanation) -> Explanation:
    top = exp.top_probs.astype(np.float32).copy()
    top[1, :] = np.nan
    top[2, 0] = np.inf
    chosen = np.full(exp.n_answer, 0.5, np.float32)
    chosen[4] = np.nan
    return dataclasses.replace(exp, top_probs=top, chosen_probs=chosen)


def nan_maps(exp: Explanation, item: int) -> Explanation:
    r = exp.tam
    A = r.A.clone()
    A[item, :3] = float("nan")
    return dataclasses.replace(exp, results={"tam": dataclasses.replace(r, A=A)})


def page_state(text: str) -> dict[str, Any]:
    found = re.search(r'id="tam-state">(.*?)</script>', text, re.S)
    assert found
    state: dict[str, Any] = json.loads(found.group(1), parse_constant=_refuse)  # as strict as JSON.parse
    return state


def _refuse(name: str) -> Any:
    raise AssertionError(f"{name} in the page's JSON: JSON.parse would refuse the page")


# -- non-finite numbers ----------------------------------------------------------------------


def test_non_finite_probabilities_cross_as_strings_and_warn_once(exp: Explanation) -> None:
    bad = nan_probs(exp)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, meta, _ = encode(bad)
    json.dumps(meta, allow_nan=False)  # strict JSON
    assert [c["p"] for c in meta["top"][1]] == ["NaN"] * 3
    assert meta["top"][2][0]["p"] == "Infinity" and isinstance(meta["top"][2][1]["p"], float)
    assert meta["chosen"][4]["p"] == "NaN" and meta["chosen"][0]["p"] == 0.5
    ours = [c for c in caught if issubclass(c.category, NonFiniteWarning)]
    assert len(ours) == 1 and issubclass(NonFiniteWarning, RuntimeWarning)
    message = str(ours[0].message)
    assert "answer positions [1, 2, 4]" in message and "n/a" in message and "float16" in message
    texts = [exp.item_texts[exp.n_prompt + r] for r in (1, 2, 4)]
    assert repr(texts) in message  # the tokens, so the user finds them


def test_the_page_of_non_finite_probabilities_is_strict_json(exp: Explanation) -> None:
    with pytest.warns(NonFiniteWarning):
        text = page(nan_probs(exp))
    state = page_state(text)
    assert state["meta"]["top"][1][0]["p"] == "NaN"


def test_wire_numbers() -> None:
    assert [wire_number(x) for x in (0.5, float("nan"), float("inf"), -float("inf"), np.float16(0.25))] == [
        0.5,
        "NaN",
        "Infinity",
        "-Infinity",
        0.25,
    ]


def test_non_finite_map_data_warn_naming_the_items(exp: Explanation) -> None:
    item = exp.n_prompt + 1
    with pytest.warns(NonFiniteWarning, match=rf"method 'tam'.s arrays \['A'\] for items \[{item}\]"):
        data, meta, _ = encode(nan_maps(exp, item))
    specs = meta["methods"]["tam"]["arrays"]
    lo, step = (np.frombuffer(data, "<f4", s["shape"][0], s["offset"]) for s in (specs["A_lo"], specs["A_step"]))
    assert np.isnan(lo[item]) and np.isnan(step[item])  # a quantised row holds no NaN: its lo and step say n/a
    assert np.isfinite(np.delete(lo, item)).all()


def test_a_clean_explanation_does_not_warn(exp: Explanation) -> None:
    assert np.isnan(exp.tam.scale.numpy()).any()  # NaN scale means "no ECI context": expected, not warned
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        encode(exp)
        TAMWidget(exp)


def test_the_widget_of_non_finite_data_still_builds(exp: Explanation) -> None:
    with pytest.warns(NonFiniteWarning):
        w = TAMWidget(nan_maps(nan_probs(exp), exp.n_prompt))
    json.dumps(w._meta, allow_nan=False)


# -- view settings: one check, the same message everywhere -----------------------------------


def test_every_view_trait_has_its_check() -> None:
    assert set(CHECKS) == set(view_traits())


@pytest.mark.parametrize(("name", "value", "kind", "message"), BAD_VIEW)
def test_bad_view_settings_are_refused_alike(
    exp: Explanation, tmp_path: Path, name: str, value: Any, kind: type[Exception], message: str
) -> None:
    message = expect(message, exp)
    with pytest.raises(kind, match=message):
        check_view_traits({name: value}, len(exp.item_positions))
    with pytest.raises(kind, match=message):
        page(exp, **{name: value})
    with pytest.raises(kind, match=message):
        exp.save_html(tmp_path / "p.html", **{name: value})
    assert not (tmp_path / "p.html").exists()
    with pytest.raises(kind, match=message) as raised:
        TAMWidget(exp, **{name: value})
    assert isinstance(raised.value, traitlets.TraitError)  # and a TraitError for traitlets' users
    w = TAMWidget(exp)
    before = getattr(w, name)
    with pytest.raises(kind, match=message):
        setattr(w, name, value)
    assert getattr(w, name) == before


@pytest.mark.parametrize(("name", "value", "want"), GOOD_VIEW)
def test_good_view_settings_are_normalised_alike(exp: Explanation, name: str, value: Any, want: Any) -> None:
    w = TAMWidget(exp, **{name: value})
    got = getattr(w, name)
    assert got == want and type(got) is type(want)
    assert page_state(page(exp, **{name: value}))["traits"][name] == want


def test_unknown_settings_are_refused(exp: Explanation) -> None:
    for make in (lambda: page(exp, zoom=2), lambda: TAMWidget(exp, zoom=2), lambda: TAMWidget(exp, _meta={})):
        with pytest.raises(ValueError, match=r"Unknown view settings \['(zoom|_meta)'\]; use \['colormap', 'eci'"):
            make()


# -- what the browser sends: the kernel owns validation ---------------------------------------


class Sent:
    """What the widget sends to the front end (the comm), recorded instead."""

    def __init__(self, w: TAMWidget, monkeypatch: pytest.MonkeyPatch) -> None:
        self.messages: list[dict[str, Any]] = []
        monkeypatch.setattr(w, "_send", lambda msg, buffers=None: self.messages.append(msg))

    def of(self, method: str) -> list[dict[str, Any]]:
        return [m["state"] for m in self.messages if m["method"] == method]


@pytest.mark.parametrize(("name", "value", "kind", "message"), BAD_VIEW)
def test_a_bad_value_from_the_browser_is_refused_and_every_view_restored(
    exp: Explanation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: Any,
    kind: type[Exception],
    message: str,
) -> None:
    message = expect(message, exp)
    w = TAMWidget(exp)
    before = getattr(w, name)
    sent = Sent(w, monkeypatch)
    with caplog.at_level(logging.WARNING):
        w.set_state({name: value})  # what ipywidgets calls for the browser's "update" message
    assert getattr(w, name) == before
    assert sent.of("echo_update") == []  # the bad value reaches no other view
    assert sent.of("update") == [{name: before}]  # and every view gets the valid one back
    assert re.search(message, caplog.text), caplog.text


@pytest.mark.parametrize("key", ["_meta", "_data", "_images", "_esm"])
def test_the_browser_cannot_set_private_traits(
    exp: Explanation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    w = TAMWidget(exp)
    before = getattr(w, key)
    sent = Sent(w, monkeypatch)
    bogus = {"_meta": {}, "_data": b"\0" * 8, "_images": [], "_esm": "alert(1)"}[key]
    with caplog.at_level(logging.WARNING):
        w.set_state({key: bogus})
    assert getattr(w, key) == before
    assert sent.of("echo_update") == []
    assert len(sent.messages) == 1 and sent.messages[0]["method"] == "update"
    msg = sent.messages[0]
    assert {*msg["state"], *(path[0] for path in msg["buffer_paths"])} == {key}  # restored (bytes travel as buffers)
    assert f"may not set {key}" in caplog.text


def test_good_values_from_the_browser_are_set_and_echoed_and_the_bad_one_restored(
    exp: Explanation, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = TAMWidget(exp, selected=4)  # not the default (the strongest answer token, 5): setting 5 is a change
    sent = Sent(w, monkeypatch)
    changes: list[tuple[str, Any]] = []
    w.observe(lambda c: changes.append((c["name"], c["new"])), names=["selected", "opacity", "colormap"])
    w.set_state({"selected": 5, "opacity": 7, "colormap": "viridis", "_meta": {}})
    assert (w.selected, w.opacity, w.colormap) == (5, 0.5, "viridis")
    assert sent.of("echo_update") == [{"selected": 5, "colormap": "viridis"}]
    assert sent.of("update") == [{"opacity": 0.5, "_meta": w._meta}]
    assert sorted(changes) == [("colormap", "viridis"), ("selected", 5)]
    sent.messages.clear()
    w.set_state({"selected": 6.0})  # normalised as in Python (6), nothing refused
    assert w.selected == 6 and type(w.selected) is int and sent.of("update") == []


# -- the page runs only its own script --------------------------------------------------------


def test_the_page_allows_exactly_its_host_script(exp: Explanation) -> None:
    text = page(exp)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp
    directives = dict(d.strip().split(" ", 1) for d in csp.group(1).split(";") if d.strip())
    want = "sha256-" + base64.b64encode(hashlib.sha256(HOST.encode()).digest()).decode()
    assert directives["script-src"] == f"'{want}' blob:"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["default-src"] == "'none'"
    host = re.search(r"<script>(.*?)</script>", text, re.S)
    assert host and host.group(1) == HOST  # the hash is of the text the browser sees


# -- the reference's items ----------------------------------------------------------------------


def test_items_say_which_are_special_and_which_whitespace(exp: Explanation) -> None:
    tokens, special = list(exp.tokens), list(exp.special)
    prompt, last = exp.prompt_positions, len(tokens) - 1
    tokens[prompt[1]] = "\n"
    tokens[prompt[2]] = " \t"
    tokens[last], special[last] = "<|im_end|>", True
    _, meta, _ = encode(dataclasses.replace(exp, tokens=tokens, special=special))
    items = meta["items"]
    assert [it["whitespace"] for it in items[:4]] == [False, True, True, False]
    assert [it["text"] for it in items[1:3]] == ["\n", " \t"]  # the true text stays in the data
    assert items[-1]["special"] and items[-1]["text"] == "<|im_end|>"
    assert not any(it["special"] for it in items[:-1])


def test_chosen_rank_and_probability(exp: Explanation) -> None:
    _, meta, _ = encode(dataclasses.replace(exp, chosen_probs=None))  # not recorded
    assert all(c["p"] is None for c in meta["chosen"])
    ranks = [int(np.flatnonzero(exp.top_ids[r] == exp.token_ids[exp.answer_start + r])[0]) for r in range(3)]
    assert [c["rank"] for c in meta["chosen"][:3]] == ranks
    top_ids = exp.top_ids.copy()
    top_ids[0] = -1  # the chosen token is not among the top k at step 0
    chosen = np.linspace(0.001, 0.9, exp.n_answer).astype(np.float32)
    _, meta, _ = encode(dataclasses.replace(exp, top_ids=top_ids, chosen_probs=chosen))
    assert meta["chosen"][0] == {"rank": -1, "p": pytest.approx(0.001), "id": exp.token_ids[exp.answer_start]}
    assert meta["chosen"][1]["rank"] == ranks[1]
