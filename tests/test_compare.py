"""``compare``: two explanations' items aligned by word (token for token under one tokenizer, first
tokens under two), the difference of aligned maps where the grids match, and the changed rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tam_widget import Explanation, demo_model, explain
from tam_widget.compare import compare
from tam_widget.teaching import PROMPT
from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor


@pytest.fixture(scope="module")
def pair() -> tuple[Explanation, Explanation]:
    model, processor, make = demo_model()
    exp = explain(model, processor, make(2).image, PROMPT, answer="a red dotted shape and a green striped shape .")
    return exp, exp.what_if("a red dotted shape and a blue striped shape .")


def test_an_answer_and_its_what_if_align_token_for_token(pair: tuple[Explanation, Explanation]) -> None:
    a, b = pair
    cmp = compare(a, b, labels=("said", "what if"))
    assert len(cmp.rows) == len(a.item_texts) == len(b.item_texts)
    assert all(r.a == r.b == k for k, r in enumerate(cmp.rows))
    edited = [k for k, r in enumerate(cmp.rows) if not r.same_token]
    assert [(cmp.rows[k].text_a.strip(), cmp.rows[k].text_b.strip()) for k in edited] == [("green", "blue")]
    changed = cmp.changed()
    before = edited[0]
    assert not any(changed[:before])  # the prompt and the answer before the edit: the same pass, the same maps
    assert changed[before]
    later = [k for k in range(before + 1, len(cmp.rows)) if cmp.rows[k].same_token]
    assert any(changed[k] for k in later)  # the same later words, whose maps the edit moved (their ECI context)
    for k in range(before):
        assert all(np.abs(d).max() == 0 for d in cmp.difference(k))
    d = cmp.difference(before)
    assert d[0].shape == a.views[0].grid and d[0].min() >= -1 and d[0].max() <= 1
    assert cmp.partner(before) == before and cmp.partner(before, "b") == before


def test_two_tokenizers_align_by_word() -> None:
    model, processor, make = demo_model()
    words = "a red dotted shape ."
    a = explain(model, processor, make(2).image, PROMPT, answer=words)
    toy = qwen2_vl_model(seed=1, hidden=32, layers=1, vision_width=32, vision_depth=1)
    b = explain(toy, qwen2_vl_processor(), make(2).image[:224, :224], PROMPT, answer=words)  # byte-level tokens
    cmp = compare(a, b)
    answer_rows = [r for r in cmp.rows if r.a is not None and r.a >= a.n_prompt]
    paired = {r.text_a.strip(): r.text_b for r in answer_rows}
    assert set(paired) == {"a", "red", "dotted", "shape", "."}
    for word, first in paired.items():
        assert word.startswith(first.strip()) and first.strip()  # each word's first token on both sides
    with pytest.raises(ValueError, match="grids differ"):
        cmp.difference(cmp.rows.index(answer_rows[1]))


def test_bad_arguments_are_refused(pair: tuple[Explanation, Explanation]) -> None:
    a, b = pair
    bad: list[tuple[Any, type[Exception], str]] = [
        (lambda: compare(a, "b"), TypeError, "b must be a tam_widget.Explanation"),
        (lambda: compare(a, b, labels="ab"), ValueError, "two strings"),
        (lambda: compare(a, b).partner(10_000), ValueError, "not an item"),
        (lambda: compare(a, b).difference(10_000), ValueError, "row"),
    ]
    for call, kind, text in bad:
        with pytest.raises(kind, match=text):
            call()


def test_a_row_with_one_side_has_no_difference() -> None:
    model = qwen2_vl_model(seed=2, hidden=32, layers=1, vision_width=32, vision_depth=1)
    img = noise_image(56, 56)
    a = explain(model, qwen2_vl_processor(), img, "What is it?", answer="ok")
    b = a.what_if("ok then")
    cmp = compare(a, b)
    lonely = [k for k, r in enumerate(cmp.rows) if r.a is None]
    assert lonely and cmp.changed()[lonely[0]]
    with pytest.raises(ValueError, match="one side only"):
        cmp.difference(lonely[0])


def test_tam_beside_eagle_subtracts_eagles_map_at_the_tokens_it_explained() -> None:
    model, processor, make = demo_model()
    image, answer = make(2).image, "a red dotted shape ."
    tam = explain(model, processor, image, PROMPT, answer=answer)
    options = {
        "eagle": {"division": 9, "variant": "efficient", "search_scope": 3, "pending_samples": 2, "update_step": 3}
    }
    eagle = explain(
        model, processor, image, PROMPT, answer=answer, method=["eagle", "tam"], tokens=[1], options=options
    )
    cmp = compare(tam, eagle)
    row = next(i for i, r in enumerate(cmp.rows) if r.a == tam.n_prompt + 1)  # "red", which EAGLE explained
    grid = eagle.results["eagle"]
    from tam_widget.methods import get_method

    arrays, _ = get_method("eagle").wire_arrays(grid, eagle)
    want = tam.view_maps(tam.n_prompt + 1)[0] - arrays["grid"].reshape(tam.views[0].grid)
    np.testing.assert_allclose(cmp.difference(row)[0], want, atol=1e-6)
    with pytest.raises(ValueError, match="was not explained by EAGLE"):
        cmp.difference(row + 1)
    changed = cmp.changed()  # rows EAGLE did not explain are not "changed" (nothing to compare)
    assert changed[row] and not changed[row + 1]
