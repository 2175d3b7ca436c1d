"""EAGLE through ``explain``: the method list and per-method options, which tokens it explains,
the scorer built for it, the image count known in advance, and on the teaching model its map of a
colour word points at the object the word names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tam_widget import Explanation, demo_model, explain
from tam_widget.arguments import explained_positions, tokens_check
from tam_widget.core.eagle_search import images_needed
from tam_widget.method_runs import method_list, options_check
from tam_widget.teaching.scenes import COLOURS, PROMPT

EAGLE_FAST = {"eagle": {"variant": "efficient", "division": 16}}


@pytest.fixture(scope="module")
def teaching() -> Any:
    return demo_model()


@pytest.fixture(scope="module")
def both(teaching: Any) -> Explanation:
    model, processor, make = teaching
    return explain(
        model, processor, make(3).image, PROMPT, method=["tam", "eagle"], options=EAGLE_FAST, max_new_tokens=40
    )


def test_both_methods_run_on_one_pass_and_tam_is_unchanged(both: Explanation, teaching: Any) -> None:
    model, processor, make = teaching
    alone = explain(model, processor, make(3).image, PROMPT, max_new_tokens=40)
    assert list(both.results) == ["tam", "eagle"] and both.method == "tam"
    np.testing.assert_array_equal(both.maps().image.numpy(), alone.maps().image.numpy())
    eagle = both.results["eagle"]
    answer = list(range(both.answer_start, len(both.token_ids)))
    assert list(eagle.positions) == answer and eagle.n_tokens == len(answer)  # the whole answer, end of turn too
    assert eagle.images_scored == images_needed(eagle.n_regions, "efficient")
    assert set(both.meta["timings_s"]) == {"pass", "tam", "eagle"}


def test_the_full_image_probabilities_are_the_models_own(both: Explanation) -> None:
    """org_score is the teacher-forced probability of each answer token with the whole image: the
    chosen token's probability the generation recorded."""
    eagle = both.results["eagle"]
    np.testing.assert_allclose(eagle.org_score, np.asarray(both.chosen_probs, dtype=np.float64), atol=2e-3)


def test_explained_ids_read_another_token_than_the_answers_own(both: Explanation, teaching: Any) -> None:
    """``options={"eagle": {"explained_ids": [...]}}``: org_score is the probability of the given id at
    the explained position (here the runner-up candidate at the first colour word), not the answer's."""
    model, processor, make = teaching
    step = next(r for r in range(both.n_answer) if both.tokens[both.answer_start + r].strip() in COLOURS)
    runner_up, p = int(both.top_ids[step][1]), float(both.top_probs[step][1])
    assert runner_up != both.token_ids[both.answer_start + step]
    answer = both.token_ids[both.answer_start :]
    options = {"eagle": {"variant": "efficient", "division": 4, "explained_ids": [runner_up]}}
    given = dict(options["eagle"])
    exp = explain(
        model, processor, make(3).image, PROMPT, answer=answer, method="eagle", tokens=[step], options=options,
        progress=False,
    )  # fmt: skip
    assert options["eagle"] == given  # the caller's options are left as they were
    eagle = exp.results["eagle"]
    assert eagle.positions == (both.answer_start + step,)
    assert float(eagle.org_score[0]) == pytest.approx(p, abs=2e-3)
    with pytest.raises(ValueError, match="explained_ids"):
        bad = {"eagle": {"division": 4, "explained_ids": [runner_up, runner_up]}}
        explain(model, processor, make(3).image, PROMPT, answer=answer, method="eagle", tokens=[step], options=bad)


def test_a_saved_explanation_keeps_both(both: Explanation, tmp_path: Any) -> None:
    back = Explanation.load(both.save(tmp_path / "x.safetensors"))
    a, b = both.results["eagle"], back.results["eagle"]
    assert b.positions == a.positions and np.array_equal(b.order, a.order)
    np.testing.assert_array_equal(b.attribution_map(), a.attribution_map())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 5, 9])
