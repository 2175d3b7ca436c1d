"""``TAMResult.item_map``: one item's displayed map at the cost of one item, equal to its row of
``maps()`` at every setting (every step of the pipeline is per item), on synthetic cases with
several images and with a video."""

from __future__ import annotations

import pytest
import torch

from tam_widget.testing.synthetic import make_case

SETTINGS = [(1.0, True, True), (0.5, True, True), (2.0, True, False), (1.0, False, True), (0.0, True, False)]


GRIDS = {"one image": ((12, 12),), "two images": ((6, 8), (5, 7)), "a video": ((2, 4, 4),)}


@pytest.mark.parametrize("grids", list(GRIDS.values()), ids=list(GRIDS))
@pytest.mark.parametrize(("lam", "eci", "filt"), SETTINGS)
def test_one_item_equals_its_row_of_all_maps(
    grids: tuple[tuple[int, ...], ...], lam: float, eci: bool, filt: bool
) -> None:
    res = make_case(seed=len(grids), grids=grids).compute()
    full = res.maps(lam, eci=eci, filter=filt).image
    for item in range(res.n_items):
        got = res.item_map(item, lam, eci=eci, filter=filt)
        torch.testing.assert_close(got, full[item], atol=1e-6, rtol=0)


def test_item_map_refuses_an_item_out_of_range() -> None:
    res = make_case(seed=1).compute()
    with pytest.raises(ValueError, match="item"):
        res.item_map(res.n_items)
