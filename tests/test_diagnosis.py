"""Hallucination diagnosis (spec ``eagle.md`` §6): the pure walk to the minimal correcting cut, AMCR
and CSR with the reference's quirk, the whole procedure on a toy scorer and answerer with a known
culprit region, the three-panel views, and on the teaching model a real wrong colour word traced
to the patch that causes it.
"""

from __future__ import annotations

import base64
import io
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tam_widget.core.eagle_search import eagle_search, images_needed
from tam_widget.diagnosis import Diagnosis, amcr, csr_at, diagnose, minimal_correction, removed_mask, says
from tam_widget.diagnosis.answers import Prefixes

AREA = np.array([0.1, 0.3, 0.6, 0.8, 1.0])


@pytest.mark.parametrize(
    ("corrected", "k", "r"),
    [
        ([1, 1, 1, 0, 0], 3, 0.4),  # two tail regions removed
        ([0, 1, 0, 1, 0], 4, 0.2),  # from the tail: the longest correct prefix, not the shortest
        ([0, 0, 0, 0, 1], 5, 0.0),  # the full image is already correct
        ([0, 0, 0, 0, 0], None, 1.0),  # nothing corrects it
        ([1, 0, 0, 0, 0], 1, 0.9),
    ],
)
def test_the_cut_is_the_longest_correct_prefix(corrected: list[int], k: int | None, r: float) -> None:
    got_k, got_r = minimal_correction(AREA, [bool(c) for c in corrected])
    assert got_k == k and got_r == pytest.approx(r)


def test_the_walk_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="region_area and corrected must be 1-D of the same length"):
        minimal_correction(AREA, [True, False])


def test_the_removed_mask_is_the_tail_of_the_order() -> None:
    regions = np.array([[0, 1], [2, 3]])
    order = np.array([2, 0, 3, 1])
    np.testing.assert_array_equal(removed_mask(order, regions, 2), [[False, True], [False, True]])
    assert not removed_mask(order, regions, 4).any() and removed_mask(order, regions, None).all()


@pytest.mark.parametrize(
    ("text", "word", "ok"),
    [("No, there is not.", "No", True), (" No", "No", True), ("Nothing", "No", False), ("no", "No", False),
     ("", "No", False), ("blue dotted", " blue ", True), ("New York.", "New York", True)],
)  # fmt: skip
def test_a_revised_answer_says_the_word_as_a_whole_word(text: str, word: str, ok: bool) -> None:
    assert says(text, word) is ok


R = [0.0, 0.05, 0.2, 1.0]  # the last sample: nothing corrected it


def test_amcr_counts_a_never_corrected_sample_as_one() -> None:
    assert amcr(R) == pytest.approx(1.25 / 4)
    assert amcr([SimpleNamespace(r=r) for r in R]) == pytest.approx(1.25 / 4)  # Diagnosis objects: their .r


