"""The widget's what-if messages (whatif_widget.py): a request from the page makes the comparison
payload whose side b is the explanation ``exp.what_if`` / ``exp.continue_with`` gives, crossed as a
CompareWidget's side b would; a bad or failing request changes only the status's error message."""

from __future__ import annotations

from typing import Any

import pytest

from tam_widget import demo_model, explain
from tam_widget.compare import compare
from tam_widget.display.compare_widget import compare_meta
from tam_widget.display.whatif_widget import MAX_ANSWER_CHARS
from tam_widget.display.widget import TAMWidget
from tam_widget.display.wire import encode
from tam_widget.explanation import Explanation
from tam_widget.teaching import PROMPT


@pytest.fixture(scope="module")
def teaching() -> Any:
    return demo_model()  # (model, processor, make_scene): held here, as an explanation holds its model weakly


@pytest.fixture(scope="module")
def exp(teaching: Any) -> Explanation:
    model, processor, make = teaching
    return explain(model, processor, make(2).image, PROMPT, answer="a red dotted shape and a green striped shape .")


def send(w: TAMWidget, content: Any) -> dict[str, Any]:
    """The page's model.send(content), as ipywidgets hands it to the widget; returns the status."""
    w._handle_custom_msg(content, [])
    return dict(w._what_if_status)


def test_the_status_says_a_kernel_answers(exp: Explanation) -> None:
    w = exp.widget()
    assert w._what_if_status == {"kernel": True, "busy": False, "error": "", "request": 0, "answer": exp.text}
    assert w._what_if == {} and w.what_if_comparison is None


def test_a_what_if_message_shows_the_new_explanation_beside_the_old(exp: Explanation) -> None:
    w = exp.widget()
    text = "a red dotted shape and a blue striped shape ."
    status = send(w, {"what_if": text, "request": 7})
    assert status["error"] == "" and status["busy"] is False and status["request"] == 7
    want = exp.what_if(text)
    data, meta, images = encode(want)
    assert w._what_if_data == data and w._what_if["meta"] == meta and w._what_if_images == images
    assert w._what_if["compare"] == compare_meta(compare(exp, want, labels=("said", "what if")))
    assert w._what_if["request"] == 7 and w.what_if_comparison is not None
    assert w.what_if_comparison.b.text == want.text and w.what_if_comparison.a is exp
    assert any(w._what_if["compare"]["changed"])


def test_a_continue_with_message_continues_from_the_candidate(exp: Explanation) -> None:
    w = exp.widget()
    item = exp.n_prompt + 1  # " red"
    token = int(exp.top_ids[1][1])  # its second candidate
    assert send(w, {"continue_with": [item, token], "request": 1})["error"] == ""
    assert w.what_if_comparison is not None
    assert w.what_if_comparison.b.token_ids == exp.continue_with(item, token).token_ids


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("what if", "JSON object"),
        ({"what_if": 3}, "answer's text"),
        ({"what_if": "  "}, "empty"),
        ({"what_if": "a" * (MAX_ANSWER_CHARS + 1)}, f"at most {MAX_ANSWER_CHARS}"),
        ({"what_if": "a", "continue_with": [1, 2]}, "one of"),
        ({"what_if": "a", "eval": "x"}, "one of"),
        ({"what_if": "a", "request": "1"}, "'request'"),
        ({"continue_with": [1]}, "[item, token id]"),
        ({"continue_with": [10_000, 1]}, "item must be"),
        ({"continue_with": [True, 1]}, "item must be"),
        ({"continue_with": [0, 1]}, "prompt token"),
        ({"continue_with": [10, -1]}, "token id"),
    ],
)
def test_a_bad_message_is_an_error_message_and_nothing_else_changes(
    exp: Explanation, content: Any, message: str
) -> None:
    w = exp.widget()
    w._what_if = before = {"sentinel": 1}
    status = send(w, content)
    assert message in status["error"] and status["busy"] is False
    assert "Traceback" not in status["error"] and w._what_if == before and w.what_if_comparison is None


def test_a_loaded_explanation_says_it_does_not_know_its_model(exp: Explanation, tmp_path: Any) -> None:
    path = exp.save(tmp_path / "exp.npz")
    w = Explanation.load(path).widget()
    status = send(w, {"what_if": "a blue shape .", "request": 2})
    assert "does not know its model" in status["error"] and status["request"] == 2
    assert w._what_if == {} and w._what_if_data == b""


def test_a_deleted_model_is_an_error_message() -> None:
    model, processor, make = demo_model()
    exp = explain(model, processor, make(1).image, PROMPT, answer="a red shape .")
    w = exp.widget()
    del model
    status = send(w, {"what_if": "a blue shape ."})
    assert "was deleted" in status["error"] and w._what_if == {}


def test_the_browser_may_not_set_the_what_if_traits(exp: Explanation) -> None:
    w = exp.widget()
    w.set_state({"_what_if_status": {"kernel": False}, "_what_if": {"compare": {}}})
    assert w._what_if_status["kernel"] is True and w._what_if == {}
