"""The evaluation runner's parts: rows on disk, the pooled summary, method names, the answer's words,
and ``evaluate`` from Python (every method's row, EAGLE's included, and a refused resume)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tam_widget.evaluation.answer_words import answer_words, word_level
from tam_widget.evaluation.datasets import open_dataset, scenes_dataset, write_coco
from tam_widget.evaluation.datasets.base import Dataset
from tam_widget.evaluation.eval_methods import eval_methods
from tam_widget.evaluation.plausibility import SampleScores, aggregate
from tam_widget.evaluation.records import RESULTS, append, read, write_all
from tam_widget.evaluation.runner import evaluate
from tam_widget.evaluation.sample_scores import Settings
from tam_widget.evaluation.summary import method_figures, summarise, table
from tam_widget.teaching import PROMPT, demo_model
from tam_widget.testing.toy import make_tokenizer


def _row(sample: str, method: str = "tam", **metrics: Any) -> dict[str, Any]:
    return {"sample": sample, "method": method, "metrics": metrics}


def test_rows_keep_non_finite_numbers_and_skip_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / RESULTS
    first = _row("a", precision=[math.nan, 0.25], insertion_auc=math.inf, deletion_auc=0.1 + 0.2)
    append(path, first)
    with path.open("a") as f:
        f.write('{"sample": "b", "method": "tam", "metr')  # a kill mid-write
    rows = list(read(path))
    assert len(rows) == 1
    assert math.isnan(rows[0]["metrics"]["precision"][0]) and rows[0]["metrics"]["insertion_auc"] == math.inf
    assert rows[0]["metrics"]["deletion_auc"] == 0.1 + 0.2  # bit-equal through the file
    json.loads(path.read_text().splitlines()[0])  # strict JSON: no bare NaN
    assert "NaN" in path.read_text().splitlines()[0]
    write_all(path, rows)
    assert len(path.read_text().splitlines()) == 1


def test_the_summary_pools_as_the_reference_main_does() -> None:
    lists = [
        ([0.5, 0.25], [1.0], [0.9], [0.8], [0.4, 0.2], [0.6, 0.1]),
        ([0.75], [0.5, 0.0], [0.7], [0.6], [1.0], [0.3]),
    ]
    names = ("obj_iou", "func_iou", "rouge_l", "meteor", "precision", "recall")
    rows = [_row(f"s{i}", **dict(zip(names, ls, strict=True))) for i, ls in enumerate(lists)]
    reference = aggregate([SampleScores(**dict(zip(names, ls, strict=True))) for ls in lists])
    got = method_figures(rows)
    for name in (*names, "f1_iou"):
        assert got[name] == reference[name], name  # exact: the same left-to-right sums
    rows[0]["metrics"].update(pointing=[1, 0, 1], insertion_auc=0.5, deletion_auc=None)
    rows[1]["metrics"].update(pointing=[0], insertion_auc=0.25, deletion_auc=0.125)
    got = method_figures(rows)
    assert (got["pointing"], got["insertion_auc"], got["deletion_auc"]) == (0.5, 0.375, 0.125)


def test_the_summary_has_no_figure_where_the_reference_divides_by_zero() -> None:
    got = method_figures([_row("s", obj_iou=[0.5], func_iou=[], precision=[math.nan])])
    assert got["func_iou"] is None and got["f1_iou"] is None and got["obj_iou"] == 0.5
    assert math.isnan(got["precision"])  # a NaN precision propagates, as in main()
    assert "—" in table({"methods": {"tam": got}})


def test_the_summary_does_not_depend_on_the_order_rows_arrive_in() -> None:
    rng = random.Random(0)
    rows = [_row(f"s{i}", m, obj_iou=[rng.random() for _ in range(3)]) for i in range(20) for m in ("tam", "cam")]
    order = {f"s{i}": i for i in range(20)}
    want = summarise(rows, order, ["tam", "cam"])
    rng.shuffle(rows)
    assert summarise(rows, order, ["tam", "cam"]) == want  # bit-equal: sorted into dataset order first


@pytest.mark.parametrize("names", ["tam,nope", "", "tam,tam", ["cam", 3]])
def test_unknown_or_repeated_method_names_are_refused(names: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="methods must"):
        eval_methods(names)


def test_a_byte_level_answer_is_read_exactly_as_the_reference_reads_it() -> None:
    tok = make_tokenizer(["<|im_end|>"], eos="<|im_end|>")
    ids = tok("a cat sat.<|im_end|>")["input_ids"]
    words = answer_words(tok, ids)
    assert not word_level(tok)
    assert words.tokens == tok.tokenize(tok.batch_decode([ids])[0])
    assert words.decodes == [tok.decode(tok.convert_tokens_to_ids(t)) for t in words.tokens]  # untouched
    assert words.output_text == "a cat sat."


def test_a_word_level_answer_gets_one_word_per_token_and_keeps_the_end_token_glued() -> None:
    _, processor, _ = demo_model()
    tok = processor.tokenizer
    ids = tok("a red striped shape .<|im_end|>")["input_ids"]
    words = answer_words(tok, ids)
    assert word_level(tok)
    assert words.decodes == ["a", " red", " striped", " shape", " .", "<|im_end|>"]
    from tam_widget.evaluation.words import group_words

    assert group_words(words.tokens, words.decodes)[0] == ["a", "red", "striped", "shape", ".<|im_end|>"]


@pytest.fixture(scope="module")
def teaching() -> tuple[Any, Any]:
    model, processor, _ = demo_model()
    return model, processor


@pytest.mark.slow
def test_evaluate_scores_every_method_and_refuses_to_resume_other_settings(
    teaching: tuple[Any, Any], tmp_path: Path
) -> None:
    model, processor = teaching
    data = scenes_dataset(3)
    eagle = {"division": 9, "variant": "efficient", "search_scope": 3, "pending_samples": 2, "update_step": 3}
    settings = Settings(max_new_tokens=40, steps=2, eagle=eagle)
    names = ["tam", "cam", "tam-no-eci", "tam-no-filter", "eagle"]
    quiet = {"report": False, "progress": False}
    summary = evaluate(model, processor, data, names, tmp_path, limit=2, settings=settings, **quiet)
    rows = list(read(tmp_path / RESULTS))
    assert [(r["sample"], r["method"]) for r in rows] == [(s.id, m) for s in list(data)[:2] for m in names]
    for row in rows:
        m = row["metrics"]
        assert len(m["pointing"]) == len(row["words"]) == len(m["word_insertion_auc"]) > 0
        assert 0 <= m["insertion_auc"] <= 1 and 0 <= m["deletion_auc"] <= 1
    eagle_rows = [r for r in rows if r["method"] == "eagle"]
    assert all(r["metrics"]["func_iou"] == [] and r["metrics"]["obj_iou"] for r in eagle_rows)
    assert summary["methods"]["eagle"]["func_iou"] is None
    tam_rows = [r for r in rows if r["method"] == "tam"]
    assert all(r["metrics"]["func_iou"] for r in tam_rows)
    other = Settings(max_new_tokens=40, steps=3, eagle=eagle)
    with pytest.raises(ValueError, match="other settings, steps"):
        evaluate(model, processor, data, names, tmp_path, limit=2, settings=other, **quiet)


def test_evaluate_checks_its_arguments_before_any_work(teaching: tuple[Any, Any], tmp_path: Path) -> None:
    model, processor = teaching
    data = Dataset("empty", [])
    with pytest.raises(ValueError, match="limit"):
        evaluate(model, processor, data, "tam", tmp_path, limit=0)
    with pytest.raises(ValueError, match="steps"):
        evaluate(model, processor, data, "tam", tmp_path, settings=Settings(steps=-1))
    with pytest.raises(ValueError, match="methods must"):
        evaluate(model, processor, data, "tam,gradcam", tmp_path)
    assert not list(tmp_path.iterdir())


def test_evaluate_refuses_two_samples_with_one_id(teaching: tuple[Any, Any], tmp_path: Path) -> None:
    model, processor = teaching
    one = scenes_dataset(1)[0]
    with pytest.raises(ValueError, match="share the id"):
        evaluate(model, processor, Dataset("twice", [one, one]), "tam", tmp_path)
    np.testing.assert_array_equal(one.image(), scenes_dataset(1)[0].image())


@pytest.mark.slow
def test_the_scenes_written_in_the_coco_layout_run_through_the_coco_reader(
    teaching: tuple[Any, Any], tmp_path: Path
) -> None:
    model, processor = teaching
    folder = write_coco(scenes_dataset(2), tmp_path / "coco")
    data = open_dataset(f"coco:{folder}")
    settings = Settings(max_new_tokens=40, steps=0, prompt=PROMPT)  # the teaching model's words
    summary = evaluate(model, processor, data, "tam", tmp_path / "run", settings=settings, report=False)
    rows = list(read(tmp_path / "run" / RESULTS))
    assert [r["sample"] for r in rows] == [s.id for s in data]
    assert all(r["metrics"]["insertion_auc"] is None for r in rows)  # steps 0: no faithfulness
    assert summary["dataset"] == data.name and summary["methods"]["tam"]["n_samples"] == 2
    assert all(len(r["metrics"]["rouge_l"]) == 1 for r in rows)  # scored against the written captions
