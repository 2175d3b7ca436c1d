"""The rank Gaussian filter's fast path (recorded calls replayed a chunk at a time, one ``exp`` a cell,
Horner's rule for the weights, the variance from window sums) against a plain ``torch.sort`` filter on
every kind of map, and its workspace reused across dtypes, shapes, kernels and sign promises."""

from __future__ import annotations

import pytest
import torch
from test_core_scaling import sort_filter

from tam_widget.core import rgf, rgf_fused


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
    kernel: int, shape: tuple[int, int], dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch, filter_path: str
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


def test_every_weight_counts(filter_path: str) -> None:
    # one window whose nine values are far apart, with cv near 1: each rank's weight is far from 0 and 1,
    # so a wrong power of g on any rank pair moves the result well beyond the tolerance
    window = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 1.6, 2.5], dtype=torch.float64)
    maps = window[torch.randperm(9, generator=torch.Generator().manual_seed(0))].view(1, 3, 3)
    got = rgf.rank_gaussian_filter(maps, 3)[0, 1, 1]
    mu, sd = window.mean(), window.std(unbiased=False)
    w = torch.exp(-((torch.arange(9.0, dtype=torch.float64) - 4) ** 2) * mu**2 / (2 * sd**2))
    assert float(got) == pytest.approx(float((w * window).sum() / w.sum()), abs=1e-12)


def test_one_workspace_serves_other_dtypes_shapes_kernels_and_sign_promises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace keeps the calls it recorded per chunk shape (a few at once): reused for anything
    else, it must record afresh (or be replaced) and never replay another case's calls."""
    monkeypatch.setattr(rgf_fused, "enabled", False)  # the recorded calls' workspace
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


def test_the_compiled_path_takes_cpu_float_maps_and_the_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    maps = torch.rand(2, 1, 4, 5)
    assert rgf_fused.kernels() is not None, "the dev install has numba (the fast extra)"
    assert rgf_fused.usable(maps, maps) and rgf_fused.usable(maps.double(), maps.double())
    assert not rgf_fused.usable(maps.half(), maps.half())  # half precision: the recorded calls
    assert not rgf_fused.usable(maps, maps.double())
    calls: list[int] = []
    monkeypatch.setattr(rgf_fused, "filter_into", lambda *args, **kwargs: calls.append(1))
    rgf.rank_gaussian_filter(maps[:, 0])
    assert calls == [1]
    monkeypatch.setattr(rgf_fused, "enabled", False)  # TAM_WIDGET_NUMBA=0
    assert not rgf_fused.usable(maps, maps)
    rgf.rank_gaussian_filter(maps[:, 0])
    assert calls == [1]


def _video_maps(frames: int, seed: int) -> torch.Tensor:
    """``frames`` normalised-looking 32 x 36 maps: sparse, with flat and zero frames among them."""
    gen = torch.Generator().manual_seed(seed)
    maps = torch.rand(frames, 32, 36, generator=gen)
    maps[::3] = torch.where(maps[::3] < 0.5, 0.0, maps[::3])
    maps[1], maps[4] = 0.25, 0.0
    return maps


def test_the_compiled_path_takes_the_recorded_calls_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two paths share every float32 step but ``exp`` (whose last bit the weights' powers carry): every
    cell within 2e-6 of the other's value, and nearly all equal to the bit (a step taken in another order or
    rounded apart, e.g. an ``addcmul`` not fused, breaks that)."""
    maps = _video_maps(64, seed=3)
    compiled = rgf.rank_gaussian_filter(maps)
    monkeypatch.setattr(rgf_fused, "enabled", False)
    recorded = rgf.rank_gaussian_filter(maps)
    torch.testing.assert_close(compiled, recorded, rtol=2e-6, atol=0)
    assert float((compiled == recorded).float().mean()) >= 0.99


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_compiled_path_gives_the_same_bits_on_any_threads_and_strides(threads: int) -> None:
    maps = _video_maps(37, seed=4).view(37, 1, 32, 36)  # 37 frames: no thread count divides them
    want = torch.empty_like(maps)
    rgf.filter_into(maps, want, 3)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        big = torch.full((37, 3, 40, 80), float("nan"))
        strided = big[:, 1:2, 3:35, 5:77:2]  # every stride differs from a contiguous map's
        strided.copy_(maps)
        out = torch.full((37, 2, 32, 36), float("nan"))[:, :1]
        rgf.filter_into(strided, out, 3)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out, want)
    assert torch.isnan(big[:, 0]).all() and torch.isnan(big[:, 2]).all()  # nothing written outside


@pytest.mark.parametrize("kernel", [3, 5])
def test_a_nan_reaches_every_window_that_holds_it(kernel: int, filter_path: str) -> None:
    maps = torch.rand(1, 9, 11)
    maps[0, 4, 6] = float("nan")
    got = rgf.rank_gaussian_filter(maps, kernel)
    pad = kernel // 2
    holds = torch.zeros(9, 11, dtype=torch.bool)
    holds[4 - pad : 5 + pad, 6 - pad : 7 + pad] = True
    assert torch.equal(torch.isnan(got[0]), holds)


def test_the_compiled_path_compiles_uncached_with_a_warning_where_numba_cannot_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read-only install with no writable cache folder: numba refuses ``cache=True`` with a RuntimeError;
    the filter compiles for this process instead, says so once, and gives the same values."""
    import numpy as np
    from numba.core import caching

    from tam_widget.core import rgf_kernels

    maps = torch.rand(3, 1, 7, 9, dtype=torch.float64)
    got, want = torch.empty_like(maps), torch.empty_like(maps)
    rgf_kernels.compiled(False, np.dtype(np.float64))(maps.numpy(), want.numpy(), 0, 3, 5, True)
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])  # no folder to cache in
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        uncached = rgf_kernels.compiled.__wrapped__(False, np.dtype(np.float64))
    uncached(maps.numpy(), got.numpy(), 0, 3, 5, True)
    assert torch.equal(got, want)