def test_csr_leaves_never_corrected_samples_out_of_its_denominator_unless_told() -> None:
    assert csr_at(R, 0.10) == pytest.approx(2 / 3)  # the reference's quirk: 3 corrected samples
    assert csr_at(R, 0.10, reference_quirk=False) == pytest.approx(2 / 4)
    assert csr_at(R, 1.0, reference_quirk=False) == pytest.approx(3 / 4)  # never corrected is never a success
    assert math.isnan(csr_at([1.0, 1.0]))


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: amcr([]), "diagnoses is empty"), (lambda: amcr([0.2, 1.5]), r"diagnoses\[1\]"),
     (lambda: csr_at(R, -0.1), "budget must be")],
)  # fmt: skip
def test_bad_samples_are_refused(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# -- the whole procedure on a toy: 12 regions, region 7 makes the answer wrong whenever it shows --

CULPRIT = 7
TOY_REGIONS = np.repeat(np.repeat(np.arange(12).reshape(3, 4), 2, axis=0), 2, axis=1)  # 6 x 8, 2 x 2 blocks
TOY_IMAGE = np.full((6, 8, 3), 100, np.uint8)
WEIGHTS = 1.0 + (np.arange(12) % 5)  # evidence for the correct word, unequal so the order is unique


def toy_score(images: np.ndarray) -> np.ndarray:
    """p(correct word): rises with the visible evidence, falls to a tenth while the culprit shows."""
    shown = np.stack([[(im.sum(-1) > 0)[r == TOY_REGIONS].mean() for r in range(12)] for im in images])
    evidence = (shown * WEIGHTS).sum(1) / WEIGHTS.sum()
    return (0.05 + 0.9 * evidence * (1 - 0.9 * shown[:, CULPRIT]))[:, None]


def toy_answer(images: np.ndarray) -> list[str]:
    """The model says the correct word ("No") exactly when the culprit region is hidden."""
    return ["Yes" if (im[TOY_REGIONS == CULPRIT].sum() > 0) else "No, it is not." for im in images]


def test_on_a_toy_the_cut_removes_exactly_the_culprit() -> None:
    result = eagle_search(TOY_IMAGE, TOY_REGIONS, toy_score)
    assert result.order[-1] == CULPRIT  # least support for the correct word: last
    prefixes = Prefixes(TOY_IMAGE, result.regions, result.order)
    answers = toy_answer(prefixes[:])
    k, r = minimal_correction(result.region_area, [says(a, "No") for a in answers])
    assert (k, r) == (11, pytest.approx(1 / 12))
    np.testing.assert_array_equal(removed_mask(result.order, result.regions, k), TOY_REGIONS == CULPRIT)


def test_a_prefix_image_shows_the_first_k_regions_only() -> None:
    order = np.array([3, 0, 11, 5] + [r for r in range(12) if r not in (3, 0, 11, 5)])
    images = Prefixes(TOY_IMAGE, TOY_REGIONS, order)[1:3]  # k = 2 and 3
    for image, k in zip(images, (2, 3), strict=True):
        shown = np.isin(TOY_REGIONS, order[:k])
        np.testing.assert_array_equal(image, TOY_IMAGE * shown[..., None])


# -- the views, on a diagnosis built by hand (no model) --


def toy_diagnosis(answer: str = "Yes <script>alert(1)</script>", k: int | None = 11) -> Diagnosis:
    result = eagle_search(TOY_IMAGE, TOY_REGIONS, toy_score)
    answers = toy_answer(Prefixes(TOY_IMAGE, result.regions, result.order)[:])
    corrected = np.array([says(a, "No") for a in answers])
    return Diagnosis(
        eagle=result, image=TOY_IMAGE, prompt="Is there a <b>cat</b>?", answer=answer, position=0, wrong="Yes",
        correct="No", correct_id=0, revised=tuple(answers), corrected=corrected, k=k,
        r=minimal_correction(result.region_area, corrected)[1] if k else 1.0, revised_answer="No & <i>none</i>",
    )  # fmt: skip


def test_the_notebook_output_is_a_png_and_escaped_html() -> None:
    bundle = toy_diagnosis()._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/html", "text/plain"}
    Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))).verify()
    page = bundle["text/html"]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;i&gt;none&lt;/i&gt;" in page and "<i>" not in page
    assert "8.3% of the image" in bundle["text/plain"]


def test_the_picture_dims_and_outlines_what_the_cut_removes() -> None:
    from tam_widget.diagnosis.picture import DIM, RED, removal_panel

    d = toy_diagnosis()
    panel = removal_panel(d, height=60).astype(float)
    culprit = np.kron(TOY_REGIONS == CULPRIT, np.ones((10, 10), bool))  # 6 x 8 -> 60 x 80
    outline = np.all(panel == RED, axis=-1)
    assert outline.any() and outline[culprit].any()  # a red outline along the cut
    inside, outside = panel[culprit & ~outline], panel[~culprit & ~outline]
    assert inside.size and np.allclose(inside, 100 * DIM, atol=1)  # dimmed to 30%
    assert np.allclose(outside, 100, atol=1)  # the rest as it was
    picture = d.picture()
    assert picture.width > 3 * 60 and picture.mode == "RGB"


