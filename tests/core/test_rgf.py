"""The rank Gaussian filter's fast path (recorded calls replayed a chunk at a time, one ``exp`` a cell,
Horner's rule for the weights, the variance from window sums) against a plain ``torch.sort`` filter on
every kind of map, and its workspace reused across dtypes, shapes, kernels and sign promises."""

from __future__ import annotations

import pytest
import torch
from test_core_scaling import sort_filter

from tam_widget.core import rgf


def kinds_of_maps(shape: tuple[int, int], seed: int, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """One ``(h, w)`` map of each kind the filter must get right."""
    gen = torch.Generator().manual_seed(seed)
    rand = torch.rand(*shape, generator=gen, dtype=torch.float64)
    sparse = torch.where(rand < 0.4, 0.0, rand)  # large cv: every rank weighs
    kinds = {
        "random": torch.rand(*shape, generator=gen, dtype=torch.float64),
        "sparse": sparse,
        "tied": torch.round(rand * 3) / 3,  # four distinct values: ties in every window
        "constant": torch.full(shape, 0.3, dtype=torch.float64),  # cv = 0: the median
        "zero": torch.zeros(shape, dtype=torch.float64),  # 0
        "negative": -sparse,  # mean not positive: 0
        "mixed sign": rand - 0.5,
        "small cv": rand * 1e-3 + 0.5,  # median-heavy
        "tiny": sparse * 2.0**-40,  # the same cv as "sparse" at a scale where squares are ~1e-24
    }
    return {k: v.to(dtype) for k, v in kinds.items()}


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (6, 7), (12, 10)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_filter_equals_a_sort_based_filter_on_every_kind_of_map(
    kernel: int, shape: tuple[int, int], dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rgf, "_CHUNK_CELLS", 2 * shape[0] * shape[1] + 1)  # chunks of two maps, one left over
    kinds = kinds_of_maps(shape, seed=kernel * 100 + shape[0], dtype=dtype)
    maps = torch.stack(list(kinds.values()))
    got = rgf.rank_gaussian_filter(maps, kernel)
    want = sort_filter(maps.double(), kernel)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    for i, name in enumerate(kinds):
        scale = 2.0**-40 if name == "tiny" else 1.0  # compared relative to the map's own scale
        torch.testing.assert_close(got[i].double() / scale, want[i] / scale, atol=tol, rtol=0, msg=name)


def test_every_weight_counts() -> None:
    # one window whose nine values are far apart, with cv near 1: each rank's weight is far from 0 and 1,
    # so a wrong power of g on any rank pair moves the result well beyond the tolerance
    window = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 1.6, 2.5], dtype=torch.float64)
    maps = window[torch.randperm(9, generator=torch.Generator().manual_seed(0))].view(1, 3, 3)
    got = rgf.rank_gaussian_filter(maps, 3)[0, 1, 1]
    mu, sd = window.mean(), window.std(unbiased=False)
    w = torch.exp(-((torch.arange(9.0, dtype=torch.float64) - 4) ** 2) * mu**2 / (2 * sd**2))
    assert float(got) == pytest.approx(float((w * window).sum() / w.sum()), abs=1e-12)


def test_one_workspace_serves_other_dtypes_shapes_kernels_and_sign_promises() -> None:
    """A workspace keeps the calls it recorded per chunk shape (a few at once): reused for anything
    else, it must record afresh (or be replaced) and never replay another case's calls."""
    gen = torch.Generator().manual_seed(1)
    work = None
    cases = [
        (torch.float32, (3, 2, 5, 6), 3, True),
        (torch.float64, (3, 2, 5, 6), 3, True),  # same shape, another dtype: a new workspace
        (torch.float64, (3, 2, 5, 6), 3, False),  # same shape, signed maps: the mask's calls
        (torch.float64, (2, 1, 7, 4), 3, False),
        (torch.float64, (2, 1, 7, 4), 5, False),
        (torch.float64, (2, 1, 7, 4), 1, False),
        *[(torch.float64, (1, 1, 4, 3 + i), 3, False) for i in range(rgf._TAPES)],  # more shapes than it keeps
        (torch.float64, (3, 2, 5, 6), 3, False),
    ]
    for dtype, shape, kernel, nonnegative in cases:
        maps = torch.rand(*shape, generator=gen, dtype=torch.float64) - (0 if nonnegative else 0.3)
        out = torch.empty(shape, dtype=dtype)
        work = rgf.filter_into(maps.to(dtype), out, kernel, work, nonnegative=nonnegative)
        want = sort_filter(maps.flatten(0, 1), kernel).view(shape)
        tol = 1e-12 if dtype == torch.float64 else 1e-6
        torch.testing.assert_close(out.double(), want, atol=tol, rtol=0, msg=str((dtype, shape, kernel)))
    assert work is not None and len(work.tapes) <= rgf._TAPES
