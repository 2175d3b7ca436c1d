"""Maps across layers (the logit lens) on every family: ``layers="all"`` keeps the last layer's maps
u8-identical to the default, reads each earlier layer as the core on that layer's normed output,
captures everything in one pass, and leaves no hook behind.

Test names contain ``family`` so that ``pytest -k famil`` selects them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture

from tam_widget import FAMILIES, Explanation, explain
from tam_widget.core.layout import VisionLayout
from tam_widget.core.tam import compute_tam
from tam_widget.runtime.capture import decoder_layers, final_norm

NAMES = sorted(FIXTURES)


@pytest.fixture(params=NAMES)
def fx(request: pytest.FixtureRequest) -> Fixture:
    return FIXTURES[request.param]()


def _hooks(model: Any) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _forward_states(fx: Fixture, exp: Explanation) -> tuple[torch.Tensor, ...]:
    """Every layer's output from an independent teacher-forced forward (HF's output_hidden_states)."""
    from tam_widget.runtime.media import as_media, to_pil
    from tam_widget.runtime.prompt import build_text

    family = FAMILIES[fx.model.config.model_type]
    arrays, media = as_media(fx.images)
    text, _ = build_text(family, fx.processor, fx.prompt, media)
    inputs = dict(fx.processor(text=[text], images=to_pil(arrays, media), return_tensors="pt"))
    seq = torch.tensor([exp.token_ids])
    fwd = family.extend_inputs(inputs, exp.n_answer)
    fwd.update(input_ids=seq, attention_mask=torch.ones_like(seq))
    with torch.no_grad():
        out = fx.model(**fwd, output_hidden_states=True, use_cache=False)
    return tuple(out.hidden_states)


def test_family_layers_all_keeps_the_last_layer_and_reads_each_layer_in_one_pass(fx: Fixture) -> None:
    default = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=4, min_new_tokens=4)
    before = _hooks(fx.model)
    calls = []
    handle = fx.model.register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        exp = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=4, min_new_tokens=4, layers="all")
    finally:
        handle.remove()
    assert _hooks(fx.model) == before  # the explain's own hooks are gone
    assert len(calls) == 4  # generate's 4 steps: the layers ride on the same pass, no extra forward
    n = len(decoder_layers(fx.model))
    assert exp.layers == list(range(n)) and exp.meta["layers"] == list(range(n))
    assert torch.equal(exp.maps().u8, default.maps().u8)  # the last layer: u8 identical to the default
    assert torch.equal(exp.maps(layer=n - 1).u8, default.maps().u8)
    assert torch.equal(exp.maps(layer=-1).u8, default.maps().u8)
    states = _forward_states(fx, exp)
    head = fx.model.get_output_embeddings().weight
    layout = VisionLayout.from_grids([p for v in exp.views for p in v.positions], [v.grid for v in exp.views])
    norm = final_norm(fx.model)
    for layer in range(n - 1):
        with torch.no_grad():
            hidden = norm(states[layer + 1])[0]
            core = compute_tam(hidden, head, exp.token_ids, layout, exp.prompt_positions, exp.answer_start)
        got = exp.maps(layer=layer)
        scale = float(core.A.abs().max()) or 1.0
        torch.testing.assert_close(exp.tam.at_layer(layer).A, core.A, atol=1e-4 * scale, rtol=1e-4)
        assert int((got.u8.int() - core.maps().u8.int()).abs().max()) <= 1
        assert exp.view_maps(exp.n_prompt, layer=layer)[0].shape == exp.view_maps(exp.n_prompt)[0].shape


def test_family_layers_are_saved_and_loaded(fx: Fixture, tmp_path: Path) -> None:
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok", layers=[0])
    back = Explanation.load(exp.save(tmp_path / "x.safetensors"))
    assert back.layers == exp.layers
    for layer in exp.layers:
        assert torch.equal(back.maps(layer=layer).u8, exp.maps(layer=layer).u8)


def test_layers_are_checked_before_the_pass() -> None:
    fx = FIXTURES[NAMES[0]]()
    n = len(decoder_layers(fx.model))
    bad: list[tuple[Any, type[Exception], str]] = [
        ("some", ValueError, "'all'"),
        ([n], ValueError, "outside this model's"),
        ([0.5], TypeError, "layer indices"),
        ([], TypeError, "layer indices"),
    ]
    for layers, kind, text in bad:
        with pytest.raises(kind, match=text):
            explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok", layers=layers)
    with pytest.raises(ValueError, match="include 'tam'"):
        explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok", method="eagle", layers="all")
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok")
    with pytest.raises(ValueError, match="was not kept"):
        exp.maps(layer=0) if n > 1 else exp.maps(layer=5)


def test_a_request_that_would_not_fit_is_refused_before_the_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from tam_widget.runtime import memory

    fx = FIXTURES[NAMES[0]]()
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1000)
    calls = []
    handle = fx.model.register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(ValueError, match=r"extra layers need about .* GiB free|GiB are free"):
            explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok", layers="all")
    finally:
        handle.remove()
    assert not calls  # refused before any forward
    np.testing.assert_equal(memory.layer_bytes(10, 4, 2, 3, 5), 2 * 10 * 4 * 2 + 4 * (2 * 3 * 5 + 2 * 9))
