"""Candidate maps: ``TAMResult.class_maps`` gives the map a class would have at an item.

The oracle is the core itself on an edited sequence: putting class ``c`` at item ``v``'s position
makes ``c`` item ``v``'s class and token, with every hidden state unchanged (TAM reads the hidden
states as given), so ``compute_tam``'s map of item ``v`` there is what ``class_maps(v, [c])`` must
return, for every setting of ECI and the filter.
"""

from __future__ import annotations

import pytest
import torch

from tam_widget.core import compute_tam
from tam_widget.testing.synthetic import make_case

CASE = make_case(n_prompt=5, n_answer=12, seed=3)


def _result(candidates: torch.Tensor | None = None, quirks: bool = True):  # type: ignore[no-untyped-def]
    return CASE.compute(candidates=candidates, reference_quirks=quirks)


def _edited(item: int, cls: int, quirks: bool = True):  # type: ignore[no-untyped-def]
    """The core on the sequence with ``cls`` at item ``item``'s position (an answer item after the first)."""
    pos = CASE.answer_start + item - CASE.prompt_positions.numel()
    ids = CASE.token_ids.clone()
    ids[pos] = cls
    return compute_tam(
        CASE.hidden, CASE.lm_head, ids, CASE.vision, CASE.prompt_positions, CASE.answer_start, reference_quirks=quirks
    )


@pytest.mark.parametrize("quirks", [True, False])
@pytest.mark.parametrize(("lam", "eci", "filt"), [(1.0, True, True), (0.5, True, False), (1.0, False, True)])
def test_class_map_equals_the_core_on_the_edited_sequence(quirks: bool, lam: float, eci: bool, filt: bool) -> None:
    P = CASE.prompt_positions.numel()
    extra = torch.tensor([3, 7, 250, 399])
    res = _result(extra, quirks)
    for item in (P + 1, P + 4, P + 11):
        got = res.class_maps(item, extra, lam, eci=eci, filter=filt)
        for j, cls in enumerate(extra.tolist()):
            want = _edited(item, cls, quirks).maps(lam, eci=eci, filter=filt).image[item]
            torch.testing.assert_close(got[j], want, atol=1e-6, rtol=1e-5)


def test_own_class_is_the_items_own_map_and_needs_no_candidates() -> None:
    res = _result()  # no candidate set: the items' own classes are still known
    assert res.candidates is None
    P = CASE.prompt_positions.numel()
    maps = res.maps(0.8).image
    for item in range(P + 1, res.n_items):
        torch.testing.assert_close(res.class_maps(item, res.classes[item : item + 1], 0.8)[0], maps[item])


def test_the_set_holds_each_extra_class_once_and_no_item_class() -> None:
    res = _result()
    own = res.classes[5:7]
    extra = _result(torch.tensor([[9, 9, 42], [int(own[0]), 42, int(own[1])]])).candidates
    assert extra is not None
    assert extra.classes.tolist() == sorted({9, 42} - set(res.classes.tolist()))
    assert tuple(extra.A.shape) == (extra.n_classes, res.A.shape[1])
    assert tuple(extra.R.shape) == (extra.n_classes, res.n_items)


def test_candidates_do_not_change_the_items_maps() -> None:
    plain, withc = _result(), _result(torch.arange(10, 60))
    for key in ("A", "E", "omega", "scale", "R"):
        torch.testing.assert_close(getattr(plain, key), getattr(withc, key), equal_nan=True, atol=0, rtol=0)


def test_a_class_without_a_map_is_refused_naming_it() -> None:
    res = _result(torch.tensor([3]))
    unknown = next(c for c in range(10, 400) if c not in res.classes.tolist() and c != 3)
    with pytest.raises(ValueError, match=rf"token id\(s\) \[{unknown}\] have no map.*larger top_k"):
        res.class_maps(8, torch.tensor([3, unknown]))


@pytest.mark.parametrize("bad", [[-1], [400], [5, 10_000]])
def test_candidate_ids_outside_the_vocabulary_are_refused(bad: list[int]) -> None:
    with pytest.raises(ValueError, match=r"candidates must be token ids in \[0, 400\)"):
        _result(torch.tensor(bad))


def test_a_head_row_with_nan_is_refused_for_a_candidate() -> None:
    row = next(c for c in range(10, 400) if c not in _result().classes.tolist())  # no item reads it
    head = CASE.lm_head.clone()
    head[row] = float("nan")
    with pytest.raises(ValueError, match=rf"candidate token ids \[{row}\]"):
        compute_tam(
            CASE.hidden,
            head,
            CASE.token_ids,
            CASE.vision,
            CASE.prompt_positions,
            CASE.answer_start,
            candidates=[row],
            reference_quirks=False,  # item 0 would take the NaN row by argmax
        )


def test_moves_with_the_result() -> None:
    res = _result(torch.tensor([3, 250])).to("cpu")
    assert res.candidates is not None and res.candidates.A.device.type == "cpu"
