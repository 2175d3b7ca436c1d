"""EAGLE behind the Method protocol: run from a captured scorer, a state that survives a
safetensors file, refusals of malformed states naming the tensor or field, and the wire arrays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from tam_widget.core.eagle_result import EagleResult
from tam_widget.core.eagle_search import eagle_search
from tam_widget.core.layout import VisionLayout
from tam_widget.methods import METHODS, Captured, Method
from tam_widget.methods.eagle import EAGLE, STATE
from tam_widget.testing.eagle_golden import toy_scorer

LAYOUT = VisionLayout.from_grids([1], [(1, 1)])
REGIONS = np.arange(6).reshape(2, 3).repeat(2, axis=0).repeat(2, axis=1)  # 4 x 6 pixels, 6 regions
IMAGE = np.full((4, 6, 3), 100, dtype=np.uint8)
SCORE = toy_scorer(np.random.default_rng(0).integers(1, 5, (2, 4, 6)), k=8.0, lo=0.05, hi=0.95)


def captured(score: Any = SCORE, images: list[np.ndarray] | None = None) -> Captured:
    return Captured(
        hidden=torch.zeros(3, 2),
        lm_head=torch.zeros(4, 2),
        lm_head_bias=None,
        token_ids=torch.zeros(3, dtype=torch.long),
        layout=LAYOUT,
        prompt_positions=[0],
        answer_start=2,
        images=[IMAGE] if images is None else images,
        score=score,
    )


@pytest.fixture(scope="module")
def result() -> EagleResult:
    return EAGLE().run(captured(), regions=REGIONS, variant="efficient", search_scope=3, pending_samples=2)


def test_eagle_is_registered_behind_the_protocol() -> None:
    method = METHODS["eagle"]
    assert isinstance(method, EAGLE) and isinstance(method, Method) and method.title == "EAGLE"


def test_run_is_eagle_search_on_the_captured_image(result: EagleResult) -> None:
    direct = eagle_search(IMAGE, REGIONS, SCORE, variant="efficient", search_scope=3, pending_samples=2)
    assert result.order.tolist() == direct.order.tolist() and result.images_scored == direct.images_scored
    np.testing.assert_array_equal(result.insertion_tokens, direct.insertion_tokens)


@pytest.mark.parametrize(
    ("cap", "options", "error", "match"),
    [
        (captured(score=None), {"regions": REGIONS}, ValueError, "EAGLE needs a scorer"),
        (captured(images=[IMAGE, IMAGE]), {"regions": REGIONS}, ValueError, "one image or one video, got 2"),
        (captured(), {"regions": REGIONS, "kernel": 3}, TypeError, r"not \['kernel'\]"),
    ],
    ids=["no-scorer", "two-images", "unknown-option"],
)
def test_run_refuses_what_it_cannot_explain(cap: Captured, options: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        EAGLE().run(cap, **options)


def _same(a: EagleResult, b: EagleResult) -> None:
    for key in STATE:
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    assert a.params == b.params and a.images_scored == b.images_scored
    np.testing.assert_array_equal(a.attribution, b.attribution)
    np.testing.assert_array_equal(a.word_reliance, b.word_reliance)


def test_state_round_trips_through_a_safetensors_file(result: EagleResult, tmp_path: Path) -> None:
    method = EAGLE()
    tensors, header = method.to_state(result)
    assert set(tensors) == set(STATE) and tensors["regions"].shape == REGIONS.shape  # a label map, not N masks
    path = tmp_path / "e.safetensors"
    save_file(tensors, str(path), metadata={"h": json.dumps(header)})
    back = method.from_state(load_file(str(path)), json.loads(json.dumps(header)), LAYOUT)
    _same(result, back)
    assert back.to("cpu") is back and back.regions.dtype == np.int64


def _broken(result: EagleResult, what: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, header = EAGLE().to_state(result)
    tensors, header = dict(tensors), dict(header)
    edits: dict[str, Any] = {
        "missing": lambda: tensors.pop("order"),
        "dtype": lambda: tensors.update(order=tensors["order"].int()),
        "shape": lambda: tensors.update(insertion_tokens=tensors["insertion_tokens"][:, :1]),
        "order": lambda: tensors["order"].__setitem__(0, tensors["order"][1]),
        "label-gap": lambda: tensors.update(regions=torch.where(tensors["regions"] == 2, 1, tensors["regions"])),
        "nan": lambda: tensors["org_score"].__setitem__(0, float("nan")),
        "area": lambda: tensors["region_area"].__setitem__(0, 0.5),
        "variant": lambda: header.update(variant="fast"),
        "setting": lambda: header.update(update_step=0),
        "lambda": lambda: header.update(lambda1=float("inf")),
    }
    edits[what]()
    return tensors, header


REFUSALS = {
    "missing": r"\['eagle.order'\] are missing",
    "dtype": "'eagle.order' is torch.int32",
    "shape": r"'eagle.insertion_tokens' has shape \(6, 1\)",
    "order": "'eagle.order' must be a permutation",
    "label-gap": "'eagle.regions' must use every label",
    "nan": "'eagle.org_score' must hold probabilities",
    "area": "'eagle.region_area' is not the cumulative area",
    "variant": "'methods.eagle.variant' must be one of",
    "setting": "'methods.eagle.update_step' must be an integer >= 1",
    "lambda": "'methods.eagle.lambda1' must be a finite number",
}


@pytest.mark.parametrize("what", sorted(REFUSALS))
def test_malformed_states_are_refused_naming_the_tensor(result: EagleResult, what: str) -> None:
    tensors, header = _broken(result, what)
    with pytest.raises(ValueError, match=REFUSALS[what]):
        EAGLE().from_state(tensors, header, LAYOUT)


def test_wire_arrays_are_small_typed_and_shaped(result: EagleResult) -> None:
    arrays, extra = EAGLE().wire_arrays(result)
    n, t = result.n_regions, result.n_tokens
    assert (n, t) == (6, 2)
    assert arrays["order"].dtype == np.int32 and "regions" not in arrays  # the pixel label map stays in Python
    assert "grid" not in arrays and "items" not in arrays  # those need the explanation's views and items
    shapes = {"attribution": (n,), "insertion": (n,), "objective": (n,), "region_area": (n,)}
    shapes |= {"insertion_tokens": (n, t), "deletion_tokens": (n, t), "word_reliance": (t,), "lift": (t,)}
    shapes |= {"prior": (t,), "org_score": (t,), "baseline_score": (t,), "deletion": (n,)}
    for key, shape in shapes.items():
        assert arrays[key].dtype == np.float32 and arrays[key].shape == shape, key
    assert json.loads(json.dumps(extra)) == extra
    assert extra["variant"] == "efficient" and extra["n_regions"] == n
    assert extra["images_scored"] == result.images_scored and extra["insertion_auc"] == result.insertion_auc


def test_grid_means_average_the_pixel_map_over_each_cell() -> None:
    from tam_widget.core.eagle_maps import grid_means

    pixels = np.arange(16, dtype=float).reshape(4, 4)
    got = grid_means(pixels, [(2, 2), (1, 1)], [(0, 0, 1, 1), (0.5, 0.5, 1.5, 1.5)])
    np.testing.assert_allclose(got, [2.5, 4.5, 10.5, 12.5, pixels[2:, 2:].mean()])  # the box is clipped
    video = np.stack([pixels, pixels + 100])
    np.testing.assert_allclose(grid_means(video, [(2, 1, 1)], [(0, 0, 1, 1)]), [pixels.mean(), pixels.mean() + 100])
    np.testing.assert_allclose(grid_means(pixels, [(1, 2)], [(1, 0, 2, 1)]), [0.0, 0.0])  # no pixel: 0
