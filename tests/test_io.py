"""Explanation files: a good one loads back unchanged; a corrupted one is refused on load with one
``ValueError`` naming the file and the field (never a KeyError, a torch error later, or a kernel
that exhausts memory); a missing one is a ``FileNotFoundError``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from family_fixtures import FIXTURES
from safetensors import safe_open
from safetensors.torch import save_file

from tam_widget import Explanation, explain
from tam_widget.methods import get_method
from tam_widget.methods.tam import STATE

Header = dict[str, Any]
Tensors = dict[str, torch.Tensor]


@pytest.fixture(scope="module")
def exp() -> Explanation:
    fx = FIXTURES["qwen2_vl"]()
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat")


@pytest.fixture(scope="module")
def good(exp: Explanation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exp.save(tmp_path_factory.mktemp("io") / "good.safetensors")


def parts(path: Path) -> tuple[Header, Tensors]:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["tam_widget"]), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def write(path: Path, header: Header, tensors: Tensors) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"tam_widget": json.dumps(header)})
    return path


def drop(key: str) -> Callable[[Header, Tensors], None]:
    def corrupt(h: Header, t: Tensors) -> None:
        del t[key]

    return corrupt


def del_field(key: str) -> Callable[[Header, Tensors], None]:
    def corrupt(h: Header, t: Tensors) -> None:
        del h[key]

    return corrupt


def pop_last(key: str) -> Callable[[Header, Tensors], None]:
    """Drop the last entry of the header's list ``key``."""

    def corrupt(h: Header, t: Tensors) -> None:
        h[key].pop()

    return corrupt


def set_field(key: str, value: Any) -> Callable[[Header, Tensors], None]:
    return lambda h, t: h.__setitem__(key, value)


def set_tam(key: str, value: Any) -> Callable[[Header, Tensors], None]:
    return lambda h, t: h["methods"]["tam"].__setitem__(key, value)


def set_tensor(key: str, make: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[Header, Tensors], None]:
    return lambda h, t: t.__setitem__(key, make(t[key]))


