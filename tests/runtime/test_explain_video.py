"""``explain``'s own video branch, end to end: a ``Video`` goes through the processor's video processor.

Transformers' video processors need torchvision, which does not load here, so the Qwen2-VL family's
processors get ``tam_widget.testing.video.QwenVideoProcessor`` (what ``Qwen2VLVideoProcessor`` computes,
in plain torch). The stand-in samples 2 frames unless told not to, as a processor configured to
sample would: ``explain`` must keep every frame, in order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture
from fixtures_qwen import VIDEO_FPS, frames_for, video_inputs

import tam_widget.explainer
from tam_widget import Video, explain, explain_inputs
from tam_widget.explanation import Explanation
from tam_widget.testing import orientation
from tam_widget.testing.video import with_video_processor

PROMPT = "What happens?"


@pytest.fixture(params=["qwen2_vl", "qwen2_5_vl"])
def fx(request: pytest.FixtureRequest) -> Fixture:
    return FIXTURES[request.param]()


def _processor(fx: Fixture) -> Any:
    return with_video_processor(fx.processor, do_sample_frames=True, num_frames=2)


def test_explain_reads_a_video_as_the_hand_built_inputs(fx: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same model inputs, token ids, views and maps as ``explain_inputs`` on inputs built by hand."""
    frames = frames_for(fx)  # 4 frames of the fixture image's size: 2 groups of (3, 4) cells
    seen: list[Any] = []

    def recording(model: Any, processor: Any, inputs: Any, **kw: Any) -> Explanation:
        seen.append(inputs)
        return explain_inputs(model, processor, inputs, **kw)

    monkeypatch.setattr(tam_widget.explainer, "explain_inputs", recording)
    exp = explain(fx.model, _processor(fx), Video(frames, fps=VIDEO_FPS), PROMPT, answer="ok")
    monkeypatch.undo()

    [view] = exp.views
    assert (view.image, view.kind, view.grid, view.box) == (0, "video", (2, 3, 4), (0.0, 0.0, 1.0, 1.0))
    hand_inputs = video_inputs(fx, frames, PROMPT)
    [inputs] = seen
    assert sorted(inputs) == sorted(hand_inputs)
    for key, want in hand_inputs.items():  # the pixels: the same up to float32 rounding (fused normalisation)
        torch.testing.assert_close(inputs[key], want, atol=1e-6, rtol=0, msg=key)
    hand = explain_inputs(fx.model, fx.processor, hand_inputs, images=frames, prompt=PROMPT, answer="ok")
    assert exp.token_ids == hand.token_ids and exp.views == hand.views and exp.item_texts == hand.item_texts
    scale = float(hand.result.A.abs().max())
    torch.testing.assert_close(exp.result.A, hand.result.A, atol=1e-5 * scale, rtol=1e-5)
    np.testing.assert_array_equal(exp.maps().u8.numpy(), hand.maps().u8.numpy())
    np.testing.assert_array_equal(exp.images[0], frames)


def test_explain_keeps_the_frames_in_order(fx: Fixture) -> None:
    """Editing frame 3 changes the second frame group's cells under the edit, and nothing else."""
    processor = _processor(fx)

    def run(shown: list[np.ndarray]) -> Explanation:
        return explain(fx.model, processor, Video(shown[0], fps=VIDEO_FPS), PROMPT, answer="ok")

    exp = orientation.check(fx.model, run, [frames_for(fx)], frames=[3], **fx.orientation_options())
    assert [v.grid for v in exp.views] == [(2, 3, 4)]


def test_video_without_a_video_processor_is_a_clear_import_error(fx: Fixture) -> None:
    assert fx.processor.video_processor is None
    with pytest.raises(ImportError, match=r"has no video processor.*torchvision"):
        explain(fx.model, fx.processor, Video(frames_for(fx), fps=VIDEO_FPS), PROMPT, answer="ok")


def test_the_stand_in_refuses_frames_the_real_processor_would_resize(fx: Fixture) -> None:
    frames = frames_for(fx)[:, :80]  # 80 rows: not a multiple of 28
    with pytest.raises(ValueError, match="would resize these 80x112 frames"):
        explain(fx.model, _processor(fx), Video(frames, fps=VIDEO_FPS), PROMPT, answer="ok")
