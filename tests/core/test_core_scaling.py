"""The core's chunked, in-place paths (issue 16) equal the plain math they replace: ``compute_tam``'s
``A``, ``R``, ``E`` and scale against straightforward products of the inputs, ``maps()`` processed a few
items at a time against the whole-matrix pipeline, and the rank Gaussian filter's sorting network and
one-``exp`` weights against a ``torch.sort`` implementation."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch

from tam_widget.core import VisionLayout, activation, rgf
from tam_widget.core import result as result_module
from tam_widget.testing.synthetic import make_case

GRIDS = {
    "one image": ((9, 11),),
    "two shapes": ((6, 8), (5, 7)),
    "a video": ((3, 4, 5),),
    "same shape apart": ((4, 5), (3, 3), (4, 5)),  # one shape's frames not side by side: gathered
}


def sort_filter(maps: torch.Tensor, kernel: int) -> torch.Tensor:
    """The rank Gaussian filter written plainly: numpy reflect padding, ``torch.sort`` over each
    window, one ``exp`` per rank."""
    pad, n = kernel // 2, kernel * kernel
    padded = torch.from_numpy(np.pad(maps.numpy(), ((0, 0), (pad, pad), (pad, pad)), mode="reflect"))
    windows = padded.unfold(1, kernel, 1).unfold(2, kernel, 1).reshape(*maps.shape, n)
    xs = windows.sort(dim=-1).values
    mu = xs.mean(dim=-1, keepdim=True)
    var = ((xs - mu) ** 2).mean(dim=-1, keepdim=True)
    d2 = (torch.arange(n, dtype=maps.dtype) - n // 2) ** 2
    weights = torch.where(var > 0, torch.exp(-d2 * mu**2 / (2 * var)), (d2 == 0).to(maps.dtype))
    out = (weights * xs).sum(dim=-1) / weights.sum(dim=-1)
    return torch.where(mu[..., 0] > 0, out, torch.zeros_like(out))


def plain_maps(A: torch.Tensor, E: torch.Tensor, s: torch.Tensor, R: torch.Tensor, n_visible: torch.Tensor, layout):
    """The default maps from whole matrices: ECI, joint min-max, then the sort-based filter."""
    image = torch.clamp(A - torch.nan_to_num(s, nan=0.0)[:, None] * E, min=0)
    visible = torch.arange(R.shape[1])[None, :] < n_visible[:, None]
    lo = torch.minimum(image.amin(1), torch.where(visible, R, torch.inf).amin(1))[:, None]
    hi = torch.maximum(image.amax(1), torch.where(visible, R, -torch.inf).amax(1))[:, None]
    span = hi - lo
    flat = span <= 0
    image = torch.where(flat, 0.0, (image - lo) / torch.where(flat, 1.0, span))
    text = torch.where(visible, torch.where(flat, 0.0, (R - lo) / torch.where(flat, 1.0, span)), torch.nan)
    frames = [sort_filter(m.double(), 3).float() for m in layout.split(image)]
    return torch.cat([f.flatten(1) for f in frames], dim=1), text


def scattered(case):
    """The case with its vision positions shuffled within the vision block (grid order is not
    sequence order), so the activations gather hidden states instead of reading runs."""
    perm = torch.randperm(case.vision.n_tokens, generator=torch.Generator().manual_seed(0))
    return dataclasses.replace(case, vision=VisionLayout.from_grids(case.vision.positions[perm], case.vision.grids))


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activation, "_BLOCK", 7)
    monkeypatch.setattr(rgf, "_CHUNK_CELLS", 50)
    monkeypatch.setattr(result_module, "_MAPS_CHUNK_CELLS", 1)  # one item a chunk...


@pytest.mark.parametrize("grids", list(GRIDS.values()), ids=list(GRIDS))
@pytest.mark.parametrize("shuffle", [False, True], ids=["runs", "scattered"])
def test_activations_eci_and_scale_equal_the_plain_products(grids, shuffle: bool, tiny_chunks: None) -> None:
    case = make_case(grids=grids, n_prompt=5, n_answer=14, seed=3)
    case = scattered(case) if shuffle else case
    res = case.compute()
    rows = case.lm_head[res.classes]
    rel = torch.cat([case.prompt_positions, torch.arange(case.answer_start - 1, case.hidden.shape[0] - 1)])
    torch.testing.assert_close(res.A, torch.relu(rows @ case.hidden[case.vision.positions].T), atol=1e-6, rtol=0)
    torch.testing.assert_close(res.R, torch.relu(rows @ case.hidden[rel].T), atol=1e-6, rtol=0)
    torch.testing.assert_close(res.E, res.omega @ res.A, atol=0, rtol=0)
    ae, ee = (res.A * res.E).sum(1), (res.E * res.E).sum(1)
    k = torch.arange(res.n_items)
    context = (k[None, :] < k[:, None]) & (res.token_ids[None, :] != res.token_ids[:, None])
    want = torch.where(context.any(1), torch.where(ee > 0, ae / ee, 0.0), torch.nan)
    torch.testing.assert_close(res.scale, want, atol=1e-6, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("grids", list(GRIDS.values()), ids=list(GRIDS))
@pytest.mark.parametrize("items_per_chunk", [1, 3, 64])
def test_maps_in_chunks_equal_the_whole_matrix_pipeline(
    grids, items_per_chunk: int, monkeypatch: pytest.MonkeyPatch, filter_path: str
) -> None:
    case = make_case(grids=grids, n_prompt=4, n_answer=13, seed=5)  # 17 items: no chunk size divides it
    res = case.compute()
    n_v = res.A.shape[1]
    monkeypatch.setattr(result_module, "_MAPS_CHUNK_CELLS", items_per_chunk * n_v)
    monkeypatch.setattr(rgf, "_CHUNK_CELLS", 2 * n_v // 3)  # the filter splits again inside a chunk
    got = res.maps()
    image, text = plain_maps(res.A, res.E, res.scale, res.R, res.n_visible, res.layout)
    torch.testing.assert_close(got.image, image, atol=1e-6, rtol=0)
    torch.testing.assert_close(got.text, text, atol=1e-6, rtol=0, equal_nan=True)


def test_maps_without_eci_or_filter_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    res = make_case(grids=((2, 5, 6),), n_prompt=3, n_answer=8, seed=2).compute()
    whole = {(eci, f): res.maps(0.7, eci=eci, filter=f).image for eci in (True, False) for f in (True, False)}
    monkeypatch.setattr(result_module, "_MAPS_CHUNK_CELLS", 2 * res.A.shape[1])
    for (eci, f), image in whole.items():
        torch.testing.assert_close(res.maps(0.7, eci=eci, filter=f).image, image, atol=0, rtol=0)


def test_sorting_network_sorts_every_zero_one_input() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 9, 25):
        network = rgf.sorting_network(n)
        inputs = itertools.product((0, 1), repeat=n) if n <= 9 else [tuple(rng.integers(0, 2, n)) for _ in range(500)]
        for bits in inputs:
            x = list(bits)
            for i, j in network:
                x[i], x[j] = min(x[i], x[j]), max(x[i], x[j])
            assert x == sorted(bits), (n, bits)
    assert len(rgf.sorting_network(9)) == 25


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_window_network_sorts_every_window_of_sorted_zero_one_columns(kernel: int) -> None:
    # 0-1 principle: a network sorts every input if it sorts every 0-1 input; the filter feeds it windows
    # whose k columns are each sorted ascending, i.e. a column is j zeros then k - j ones
    network = rgf.window_network(kernel)
    for ones in itertools.product(range(kernel + 1), repeat=kernel):
        bits = [int(r >= kernel - j) for j in ones for r in range(kernel)]
        x = list(bits)
        for i, j in network:
            x[i], x[j] = min(x[i], x[j]), max(x[i], x[j])
        assert x == sorted(bits), (kernel, ones)
    if kernel == 3:
        assert len(network) == 16  # a merge of three sorted triples, not a 25-comparator 9-sort


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 9), (12, 10)])
def test_filter_equals_a_sort_based_filter(
    kernel: int, shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch, filter_path: str
) -> None:
    monkeypatch.setattr(rgf, "_CHUNK_CELLS", 2 * shape[0] * shape[1] + 1)  # chunks of two maps, one left over
    gen = torch.Generator().manual_seed(kernel * 100 + shape[0])
    maps = torch.rand(7, *shape, generator=gen, dtype=torch.float64)
    maps[maps < 0.4] = 0  # sparse windows: large cv, every rank weighs
    maps[1] = 0.3  # constant windows: the median
    maps[2] = 0  # zero windows: 0
    maps[3] = torch.rand(*shape, generator=gen, dtype=torch.float64) * 1e-3 + 0.5  # small cv: median-heavy
    maps[4] = -maps[0]  # non-positive means: 0
    got = rgf.rank_gaussian_filter(maps, kernel)
    torch.testing.assert_close(got, sort_filter(maps, kernel), atol=1e-12, rtol=0)
    got32 = rgf.rank_gaussian_filter(maps.float(), kernel)
    torch.testing.assert_close(got32, sort_filter(maps, kernel).float(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("chunk_cells", [1, 7, 64, 1 << 19])
def test_u8_is_the_floor_of_255_times_the_map_in_any_chunking(
    monkeypatch: pytest.MonkeyPatch, chunk_cells: int
) -> None:
    """``TAMMaps.u8`` quantises a few rows at a time: whatever the chunk (one row, rows not dividing T,
    all at once) its bytes are ``floor(255 x).clamp(0, 255)``'s, at the edges too (exact levels, just
    under a level, below 0, above 1, infinities)."""
    from tam_widget.core import result_maps
    from tam_widget.core.result import TAMMaps

    monkeypatch.setattr(result_maps, "_U8_CHUNK_CELLS", chunk_cells)
    image = torch.rand(13, 5, generator=torch.Generator().manual_seed(3))
    edges = [0.0, 1.0, 1 / 255, 254.99 / 255, 0.999999, -1e-9, -0.3, 1.5, math.inf, -math.inf]
    image.view(-1)[: len(edges)] = torch.tensor(edges)
    maps = TAMMaps(image=image, text=torch.zeros(13, 13), layout=VisionLayout.from_grids(range(5), [(1, 5)]))
    assert torch.equal(maps.u8, torch.floor(image * 255).clamp(0, 255).to(torch.uint8))


@pytest.mark.parametrize("T", [1, 256, 257, 600, 1024])
def test_the_context_product_is_omega_times_a_by_row_blocks(T: int) -> None:
    """``E = Omega @ A`` a block of rows at a time, reading only the columns left of each block's end
    (Omega strictly lower triangular: every context is earlier): T under, at, just over and not a
    multiple of the block; a weight just left of a block's end counts."""
    from tam_widget.core.eci import _BLOCK_ROWS, context_product

    g = torch.Generator().manual_seed(T)
    omega, A = torch.tril(torch.rand(T, T, generator=g), -1), torch.rand(T, 37, generator=g)
    if T > _BLOCK_ROWS:
        omega[_BLOCK_ROWS - 1 + 1, _BLOCK_ROWS - 1] = 50.0  # row 256 reads item 255, the first block's last
    torch.testing.assert_close(context_product(omega, A), omega @ A, rtol=1e-5, atol=1e-4)


def test_a_context_product_of_weights_that_are_not_lower_triangular_is_the_full_product() -> None:
    from tam_widget.core.eci import context_product

    g = torch.Generator().manual_seed(1)
    omega, A = torch.rand(600, 600, generator=g), torch.rand(600, 9, generator=g)
    assert torch.equal(context_product(omega, A), omega @ A)
