"""The batched scorer of masked images (EAGLE's model access) on tiny real Qwen2-VL-family models.

The oracle is the reference's procedure, written here independently of the scorer: for one masked
image, the processor on the prompt and that image, ``input_ids`` replaced by the full sequence,
attention all ones, one plain forward computing the logits of every position, softmax, and the
explained ids read one position before each explained token (spec ``eagle.md`` §1.2).
"""

from __future__ import annotations

import sys
import threading
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES
from PIL import Image

from tam_widget.core.superpixels import grid
from tam_widget.families import FAMILIES, family_for
from tam_widget.runtime.media import as_media, to_pil
from tam_widget.runtime.passes import model_lock
from tam_widget.runtime.prompt import build_text
from tam_widget.runtime.scoring import CPU_DEFAULT_BATCH, PIXEL_FORMATS, auto_batch_size, make_scorer, pixel_format
from tam_widget.teaching import PROMPT, demo_model
from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor


@dataclass
class Case:
    model: Any
    processor: Any
    image: np.ndarray
    text: str
    inputs: Any
    sequence: list[int]
    positions: list[int]

    def scorer(self, **kw: Any) -> Any:
        return make_scorer(self.model, self.processor, self.image, self.inputs, self.sequence, self.positions, **kw)


def build_case(model: Any, processor: Any, image: np.ndarray, prompt: str, answer: list[int]) -> Case:
    arrays, media = as_media(image)
    text, _ = build_text(family_for(model), processor, prompt, media)
    inputs = processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    L0 = int(inputs["input_ids"].shape[1])
    sequence = inputs["input_ids"][0].tolist() + answer
    return Case(model, processor, image, text, inputs, sequence, list(range(L0, len(sequence))))


def toy_case() -> Case:
    processor = qwen2_vl_processor()
    answer = processor.tokenizer("a red cat.", add_special_tokens=False)["input_ids"] + [257]  # + <|im_end|>
    return build_case(qwen2_vl_model(), processor, noise_image(84, 112), "What is here?", answer)


def teaching_case() -> Case:
    model, processor, scene = demo_model()
    s = scene(7)
    answer = processor.tokenizer(s.caption, add_special_tokens=False)["input_ids"] + [processor.tokenizer.eos_token_id]
    return build_case(model, processor, s.image, PROMPT, answer)


def fixture_case(name: str) -> Case:
    fx = FIXTURES[name]()
    answer = fx.processor.tokenizer("two dogs", add_special_tokens=False)["input_ids"]
    return build_case(fx.model, fx.processor, fx.images[0], fx.prompt, answer)


CASES = {
    "toy": toy_case,
    "teaching": teaching_case,
    "qwen2_5_vl": lambda: fixture_case("qwen2_5_vl"),
    "qwen3_vl": lambda: fixture_case("qwen3_vl"),
}


@pytest.fixture(scope="module")
def toy() -> Case:
    return toy_case()


