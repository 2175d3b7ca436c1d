"""Every family on a tiny random model: views, orientation, generate == forward, core parity, top-k.

Test names contain ``family`` so that ``pytest -k famil`` selects them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture

from tam_widget import FAMILIES, explain, explain_inputs
from tam_widget.core.layout import VisionLayout
from tam_widget.core.tam import compute_tam
from tam_widget.explanation import Explanation
from tam_widget.testing import orientation

NAMES = sorted(FIXTURES)


@pytest.fixture(params=NAMES)
def fx(request: pytest.FixtureRequest) -> Fixture:
    return FIXTURES[request.param]()


def test_family_registry_and_fixtures_match() -> None:
    assert set(FAMILIES) == {FIXTURES[n]().model.config.model_type for n in NAMES}


def test_family_views_match_what_the_model_consumed(fx: Fixture) -> None:
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=3, min_new_tokens=3)
    assert [(v.kind, v.grid) for v in exp.views] == fx.views
    ids = torch.tensor(exp.token_ids[: exp.answer_start])
    image_id = fx.model.config.image_token_id
    consumed = set(torch.nonzero(ids == image_id).reshape(-1).tolist())
    positions = [p for v in exp.views for p in v.positions]
    assert len(positions) == len(set(positions))
    assert set(positions) <= consumed
    assert len(consumed) - len(positions) == fx.extra.get("non_spatial", 0)  # e.g. LLaVA-NeXT's newline column
    # the prompt's words were found, and they are text
    assert "".join(exp.item_texts[: exp.n_prompt]).replace(" ", "") == fx.prompt.replace(" ", "")


def test_family_orientation(fx: Fixture) -> None:
    """With attention off the model is position-local: editing a block of a view's cells changes exactly those
    cells (its edges on the cell boundaries the view's box gives, less the resampling blur in source pixels)."""

    def run(images: list[np.ndarray]) -> Explanation:
        return explain(fx.model, fx.processor, images, fx.prompt, answer="ok")

    exp = orientation.check(fx.model, run, fx.images, **fx.orientation_options())
    assert [(v.kind, v.grid) for v in exp.views] == fx.views


def _forward_hidden(fx: Fixture, exp: Explanation) -> tuple[torch.Tensor, torch.Tensor]:
    """Last-layer hidden states and logits of an independent teacher-forced forward (all layers kept)."""
    family = FAMILIES[fx.model.config.model_type]
    from tam_widget.runtime.media import as_media, to_pil
    from tam_widget.runtime.prompt import build_text

    arrays, media = as_media(fx.images)
    text, _ = build_text(family, fx.processor, fx.prompt, media)
    inputs = dict(fx.processor(text=[text], images=to_pil(arrays, media), return_tensors="pt"))
    n = exp.n_answer
    seq = torch.tensor([exp.token_ids])
    fwd = family.extend_inputs(inputs, n)
    fwd.update(input_ids=seq, attention_mask=torch.ones_like(seq))
    with torch.no_grad():
        out = fx.model(**fwd, output_hidden_states=True, use_cache=False)
    return out.hidden_states[-1][0], out.logits[0]


def test_family_generate_equals_forward_and_core(fx: Fixture) -> None:
    gen = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=5, min_new_tokens=5)
    assert gen.n_answer == 5 and gen.meta["mode"] == "generate"
    hidden, logits = _forward_hidden(fx, gen)
    # greedy decoding: the forward's argmax reproduces every generated token
    L0 = gen.answer_start
    assert logits[L0 - 1 : -1].argmax(-1).tolist() == gen.token_ids[L0:]
    # the maps equal the core applied to the forward's hidden states
    head = fx.model.get_output_embeddings()
    layout = VisionLayout.from_grids([p for v in gen.views for p in v.positions], [v.grid for v in gen.views])
    with torch.no_grad():
        core = compute_tam(hidden, head.weight, gen.token_ids, layout, gen.prompt_positions, L0)
    scale = float(core.A.abs().max())
    for name in ("A", "E", "R"):
        torch.testing.assert_close(getattr(gen.result, name), getattr(core, name), atol=1e-4 * scale, rtol=1e-4)
    np.testing.assert_array_equal(gen.maps().u8.numpy(), core.maps().u8.numpy())
    # the top-k candidates are the forward's most likely next tokens, with their probabilities
    probs = logits[L0 - 1 : -1].float().softmax(-1)
    top = probs.topk(3, dim=-1)
    np.testing.assert_allclose(gen.top_probs, top.values.numpy(), rtol=1e-4, atol=1e-6)
    assert gen.top_ids[:, 0].tolist() == gen.token_ids[L0:]
    # teacher-forcing the generated ids gives the same explanation
    forced = explain(fx.model, fx.processor, fx.images, fx.prompt, answer=gen.token_ids[L0:])
    assert forced.meta["mode"] == "teacher-forced" and forced.token_ids == gen.token_ids
    for name in ("A", "E", "R"):
        torch.testing.assert_close(
            getattr(forced.result, name), getattr(gen.result, name), atol=1e-4 * scale, rtol=1e-4
        )
    np.testing.assert_allclose(forced.top_probs, gen.top_probs, rtol=1e-4, atol=1e-6)


def test_family_teacher_forced_text_answer(fx: Fixture) -> None:
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a red dog")
    assert exp.text == "a red dog" and exp.n_answer == len("a red dog")  # byte-level tokenizer: one per char
    hidden, _ = _forward_hidden(fx, exp)
    head = fx.model.get_output_embeddings()
    with torch.no_grad():
        core = compute_tam(
            hidden, head.weight, exp.token_ids, exp.result.layout, exp.prompt_positions, exp.answer_start
        )
    np.testing.assert_array_equal(exp.maps().u8.numpy(), core.maps().u8.numpy())


def test_family_video(fx: Fixture) -> None:
    video = fx.extra.get("video")
    if video is None:
        assert not FAMILIES[fx.model.config.model_type].supports_video
        return
    inputs, frames, expected = video()
    exp = explain_inputs(fx.model, fx.processor, inputs, images=frames, answer="ok")
    assert [(v.kind, v.grid) for v in exp.views] == expected
    ids = torch.tensor(exp.token_ids[: exp.answer_start])
    vid = [fx.model.config.image_token_id, getattr(fx.model.config, "video_token_id", None)]
    consumed = {i for i, t in enumerate(ids.tolist()) if t in vid}
    positions = {p for v in exp.views for p in v.positions}
    assert positions <= consumed
    assert len(consumed) - len(positions) == fx.extra.get("video_non_spatial", 0)


def test_family_save_load_roundtrip(fx: Fixture, tmp_path: Any) -> None:
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=3)
    path = tmp_path / "e.safetensors"
    exp.save(path)
    back = Explanation.load(path)
    assert back.tokens == exp.tokens and back.token_ids == exp.token_ids and back.views == exp.views
    assert back.prompt_positions == exp.prompt_positions and back.text == exp.text and back.meta == exp.meta
    np.testing.assert_array_equal(back.maps(0.5).u8.numpy(), exp.maps(0.5).u8.numpy())
    for a, b in zip(back.images, exp.images, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.top_ids, exp.top_ids)
