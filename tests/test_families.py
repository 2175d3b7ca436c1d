"""Every family on a tiny random model: views, orientation, generate == forward, core parity, top-k.

Test names contain ``family`` so that ``pytest -k famil`` selects them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture, patch_local

from tam_widget import FAMILIES, explain, explain_inputs
from tam_widget.core.layout import VisionLayout
from tam_widget.core.tam import compute_tam
from tam_widget.explanation import Explanation
from tam_widget.families.base import View

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


def _edited(img: np.ndarray) -> np.ndarray:
    out = img.copy()
    h, w = img.shape[:2]
    out[: h // 3, w - w // 3 :] = 255  # the top-right ninth
    return out


def _expected_cells(view: View, h_img: int, w_img: int) -> tuple[np.ndarray, np.ndarray]:
    """(may change, must change) masks over ``view.grid`` for an edit of the top-right ninth."""
    gh, gw = view.grid[-2:]
    x0, y0, x1, y1 = view.box
    ex0, ey1 = (w_img - w_img // 3) / w_img, (h_img // 3) / h_img  # edited: x >= ex0, y < ey1
    cx = x0 + (x1 - x0) * np.arange(gw + 1) / gw  # cell edges as image fractions
    cy = y0 + (y1 - y0) * np.arange(gh + 1) / gh
    hx, hy = (x1 - x0) / gw / 2, (y1 - y0) / gh / 2  # half a cell of slack for resampling
    may = (cy[1:, None] > 0 - hy) & (cy[:-1, None] < ey1 + hy) & (cx[None, 1:] > ex0 - hx)
    must = (cy[1:, None] <= ey1 + 1e-9) & (cx[None, :-1] >= ex0 - 1e-9)
    return may, must


def test_family_orientation(fx: Fixture) -> None:
    """With attention off the model is position-local: editing a corner changes only its cells."""
    recorded: list[torch.Tensor] = []
    with patch_local(fx.model), torch.no_grad():
        norm = fx.model.get_decoder().norm
        hook = norm.register_forward_hook(lambda m, a, o: recorded.append(o[0].detach().clone()))
        try:
            base = explain(fx.model, fx.processor, fx.images, fx.prompt, answer="ok")
            edited = explain(fx.model, fx.processor, [_edited(i) for i in fx.images], fx.prompt, answer="ok")
        finally:
            hook.remove()
    h0, h1 = recorded
    for view in base.views:
        pos = torch.tensor(view.positions)
        diff = (h0[pos] - h1[pos]).abs().amax(dim=-1).reshape(view.grid)
        changed = (diff > 1e-4 * h0.abs().max()).numpy()
        if changed.ndim == 3:
            changed = changed.any(axis=0)
        img = fx.images[view.image]
        may, must = _expected_cells(view, img.shape[0], img.shape[1])
        assert must.any(), f"{view.kind} {view.grid}: the edit covers no whole cell; enlarge the test image"
        assert not (changed & ~may).any(), f"{view.kind} {view.grid}: cells outside the edit changed\n{changed}"
        assert changed[must].all(), f"{view.kind} {view.grid}: cells inside the edit did not change\n{changed}"
    assert [v.positions for v in edited.views] == [v.positions for v in base.views]


def _forward_hidden(fx: Fixture, exp: Explanation) -> tuple[torch.Tensor, torch.Tensor]:
    """Last-layer hidden states and logits of an independent teacher-forced forward (all layers kept)."""
    family = FAMILIES[fx.model.config.model_type]
    from tam_widget.explain import build_text
    from tam_widget.media import as_media, to_pil

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


def _count_hooks(model: Any) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


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
