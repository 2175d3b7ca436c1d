"""The method seam: explain goes through the registry, an Explanation holds a result per method,
and files and the wire carry the method's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from family_fixtures import FIXTURES
from safetensors import safe_open
from safetensors.torch import save_file

from tam_widget import Explanation, explain
from tam_widget.display.wire import encode
from tam_widget.methods import METHODS, Method, get_method
from tam_widget.methods.tam import TAM


@pytest.fixture(scope="module")
def exp() -> Explanation:
    fx = FIXTURES["qwen2_vl"]()
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a red cat")


def test_registry_holds_tam_and_eagle_behind_the_protocol() -> None:
    assert set(METHODS) == {"tam", "eagle"}
    for name, method in METHODS.items():
        assert isinstance(method, Method) and method.name == name and method.title
    with pytest.raises(ValueError, match=r"method must be one of \['eagle', 'tam'\], got 'grad-cam'"):
        get_method("grad-cam")


def test_explain_runs_the_method_it_is_asked_for(exp: Explanation, monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(exp.results) == ["tam"] and exp.method == "tam" and exp.result is exp.tam
    calls: list[dict[str, object]] = []

    class Spy(TAM):
        name = "spy"

        def run(self, captured, **options):  # type: ignore[no-untyped-def]
            calls.append({"n_v": captured.layout.n_tokens, **options})
            return super().run(captured, **options)

    monkeypatch.setitem(METHODS, "spy", Spy())
    fx = FIXTURES["qwen2_vl"]()
    spied = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a red cat", method="spy", kernel=5)
    assert calls == [{"n_v": exp.tam.layout.n_tokens, "reference_quirks": True, "kernel": 5}]
    assert list(spied.results) == ["spy"] and spied.method == "spy"
    with pytest.raises(ValueError, match="has no TAM result"):
        _ = spied.tam
    _, meta, _ = encode(spied)
    assert meta["method"] == "spy" and list(meta["methods"]) == ["spy"]
    with pytest.raises(ValueError, match="method must be one of"):
        explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a", method="nope")


def test_an_explanation_needs_a_result_for_its_method(exp: Explanation) -> None:
    fields = {k: getattr(exp, k) for k, f in exp.__dataclass_fields__.items() if f.init}
    with pytest.raises(ValueError, match="method 'tam' has no result"):
        Explanation(**{**fields, "results": {}})


def test_files_keep_each_methods_tensors_under_its_name(exp: Explanation, tmp_path: Path) -> None:
    path = exp.save(tmp_path / "e.safetensors")
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        header = json.loads(f.metadata()["tam_widget"])
    assert {"tam.A", "tam.omega", "tam.R", "token_ids", "vision_positions", "image_0"} <= keys
    assert header["format"] == "tam-widget/explanation/2" and header["method"] == "tam"
    back = Explanation.load(path)
    torch.testing.assert_close(back.maps().image, exp.maps().image)
    assert back.item_texts == exp.item_texts and back.views == exp.views


def test_unknown_format_and_method_are_refused(exp: Explanation, tmp_path: Path) -> None:
    path = exp.save(tmp_path / "e.safetensors")
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        header = json.loads(f.metadata()["tam_widget"])
    header["methods"] = {"eagle-9000": {}}
    save_file(tensors, str(tmp_path / "m.safetensors"), metadata={"tam_widget": json.dumps(header)})
    with pytest.raises(ValueError, match=r"holds results of \['eagle-9000'\].*upgrade tam-widget"):
        Explanation.load(tmp_path / "m.safetensors")
    header["format"] = "tam-widget/explanation/99"
    save_file(tensors, str(tmp_path / "f.safetensors"), metadata={"tam_widget": json.dumps(header)})
    with pytest.raises(ValueError, match="this version reads"):
        Explanation.load(tmp_path / "f.safetensors")
