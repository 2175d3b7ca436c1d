"""The explained items are the reference's, end to end, on a tiny Qwen2-VL with the real special-token ids.

The reference (xmed-lab/TAM ``demo.py`` + ``tam.py``) explains every generated token, the
generated ``<|im_end|>`` included, and finds the prompt's tokens by their positions between
template markers (``special_ids``: the prompt is ``tokens[vision_end + 1 : im_end]``, the answer
everything after ``<|im_start|>assistant\\n``), so a token that is only ``"\\n"`` is a prompt item
like any other. The tokenizer here puts the specials at Qwen2-VL's real ids (``<|endoftext|>``
151643 … ``<|video_pad|>`` 151656, ``"\\n"`` 198, ``assistant`` 77091, the ids of the reference's
Qwen2-VL ``special_ids``), so :func:`reference_span` below is the reference's own slicing, run on
the ids, and the items must match it.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch

from tam_widget import explain
from tam_widget.families import family_for
from tam_widget.runtime import passes
from tam_widget.runtime.prompt import locate_prompt
from tam_widget.runtime.text import locate
from tam_widget.testing.toy import noise_image, qwen2_vl_config, qwen2_vl_processor

# Qwen2-VL's added tokens in id order, from 151643 (as in its tokenizer.json)
QWEN2_VL_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
ENDOFTEXT, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD = (
    151643,
    151644,
    151645,
    151652,
    151653,
    151655,
    151656,
)
NEWLINE, ASSISTANT = 198, 77091  # "\n" (byte-level "Ċ") and "assistant" in Qwen2's vocabulary
VOCAB = 151936  # Qwen2-VL's embedding rows (the tokenizer has 151,657 ids)
IDS = {
    "image": IMAGE_PAD,
    "video": VIDEO_PAD,
    "vision_start": VISION_START,
    "vision_end": VISION_END,
    "eos": IM_END,
    "pad": ENDOFTEXT,
}
PRINTABLE = 94  # ids 0..93 are the bytes "!".."~" in GPT-2's byte order
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# InternVL's layout: the template puts a "\n" of its own between the image and the prompt
NEWLINE_TEMPLATE = QWEN_TEMPLATE.replace("<|vision_end|>{% else %}", "<|vision_end|>\n{% else %}")
PROMPT = "Name it.\nWhat colour?"
N_FREE = 4  # tokens the model picks before the forced <|im_end|>


def byte_chars() -> list[str]:
    """GPT-2's byte-to-character table in id order (Qwen2's first 256 ids: "\\n" is 198, " " is 220)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    rest = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + n) for n in range(len(rest))]


def qwen2_vl_tokenizer() -> Any:
    """Byte-level BPE whose ids are Qwen2-VL's where it matters: bytes at 0..255, ``assistant`` at
    77091 (merged from its letters), fillers up to 151642, then the specials at their real ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(byte_chars())}
    word = "assistant"
    merges = [(word[: n - 1], word[n - 1]) for n in range(2, len(word) + 1)]
    vocab.update({word[:n]: 256 + n for n in range(2, len(word))})
    vocab[word] = ASSISTANT
    taken = set(vocab.values())
    vocab.update({f"<|filler_{i}|>": i for i in range(ENDOFTEXT) if i not in taken})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(QWEN2_VL_SPECIALS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")


@pytest.fixture(scope="module")
def real_ids() -> tuple[Any, Any, np.ndarray]:
    """``(model, processor, image)``: a tiny Qwen2-VL over the full vocabulary, whose head prefers
    printable bytes (so a greedy answer reads as text and ``<|im_end|>`` comes only when forced)."""
    from transformers import Qwen2VLForConditionalGeneration

    tok = qwen2_vl_tokenizer()
    assert [tok.convert_tokens_to_ids(s) for s in QWEN2_VL_SPECIALS] == list(range(ENDOFTEXT, VIDEO_PAD + 1))
    assert tok("\nassistant")["input_ids"] == [NEWLINE, ASSISTANT]
    torch.manual_seed(0)
    model: Any = Qwen2VLForConditionalGeneration(qwen2_vl_config(vocab=VOCAB, ids=IDS)).eval()
    model.generation_config.eos_token_id = [IM_END, ENDOFTEXT]  # as Qwen2-VL-Instruct's generation_config
    with torch.no_grad():
        model.lm_head.weight[:PRINTABLE] *= 10
    processor = qwen2_vl_processor(tokenizer=tok)
    processor.chat_template = QWEN_TEMPLATE
    return model, processor, noise_image(84, 112)


def id_index(ids: list[int], target: int | list[int], last: bool) -> int:
    """The reference's ``id2idx``: an int's first index; a list's last occurrence (its last token with ``last``)."""
    if isinstance(target, int):
        return ids.index(target)
    n = len(target)
    hits = [i for i in range(len(ids) - n + 1) if ids[i : i + n] == target]
    return hits[-1] + (n - 1 if last else 0)


