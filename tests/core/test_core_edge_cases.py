"""Edge cases of the TAM core, each asserting behaviour that a wrong implementation fails."""

from __future__ import annotations

import dataclasses
from dataclasses import fields, replace

import numpy as np
import pytest
import torch

from tam_widget import VisionLayout, compute_tam
from tam_widget.core import rank_gaussian_filter
from tam_widget.testing.golden import golden_dir, load_golden
from tam_widget.testing.reference import rgf_per_pixel
from tam_widget.testing.synthetic import SyntheticCase, make_case


def _tiny(grid: tuple[int, ...] = (3, 4), n_prompt: int = 3, n_answer: int = 4, seed: int = 0) -> SyntheticCase:
    return make_case(vocab=50, width=8, grids=(grid,), n_prompt=n_prompt, n_answer=n_answer, n_objects=1, seed=seed)


# -- rank Gaussian filter ------------------------------------------------------------------


def test_constant_window_gives_the_median_without_nan() -> None:
    out = rank_gaussian_filter(torch.full((2, 4, 5), 0.25))
    assert not torch.isnan(out).any()
    assert torch.allclose(out, torch.full_like(out, 0.25))


def test_constant_window_inside_a_varying_map() -> None:
    m = torch.zeros(1, 5, 5)
    m[0, :3, :3] = 0.5  # the window centred at (1, 1) is constant 0.5
    m[0, 4, 4] = 1.0
    out = rank_gaussian_filter(m)
    assert float(out[0, 1, 1]) == pytest.approx(0.5)
    assert float(out[0, 4, 4]) > 0  # a lone peak: window mean > 0, spread > 0


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 2), (2, 9), (6, 5)])
@pytest.mark.parametrize("kernel", [3, 5])
def test_filter_equals_per_pixel_loop(shape: tuple[int, int], kernel: int) -> None:
    rng = np.random.default_rng(sum(shape) * kernel)
    for _ in range(4):
        m = np.round(rng.random(shape), 1)
        m[m < 0.3] = 0  # ties and zero windows, as real maps have
        got = rank_gaussian_filter(torch.tensor(m[None]), kernel)[0].numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            want = rgf_per_pixel(m, kernel)
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_filter_rejects_even_kernel() -> None:
    with pytest.raises(ValueError, match="odd kernel"):
        rank_gaussian_filter(torch.zeros(1, 3, 3), 4)


# -- normalisation and ECI ---------------------------------------------------------------


def test_flat_map_is_all_zero_not_nan() -> None:
    case = _tiny()
    res = compute_tam(
        torch.zeros_like(case.hidden),
        case.lm_head,
        case.token_ids,
        case.vision,
        case.prompt_positions,
        case.answer_start,
    )
    maps = res.maps()
    assert not torch.isnan(maps.image).any()
    assert torch.count_nonzero(maps.image) == 0
    assert torch.count_nonzero(maps.u8) == 0


def test_item_with_empty_context_has_no_eci() -> None:
    case = _tiny()
    ids = case.token_ids.clone()
    ids[case.prompt_positions] = 7  # every prompt item has the same text
    ids[case.answer_start :] = 7
    res = compute_tam(
        case.hidden, case.lm_head, ids, case.vision, case.prompt_positions, case.answer_start, reference_quirks=False
    )  # so item 0 is token 7 too
    assert torch.isnan(res.scale).all(), "repeats of the same word are never interference"
    assert torch.equal(res.corrected(1.0), res.A)


def test_token_texts_decide_repeats() -> None:
    case = _tiny()
    texts = ["same"] * case.token_ids.numel()
    res = case.compute(
        token_texts=texts,
    )
    assert torch.isnan(res.scale).all()
    by_id = case.compute()
    assert not torch.isnan(by_id.scale[1:]).all()


def test_zero_interference_leaves_the_map_unchanged() -> None:
    case = _tiny()
    hidden = case.hidden.clone()
    hidden[case.prompt_positions] = 0  # every context weight R_v[k] = 0, so E_v = 0
    hidden[case.answer_start - 1 :] = 0
    res = compute_tam(hidden, case.lm_head, case.token_ids, case.vision, case.prompt_positions, case.answer_start)
    with_context = ~torch.isnan(res.scale)
    assert with_context.any()
    assert torch.count_nonzero(res.E) == 0
    assert torch.all(res.scale[with_context] == 0)
    assert torch.equal(res.corrected(1.0), res.A)


