"""Gemma 3 pan-and-scan crops, PaliGemma's answer token types, Mistral3's row breaks, and count mismatches.

The generic tests (test_families.py) cover one plain image per family; these cover what is
particular to each of the three.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, image
from fixtures_gemma import gemma3_processor

from tam_widget import FAMILIES, explain
from tam_widget.explanation import Explanation
from tam_widget.families.base import Media
from tam_widget.families.gemma3 import crop_boxes, n_crops
from tam_widget.families.paligemma import PaliGemma
from tam_widget.runtime.media import to_pil
from tam_widget.testing import orientation


def _inputs(fx: Any, images: list[np.ndarray], processor: Any = None) -> tuple[Any, Any]:
    """The processed inputs for ``images`` with the family's default layout, and the family."""
    from tam_widget.runtime.media import as_media
    from tam_widget.runtime.prompt import build_text

    family = FAMILIES[fx.model.config.model_type]
    processor = processor or fx.processor
    arrays, media = as_media(images)
    text, _ = build_text(family, processor, fx.prompt, media)
    return processor(text=[text], images=to_pil(arrays, media), return_tensors="pt"), family


def _oriented(fx: Any, processor: Any, images: list[np.ndarray]) -> Explanation:
    """``explain`` on ``images`` with every view checked by ``orientation.check`` (exact, attention off)."""

    def run(shown: list[np.ndarray]) -> Explanation:
        return explain(fx.model, processor, shown, fx.prompt, answer="ok")

    return orientation.check(fx.model, run, images, cell_px=fx.cell_px, reach=orientation.filter_reach(processor))


# -- Gemma 3 pan-and-scan -------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [(16, 4, 1.2), (256, 4, 1.2), (30, 3, 1.5), (10, 8, 1.0)])
def test_family_gemma3_crop_geometry_matches_the_image_processor(settings: tuple[int, int, float]) -> None:
    from transformers import Gemma3ImageProcessorPil

    pan_and_scan = Gemma3ImageProcessorPil().pan_and_scan
    for h, w in [(60, 130), (130, 60), (100, 100), (60, 155), (50, 400), (40, 41), (300, 90), (512, 1400)]:
        yx = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"))  # CHW: each pixel holds (y, x)
        crops = pan_and_scan(yx, *settings)
        want = [(c[1, 0, 0] / w, c[0, 0, 0] / h, (c[1, -1, -1] + 1) / w, (c[0, -1, -1] + 1) / h) for c in crops]
        n = n_crops(h, w, *settings)
        assert n == len(crops), (h, w, settings)
        np.testing.assert_allclose(
            np.reshape(crop_boxes(h, w, n), (-1, 4)), np.reshape(want, (-1, 4)), err_msg=f"{h, w}"
        )


def test_family_gemma3_pan_and_scan_views() -> None:
    from transformers import Gemma3ImageProcessorPil

    fx = FIXTURES["gemma3"]()
    processor = gemma3_processor(do_pan_and_scan=True, pan_and_scan_min_crop_size=16)
    images = [image(60, 130), image(150, 60, seed=1)]  # landscape: 2 crops across; portrait: 3 crops down
    num_crops = Gemma3ImageProcessorPil()(
        images,
        do_pan_and_scan=True,
        pan_and_scan_min_crop_size=16,
        pan_and_scan_max_num_crops=4,
        pan_and_scan_min_ratio_to_activate=1.2,
    )
    assert num_crops["num_crops"] == [2, 3]
    exp = explain(fx.model, processor, images, fx.prompt, answer="ok")
    third = 50 / 150
    assert [(v.image, v.kind, v.grid) for v in exp.views] == [
        (0, "image", (4, 4)),
        (0, "crop", (4, 4)),
        (0, "crop", (4, 4)),
        (1, "image", (4, 4)),
        (1, "crop", (4, 4)),
        (1, "crop", (4, 4)),
        (1, "crop", (4, 4)),
    ]
    np.testing.assert_allclose(
        [v.box for v in exp.views],
        [
            (0, 0, 1, 1),
            (0, 0, 0.5, 1),
            (0.5, 0, 1, 1),
            (0, 0, 1, 1),
            (0, 0, 1, third),
            (0, third, 1, 2 * third),
            (0, 2 * third, 1, 1),
        ],
    )
    # every image token is in exactly one view, blocks in sequence order
    ids = torch.tensor(exp.token_ids[: exp.answer_start])
    image_positions = torch.nonzero(ids == fx.model.config.image_token_id).reshape(-1).tolist()
    assert [p for v in exp.views for p in sorted(v.positions)] == image_positions


def test_family_gemma3_crop_orientation() -> None:
    """Each pan-and-scan crop, and the whole image, is oriented over the part of the image its box says."""
    fx = FIXTURES["gemma3"]()
    processor = gemma3_processor(do_pan_and_scan=True, pan_and_scan_min_crop_size=16)
    exp = _oriented(fx, processor, [image(60, 128)])
    assert [(v.kind, v.box) for v in exp.views] == [
        ("image", (0, 0, 1, 1)),
        ("crop", (0, 0, 0.5, 1)),
        ("crop", (0.5, 0, 1, 1)),
    ]


def test_family_gemma3_extends_token_type_ids_with_text() -> None:
    fx = FIXTURES["gemma3"]()
    inputs, family = _inputs(fx, fx.images)
    types = inputs["token_type_ids"]
    assert int(types.sum()) == 16
    out = family.extend_inputs(inputs, 3)
    assert out["token_type_ids"].shape[1] == types.shape[1] + 3 and not out["token_type_ids"][0, -3:].any()