def masked_images(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """Full, all black, three region subsets of a 4 x 4 grid, and one random per-channel mask."""
    rng = np.random.default_rng(seed)
    labels = grid(image[None], 4)[0]
    out = [image, np.zeros_like(image)]
    for _ in range(3):
        keep = rng.random(16) < 0.5
        out.append(image * keep[labels][..., None])
    out.append(np.where(rng.random(image.shape) < 0.5, image, 0))
    return np.stack(out).astype(np.uint8)


def oracle(case: Case, image: np.ndarray, ids: list[int] | None = None) -> np.ndarray:
    """The reference's score of one image: a plain forward with full logits (spec §1.2)."""
    inputs = case.processor(text=[case.text], images=[Image.fromarray(image)], return_tensors="pt")
    L0, L = int(inputs["input_ids"].shape[1]), len(case.sequence)
    full = torch.tensor([case.sequence])
    forward = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
    forward["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], torch.zeros(1, L - L0, dtype=torch.long)], 1)
    with torch.no_grad():
        logits = case.model(input_ids=full, attention_mask=torch.ones_like(full), **forward).logits
    assert logits.shape[1] == L  # every position's logits
    probs = torch.softmax(logits[0, torch.tensor(case.positions) - 1], dim=-1)
    targets = torch.tensor(ids if ids is not None else [case.sequence[p] for p in case.positions])
    return probs[torch.arange(len(targets)), targets].float().numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_batched_scores_equal_single_images_and_the_reference_forward(name: str) -> None:
    case = CASES[name]()
    images = masked_images(case.image)
    batched = case.scorer(batch_size=4)
    single = case.scorer(batch_size=1)
    got = batched(images)
    assert got.shape == (len(images), len(case.positions)) and got.dtype == np.float32
    assert batched.forward_calls == 2 and single(images).shape == got.shape and single.forward_calls == len(images)
    one_at_a_time = np.concatenate([single(im[None]) for im in images])
    reference = np.stack([oracle(case, im) for im in images])
    np.testing.assert_allclose(got, one_at_a_time, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-6)
    assert np.abs(reference[0] - reference[1]).max() > 1e-6  # the image matters: the test can fail


def test_explained_ids_read_other_tokens_at_the_explained_positions(toy: Case) -> None:
    other = [5, 77, 256, 3, 9, 11, 300, 42, 1, 2, 0][: len(toy.positions)]
    positions = toy.positions[::2]
    ids = other[: len(positions)]
    scorer = make_scorer(toy.model, toy.processor, toy.image, toy.inputs, toy.sequence, positions, ids)
    images = masked_images(toy.image)
    sub = Case(toy.model, toy.processor, toy.image, toy.text, toy.inputs, toy.sequence, positions)
    np.testing.assert_allclose(scorer(images), np.stack([oracle(sub, im, ids) for im in images]), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", ["toy", "teaching"])
def test_input_space_masking_equals_the_processor_on_the_masked_image(name: str) -> None:
    case = CASES[name]()
    scorer = case.scorer()
    assert scorer.input_space
    images = masked_images(case.image, seed=3)
    got = scorer.pixel_values(images)
    assert scorer.processed == 0  # all masked in the model's input space
    image_processor = case.processor.image_processor
    for image, pixels in zip(images, got, strict=True):
        want = image_processor(images=[Image.fromarray(image)], return_tensors="pt")["pixel_values"]
        assert torch.equal(pixels.reshape(want.shape), want)  # bit for bit


def test_images_that_are_not_masked_copies_go_through_the_processor(toy: Case) -> None:
    scorer = toy.scorer(batch_size=8)
    odd = np.minimum(toy.image.astype(np.int32) + 1, 255).astype(np.uint8)  # not the image, not black
    images = np.stack([toy.image, odd, np.zeros_like(odd)])
    pixels = scorer.pixel_values(images)
    assert scorer.processed == 1
    want = toy.processor.image_processor(images=[Image.fromarray(odd)], return_tensors="pt")["pixel_values"]
    assert torch.equal(pixels[1].reshape(want.shape), want)
    np.testing.assert_allclose(scorer(images)[1], oracle(toy, odd), rtol=1e-4, atol=1e-6)


def test_an_image_the_processor_resizes_is_scored_through_the_processor() -> None:
    processor = qwen2_vl_processor()
    answer = processor.tokenizer("a dog", add_special_tokens=False)["input_ids"]
    case = build_case(qwen2_vl_model(), processor, noise_image(90, 100, seed=2), "What is here?", answer)
    scorer = case.scorer(batch_size=4)
    assert not scorer.input_space  # 90 x 100 is resized to 84 x 112: masking does not commute with it
    images = masked_images(case.image)
    got = scorer(images)
    assert scorer.processed == len(images)
    np.testing.assert_allclose(got, np.stack([oracle(case, im) for im in images]), rtol=1e-4, atol=1e-6)
    forced = case.scorer(input_space=False)
    assert not forced.input_space


def test_only_the_explained_positions_reach_the_lm_head(toy: Case) -> None:
    positions = [toy.positions[0], toy.positions[3], toy.positions[-1]]  # not contiguous
    scorer = make_scorer(toy.model, toy.processor, toy.image, toy.inputs, toy.sequence, positions, batch_size=3)
    shapes: list[tuple[int, ...]] = []
    head = toy.model.get_output_embeddings()
    handle = head.register_forward_pre_hook(lambda module, args: shapes.append(tuple(args[0].shape)))
    try:
        scorer(masked_images(toy.image)[:5])
    finally:
        handle.remove()
    hidden = toy.model.config.text_config.hidden_size
    assert shapes == [(3, 3, hidden), (2, 3, hidden)]  # never (B, L, hidden)


def test_requests_are_split_into_batches_and_counted(toy: Case) -> None:
    scorer = toy.scorer(batch_size=3)
    batches: list[int] = []
    handle = toy.model.register_forward_pre_hook(
        lambda module, args, kwargs: batches.append(int(kwargs["input_ids"].shape[0])), with_kwargs=True
    )
    try:
        images = np.concatenate([masked_images(toy.image), masked_images(toy.image, 1)[:1]])  # 7 images
        first = scorer(images)
        assert batches == [3, 3, 1] and scorer.forward_calls == 3 and scorer.images_scored == 7
        np.testing.assert_allclose(scorer(images[:2]), first[:2], rtol=1e-5, atol=1e-7)
        assert scorer.forward_calls == 4 and scorer.images_scored == 9
        assert scorer(images[:0]).shape == (0, len(toy.positions)) and scorer.forward_calls == 4
    finally:
        handle.remove()


def test_scoring_holds_the_model_lock_in_eval_mode(toy: Case) -> None:
    scorer = toy.scorer(batch_size=2)
    seen: list[tuple[bool, bool]] = []

    def spy(module: Any, args: Any, kwargs: Any) -> None:
        free: list[bool] = []
        other = threading.Thread(target=lambda: free.append(model_lock(toy.model).acquire(blocking=False)))
        other.start()
        other.join()
        if free[0]:
            model_lock(toy.model).release()
        seen.append((module.training, free[0]))

    toy.model.train()
    handle = toy.model.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        scorer(masked_images(toy.image)[:3])
    finally:
        handle.remove()
        assert toy.model.training  # its mode comes back
        toy.model.eval()
    assert seen == [(False, False), (False, False)]  # eval mode, and another thread could not take the lock


def test_batch_size_from_free_memory(toy: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # not installed
    assert auto_batch_size(toy.model, 100, (48, 1176), 5) == CPU_DEFAULT_BATCH
    assert toy.scorer().batch_size == CPU_DEFAULT_BATCH

    def with_available(n_bytes: int) -> types.ModuleType:
        fake = types.ModuleType("psutil")
        fake.virtual_memory = lambda: types.SimpleNamespace(available=n_bytes)  # type: ignore[attr-defined]
        return fake

    monkeypatch.setitem(sys.modules, "psutil", with_available(10**6))
    assert auto_batch_size(toy.model, 100, (48, 1176), 5) == 1
    monkeypatch.setitem(sys.modules, "psutil", with_available(10**13))
    assert auto_batch_size(toy.model, 100, (48, 1176), 5) == 32


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batch_size_from_free_memory_and_scores() -> None:
    case = toy_case()
    case.model.cuda()
    scorer = case.scorer()
    assert 1 <= scorer.batch_size <= 128 and scorer.input_space
    images = masked_images(case.image)
    np.testing.assert_allclose(scorer(images), case.scorer(batch_size=1)(images), rtol=1e-3, atol=1e-6)


def test_families_without_a_pixel_format_say_so() -> None:
    assert set(PIXEL_FORMATS) == {"Qwen2-VL", "Qwen3-VL"}
    for family in {f.name: f for f in FAMILIES.values()}.values():
        if family.name not in PIXEL_FORMATS:
            with pytest.raises(NotImplementedError, match=f"not implemented for the {family.name} family"):
                pixel_format(family)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"explained_positions": [0]}, ValueError, "explained_positions must be non-empty absolute positions"),
        ({"explained_positions": []}, ValueError, "explained_positions"),
        ({"sequence_ids": [1, 2, 3]}, ValueError, "sequence_ids must be inputs\\['input_ids'\\]"),
        ({"explained_ids": [1]}, ValueError, "explained_ids must hold one token id"),
        ({"explained_ids": "vocab"}, TypeError, "explained_ids must be a sequence of integer"),
        ({"explained_positions": [20.5]}, TypeError, "explained_positions"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer"),
        ({"batch_size": "4"}, TypeError, "batch_size"),
        ({"image": np.zeros((84, 112), np.uint8)}, ValueError, "image must be the \\(H, W, 3\\) uint8"),
        ({"image": np.zeros((56, 56, 3), np.uint8)}, ValueError, "inputs\\['pixel_values'\\] does not fit image"),
        ({"family": FAMILIES["llava"]}, NotImplementedError, "LLaVA-1.5 family"),
    ],
)
def test_bad_arguments_are_refused_with_what_to_do(toy: Case, change: dict[str, Any], error: type, match: str) -> None:
    args: dict[str, Any] = {
        "image": toy.image,
        "sequence_ids": toy.sequence,
        "explained_positions": toy.positions,
        "explained_ids": None,
    }
    extra = {k: change.pop(k) for k in ("family", "batch_size") if k in change}
    args.update(change)
    with pytest.raises(error, match=match):
        make_scorer(toy.model, toy.processor, inputs=toy.inputs, **args, **extra)


def test_scoring_refuses_images_of_another_shape(toy: Case) -> None:
    scorer = toy.scorer()
    with pytest.raises(ValueError, match="images must be a \\(B, 84, 112, 3\\) uint8 array"):
        scorer(toy.image)
    with pytest.raises(ValueError, match="images must be"):
        scorer(toy.image[None].astype(np.float32))
