"""``Explanation.class_map`` and ``contrast``: every candidate kept at explain time has a map at every
item; tokens are found by id or text, or refused clearly; the candidate set survives a file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from tam_widget import Explanation
from tam_widget.cli.demo import demo_explanation


@pytest.fixture(scope="module")
def exp() -> Explanation:
    return demo_explanation()


def test_every_top_candidate_of_every_step_has_a_map(exp: Explanation) -> None:
    for r, ids in enumerate(exp.top_ids):
        item = exp.n_prompt + r
        for token in ids.tolist():
            maps = exp.class_map(item, token)
            assert [m.shape for m in maps] == [tuple(v.grid) for v in exp.views]
            assert all(np.isfinite(m).all() and m.min() >= 0 and m.max() <= 1 for m in maps)


def test_the_items_own_token_gives_its_own_map(exp: Explanation) -> None:
    for item in range(exp.n_prompt + 1, len(exp.item_positions)):  # item P reads the token before the answer
        own = exp.view_maps(item, 0.7)
        by_id = exp.class_map(item, exp.token_ids[exp.item_positions[item]], 0.7)
        by_text = exp.class_map(item, exp.item_texts[item], 0.7)
        for a, b, c in zip(own, by_id, by_text, strict=True):
            np.testing.assert_allclose(b, a, atol=1e-6)
            np.testing.assert_array_equal(b, c)


def test_candidates_differ_and_the_contrast_is_their_difference(exp: Explanation) -> None:
    item = exp.n_prompt + 1
    a, b = (int(i) for i in exp.top_ids[1][:2])
    ma, mb = exp.class_map(item, a)[0], exp.class_map(item, b)[0]
    assert np.abs(ma - mb).max() > 0.1  # two colour words look at different places
    c = exp.contrast(item, a, b)[0]
    np.testing.assert_allclose(c, ma - mb, atol=1e-7)
    assert c.min() >= -1 and c.max() <= 1
    np.testing.assert_array_equal(exp.contrast(item, a, a)[0], 0 * ma)


def test_text_is_matched_exactly_then_loosely(exp: Explanation) -> None:
    item = exp.n_prompt + 1
    text, token = exp.top_texts[1][1], int(exp.top_ids[1][1])
    np.testing.assert_array_equal(exp.class_map(item, f"  {text.upper()} ")[0], exp.class_map(item, token)[0])


def test_an_ambiguous_text_asks_for_the_id(exp: Explanation) -> None:
    top_texts = [list(t) for t in exp.top_texts]
    top_texts[1][2] = top_texts[1][1]  # two ids, one text
    twin = dataclasses.replace(exp, top_texts=top_texts)
    with pytest.raises(ValueError, match=r"token 'purple|token .* matches token ids \[\d+, \d+\]"):
        twin.class_map(exp.n_prompt + 1, top_texts[1][1])


@pytest.mark.parametrize(
    ("token", "error", "match"),
    [
        ("zebra", ValueError, r"token 'zebra' is not a token this explanation knows; at item \d+ the candidates are"),
        (True, TypeError, r"token must be a token id \(int\) or a token's text \(str\), got bool"),
        (2.0, TypeError, r"got float"),
        (None, TypeError, r"got NoneType"),
        (10_000, ValueError, r"token id\(s\) \[10000\] have no map in this explanation"),
    ],
)
def test_bad_tokens_are_refused(exp: Explanation, token: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        exp.class_map(exp.n_prompt + 1, token)  # type: ignore[arg-type]


def test_bad_items_and_settings_are_refused(exp: Explanation) -> None:
    with pytest.raises(ValueError, match="item"):
        exp.class_map(len(exp.item_positions), "green")
    with pytest.raises(ValueError, match="eci_scale"):
        exp.contrast(exp.n_prompt + 1, "green", "purple", eci_scale=3.0)
    with pytest.raises(TypeError, match="b must be a token id"):
        exp.contrast(exp.n_prompt + 1, "green", 1.5)  # type: ignore[arg-type]


def test_the_candidates_survive_a_file(exp: Explanation, tmp_path: Path) -> None:
    back = Explanation.load(exp.save(tmp_path / "x.safetensors"))
    item = exp.n_prompt + 3
    for token in exp.top_ids[3].tolist():
        np.testing.assert_array_equal(back.class_map(item, token)[0], exp.class_map(item, token)[0])


def _rewrite(src: Path, dst: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    with safe_open(str(src), framework="pt") as f:
        header = json.loads(f.metadata()["tam_widget"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    edit(tensors)
    save_file(tensors, str(dst), metadata={"tam_widget": json.dumps(header)})
    return dst


def test_a_file_without_candidates_still_loads(exp: Explanation, tmp_path: Path) -> None:
    def strip(t: dict[str, torch.Tensor]) -> None:
        for k in [k for k in t if k.startswith("tam.candidate_")]:
            del t[k]

    old = Explanation.load(_rewrite(exp.save(tmp_path / "a.safetensors"), tmp_path / "b.safetensors", strip))
    item = exp.n_prompt + 2
    np.testing.assert_array_equal(
        old.class_map(item, exp.item_texts[item])[0], exp.class_map(item, exp.item_texts[item])[0]
    )
    other = int(exp.tam.candidates.classes[0])  # type: ignore[union-attr]  # a candidate no item reads
    with pytest.raises(ValueError, match="no map in this explanation"):
        old.class_map(item, other)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.pop("tam.candidate_R"), r"tam.candidate_R'\] are missing \(the candidate set is partial\)"),
        (lambda t: t.__setitem__("tam.candidate_classes", t["tam.candidate_classes"].flip(0)), "increasing order"),
        (lambda t: t.__setitem__("tam.candidate_A", t["tam.candidate_A"][:, :-1].contiguous()), "tam.candidate_A' is"),
        (lambda t: t["tam.candidate_R"].view(-1).__setitem__(0, float("nan")), "candidate_R' holds NaN"),
        (lambda t: t.__setitem__("tam.candidate_classes", t["tam.candidate_classes"].int()), "must be \\(U,\\) int64"),
    ],
)
def test_a_corrupted_candidate_set_is_refused(exp: Explanation, tmp_path: Path, edit, match: str) -> None:  # type: ignore[no-untyped-def]
    bad = _rewrite(exp.save(tmp_path / "a.safetensors"), tmp_path / "b.safetensors", edit)
    with pytest.raises(ValueError, match=match):
        Explanation.load(bad)