def reference_span(ids: list[int], start: int | list[int], end: int | list[int] | None) -> list[int]:
    """The positions the reference takes between two markers: ``[start + 1 : end]``."""
    stop = len(ids) if end is None else id_index(ids, end, last=False)
    return list(range(id_index(ids, start, last=True) + 1, stop))


def reference_items(ids: list[int], start: int | list[int]) -> tuple[list[int], list[int]]:
    """The reference's prompt and answer positions for Qwen2-VL's ``special_ids`` (InternVL's start marker
    ``[vision_end, "\\n"]`` when the template adds that newline)."""
    prompt = reference_span(ids, start, [IM_END, NEWLINE, IM_START, ASSISTANT])
    answer = reference_span(ids, [NEWLINE, IM_START, ASSISTANT, NEWLINE], None)
    return prompt, answer


def generated(real_ids: tuple[Any, Any, np.ndarray], prompt: str = PROMPT, template: str = QWEN_TEMPLATE) -> Any:
    model, processor, image = real_ids
    processor = copy.copy(processor)
    processor.chat_template = template
    return explain(model, processor, image, prompt, max_new_tokens=N_FREE + 1, forced_eos_token_id=IM_END)


def test_generate_keeps_the_end_of_turn_token_and_whitespace_prompt_tokens(real_ids: Any) -> None:
    exp = generated(real_ids)
    answer = exp.token_ids[exp.answer_start :]
    assert len(answer) == N_FREE + 1 and answer[-1] == IM_END and exp.meta["stopped"]
    assert all(t < PRINTABLE for t in answer[:-1])  # the model's own picks, then the forced end of turn
    # the items, spelled out: every prompt token ("\n" and the spaces too), then every answer token
    assert exp.item_texts == [*PROMPT, *exp.text, "<|im_end|>"]
    assert exp.item_texts[7:10] == [".", "\n", "W"] and exp.prompt_positions[7:10] == [27, 28, 29]
    assert exp.n_prompt == len(PROMPT) and exp.n_answer == N_FREE + 1
    # the tokens keep their true text; the answer's text leaves the special token out
    assert exp.tokens[exp.answer_start :] == [*exp.text, "<|im_end|>"]
    assert exp.text == "".join(exp.tokens[exp.answer_start : -1]) and len(exp.text) == N_FREE
    # the reference's evaluation list has one map per generated token, the end of turn included
    assert exp.tam.eval_maps().shape == (N_FREE + 1, 12)


@pytest.mark.parametrize(
    ("template", "prompt", "start"),
    [
        (QWEN_TEMPLATE, PROMPT, VISION_END),
        (QWEN_TEMPLATE, " Name it.\n", VISION_END),  # the user's own edge whitespace is inside the span
        (NEWLINE_TEMPLATE, "\nName it.\nWhy?", [VISION_END, NEWLINE]),  # the template's "\n" is not
    ],
    ids=["newline-inside", "user-edge-whitespace", "template-newline"],
)
def test_items_are_the_reference_spans(real_ids: Any, template: str, prompt: str, start: Any) -> None:
    exp = generated(real_ids, prompt, template)
    ref_prompt, ref_answer = reference_items(exp.token_ids, start)
    assert exp.prompt_positions == ref_prompt
    assert exp.item_positions == ref_prompt + ref_answer
    assert exp.item_texts[: exp.n_prompt] == list(prompt)


