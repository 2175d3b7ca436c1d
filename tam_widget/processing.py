"""The user's media and prompt -> the processor's inputs, laid out as ``explain`` lays them out
(:func:`model_inputs`, public, re-exported by :mod:`tam_widget.explainer`).

The prompt is wrapped by :func:`~tam_widget.runtime.prompt.build_text` (the chat template or the
family's plain layout); the media go to the processor as PIL images, or as a video with every frame
kept and none resampled. A processor that cannot take the text gets a clear error naming the cause.
"""

from __future__ import annotations

from typing import Any

from . import arguments
from .families import Family, family_for
from .families.base import Media
from .runtime.media import as_media, to_pil
from .runtime.prompt import build_text


def model_inputs(
    model: Any, processor: Any, images_or_video: Any, prompt: str, *, chat_template: bool | None = None
) -> Any:
    """The processor's inputs (batch 1, on the CPU) for ``prompt`` about ``images_or_video``, laid out
    exactly as :func:`~tam_widget.explainer.explain` lays them out: what
    :func:`~tam_widget.explainer.explain_inputs` and :func:`~tam_widget.runtime.scoring.make_scorer`
    take. The arguments are ``explain``'s."""
    arguments.unwrap_check(model)
    family = family_for(model)
    arguments.prompt_check(prompt, arguments.processor_check(processor))
    arrays, media = as_media(images_or_video)
    return prepared(family, processor, prompt, arrays, media, chat_template)[0]


def prepared(
    family: Family, processor: Any, prompt: str, arrays: list[Any], media: Media, chat_template: bool | None
) -> tuple[Any, bool]:
    """``(the processor's inputs, whether the chat template wrapped the prompt)``."""
    family.check_video(media)
    text, templated = build_text(family, processor, prompt, media, chat_template)
    return process(family, processor, text, arrays, media), templated


def process(family: Family, processor: Any, text: str, arrays: list[Any], media: Media) -> Any:
    """The processor's inputs for ``text`` and the media (every video frame kept, none resampled)."""
    visual = to_pil(arrays, media)
    kwargs: dict[str, Any] = {"images": visual}
    if media.video:
        meta = {
            "fps": media.fps or 24.0,
            "total_num_frames": media.n_frames,
            "frames_indices": list(range(media.n_frames)),
        }
        kwargs = {"videos": visual, "video_metadata": [meta], "do_sample_frames": False}
    if media.video and hasattr(processor, "video_processor") and processor.video_processor is None:
        raise ImportError(
            f"This {family.name} processor has no video processor, so it cannot read a video. Video processors in "
            "transformers need torchvision: install the torchvision build that matches your torch, reload the "
            "processor, or process the video yourself and call explain_inputs."
        )
    try:
        return processor(text=[text], return_tensors="pt", **kwargs)
    except ImportError as err:
        raise ImportError(f"The {family.name} processor needs a missing package for this input: {err}") from err
    except (ValueError, KeyError, IndexError, TypeError) as err:  # e.g. a processor of another model
        raise ValueError(
            f"The {type(processor).__name__} could not process the text tam_widget laid out for this {family.name} "
            f"model ({type(err).__name__}: {err}). Pass the processor loaded from the same checkpoint as the model."
        ) from err