def test_the_figure_has_three_panels_and_marks_the_cut() -> None:
    pytest.importorskip("plotly")
    d = toy_diagnosis()
    fig = d.figure()
    assert [t.type for t in fig.data] == ["image", "image", "scatter"]
    assert {"xaxis", "xaxis2", "xaxis3"} <= set(fig.layout)
    titles, answers = fig.layout.annotations[:3], fig.layout.annotations[3]
    assert [t.text[:3] for t in titles] == ["(a)", "(b)", "(c)"]
    assert "&lt;script&gt;" in answers.text and "<script>" not in answers.text  # the answers under the panels
    assert [s.x0 for s in fig.layout.shapes] == [pytest.approx(d.r)]  # the red line at the cut
    curve = fig.data[2]
    assert curve.x[0] == 0 and curve.x[-1] == 1 and len(curve.x) == d.eagle.n_regions + 1
    assert "<script>" not in fig.layout.title.text


def test_no_cut_is_drawn_when_nothing_corrects_it() -> None:
    d = toy_diagnosis(k=None)
    assert d.removed.all() and "no prefix" in d.summary()
    d.picture()  # draws


# -- the teaching model --


@pytest.fixture(scope="module")
def teaching() -> Any:
    from tam_widget import demo_model

    return demo_model()


FAST = {"division": 16, "variant": "efficient", "progress": False}


def with_patch(scene: Any, colour: str, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """The scene's image with a small square of ``colour`` in the corner farthest from its object, and its mask."""
    from tam_widget.teaching.scenes import COLOURS

    image, (y0, x0, _, _) = scene.image.copy(), scene.objects[0].box
    size = image.shape[0]
    py, px = (10 if y0 > size // 2 else size - 10 - side), (10 if x0 > size // 2 else size - 10 - side)
    image[py : py + side, px : px + side] = COLOURS[colour]
    mask = np.zeros(image.shape[:2], bool)
    mask[py : py + side, px : px + side] = True
    return image, mask


@pytest.mark.slow  # 11-36 s on two busy CPUs: ~170 scored images and ~16 generations
def test_a_wrong_colour_is_traced_to_the_patch_that_causes_it(teaching: Any) -> None:
    """A blue dotted disc and a small red square: the model says "a red striped shape and a blue …",
    naming the square first (red comes first in the caption order). Explaining "blue" there, the
    cut that makes it say "blue" removes the red square and none of the disc."""
    from tam_widget.teaching.scenes import PROMPT

    model, processor, make = teaching
    scene = make(1, n_objects=1)
    assert scene.caption == "a blue dotted shape ."
    image, patch = with_patch(scene, "red")
    d = diagnose(model, processor, image, PROMPT, wrong="red", correct="blue", **FAST)
    assert d.answer.startswith("a red ") and (d.position, d.wrong, d.meta["mode"]) == (1, "red", "generate")
    assert d.eagle.positions == (d.eagle.positions[0],) and d.eagle.n_tokens == 1
    assert d.meta["images_scored"] == images_needed(d.eagle.n_regions, "efficient")
    assert not d.corrected[-1] and d.k is not None and 0 < d.r < 1  # the full image is wrong; a cut fixes it
    assert d.score[-1] < 0.5 < d.score[d.k - 1]  # p("blue"): low on the full image, high once cut
    assert d.r == pytest.approx(1 - d.eagle.region_area[d.k - 1])
    removed = d.removed
    assert (removed & patch).sum() / patch.sum() > 0.9, "the cut removes the red square"
    assert (removed & scene.masks[0]).sum() / scene.masks[0].sum() < 0.1, "and leaves the blue disc"
    assert d.revised_answer.split()[:2] == ["a", "blue"] and "red" not in d.revised_answer


@pytest.mark.slow  # 2-25 s, as above
def test_a_teacher_forced_wrong_colour_the_model_would_not_say_needs_no_cut(teaching: Any) -> None:
    """The model gets seed 9's caption right; forcing "red" for its yellow object, the full image's
    revised answer already says "yellow" (r = 0), and EAGLE's top region for "yellow" lies on it."""
    from tam_widget.teaching.scenes import PROMPT

    model, processor, make = teaching
    scene = make(9)
    assert scene.caption.startswith("a yellow dotted shape")
    forced = scene.caption.replace("yellow", "red", 1)
    d = diagnose(model, processor, scene.image, PROMPT, answer=forced, wrong="red", correct="yellow", **FAST)
    assert d.meta["mode"] == "teacher-forced" and d.answer == forced and d.position == 1
    assert (d.k, d.r) == (d.eagle.n_regions, 0.0) and d.corrected[-1] and "already" in d.summary()
    assert d.eagle.org_score[0] > 0.9  # the token explained is "yellow", which the model expects there
    assert not d.removed.any() and d.revised_answer.startswith("a yellow dotted shape")
    first = d.eagle.regions == d.eagle.order[0]
    assert (first & scene.masks[scene.mask_of("yellow")]).sum() / first.sum() > 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"wrong": "green", "correct": "red"}, ValueError, r"wrong='green' is not in the answer"),
        ({"wrong": "blue", "correct": "blue"}, ValueError, "is what the answer already says"),
        ({"wrong": "blue", "position": 2, "correct": "red"}, ValueError, "reads 'dotted' at position 2"),
        ({"position": 40, "correct": "red"}, ValueError, r"position must be an integer in \[0, 9\], got 40"),
        ({"wrong": "blue", "correct": True}, TypeError, "correct must be the correct word"),
        ({"wrong": "blue", "correct": "zebra"}, ValueError, "not a word this tokenizer can write"),
        ({"wrong": "blue", "correct": "red", "divisions": 9}, TypeError, r"not \['divisions'\]"),
        ({"wrong": "blue", "correct": "red", "max_new_tokens": 0}, ValueError, "max_new_tokens must be"),
    ],
)
def test_bad_arguments_are_refused_before_the_search(
    teaching: Any, kwargs: dict[str, Any], error: type, match: str
) -> None:
    from tam_widget.teaching.scenes import PROMPT

    model, processor, make = teaching
    scene = make(9)
    forced = scene.caption.replace("yellow", "blue", 1)
    with pytest.raises(error, match=match):
        diagnose(model, processor, scene.image, PROMPT, answer=forced, progress=False, **kwargs)