def test_eci_scale_zero_and_toggle_agree() -> None:
    res = make_case(seed=3).compute()
    off = res.maps(eci=False).image
    assert torch.equal(off, res.maps(0.0).image)
    assert not torch.equal(off, res.maps(1.0).image)
    assert torch.equal(res.maps(filter=False, eci=False).image.argmax(1), res.maps(0.0, filter=False).image.argmax(1))


def test_lambda_scales_the_subtraction() -> None:
    res = make_case(seed=1).compute()
    s = torch.nan_to_num(res.scale)
    for lam in (0.5, 2.0):
        expected = torch.clamp(res.A - lam * s[:, None] * res.E, min=0)
        assert torch.allclose(res.corrected(lam), expected)


# -- grids and layouts ---------------------------------------------------------------------


@pytest.mark.parametrize("grid", [(1, 1), (1, 6), (6, 1)])
def test_degenerate_grids(grid: tuple[int, int]) -> None:
    res = _tiny(grid).compute()
    maps = res.maps()
    assert maps.image.shape == (res.n_items, grid[0] * grid[1])
    assert not torch.isnan(maps.image).any()
    assert [f.shape for f in maps.frames(0)] == [grid]


def test_video_frames_are_filtered_separately() -> None:
    case = make_case(vocab=60, width=8, grids=((3, 4, 4),), n_prompt=2, n_answer=3, seed=2)
    res = case.compute()
    assert [(f.image, f.frame) for f in res.layout.frames] == [(0, 0), (0, 1), (0, 2)]
    normed = res.maps(filter=False).image
    filtered = res.maps().image
    for f in res.layout.frames:
        block = normed[:, f.offset : f.offset + 16].reshape(-1, 4, 4)
        assert torch.allclose(filtered[:, f.offset : f.offset + 16], rank_gaussian_filter(block).reshape(-1, 16))


# -- errors --------------------------------------------------------------------------------


def test_nan_in_hidden_states_names_the_positions() -> None:
    case = _tiny()
    hidden = case.hidden.clone()
    bad = [int(case.vision.positions[2]), int(case.prompt_positions[1])]
    hidden[bad[0], 3] = float("nan")
    hidden[bad[1], 0] = float("inf")
    with pytest.raises(ValueError, match=r"NaN or inf at positions \[" + f"{min(bad)}, {max(bad)}" + r"\]"):
        compute_tam(hidden, case.lm_head, case.token_ids, case.vision, case.prompt_positions, case.answer_start)


def test_grids_that_disagree_with_positions() -> None:
    with pytest.raises(ValueError, match="hold 12 vision tokens but 11"):
        VisionLayout.from_grids(range(11), [(3, 4)])
    with pytest.raises(ValueError, match=r"expected \[h, w\] or \[t, h, w\]"):
        VisionLayout.from_grids(range(12), [(12,)])
    with pytest.raises(ValueError, match="must be distinct"):
        VisionLayout.from_grids([0, 1, 3, 3], [(2, 2)])
    # grid order need not be sequence order: stitched tiles list their cells row-major over the image
    assert VisionLayout.from_grids([0, 1, 3, 2], [(2, 2)]).positions.tolist() == [0, 1, 3, 2]


def test_positions_that_disagree_with_the_sequence() -> None:
    case = _tiny()
    late = VisionLayout.from_grids(torch.arange(12) + case.answer_start - 6, [(3, 4)])
    with pytest.raises(ValueError, match="not before the answer start"):
        compute_tam(case.hidden, case.lm_head, case.token_ids, late, case.prompt_positions, case.answer_start)
    overlap = case.vision.positions[:2]
    with pytest.raises(ValueError, match="both prompt and vision positions"):
        compute_tam(case.hidden, case.lm_head, case.token_ids, case.vision, overlap, case.answer_start)
    with pytest.raises(ValueError, match="token_ids has"):
        compute_tam(
            case.hidden, case.lm_head, case.token_ids[:-1], case.vision, case.prompt_positions, case.answer_start
        )
    with pytest.raises(ValueError, match="same model"):
        compute_tam(
            case.hidden, case.lm_head[:, :-1], case.token_ids, case.vision, case.prompt_positions, case.answer_start
        )


