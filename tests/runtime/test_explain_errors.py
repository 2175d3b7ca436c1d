"""explain's errors (each says what to do), hook ownership, and memory over repeated runs."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture

from tam_widget import Video, explain, explain_inputs
from tam_widget.runtime.media import as_media, to_pil
from tam_widget.runtime.prompt import build_text


@pytest.fixture(scope="module")
def qwen() -> Fixture:
    return FIXTURES["qwen2_vl"]()


def _hooks(model: Any) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_unsupported_architecture_names_the_families() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=64,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    with pytest.raises(
        ValueError,
        match=r"does not support the architecture LlamaForCausalLM.*Qwen2-VL.*"
        r"tam_widget/families/<name>\.py",
    ):
        explain(model, None, np.zeros((8, 8, 3), np.uint8), "hi")


@pytest.mark.parametrize("images", [None, []])
def test_no_image(qwen: Fixture, images: Any) -> None:
    with pytest.raises(ValueError, match="No image was given"):
        explain(qwen.model, qwen.processor, images, qwen.prompt)


def test_more_placeholders_than_images(qwen: Fixture) -> None:
    mark = "<|vision_start|><|image_pad|><|vision_end|>"
    with pytest.raises(ValueError, match=r"2 image placeholder\(s\) but 1 image"):
        explain(qwen.model, qwen.processor, qwen.images, f"{mark}{mark}Compare.")


def test_fewer_images_than_blocks_in_inputs(qwen: Fixture) -> None:
    arrays, media = as_media(qwen.images * 2)
    text, _ = build_text(qwen_family(qwen), qwen.processor, qwen.prompt, media)
    inputs = qwen.processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    with pytest.raises(ValueError, match=r"holds 2 image block\(s\) but 1 image"):
        explain_inputs(qwen.model, qwen.processor, inputs, images=qwen.images)


def qwen_family(fx: Fixture) -> Any:
    from tam_widget.families import family_for

    return family_for(fx.model)


@pytest.mark.parametrize("name", ["llava", "gemma3", "paligemma", "mistral3", "llava_next"])
def test_video_for_an_image_only_family(name: str) -> None:
    fx = FIXTURES[name]()
    frames = np.zeros((4, 56, 56, 3), np.uint8)
    with pytest.raises(ValueError, match="takes images only, but a video was given"):
        explain(fx.model, fx.processor, Video(frames), fx.prompt)
    with pytest.raises(ValueError, match="takes images only"):
        explain(fx.model, fx.processor, frames, fx.prompt)  # a 4-D array is a video too


@pytest.mark.parametrize("answer", ["", "   ", []])
def test_empty_answer(qwen: Fixture, answer: Any) -> None:
    with pytest.raises(ValueError, match="answer"):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, answer=answer)


def test_answer_beyond_the_context(qwen: Fixture) -> None:
    limit = qwen.model.config.text_config.max_position_embeddings
    with pytest.raises(ValueError, match=rf"beyond the model's context of {limit}: shorten the answer"):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, answer="x" * limit)
    with pytest.raises(ValueError, match="lower max_new_tokens"):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, max_new_tokens=limit)


def test_model_without_lm_head(qwen: Fixture) -> None:
    base = qwen.model.model  # Qwen2VLModel: the same network without its LM head
    with pytest.raises(ValueError, match=r"has no LM head.*AutoModelForImageTextToText"):
        explain(base, qwen.processor, qwen.images, qwen.prompt)


def test_beam_search_and_all_layer_states_are_refused(qwen: Fixture) -> None:
    with pytest.raises(ValueError, match="num_beams=2 is not supported"):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, num_beams=2)
    with pytest.raises(ValueError, match="output_hidden_states"):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, output_hidden_states=True)


def test_prompt_not_found(qwen: Fixture) -> None:
    arrays, media = as_media(qwen.images)
    text, _ = build_text(qwen_family(qwen), qwen.processor, qwen.prompt, media)
    inputs = qwen.processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    with pytest.raises(ValueError, match=r"Could not find the prompt .zebra. .* prompt_positions="):
        explain_inputs(qwen.model, qwen.processor, inputs, images=qwen.images, prompt="zebra", answer="ok")
    exp = explain_inputs(qwen.model, qwen.processor, inputs, images=qwen.images, prompt_positions=[20, 21], answer="ok")
    assert exp.prompt_positions == [20, 21]


def test_bad_image_arrays_say_what_shape_is_expected(qwen: Fixture) -> None:
    with pytest.raises(ValueError, match=r"expected \(H, W, 3\)"):
        explain(qwen.model, qwen.processor, np.zeros((8, 8, 7)), qwen.prompt)
    with pytest.raises(TypeError, match="pass a PIL image"):
        explain(qwen.model, qwen.processor, "cat.png", qwen.prompt)


def test_hooks_are_removed_even_when_generation_raises(qwen: Fixture) -> None:
    before = _hooks(qwen.model)
    with pytest.raises(ValueError, match="not used by the model"):  # generate rejects an unknown keyword
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, max_new_tokens=2, no_such_option=1)
    assert _hooks(qwen.model) == before


def _live_tensors() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def test_many_runs_leave_no_hooks_and_do_not_grow_memory(qwen: Fixture) -> None:
    before = _hooks(qwen.model)
    for _ in range(3):  # warm-up: lazy imports, allocator pools
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, max_new_tokens=4)
    tensors, rss = _live_tensors(), _rss_kb()
    for i in range(30):
        explain(qwen.model, qwen.processor, qwen.images, qwen.prompt, max_new_tokens=4, answer="ok" if i % 2 else None)
        assert _hooks(qwen.model) == before
    assert _live_tensors() - tensors <= 2
    assert _rss_kb() - rss < 30_000, "resident memory grew by more than 30 MB over 30 runs"


def test_image_runs_that_are_not_whole_blocks_are_refused() -> None:
    from tam_widget.families.base import block_starts

    assert block_starts([(2, 10), (12, 16)], 4, "why") == [2, 6, 12]
    with pytest.raises(ValueError, match="not a whole number of 4-token blocks: ids from another model"):
        block_starts([(2, 9)], 4, "ids from another model")