def test_two_images_are_refused(teaching: Any) -> None:
    model, processor, make = teaching
    image = make(9).image
    with pytest.raises(ValueError, match="image must be one image"):
        diagnose(model, processor, [image, image], "describe the picture .", answer="a red", correct="blue")


def test_answers_in_one_batch_are_those_made_one_at_a_time(teaching: Any) -> None:
    """Masked copies share the prompt's ids, so a batch needs no padding and changes no answer."""
    from tam_widget.diagnosis.answers import Answerer
    from tam_widget.diagnosis.run import _inputs
    from tam_widget.families import family_for
    from tam_widget.teaching.scenes import PROMPT

    model, processor, make = teaching
    scene = make(3)
    image, inputs = _inputs(model, processor, family_for(model), scene.image, PROMPT, None)
    answerer = Answerer(model, processor, family_for(model), inputs, processor.tokenizer("a")["input_ids"])
    regions = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 84, axis=0), 84, axis=1)
    images = Prefixes(image, regions, np.random.default_rng(0).permutation(16))[3::4]  # k = 4, 8, 12, 16
    answerer.batch_size = 4
    together = answerer(images, 3)
    answerer.batch_size = 1
    assert together == answerer(images, 3) and answerer.calls == 1 + 4 and answerer.generated == 8
    assert together[-1][0] == processor.tokenizer.convert_tokens_to_ids("red")  # the full image: "a red …"


def test_the_correct_word_may_be_given_as_its_token_id(teaching: Any) -> None:
    from tam_widget.diagnosis.words import correct_token

    tokenizer = teaching[1].tokenizer
    blue, red = tokenizer.convert_tokens_to_ids(["blue", "red"])
    assert correct_token(tokenizer, "blue", red, "red") == ("blue", blue)
    assert correct_token(tokenizer, blue, red, "red") == ("blue", blue)