# -- PaliGemma --------------------------------------------------------------------------------------------


def test_family_paligemma_layout_and_answer_token_types(monkeypatch: pytest.MonkeyPatch) -> None:
    fx = FIXTURES["paligemma"]()
    inputs, family = _inputs(fx, fx.images)
    ids = inputs["input_ids"][0]
    (view,) = family.views(fx.model.config, inputs, ids, Media(((84, 112),)), fx.processor)
    assert view.positions == tuple(range(16))  # the image comes first, then <bos>
    assert int(ids[16]) == fx.processor.tokenizer.bos_token_id
    out = family.extend_inputs(inputs, 3)
    assert "labels" not in out and out["token_type_ids"][0, -3:].tolist() == [1, 1, 1]
    assert not out["token_type_ids"][0, :-3].any()

    gen = explain(fx.model, fx.processor, fx.images, fx.prompt, max_new_tokens=4, min_new_tokens=4)
    answer = gen.token_ids[gen.answer_start :]
    forced = explain(fx.model, fx.processor, fx.images, fx.prompt, answer=answer)
    np.testing.assert_array_equal(forced.maps().u8.numpy(), gen.maps().u8.numpy())

    # with the answer typed as prefix (0), it joins the bidirectional prefix and the maps no longer match
    def as_prefix(self: PaliGemma, inputs: Any, n_answer: int) -> dict[str, Any]:
        out = super(PaliGemma, self).extend_inputs(inputs, n_answer)
        out["token_type_ids"] = torch.cat(
            [inputs["token_type_ids"], inputs["token_type_ids"].new_zeros(1, n_answer)], dim=1
        )
        return out

    monkeypatch.setattr(PaliGemma, "extend_inputs", as_prefix)
    wrong = explain(fx.model, fx.processor, fx.images, fx.prompt, answer=answer)
    assert not torch.allclose(wrong.result.A, gen.result.A, atol=1e-4 * float(gen.result.A.abs().max()))


# -- Mistral3 ---------------------------------------------------------------------------------------------


def test_family_mistral3_rows_and_breaks() -> None:
    fx = FIXTURES["mistral3"]()
    images = [image(100, 60), image(84, 112, seed=1)]  # portrait, resized to 112x84; landscape, kept
    exp = explain(fx.model, fx.processor, images, fx.prompt, answer="ok")
    assert [(v.image, v.kind, v.grid, v.box) for v in exp.views] == [
        (0, "image", (4, 3), (0, 0, 1, 1)),
        (1, "image", (3, 4), (0, 0, 1, 1)),
    ]
    tok = fx.processor.tokenizer
    ids = exp.token_ids
    image_id, brk, end = (tok.convert_tokens_to_ids(t) for t in ("[IMG]", "[IMG_BREAK]", "[IMG_END]"))
    assert [p for v in exp.views for p in v.positions] == [i for i, t in enumerate(ids) if t == image_id]
    for view in exp.views:  # each row is followed by a break, the last by the end token
        gh, gw = view.grid
        after = [ids[view.positions[r * gw + gw - 1] + 1] for r in range(gh)]
        assert after == [brk] * (gh - 1) + [end]


def test_family_mistral3_portrait_orientation() -> None:
    fx = FIXTURES["mistral3"]()
    exp = _oriented(fx, fx.processor, [image(112, 84)])  # 4 rows of 3
    assert [(v.grid, v.box) for v in exp.views] == [((4, 3), (0, 0, 1, 1))]


# -- count mismatches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gemma3", "paligemma", "mistral3"])
def test_family_gemma_group_image_count_mismatch(name: str) -> None:
    fx = FIXTURES[name]()
    inputs, family = _inputs(fx, fx.images)
    ids = inputs["input_ids"][0]
    size = fx.images[0].shape[:2]
    for media in (Media((size, size)), Media(())):
        with pytest.raises(ValueError, match=r"image block\(s\) but"):
            family.views(fx.model.config, inputs, ids, media, fx.processor)
    placeholder = family.placeholder(fx.processor)
    with pytest.raises(ValueError, match="placeholder"):
        explain(fx.model, fx.processor, fx.images, placeholder * 2 + fx.prompt, answer="ok")


def test_family_gemma3_pan_and_scan_count_mismatch() -> None:
    fx = FIXTURES["gemma3"]()
    processor = gemma3_processor(do_pan_and_scan=True, pan_and_scan_min_crop_size=16)
    inputs, family = _inputs(fx, [image(60, 130)], processor)  # 3 blocks: the image and 2 crops
    ids = inputs["input_ids"][0]
    with pytest.raises(ValueError, match="pan-and-scan"):  # a longer image would be cut in 3
        family.views(fx.model.config, inputs, ids, Media(((60, 200),)), processor)
    with pytest.raises(ValueError, match=r"image block\(s\) but"):  # a square one not at all
        family.views(fx.model.config, inputs, ids, Media(((60, 60),)), processor)


def test_family_mistral3_sizes_must_match_the_ids() -> None:
    fx = FIXTURES["mistral3"]()
    inputs, family = _inputs(fx, fx.images)
    ids = inputs["input_ids"][0]
    wrong = {**inputs, "image_sizes": torch.tensor([[112, 84]])}  # 4 rows of 3 where the ids hold 3 of 4
    with pytest.raises(ValueError, match="rows"):
        family.views(fx.model.config, wrong, ids, Media(((84, 112),)), fx.processor)