def test_a_colour_words_map_points_at_the_object_it_names(teaching: Any, seed: int) -> None:
    model, processor, make = teaching
    scene = make(seed)
    colour = next(w for w in scene.caption.split() if w in COLOURS)
    exp = explain(
        model, processor, scene.image, PROMPT, method="eagle", tokens=colour, options=EAGLE_FAST, max_new_tokens=40
    )
    eagle = exp.result
    assert [exp.tokens[p].strip() for p in eagle.positions] == [colour]
    heat = eagle.attribution_map()
    mask = scene.masks[scene.mask_of(colour)]
    inside, outside = heat[mask].mean(), heat[~mask].mean()
    assert inside > outside + 0.3, f"{colour}: mean attribution {inside:.2f} on the object vs {outside:.2f} elsewhere"
    first = eagle.regions == eagle.order[0]  # the region EAGLE ranks first
    assert (first & mask).sum() / first.sum() > 0.5, "the first region lies mostly on the named object"
    assert mask.mean() < 0.2  # so hitting it is far above chance


@pytest.mark.parametrize(
    ("method", "error", "match"),
    [
        ([], TypeError, "method must be a method's name or a list"),
        (["tam", "tam"], ValueError, "each method once"),
        (["tam", "gradcam"], ValueError, r"method must be one of \['eagle', 'tam'\], got 'gradcam'"),
        (3, TypeError, "method must be"),
    ],
)
def test_bad_method_lists_are_refused(method: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        method_list(method)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ([1], TypeError, "options must be a dict of dicts"),
        ({"eagle": {}}, ValueError, r"'eagle', which is not among the methods run \(\['tam'\]\)"),
        ({"tam": 3}, TypeError, r"options\['tam'\] must be a dict"),
    ],
)
def test_bad_options_are_refused(options: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        options_check(options, method_list("tam"))


def test_an_unknown_eagle_option_is_refused_before_the_pass(teaching: Any) -> None:
    model, processor, make = teaching
    with pytest.raises(TypeError, match=r"not \['divisions'\]"):
        explain(model, processor, make(3).image, PROMPT, method="eagle", options={"eagle": {"divisions": 3}})


TEXTS = ["<s>", "q", " a", " red", "dish", " cat", "."]
WORDS = [0, 1, 2, 3, 3, 4, 5]


@pytest.mark.parametrize(
    ("tokens", "positions"),
    [(None, [2, 3, 4, 5, 6]), (0, [2]), (-1, [6]), ([3, 0, 3], [2, 5]), ("RedDish", [3, 4]), (" cat ", [5])],
)
def test_tokens_name_answer_positions(tokens: Any, positions: list[int]) -> None:
    assert explained_positions(tokens_check(tokens), TEXTS, WORDS, 2) == positions


@pytest.mark.parametrize(
    ("tokens", "error", "match"),
    [
        (True, TypeError, "tokens must be None"),
        ([1.0], TypeError, "tokens must be None"),
        ([], TypeError, "tokens must be None"),
        ("  ", ValueError, "must not be an empty word"),
        (5, ValueError, r"tokens \[5\] are outside the answer's 5 tokens"),
        ("dog", ValueError, "the word 'dog' is not in the answer"),
    ],
)
def test_bad_tokens_are_refused(tokens: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        explained_positions(tokens_check(tokens), TEXTS, WORDS, 2)


@pytest.mark.parametrize(
    ("n", "counts"),
    [
        (16, (272, 212, 152, 168)),
        (33, (1122, 584, 356, 416)),
        (64, (4160, 1412, 784, 944)),
        (125, (15750, 3602, 1814, 2264)),
    ],
)
def test_images_needed_is_the_specs_table(n: int, counts: tuple[int, ...]) -> None:
    got = (
        images_needed(n),
        images_needed(n, "efficient"),
        images_needed(n, "efficient", 6, 4, 15),
        images_needed(n, "efficient", 8, 4, 10),
    )
    assert got == counts