def test_generate_and_teacher_forcing_the_same_ids_give_the_same_items_and_maps(real_ids: Any) -> None:
    model, processor, image = real_ids
    gen = generated(real_ids)
    forced = explain(model, processor, image, PROMPT, answer=gen.token_ids[gen.answer_start :])
    assert forced.meta["mode"] == "teacher-forced" and not forced.meta["stopped"]
    assert forced.token_ids == gen.token_ids and forced.item_positions == gen.item_positions
    assert forced.item_texts == gen.item_texts and forced.item_texts[-1] == "<|im_end|>"
    assert forced.text == gen.text
    torch.testing.assert_close(forced.maps().image, gen.maps().image, atol=1e-5, rtol=0)
    torch.testing.assert_close(forced.maps().text, gen.maps().text, atol=1e-5, rtol=0, equal_nan=True)
    g, f = gen.tam.eval_maps(), forced.tam.eval_maps()
    assert g.shape == f.shape == (gen.n_answer, 12)
    assert int((g.int() - f.int()).abs().max()) <= 1  # uint8: one step of rounding at most
    np.testing.assert_array_equal(forced.top_ids, gen.top_ids)
    np.testing.assert_allclose(forced.top_probs, gen.top_probs, rtol=1e-4)


def template_text(processor: Any) -> str:
    content = [{"type": "image"}, {"type": "text", "text": PROMPT}]
    return str(processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True))


def full_forward_probs(real_ids: Any, token_ids: list[int], answer_start: int) -> np.ndarray:
    """Independently: one forward over the whole sequence, full-vocabulary softmax, the probability of
    each answer token at the position that predicts it."""
    model, processor, image = real_ids
    inputs = processor(text=[template_text(processor)], images=[image], return_tensors="pt")
    assert inputs["input_ids"][0].tolist() == token_ids[:answer_start]
    seq = torch.tensor([token_ids])
    n = seq.shape[1] - answer_start
    type_ids = torch.cat([inputs["mm_token_type_ids"], torch.zeros(1, n, dtype=torch.long)], dim=1)
    with torch.no_grad():
        logits = model(
            input_ids=seq,
            attention_mask=torch.ones_like(seq),
            pixel_values=inputs["pixel_values"],
            image_grid_thw=inputs["image_grid_thw"],
            mm_token_type_ids=type_ids,
            use_cache=False,
        ).logits[0]
    probs = logits.double().softmax(-1)
    rows = torch.arange(answer_start - 1, seq.shape[1] - 1)
    return probs[rows, seq[0, answer_start:]].numpy()


def test_chosen_probs_of_a_generated_answer(real_ids: Any) -> None:
    exp = generated(real_ids)
    assert exp.chosen_probs is not None and exp.chosen_probs.dtype == np.float32
    assert exp.chosen_probs.shape == (exp.n_answer,)
    np.testing.assert_allclose(
        exp.chosen_probs, full_forward_probs(real_ids, exp.token_ids, exp.answer_start), rtol=1e-4
    )
    # greedy picks are the top candidate, with the very same number; the forced <|im_end|> is not in the top k
    np.testing.assert_array_equal(exp.chosen_probs[:-1], exp.top_probs[:-1, 0])
    assert IM_END not in exp.top_ids[-1] and exp.chosen_probs[-1] < exp.top_probs[-1, -1]


