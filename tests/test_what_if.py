"""'What if it had said …': ``Explanation.what_if`` and ``continue_with`` make new explanations of the
same image and prompt, equal to explaining that answer directly, from the model the explanation
came from (held weakly) or from one passed to a loaded explanation."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import torch
from family_fixtures import FIXTURES

from tam_widget import Explanation, demo_model, explain
from tam_widget.teaching import PROMPT
from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor


@pytest.fixture(scope="module")
def teaching() -> tuple[Any, Any, Any]:
    model, processor, make = demo_model()
    return model, processor, make(2).image


@pytest.fixture(scope="module")
def exp(teaching: tuple[Any, Any, Any]) -> Explanation:
    model, processor, image = teaching
    return explain(model, processor, image, PROMPT, max_new_tokens=40, progress=False, layers="all")


def test_what_if_equals_explaining_that_answer(teaching: tuple[Any, Any, Any], exp: Explanation) -> None:
    model, processor, image = teaching
    new = exp.what_if("a blue plain shape .")
    direct = explain(model, processor, image, PROMPT, answer="a blue plain shape .", progress=False, layers="all")
    assert new.text == "a blue plain shape ." and new.meta["mode"] == "teacher-forced"
    assert new.token_ids == direct.token_ids and new.layers == direct.layers == exp.layers  # options kept
    for layer in new.layers:
        assert torch.equal(new.maps(layer=layer).u8, direct.maps(layer=layer).u8)
    assert exp.text != new.text  # the original is left as it was


def _greedy_after(new: Explanation, k: int) -> None:
    """Every answer token after answer index ``k`` is the model's own top choice there."""
    assert new.top_ids[k + 1 :, 0].tolist() == new.token_ids[new.answer_start + k + 1 :]


def test_continue_with_puts_the_token_there_and_lets_the_model_go_on(exp: Explanation) -> None:
    item = exp.n_prompt + 1  # the first colour word
    other = next(t for t in exp.top_texts[1] if t.strip() != exp.item_texts[item].strip())
    new = exp.continue_with(item, other)
    k = item - exp.n_prompt
    assert new.token_ids[: exp.answer_start + k] == exp.token_ids[: exp.answer_start + k]  # the same prefix
    assert new.item_texts[item].strip() == other.strip()
    assert new.n_answer > k + 1 and new.meta["mode"] == "teacher-forced"
    _greedy_after(new, k)
    direct = exp.what_if(new.token_ids[new.answer_start :])
    assert torch.equal(new.maps().u8, direct.maps().u8)


@pytest.mark.parametrize("name", ["qwen2_vl", "llava"])
def test_continue_with_generates_greedily_in_other_families(name: str) -> None:
    fx = FIXTURES[name]()
    exp = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=4, min_new_tokens=4)
    item = exp.n_prompt + 1
    tid = int(fx.processor.tokenizer.convert_tokens_to_ids("z"))
    new = exp.continue_with(item, tid, max_new_tokens=3)
    assert new.token_ids[new.answer_start + 1] == tid
    assert new.n_answer <= 2 + 3
    _greedy_after(new, 1)


def test_a_loaded_explanation_needs_its_model(teaching: tuple[Any, Any, Any], exp: Explanation, tmp_path: Path) -> None:
    model, processor, image = teaching
    back = Explanation.load(exp.save(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="pass model= and processor="):
        back.what_if("a red plain shape .")
    with pytest.raises(ValueError, match="both model= and processor="):
        back.what_if("a red plain shape .", model=model)
    new = back.what_if("a red plain shape .", model=model, processor=processor)
    direct = explain(model, processor, image, PROMPT, answer="a red plain shape .", progress=False)
    assert torch.equal(new.maps().u8, direct.maps().u8)


def test_bad_requests_are_refused(exp: Explanation) -> None:
    with pytest.raises(ValueError, match="prompt token"):
        exp.continue_with(0, "red")
    with pytest.raises(ValueError, match="is not a token this explanation knows"):
        exp.continue_with(exp.n_prompt + 1, "zebra-ish")
    with pytest.raises(ValueError, match="max_new_tokens"):
        exp.continue_with(exp.n_prompt + 1, "red", max_new_tokens=0)


def test_the_model_is_held_weakly() -> None:
    model = qwen2_vl_model(seed=3, hidden=32, layers=1, vision_width=32, vision_depth=1)
    exp = explain(model, qwen2_vl_processor(), noise_image(56, 56), "What is it?", answer="ok")
    del model
    gc.collect()
    with pytest.raises(RuntimeError, match="was deleted"):
        exp.what_if("no")
