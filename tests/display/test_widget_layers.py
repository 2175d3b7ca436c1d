"""The widget's decoder layers (``explain(..., layers=...)``), Python side: the compact wire of the earlier
layers (A as uint16 per row, omega and R packed, read back from the real bytes) and the ``layer`` trait
(default the last kept layer, checked against the kept layers wherever it is set).

The browser's recomputation from these bytes is checked against ``exp.maps(layer=i)`` in
js/tests/layers.test.ts and tests/display/test_browser_layers.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
import torch

from tam_widget import Explanation, explain
from tam_widget.core.result import TAMResult
from tam_widget.display.snapshot import picture
from tam_widget.display.widget import TAMWidget, view_defaults
from tam_widget.display.wire import encode
from tam_widget.methods.tam import A_LEVELS
from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor

SETTINGS = [(lam, eci, filt) for lam in (0.0, 0.5, 1.0, 2.0) for eci in (True, False) for filt in (True, False)]


def toy(layers: str | None = "all") -> Explanation:
    model = qwen2_vl_model(seed=3, layers=4)
    processor = qwen2_vl_processor(max_pixels=224 * 252)
    image = noise_image(224, 252, seed=1)
    return explain(model, processor, image, "What is here?", answer="a cat on a red mat.", layers=layers)


@pytest.fixture(scope="module")
def layered() -> Explanation:
    return toy()


@pytest.fixture(scope="module")
def plain() -> Explanation:
    return toy(None)


def read(data: bytes, spec: dict[str, Any]) -> np.ndarray:
    """One array out of the wire buffer, as the browser reads it (little-endian at its offset)."""
    dtype = np.dtype(spec["dtype"]).newbyteorder("<")
    n = int(np.prod(spec["shape"]))
    assert spec["offset"] % 4 == 0
    return np.frombuffer(data, dtype=dtype, count=n, offset=spec["offset"]).reshape(spec["shape"])


def from_wire(exp: Explanation, data: bytes, part: dict[str, Any], at: int) -> TAMResult:
    """Earlier layer ``at`` (wire order) rebuilt from the bytes the page gets, as js/src/methods/tam-layers.ts does."""
    a = {k: read(data, s) for k, s in part["arrays"].items()}
    T = exp.tam.n_items
    q, lo, step = a["layer_A"][at], a["layer_A_lo"][at], a["layer_A_step"][at]
    A = lo[:, None] + q.astype(np.float32) * step[:, None]
    omega = np.zeros((T, T), np.float32)
    omega[np.tril_indices(T, -1)] = a["layer_omega"][at]
    nvis = a["layer_n_visible"][at]
    start = int(a["layer_n_visible"][:at].sum())
    R = np.zeros((T, T), np.float32)
    for v in range(T):
        R[v, : nvis[v]] = a["layer_R"][start : start + nvis[v]]
        start += nvis[v]
    omega_t = torch.from_numpy(omega)
    A_t = torch.from_numpy(np.ascontiguousarray(A))
    layer = exp.tam.layers[part["layers"][at]]
    return TAMResult(
        **{"A": A_t, "E": omega_t @ A_t, "omega": omega_t, "R": torch.from_numpy(R)},
        scale=torch.from_numpy(a["layer_scale"][at].copy()),
        n_visible=torch.from_numpy(nvis.astype(np.int64)),
        classes=layer.classes,
        token_ids=layer.token_ids,
        layout=layer.layout,
        n_prompt=layer.n_prompt,
        n_answer=layer.n_answer,
        kernel=layer.kernel,
    )


def test_the_wire_holds_the_earlier_layers_compact(layered: Explanation) -> None:
    data, meta, _ = encode(layered)
    part = meta["methods"]["tam"]
    assert part["layers"] == layered.layers == [0, 1, 2, 3] and part["n_layers"] == 4
    arrays = part["arrays"]
    T, nv, L = layered.tam.n_items, layered.tam.layout.n_tokens, 3
    shapes = {k: (s["dtype"], s["shape"]) for k, s in arrays.items() if k.startswith("layer_")}
    assert shapes == {
        "layer_A": ("uint16", [L, T, nv]),
        "layer_A_lo": ("float32", [L, T]),
        "layer_A_step": ("float32", [L, T]),
        "layer_omega": ("float32", [L, T * (T - 1) // 2]),
        "layer_R": ("float32", [int(sum(layered.tam.layers[i].n_visible.sum() for i in (0, 1, 2)))]),
        "layer_scale": ("float32", [L, T]),
        "layer_n_visible": ("int32", [L, T]),
    }
    # the last layer the same way
    assert (arrays["A"]["dtype"], arrays["omega"]["shape"]) == ("uint16", [T * (T - 1) // 2])
    for at, i in enumerate(part["layers"][:-1]):
        A = layered.tam.layers[i].A.numpy()
        got = from_wire(layered, data, part, at).A.numpy()
        span = A.max(axis=1) - A.min(axis=1)
        assert (np.abs(got - A).max(axis=1) <= span / A_LEVELS * 0.5 + 1e-6 * np.abs(A).max()).all()
        np.testing.assert_array_equal(from_wire(layered, data, part, at).omega.numpy(), layered.tam.layers[i].omega)


@pytest.mark.parametrize(("lam", "eci", "filt"), SETTINGS)
def test_maps_from_the_wire_equal_exp_maps_within_1_255(
    layered: Explanation, lam: float, eci: bool, filt: bool
) -> None:
    data, meta, _ = encode(layered)
    part = meta["methods"]["tam"]
    for at, i in enumerate(part["layers"][:-1]):
        got = from_wire(layered, data, part, at).maps(lam, eci=eci, filter=filt).image
        want = layered.maps(lam, eci=eci, filter=filt, layer=i).image
        assert float((got - want).abs().max()) <= 1 / 255, f"layer {i}"


def test_a_plain_explanation_sends_no_layers(plain: Explanation) -> None:
    _, meta, _ = encode(plain)
    part = meta["methods"]["tam"]
    assert "layers" not in part and not [k for k in part["arrays"] if k.startswith("layer_")]


def test_the_layer_trait_defaults_to_the_last_and_takes_only_kept_layers(layered: Explanation) -> None:
    w = TAMWidget(layered)
    assert w.layer == 3 == view_defaults(layered)["layer"]
    w.layer = 1
    assert w.layer == 1
    w.layer = -1  # from the end, as exp.maps(layer=-1)
    assert w.layer == 3
    with pytest.raises(ValueError, match=re.escape("one of the kept decoder layers [0, 1, 2, 3]")):
        w.layer = 4
    with pytest.raises(TypeError, match="layer must be an integer"):
        w.layer = True
    assert TAMWidget(layered, layer=0).layer == 0
    with pytest.raises(ValueError, match="kept decoder layers"):
        TAMWidget(layered, layer=7)


def test_a_plain_explanation_has_layer_minus_one_only(plain: Explanation) -> None:
    w = TAMWidget(plain)
    assert w.layer == -1 == view_defaults(plain)["layer"]
    with pytest.raises(ValueError, match="kept no other layer"):
        w.layer = 0


def test_a_bad_layer_from_the_browser_is_refused(layered: Explanation) -> None:
    w = TAMWidget(layered)
    w.set_state({"layer": 9})
    assert w.layer == 3
    w.set_state({"layer": 2})
    assert w.layer == 2


def test_the_page_opens_on_the_layer_given_and_refuses_others(layered: Explanation, tmp_path: Any) -> None:
    html = layered.save_html(tmp_path / "p.html", layer=1).read_text(encoding="utf-8")
    state = json.loads(re.search(r'id="tam-state">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert state["traits"]["layer"] == 1
    with pytest.raises(ValueError, match="kept decoder layers"):
        layered.save_html(tmp_path / "q.html", layer=5)


def test_the_static_picture_follows_the_layer(layered: Explanation) -> None:
    item = layered.n_prompt + 1
    view = view_defaults(layered) | {"selected": item}
    last, first = picture(layered, view), picture(layered, view | {"layer": 0})
    assert np.abs(np.asarray(last, np.int16) - np.asarray(first, np.int16)).mean() > 0.5