def test_chosen_probs_are_the_models_own_when_generation_picks_another_token(real_ids: Any) -> None:
    """A logits processor (here ``sequence_bias``) makes generate pick "\\n" at every step, which the model
    itself ranks low: each step's probability is read once the next step feeds the token back."""
    model, processor, image = real_ids
    exp = explain(model, processor, image, PROMPT, max_new_tokens=N_FREE, sequence_bias={(NEWLINE,): 1e4})
    assert exp.token_ids[exp.answer_start :] == [NEWLINE] * N_FREE and exp.text == "\n" * N_FREE
    assert not (exp.top_ids == NEWLINE).any()
    assert exp.chosen_probs is not None and (exp.chosen_probs < exp.top_probs[:, -1]).all()
    np.testing.assert_allclose(
        exp.chosen_probs, full_forward_probs(real_ids, exp.token_ids, exp.answer_start), rtol=1e-4
    )


def test_chosen_probs_of_a_teacher_forced_answer_outside_the_top_k(real_ids: Any) -> None:
    model, processor, image = real_ids
    answer = [NEWLINE, ASSISTANT, 5000, PRINTABLE + 3, IM_END]  # nothing the head prefers
    exp = explain(model, processor, image, PROMPT, answer=answer)
    assert exp.chosen_probs is not None and exp.chosen_probs.shape == (len(answer),)
    assert not any(t in row for t, row in zip(answer, exp.top_ids.tolist(), strict=True))
    assert (exp.chosen_probs < exp.top_probs[:, -1]).all()
    np.testing.assert_allclose(
        exp.chosen_probs, full_forward_probs(real_ids, exp.token_ids, exp.answer_start), rtol=1e-4
    )


def test_without_reference_quirks_the_answer_stops_before_the_end_of_turn(real_ids: Any) -> None:
    """``reference_quirks=False`` keeps the earlier behaviour: no end of turn, no whitespace-only prompt items."""
    model, processor, image = real_ids
    exp = generated(real_ids)
    L0 = exp.answer_start
    inputs = processor(text=[template_text(processor)], images=[image], return_tensors="pt")
    family = family_for(model)
    runs = {
        quirks: passes.run(
            model,
            family,
            dict(inputs),
            processor.tokenizer,
            answer=None,
            max_new_tokens=N_FREE + 1,
            top_k=3,
            generate_kwargs={"forced_eos_token_id": IM_END},
            reference_quirks=quirks,
        )
        for quirks in (True, False)
    }
    assert runs[True].sequence.tolist() == exp.token_ids and runs[True].stopped
    assert runs[False].sequence.tolist() == exp.token_ids[:-1] and runs[False].stopped
    for quirks, run in runs.items():
        n = run.sequence.numel() - L0
        assert run.top_ids.shape == (n, 3) and run.chosen_probs.shape == (n,) and run.hidden.shape[0] == L0 + n
        assert run.mode == "generate" and not run.was_training and quirks == (n == N_FREE + 1)
    texts, special = exp.tokens[:L0], exp.special[:L0]
    layout = exp.tam.layout
    kept = locate_prompt(texts, special, layout, PROMPT, None, reference_quirks=True)
    words = locate_prompt(texts, special, layout, PROMPT, None, reference_quirks=False)
    assert kept == exp.prompt_positions
    assert words == [p for p in kept if texts[p].strip()] and len(words) == len(PROMPT) - 3


def test_locate_keeps_what_lies_in_the_span_and_nothing_around_it() -> None:
    """Token by token: ``"\\n"`` between words, the needle's own edge whitespace and the first bytes of a
    split character are in; the template's whitespace next to the needle is out."""
    texts = ["user", "\n", "\n", "", "é", " ", "\n", "ok", "\n", "\n", "<|im_end|>"]
    cand = [True] * 10 + [False]
    assert locate(texts, cand, "é \nok", blank=True) == [3, 4, 5, 6, 7]
    assert locate(texts, cand, "\né \nok\n", blank=True) == [2, 3, 4, 5, 6, 7, 8]  # one "\n" each side
    assert locate(texts, cand, "é \nok", blank=False) == [4, 7]  # without quirks: the words only