# -- dtypes, bias, devices, variants -------------------------------------------------------


def test_half_precision_inputs_accumulate_in_float32() -> None:
    case = make_case(seed=4)
    full = case.compute()
    bf16 = dataclasses.replace(case, hidden=case.hidden.bfloat16(), lm_head=case.lm_head.bfloat16()).compute()
    assert bf16.A.dtype == torch.float32
    assert torch.equal(full.classes, bf16.classes)
    diff = (full.maps().image - bf16.maps().image).abs().max()
    assert float(diff) < 0.05  # bf16 inputs, float32 arithmetic


def test_bias_enters_item_zero_argmax_and_activations() -> None:
    case = _tiny()
    bias = torch.zeros(case.lm_head.shape[0])
    bias[11] = 1e4  # makes class 11 the argmax at q_0
    res = case.compute(
        lm_head_bias=bias,
    )
    assert int(res.classes[0]) == 11
    assert torch.all(res.A[0] > 1e3)


def test_corrected_variant_differs_only_where_documented() -> None:
    case = make_case(seed=5)
    pub, fix = case.compute(), case.compute(reference_quirks=False)
    P = pub.n_prompt
    assert int(fix.classes[0]) == int(case.token_ids[case.prompt_positions[0]])
    assert int(fix.classes[P]) == int(case.token_ids[case.answer_start])
    assert int(pub.classes[P]) == int(case.token_ids[case.answer_start - 1])
    assert torch.equal(fix.n_visible, torch.arange(pub.n_items))
    assert torch.equal(pub.A[P + 1 :], fix.A[P + 1 :])


def test_result_to_moves_every_tensor_field() -> None:
    """``to`` moves every tensor field and leaves the rest alone: on the ``meta`` device (present in every torch
    build, holding no data) a field that ``to`` forgot stays on the CPU."""
    res = make_case(seed=6).compute()
    moved = res.to("meta")
    tensor_fields = [f.name for f in fields(res) if isinstance(getattr(res, f.name), torch.Tensor)]
    assert {"A", "E", "omega", "scale", "R", "n_visible", "classes", "token_ids"} <= set(tensor_fields)
    for f in fields(res):
        before, after = getattr(res, f.name), getattr(moved, f.name)
        if f.name in tensor_fields:
            assert after.device.type == "meta", f"TAMResult.to left {f.name} on {after.device}"
            assert (after.shape, after.dtype) == (before.shape, before.dtype), f.name
            assert before.device.type == "cpu", f"TAMResult.to moved the original's {f.name}"
        else:
            assert after is before, f.name  # the layout (CPU positions by design), counts, kernel
    layered = replace(res, layers={0: res}, n_layers=2).to("meta")  # an earlier layer's result moves too
    assert layered.layers[0].A.device.type == "meta" and layered.at_layer(0) is layered.layers[0]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_result_round_trip_through_cuda_keeps_every_value_and_map() -> None:
    res = make_case(seed=6).compute()
    on_gpu = res.to("cuda")
    names = [f.name for f in fields(res) if isinstance(getattr(res, f.name), torch.Tensor)]
    assert all(getattr(on_gpu, n).is_cuda for n in names)
    assert on_gpu.maps().image.is_cuda
    back = on_gpu.to("cpu")
    for n in names:
        torch.testing.assert_close(getattr(back, n), getattr(res, n), rtol=0, atol=0, equal_nan=True, msg=n)
    assert torch.equal(back.maps().u8, res.maps().u8)
    diff = (on_gpu.maps().u8.cpu().int() - res.maps().u8.int()).abs().max()
    assert int(diff) <= 1  # the filter on the GPU rounds a little differently at most


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_give_the_same_maps() -> None:
    for path in sorted(golden_dir().glob("*.npz")):
        case = load_golden(path)
        cpu = case.compute()
        gpu = dataclasses.replace(case, hidden=case.hidden.cuda(), lm_head=case.lm_head.cuda()).compute()
        assert gpu.A.is_cuda
        diff = (cpu.maps().u8.int() - gpu.maps().u8.cpu().int()).abs().max()
        assert int(diff) <= 1
