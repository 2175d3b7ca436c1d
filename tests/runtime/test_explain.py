"""explain's shared machinery on the Qwen2-VL tiny model: dtypes, devices, text, media, templates."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture

from tam_widget import Video, explain
from tam_widget.runtime.media import as_media
from tam_widget.runtime.text import locate, token_texts, word_ids
from tam_widget.testing.toy import make_tokenizer, noise_image, qwen2_vl_model, qwen2_vl_processor

QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def qwen() -> Fixture:
    return FIXTURES["qwen2_vl"]()


def test_bfloat16_model_explains_like_float32() -> None:
    processor = qwen2_vl_processor()
    img = noise_image(84, 112)
    f32 = explain(qwen2_vl_model(), processor, img, "What is here?", answer="a cat")
    bf16 = explain(qwen2_vl_model(dtype=torch.bfloat16), processor, img, "What is here?", answer="a cat")
    assert bf16.meta["dtype"] == "torch.bfloat16" and bf16.result.A.dtype == torch.float32
    assert torch.isfinite(bf16.result.A).all()
    # bf16 rounding moves the raw maps a little, never the layout or the items
    assert bf16.item_texts == f32.item_texts
    a32, a16 = f32.result.A, bf16.result.A
    assert float((a32 - a16).abs().max()) < 0.1 * float(a32.abs().max())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_maps_stay_on_the_device() -> None:
    model = qwen2_vl_model(dtype=torch.bfloat16).cuda()
    exp = explain(model, qwen2_vl_processor(), noise_image(84, 112), "What is here?", max_new_tokens=4)
    assert exp.result.A.is_cuda and exp.maps().image.is_cuda
    assert isinstance(exp.top_probs, np.ndarray)


def test_chat_template_is_used_and_the_prompt_found(qwen: Fixture) -> None:
    processor = copy.copy(qwen.processor)
    processor.chat_template = QWEN_TEMPLATE
    exp = explain(qwen.model, processor, qwen.images, "Is it a dog?", answer="no")
    text = "".join(exp.tokens[: exp.answer_start])
    assert text.startswith("<|im_start|>user\n<|vision_start|><|image_pad|>") and text.endswith("assistant\n")
    # the byte-level spaces are whitespace-only tokens: prompt items, as in the reference
    assert "".join(exp.item_texts[: exp.n_prompt]) == "Is it a dog?"
    with pytest.raises(ValueError, match="no chat template"):
        explain(qwen.model, qwen.processor, qwen.images, "Is it a dog?", answer="no", chat_template=True)


def test_prompt_with_its_own_placeholders_is_used_as_is(qwen: Fixture) -> None:
    raw = "<|vision_start|><|image_pad|><|vision_end|>cat or dog?"
    exp = explain(qwen.model, qwen.processor, qwen.images, raw, answer="dog")
    assert "".join(exp.tokens[: exp.answer_start]).endswith("cat or dog?")
    assert "".join(exp.item_texts[: exp.n_prompt]) == "cat or dog?"  # every text token of the input


def test_two_images_in_one_prompt(qwen: Fixture) -> None:
    second = noise_image(56, 112, seed=3)
    exp = explain(qwen.model, qwen.processor, [qwen.images[0], second], "Compare them.", answer="same")
    assert [(v.image, v.grid) for v in exp.views] == [(0, (3, 4)), (1, (2, 4))]
    assert exp.views[0].positions[-1] < exp.views[1].positions[0]
    cells = exp.cells()
    assert cells.shape == (20, 5) and cells[12].tolist() == [1, 1, 0, 0, 0]


def test_items_and_lookup(qwen: Fixture) -> None:
    exp = explain(qwen.model, qwen.processor, qwen.images, "Is it red?", answer="red")
    assert exp.item_positions[: exp.n_prompt] == exp.prompt_positions
    assert exp.item_texts[exp.n_prompt :] == ["r", "e", "d"]
    assert exp.find("R") == [exp.item_texts.index("r"), exp.n_prompt]
    maps = exp.view_maps(exp.n_prompt + 1)
    assert len(maps) == 1 and maps[0].shape == (3, 4) and maps[0].min() >= 0 and maps[0].max() <= 1
    assert "3x4" in repr(exp)


def test_token_texts_keep_multibyte_characters_whole() -> None:
    tok = make_tokenizer(["<s>"])
    ids = tok("a Zürich 🐕!", add_special_tokens=False)["input_ids"]
    texts = token_texts(tok, ids, [False] * len(ids))
    assert "".join(texts) == "a Zürich 🐕!"
    assert "ü" in texts and "🐕" in texts  # shown on the token that completes the character
    assert texts.count("") == len(ids) - len("a Zürich 🐕!")
    skipped = token_texts(tok, ids, [i == 0 for i in range(len(ids))], label="<v>")
    assert skipped[0] == "<v>" and "".join(skipped[1:]) == " Zürich 🐕!"


def test_word_ids_group_pieces_into_words() -> None:
    texts = ["<s>", "The", " d", "og", ",", " ran", "\n", "away"]
    special = [True, False, False, False, False, False, False, False]
    assert word_ids(texts, special) == [0, 1, 2, 2, 3, 4, 5, 6]


def test_locate_matches_loosely_and_takes_the_last_occurrence() -> None:
    texts = ["Say", ":", " red", " dog", "\n", "user", ":", " red", "  dog", "?"]
    cand = [True] * len(texts)
    assert locate(texts, cand, "red dog?") == [7, 8, 9]
    assert locate(texts, cand, "blue") == []
    cand[8] = False
    assert locate(texts, cand, "red dog") == [7]


@pytest.mark.parametrize(
    ("given", "shape"),
    [
        (np.zeros((3, 20, 30), np.uint8), (20, 30, 3)),  # channels first
        (np.ones((20, 30), np.float32), (20, 30, 3)),  # grey, float in [0, 1]
        (torch.zeros(20, 30, 4, dtype=torch.uint8), (20, 30, 3)),  # RGBA tensor
    ],
)
def test_images_are_normalised_to_uint8_rgb(given: Any, shape: tuple[int, ...]) -> None:
    arrays, media = as_media(given)
    assert arrays[0].shape == shape and arrays[0].dtype == np.uint8 and not media.video
    if isinstance(given, np.ndarray) and given.dtype == np.float32:
        assert arrays[0].max() == 255


def test_videos_are_recognised() -> None:
    arrays, media = as_media(Video(np.zeros((4, 20, 30, 3), np.uint8)))
    assert media.video and media.n_frames == 4 and arrays[0].shape == (4, 20, 30, 3)
    with pytest.raises(ValueError, match="same size"):
        as_media(Video([np.zeros((20, 30, 3), np.uint8), np.zeros((10, 30, 3), np.uint8)]))


def test_plain_layouts_follow_the_processor_when_there_is_no_chat_template() -> None:
    from types import SimpleNamespace

    from tam_widget.families import FAMILIES
    from tam_widget.runtime.prompt import build_text

    media = as_media(np.zeros((8, 8, 3), np.uint8))[1]
    pixtral = SimpleNamespace(image_token="[IMG]", chat_template=None)
    clip = SimpleNamespace(image_token="<image>", chat_template=None)
    assert build_text(FAMILIES["llava"], pixtral, "hi", media) == ("<s>[INST][IMG]hi[/INST]", True)
    assert build_text(FAMILIES["llava"], clip, "hi", media) == ("USER: <image>\nhi ASSISTANT:", True)