def with_nan(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x[1, 2] = float("nan")
    return x


def plus_one_at(index: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def change(x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        x[index] += 1
        return x

    return change


# corruption -> a fragment of the ValueError it must raise (the file name is checked for every row)
CORRUPTED: dict[str, tuple[Callable[[Header, Tensors], None], str]] = {
    # every required tensor present
    **{
        f"no {key}": (drop(key), f"tensor {key!r} is missing")
        for key in ("token_ids", "vision_positions", "top_ids", "top_probs")
    },
    "no image_0": (drop("image_0"), "'n_images' is 1 but the file holds the image tensors []"),
    **{f"no tam.{key}": (drop(f"tam.{key}"), f"['tam.{key}'] are missing") for key in STATE if key != "E"},
    "A not 2-D": (set_tensor("tam.A", lambda x: x[0]), "tensor 'tam.A' has shape ({n_v},); expected (T, n_v)"),
    "NaN in omega": (set_tensor("tam.omega", with_nan), "'tam.omega' holds 1 NaN"),
    "A as int": (set_tensor("tam.A", lambda x: x.long()), "share one float dtype"),
    # shapes consistent with each other and with the header
    "A one column short": (
        set_tensor("tam.A", lambda x: x[:, :-1]),
        "tensor 'tam.A' has shape ({T}, {n_v_1}); expected ({T}, {n_v})",
    ),
    "R not square": (set_tensor("tam.R", lambda x: x[:, :-1]), "'tam.R' has shape ({T}, {T_1}); expected ({T}, {T})"),
    "omega for one item fewer": (
        set_tensor("tam.omega", lambda x: x[:-1, :-1]),
        "'tam.omega' has shape ({T_1}, {T_1})",
    ),
    "scale 2-D": (set_tensor("tam.scale", lambda x: x[None]), "'tam.scale' has shape (1, {T})"),
    "token_ids one short": (
        set_tensor("token_ids", lambda x: x[:-1]),
        "'token_ids' has shape ({L_1},); expected ({L},)",
    ),
    "top_probs not top_ids' shape": (
        set_tensor("top_probs", lambda x: x[:, :-1]),
        "'top_probs' has shape ({N}, {k_1})",
    ),
    "top_ids for one step fewer": (set_tensor("top_ids", lambda x: x[:-1]), "N = {N} answer tokens"),
    "one vision position too many": (
        set_tensor("vision_positions", lambda x: torch.cat([torch.tensor([0]), x])),
        "holds {n_v} cells but there are {n_v1} vision positions",
    ),
    "vision position after the answer start": (
        lambda h, t: t["vision_positions"].__setitem__(-1, h["answer_start"]),
        "'vision_positions' must lie in [0, {start})",
    ),
    "image not (H, W, 3)": (set_tensor("image_0", lambda x: x[..., :2]), "'image_0' must be uint8 (H, W, 3)"),
    "chosen_probs of the wrong length": (
        lambda h, t: t.__setitem__("chosen_probs", torch.zeros(len(h["top_texts"]) + 1)),
        "'chosen_probs' has shape ({N1},); expected ({N},)",
    ),
    # dtypes
    "token_ids as float": (set_tensor("token_ids", lambda x: x.float()), "'token_ids' must be torch.int64"),
    "image as uint16": (set_tensor("image_0", lambda x: x.to(torch.int16)), "'image_0' must be uint8"),
    "A float64 beside float32": (set_tensor("tam.A", lambda x: x.double()), "share one float dtype"),
    "classes as int32": (set_tensor("tam.classes", lambda x: x.int()), "'tam.classes' is torch.int32"),
    "NaN in A": (set_tensor("tam.A", with_nan), "'tam.A' holds 1 NaN"),
    "n_visible past T": (set_tensor("tam.n_visible", lambda x: x + 30), "'tam.n_visible' must lie in [0, {T}]"),
    # header fields and their agreement
    "no tokens": (del_field("tokens"), "field 'tokens' must be a list of str"),
    "tokens one short": (pop_last("tokens"), "'special' has {L} entries; it needs {L_1} (one per token)"),
    "special one short": (pop_last("special"), "'special' has {L_1} entries; it needs {L}"),
    "words as strings": (
        lambda h, t: h.__setitem__("words", ["a"] * len(h["words"])),
        "field 'words' must be a list of int",
    ),
    "answer_start past the end": (
        lambda h, t: h.__setitem__("answer_start", len(h["tokens"]) + 1),
        "'answer_start' must be in [1, {L}], got {L1}",
    ),
    "answer_start as text": (set_field("answer_start", "1"), "'answer_start' must be an integer"),
    "prompt position out of range": (
        lambda h, t: h["prompt_positions"].append(10**5),
        "holds [100000], outside [0, {start})",
    ),
    "prompt position on a vision token": (
        lambda h, t: h["prompt_positions"].__setitem__(0, int(t["vision_positions"][0])),
        "both in 'prompt_positions' and 'vision_positions'",
    ),
    "one prompt position fewer than TAM's items": (
        pop_last("prompt_positions"),
        "explains {P} prompt + {N} answer items, but the file has {P_1} prompt positions",
    ),
    "TAM's token ids not the tokens'": (
        set_tensor("tam.token_ids", plus_one_at(3)),
        "'tam.token_ids' differs from 'token_ids'",
    ),
    "n_images 2 with one image": (set_field("n_images", 2), "'n_images' is 2 but the file holds"),
    "grid cells != vision tokens": (set_field("grids", [[1, 1]]), "holds 1 cells but there are {n_v}"),
    "a huge grid (never built)": (set_field("grids", [[10**9, 10**4, 10**4]]), "but there are {n_v} vision positions"),
    "view grid != grid": (
        lambda h, t: h["views"][0].__setitem__("grid", [*h["views"][0]["grid"][::-1], 1]),
        "field 'views'[0] must be",
    ),
    "view of a missing image": (lambda h, t: h["views"][0].__setitem__("image", 1), "field 'views'[0] must be"),
    "top_texts one row short": (pop_last("top_texts"), "'top_texts' must be {N} lists of {k}"),
    "method without a result": (set_field("method", "other"), "field 'method' is 'other', which has no result"),
    "meta not an object": (set_field("meta", []), "field 'meta' must be a JSON object"),
    "T != n_prompt + n_answer": (
        lambda h, t: h["methods"]["tam"].__setitem__("n_answer", h["methods"]["tam"]["n_answer"] + 1),
        "expected ({T1}, {n_v}) (T = {P} + {N1} items",
    ),
    # the header's kernel goes through tam_widget.params.kernel
    "kernel 1001": (set_tam("kernel", 1001), "'methods.tam.kernel': kernel must be an integer in [1, 15], got 1001"),
    "kernel even": (set_tam("kernel", 4), "kernel must be odd"),
    "kernel as text": (set_tam("kernel", "3"), "'methods.tam.kernel': kernel must be an integer"),
    "no kernel": (lambda h, t: h["methods"]["tam"].__delitem__("kernel"), "'methods.tam.kernel'"),
}


def dims(path: Path) -> dict[str, int]:
    """The good file's sizes, and each one less and one more (``T_1`` = T - 1, ``T1`` = T + 1)."""
    h, t = parts(path)
    tam = h["methods"]["tam"]
    base = {
        "T": tam["n_prompt"] + tam["n_answer"],
        "P": len(h["prompt_positions"]),
        "N": len(h["tokens"]) - h["answer_start"],
        "L": len(h["tokens"]),
        "start": h["answer_start"],
        "n_v": t["vision_positions"].numel(),
        "k": t["top_ids"].shape[1],
    }
    return base | {f"{k}_1": v - 1 for k, v in base.items()} | {f"{k}1": v + 1 for k, v in base.items()}


def test_a_good_file_loads_back(exp: Explanation, good: Path) -> None:
    back = Explanation.load(good)
    torch.testing.assert_close(back.maps().image, exp.maps().image)
    assert back.item_texts == exp.item_texts and back.views == exp.views and back.text == exp.text


@pytest.mark.parametrize(("corrupt", "fragment"), list(CORRUPTED.values()), ids=list(CORRUPTED))
def test_a_corrupted_file_is_refused_naming_the_field(
    good: Path, tmp_path: Path, corrupt: Callable[[Header, Tensors], None], fragment: str
) -> None:
    header, tensors = parts(good)
    corrupt(header, tensors)
    path = write(tmp_path / "bad.safetensors", header, tensors)
    with pytest.raises(ValueError) as info:
        Explanation.load(path)
    assert type(info.value) is ValueError
    assert str(path) in str(info.value) and fragment.format(**dims(good)) in str(info.value)


def test_a_file_that_is_not_safetensors_is_refused(good: Path, tmp_path: Path) -> None:
    cases = {
        "text.safetensors": b"hello, this is not a safetensors file",
        "empty.safetensors": b"",
        "truncated.safetensors": good.read_bytes()[:-100],
        "header-only.safetensors": good.read_bytes()[:20],
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=r"is not a readable \.safetensors file") as info:
            Explanation.load(path)
        assert name in str(info.value)


def test_a_header_that_is_not_ours_is_refused(good: Path, tmp_path: Path) -> None:
    _, tensors = parts(good)
    save_file(tensors, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="no 'tam_widget' header"):
        Explanation.load(tmp_path / "plain.safetensors")
    save_file(tensors, str(tmp_path / "json.safetensors"), metadata={"tam_widget": "{not json"})
    with pytest.raises(ValueError, match="'tam_widget' header is not JSON"):
        Explanation.load(tmp_path / "json.safetensors")
    save_file(tensors, str(tmp_path / "list.safetensors"), metadata={"tam_widget": "[1, 2]"})
    with pytest.raises(ValueError, match="not a JSON object"):
        Explanation.load(tmp_path / "list.safetensors")


def test_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No explanation file at"):
        Explanation.load(tmp_path / "nowhere.safetensors")
    with pytest.raises(ValueError, match="is not a file"):
        Explanation.load(tmp_path)


def v1_parts(exp: Explanation) -> tuple[Header, Tensors]:
    """The same explanation as a format-1 file (TAM's tensors at the top level)."""
    r = exp.tam
    tensors = {k: getattr(r, k) for k in ("A", "E", "omega", "scale", "R", "n_visible", "classes")}
    tensors |= {
        "item_token_ids": r.token_ids,
        "vision_positions": r.layout.positions,
        "token_ids": torch.tensor(exp.token_ids),
        "top_ids": torch.as_tensor(exp.top_ids),
        "top_probs": torch.as_tensor(exp.top_probs, dtype=torch.float32),
        "image_0": torch.from_numpy(exp.images[0].copy()),
    }
    header = {
        "format": "tam-widget/explanation/1",
        **{k: getattr(exp, k) for k in ("tokens", "special", "words", "prompt_positions", "answer_start", "text")},
        "n_images": 1,
        "grids": r.layout.to_json(),
        "n_prompt": r.n_prompt,
        "n_answer": r.n_answer,
        "kernel": r.kernel,
        "top_texts": exp.top_texts,
        "views": [{"image": v.image, "kind": v.kind, "grid": list(v.grid), "box": list(v.box)} for v in exp.views],
        "meta": exp.meta,
    }
    return header, tensors


def test_format_1_files_are_checked_too(exp: Explanation, tmp_path: Path) -> None:
    header, tensors = v1_parts(exp)
    back = Explanation.load(write(tmp_path / "v1.safetensors", header, tensors))
    torch.testing.assert_close(back.maps().image, exp.maps().image)
    with pytest.raises(ValueError, match=r"kernel must be an integer in \[1, 15\], got 1001"):
        Explanation.load(write(tmp_path / "k.safetensors", {**header, "kernel": 1001}, tensors))
    with pytest.raises(ValueError, match=r"format-1 file's header has no \['n_answer'\]"):
        Explanation.load(
            write(tmp_path / "n.safetensors", {k: v for k, v in header.items() if k != "n_answer"}, tensors)
        )
    with pytest.raises(ValueError, match=r"\['tam.R'\] are missing"):
        Explanation.load(write(tmp_path / "r.safetensors", header, {k: v for k, v in tensors.items() if k != "R"}))


@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fx = FIXTURES["qwen2_vl"]()
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat", layers="all")
    return exp.save(tmp_path_factory.mktemp("io") / "layered.safetensors")


def _layers(value: Any) -> Callable[[Header, Tensors], None]:
    def corrupt(h: Header, t: Tensors) -> None:
        h["methods"]["tam"]["layers"] = value

    return corrupt


def _layer_tensor(h: Header, t: Tensors) -> None:
    t["tam.layer0.A"] = t["tam.layer0.A"][:, :-1]


LAYERED = {
    "layer index at the last layer": (_layers([0, 1]), "below the last"),
    "repeated layer": (_layers([0, 0]), "distinct layer indices"),
    "layer index not an int": (_layers(["0"]), "distinct layer indices"),
    "layer tensor of the wrong shape": (_layer_tensor, "layer 0: tensor 'tam.layer0.A' has shape"),
    "layer tensor missing": (drop("tam.layer0.R"), "layer 0: tensor(s) ['tam.layer0.R'] are missing"),
    "layer omega missing": (drop("tam.layer0.omega"), "layer 0: tensor(s) ['tam.layer0.omega'] are missing"),
    "layer omega of the wrong shape": (
        set_tensor("tam.layer0.omega", lambda x: x[:-1]),
        "layer 0: tensor 'tam.layer0.omega' has shape",
    ),
    "NaN in a layer's A": (set_tensor("tam.layer0.A", with_nan), "layer 0: tensor 'tam.layer0.A' holds 1 NaN"),
}


@pytest.mark.parametrize(("corrupt", "fragment"), list(LAYERED.values()), ids=list(LAYERED))
def test_a_corrupted_layer_is_refused_naming_it(
    layered: Path, tmp_path: Path, corrupt: Callable[[Header, Tensors], None], fragment: str
) -> None:
    header, tensors = parts(layered)
    assert header["methods"]["tam"]["layers"] == [0] and header["methods"]["tam"]["n_layers"] == 2
    corrupt(header, tensors)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        Explanation.load(write(tmp_path / "bad.safetensors", header, tensors))


EAGLE_FAST = {"eagle": {"variant": "efficient", "division": 16}}
SETTINGS: list[dict[str, Any]] = [{}, {"eci_scale": 0.5}, {"eci_scale": 2.0}, {"eci": False}, {"filter": False}]


@pytest.fixture(scope="module")
def full() -> Explanation:
    """Every layer, the candidates and an EAGLE result beside TAM."""
    fx = FIXTURES["qwen2_vl"]()
    exp = explain(
        fx.model,
        fx.processor,
        fx.images,
        fx.prompt,
        answer="a cat",
        layers="all",
        method=["tam", "eagle"],
        options=EAGLE_FAST,
    )
    assert exp.tam.candidates is not None and exp.tam.layers and "eagle" in exp.results
    return exp


def assert_same_maps(back: Explanation, exp: Explanation) -> None:
    """Every layer's maps at every setting u8-equal and within 1e-6; the candidates' maps; EAGLE's state."""
    for layer in exp.layers:
        for kw in SETTINGS:
            before, after = exp.maps(layer=layer, **kw), back.maps(layer=layer, **kw)
            assert torch.equal(after.u8, before.u8), (layer, kw)
            torch.testing.assert_close(after.image, before.image, atol=1e-6, rtol=0)
    ids = exp.tam.candidates.classes  # type: ignore[union-attr]
    for item in range(exp.n_prompt, exp.tam.n_items):
        torch.testing.assert_close(back.tam.class_maps(item, ids), exp.tam.class_maps(item, ids), atol=1e-6, rtol=0)
    eagle = get_method("eagle")
    for (key, want), (k, got) in zip(
        eagle.to_state(exp.results["eagle"])[0].items(), eagle.to_state(back.results["eagle"])[0].items(), strict=True
    ):
        assert key == k and torch.equal(got, want), key


def with_e(path: Path, exp: Explanation, E: torch.Tensor | None = None) -> tuple[Header, Tensors]:
    """The file at ``path`` as an older version wrote it: ``tam.E`` (or the ``E`` given) and each layer's E."""
    header, tensors = parts(path)
    r = exp.tam
    tensors |= {"tam.E": r.E if E is None else E} | {f"tam.layer{i}.E": layer.E for i, layer in r.layers.items()}
    return header, tensors


def test_the_file_keeps_no_e_and_the_maps_come_back(full: Explanation, tmp_path: Path) -> None:
    path = full.save(tmp_path / "full.safetensors")
    _, tensors = parts(path)
    assert [k for k in tensors if k.endswith("E")] == []  # E = omega @ A: recomputed on load
    old = write(tmp_path / "old.safetensors", *with_e(path, full))
    E_bytes = sum(r.E.numel() * r.E.element_size() for r in [full.tam, *full.tam.layers.values()])
    assert E_bytes <= old.stat().st_size - path.stat().st_size < E_bytes + 1024  # E, and its entries in the header
    back = Explanation.load(path)
    assert_same_maps(back, full)
    for got, want in zip([back.tam, *back.tam.layers.values()], [full.tam, *full.tam.layers.values()], strict=True):
        assert torch.equal(got.E, want.E)  # the same product as the core's, on the same device


def test_an_older_file_with_e_loads_its_e_recomputed(full: Explanation, tmp_path: Path) -> None:
    path = full.save(tmp_path / "full.safetensors")
    back = Explanation.load(write(tmp_path / "old.safetensors", *with_e(path, full)))
    assert_same_maps(back, full)
    # an E that disagrees with omega @ A (the page always formed omega @ A): recomputed, so the same maps
    stale = Explanation.load(write(tmp_path / "stale.safetensors", *with_e(path, full, full.tam.E + 1)))
    assert torch.equal(stale.tam.E, full.tam.E)
    assert_same_maps(stale, full)
