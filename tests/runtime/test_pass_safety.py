"""A pass is safe to repeat and to share: eval mode for the pass (modes restored after), one pass
per model at a time (the capture hooks are the model's, so concurrent passes would see each other's forwards)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

from tam_widget import explain
from tam_widget.families import family_for
from tam_widget.runtime import passes
from tam_widget.testing.toy import noise_image, qwen2_vl_config, qwen2_vl_processor

PROMPT = "Is it red?"


def dropout_model(seed: int = 0) -> Any:
    """A tiny Qwen2-VL whose text attention drops half its weights in train mode."""
    from transformers import Qwen2VLForConditionalGeneration

    config = qwen2_vl_config()
    config.text_config.attention_dropout = 0.5
    torch.manual_seed(seed)
    return Qwen2VLForConditionalGeneration(config).eval()


@pytest.fixture(scope="module")
def processor() -> Any:
    return qwen2_vl_processor()


@pytest.fixture(scope="module")
def model() -> Any:
    return dropout_model()


def maps_of(exp: Any) -> dict[str, Any]:
    return {"ids": exp.token_ids, "image": exp.maps().image.numpy(), "top": exp.top_probs, "chosen": exp.chosen_probs}


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["ids"] == b["ids"]
    for key in ("image", "top", "chosen"):
        np.testing.assert_array_equal(a[key], b[key])


def test_dropout_changes_a_forward_in_train_mode(model: Any, processor: Any) -> None:
    """The premise: train mode makes two forwards differ, so the tests below can tell eval mode was used."""
    inputs = processor(
        text=["<|vision_start|><|image_pad|><|vision_end|>hi"], images=[noise_image(84, 112)], return_tensors="pt"
    )
    model.train()
    try:
        with torch.no_grad():
            a, b = (model(**inputs).logits for _ in range(2))
    finally:
        model.eval()
    assert not torch.equal(a, b)


@pytest.mark.parametrize("answer", [None, "a red ball"], ids=["generate", "teacher-forced"])
def test_train_mode_gives_the_eval_mode_maps_and_comes_back(model: Any, processor: Any, answer: str | None) -> None:
    image = noise_image(84, 112)
    reference = maps_of(explain(model, processor, image, PROMPT, answer=answer, max_new_tokens=5))
    model.train()
    model.model.visual.eval()
    try:
        first = maps_of(explain(model, processor, image, PROMPT, answer=answer, max_new_tokens=5))
        second = maps_of(explain(model, processor, image, PROMPT, answer=answer, max_new_tokens=5))
        assert model.training and not model.model.visual.training and model.lm_head.training
        assert all(m.training for m in model.model.language_model.modules())
        assert not any(m.training for m in model.model.visual.modules())
    finally:
        model.eval()
    assert_same(first, reference)
    assert_same(second, reference)


def run_pass(model: Any, processor: Any) -> passes.Pass:
    inputs = processor(
        text=["<|vision_start|><|image_pad|><|vision_end|>hi"], images=[noise_image(84, 112)], return_tensors="pt"
    )
    return passes.run(
        model,
        family_for(model),
        dict(inputs),
        processor.tokenizer,
        answer=None,
        max_new_tokens=3,
        top_k=3,
        generate_kwargs={},
    )


def test_the_pass_says_whether_the_model_was_training(model: Any, processor: Any) -> None:
    assert not run_pass(model, processor).was_training and not model.training
    model.train()
    try:
        assert run_pass(model, processor).was_training and model.training
    finally:
        model.eval()


def test_modes_and_hooks_come_back_when_the_pass_raises(model: Any, processor: Any) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("boom")

    layer = model.model.language_model.layers[-1]
    hooks_before = {id(m): (len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()}
    handle = layer.register_forward_hook(boom)
    model.train()
    model.model.visual.eval()
    try:
        with pytest.raises(RuntimeError, match="boom"):
            explain(model, processor, noise_image(84, 112), PROMPT, answer="a cat")
        assert model.training and model.lm_head.training and not model.model.visual.training
    finally:
        handle.remove()
        model.eval()
    assert {id(m): (len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()} == hooks_before


# (prompt, answer, image seed): what each thread explains, again and again
# (two teacher-forced jobs: without the lock they can take each other's states without any error)
JOBS = [("Is it red?", None, 0), ("Where is the dog?", "on the left", 1), ("What is it?", "a cat", 2)]


@pytest.fixture
def slow_layers(model: Any) -> Iterator[None]:
    """Sleep in every decoder layer, so two threads' passes overlap (the sleep lets the other thread run)."""
    handles = [
        layer.register_forward_pre_hook(lambda *_: time.sleep(0.002)) for layer in model.model.language_model.layers
    ]
    yield
    for h in handles:
        h.remove()


def test_concurrent_explains_on_one_model_match_sequential_ones(model: Any, processor: Any, slow_layers: None) -> None:
    def one(job: tuple[str, str | None, int]) -> dict[str, Any]:
        prompt, answer, seed = job
        return maps_of(explain(model, processor, noise_image(84, 112, seed), prompt, answer=answer, max_new_tokens=6))

    sequential = [one(job) for job in JOBS]
    runs = 4
    results: list[list[dict[str, Any]]] = [[] for _ in JOBS]
    errors: list[BaseException] = []
    start = threading.Barrier(len(JOBS))

    def worker(i: int) -> None:
        start.wait()
        try:
            for _ in range(runs):
                results[i].append(one(JOBS[i]))
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(JOBS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, got in enumerate(results):  # what finished first: a wrong map is silent, without any error
        for r in got:
            assert_same(r, sequential[i])
    assert not errors, errors
    assert [len(r) for r in results] == [runs] * len(JOBS)


def test_the_lock_is_per_model_reentrant_and_dropped_with_the_model(model: Any, processor: Any) -> None:
    assert passes.model_lock(model) is passes.model_lock(model)
    other = dropout_model(seed=1)
    assert passes.model_lock(other) is not passes.model_lock(model)
    with passes.model_lock(model):  # a pass inside a held lock, same thread: no deadlock
        assert explain(model, processor, noise_image(84, 112), PROMPT, answer="yes").text == "yes"
    held = len(passes._LOCKS)
    del other
    gc.collect()
    assert len(passes._LOCKS) == held - 1
