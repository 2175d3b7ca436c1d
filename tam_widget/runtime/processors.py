"""Building a processor whose video half needs torchvision, for images only.

In transformers 5 every processor of a video-capable family (Qwen2-VL, LLaVA-OneVision, InternVL,
SmolVLM...) checks its ``video_processor`` argument's class on construction, and that check
fails for ``None`` (``VIDEO_PROCESSOR_MAPPING`` has no ``_extra_content``) while every video
processor needs torchvision. For images the processor works without its video half, so
:func:`without_video_processor` builds it with the check skipped for that ``None`` argument
only, and restores the check at once. The teaching model's processor and the test fixtures are
built this way; a processor from ``from_pretrained`` with torchvision installed never is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

P = TypeVar("P")


@contextlib.contextmanager
def none_sub_processors_allowed() -> Iterator[None]:
    """Within the block, a processor accepts ``None`` for a sub-processor (e.g. ``video_processor``)."""
    from transformers.processing_utils import ProcessorMixin

    orig = ProcessorMixin.check_argument_for_proper_class

    def check(self: Any, name: str, arg: Any) -> Any:
        return None if arg is None else orig(self, name, arg)

    ProcessorMixin.check_argument_for_proper_class = check  # type: ignore[method-assign]
    try:
        yield
    finally:
        ProcessorMixin.check_argument_for_proper_class = orig  # type: ignore[method-assign]


def without_video_processor(processor_cls: Callable[..., P], **parts: Any) -> P:
    """``processor_cls(video_processor=None, **parts)``: an images-only processor, no torchvision needed."""
    with none_sub_processors_allowed():
        return processor_cls(video_processor=None, **parts)
