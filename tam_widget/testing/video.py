"""A video processor for the Qwen2-VL family that needs no torchvision, so that ``explain`` reads videos in tests.

Every video processor in transformers imports torchvision, and the torchvision wheel on the registry
does not load with the CPU torch, so a test machine cannot build a real Qwen2-VL video processor.
:class:`QwenVideoProcessor` computes what ``Qwen2VLVideoProcessor`` (Qwen2-VL and Qwen2.5-VL)
computes, step by step and in the same order, in plain torch:

- the videos and their metadata are batched by transformers' own ``make_batched_videos`` /
  ``make_batched_metadata``;
- frames are sampled as its ``sample_frames`` samples them (``do_sample_frames`` with ``num_frames``
  or ``fps``; the frame indices are written into the metadata), or all kept;
- the size is checked with its ``smart_resize`` rule (see below);
- pixels are rescaled and normalised in one step, ``(x - mean / rescale) / (std / rescale)`` in
  float32, as its fused ``rescale_and_normalize`` does;
- the frames are padded to a multiple of ``temporal_patch_size`` with the last frame, and cut into
  patches in ``patchify``'s order;

and returns ``pixel_values_videos``, ``video_grid_thw`` and, when asked (``return_metadata``; the
Qwen2.5-VL processor asks, for ``second_per_grid_ts``), ``video_metadata``. The one step it leaves
out is the resize: frames the real processor would resize (sides not multiples of
``patch_size * merge_size``, or a frame outside ``min_pixels..max_pixels``) are refused, since
torchvision's resampling cannot be reproduced exactly here.

:func:`with_video_processor` gives a copy of a processor built without a video processor (the
test fixtures', the toy model's) that has one, taking its settings from the image processor.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["QwenVideoProcessor", "smart_resize", "with_video_processor"]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # transformers' OPENAI_CLIP_MEAN / _STD, the Qwen2-VL defaults
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """The frame size the Qwen2-VL processors resize to: sides multiples of ``factor``, area within bounds."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"absolute aspect ratio must be below 200, got {max(height, width) / min(height, width)}")
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar, w_bar = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


class QwenVideoProcessor:
    """``Qwen2VLVideoProcessor`` without torchvision, for frames it would not resize (see the module)."""

    model_input_names = ("pixel_values_videos", "video_grid_thw")

    def __init__(
        self,
        *,
        patch_size: int = 14,
        temporal_patch_size: int = 2,
        merge_size: int = 2,
        min_pixels: int = 128 * 28 * 28,
        max_pixels: int = 28 * 28 * 768,
        image_mean: Sequence[float] = CLIP_MEAN,
        image_std: Sequence[float] = CLIP_STD,
        rescale_factor: float = 1 / 255,
        do_sample_frames: bool = False,
        fps: float | None = None,
        num_frames: int | None = None,
        min_frames: int = 4,
        max_frames: int = 768,
        return_metadata: bool = False,
    ) -> None:
        self.patch_size, self.temporal_patch_size, self.merge_size = patch_size, temporal_patch_size, merge_size
        self.min_pixels, self.max_pixels = min_pixels, max_pixels
        self.image_mean, self.image_std, self.rescale_factor = tuple(image_mean), tuple(image_std), rescale_factor
        self.do_sample_frames, self.fps, self.num_frames = do_sample_frames, fps, num_frames
        self.min_frames, self.max_frames, self.return_metadata = min_frames, max_frames, return_metadata

    @property
    def valid_kwargs(self) -> Any:
        """The keywords a processor routes to its video processor (``ProcessorMixin._merge_kwargs`` reads them)."""
        from transformers.processing_utils import VideosKwargs

        return VideosKwargs

    def __call__(
        self,
        videos: Any,
        *,
        video_metadata: Any = None,
        do_sample_frames: bool | None = None,
        fps: float | None = None,
        num_frames: int | None = None,
        return_metadata: bool | None = None,
        return_tensors: Any = None,
        **others: Any,
    ) -> Any:
        from transformers import BatchFeature
        from transformers.video_utils import make_batched_metadata, make_batched_videos

        unknown = sorted(k for k, v in others.items() if v is not None)
        if unknown:
            raise TypeError(f"QwenVideoProcessor (a test stand-in) does not take {unknown}.")
        batch: Any = make_batched_videos(videos)
        metadata = make_batched_metadata(batch, video_metadata=video_metadata)
        sample = self.do_sample_frames if do_sample_frames is None else do_sample_frames
        frames: list[torch.Tensor] = []
        meta: Any
        for video, meta in zip(batch, metadata, strict=True):
            x = torch.as_tensor(video)
            if sample:
                indices = self.sample_frames(meta, num_frames=num_frames, fps=fps)
                meta.frames_indices = indices
                x = x[indices]
            if x.ndim != 4 or 3 not in (x.shape[1], x.shape[-1]):
                raise ValueError(f"Expected RGB frames (T, H, W, 3) or (T, 3, H, W), got {tuple(x.shape)}.")
            frames.append(x if x.shape[1] == 3 and x.shape[-1] != 3 else x.permute(0, 3, 1, 2).contiguous())
        patches, grids = [], []
        for x in frames:
            p, thw = self.patchify(self.normalise(x))
            patches.append(p)
            grids.append(thw)
        out = BatchFeature(
            data={"pixel_values_videos": torch.cat(patches), "video_grid_thw": torch.tensor(grids)},
            tensor_type=return_tensors,
        )
        if self.return_metadata if return_metadata is None else return_metadata:
            out["video_metadata"] = metadata
        return out

    def sample_frames(self, metadata: Any, num_frames: int | None = None, fps: float | None = None) -> torch.Tensor:
        """The frame indices ``Qwen2VLVideoProcessor.sample_frames`` picks: uniform, whole temporal patches."""
        if fps is not None and num_frames is not None:
            raise ValueError("`num_frames` and `fps` are mutually exclusive arguments, please use only one!")
        num_frames = num_frames if num_frames is not None else self.num_frames
        fps = fps if fps is not None else self.fps
        tp, total = self.temporal_patch_size, int(metadata.total_num_frames)
        if num_frames is not None:
            num_frames = round(num_frames / tp) * tp
        elif fps is not None:
            if metadata.fps is None:
                raise ValueError("Asked to sample `fps` frames per second but the video metadata has no fps.")
            most = math.floor(min(self.max_frames, total) / tp) * tp
            wanted = min(max(total / metadata.fps * fps, self.min_frames), most, total)
            num_frames = math.floor(wanted / tp) * tp
        if num_frames is None:
            return torch.arange(0, total).int()
        if num_frames > total:
            raise ValueError(f"Video can't be sampled: num_frames={num_frames} exceeds total_num_frames={total}.")
        return torch.arange(0, total, total / num_frames).int()

    def normalise(self, frames: torch.Tensor) -> torch.Tensor:
        """``(T, C, H, W)`` uint8 frames, rescaled and normalised as one float32 step (transformers fuses them)."""
        h, w = frames.shape[-2:]
        factor = self.patch_size * self.merge_size
        size = smart_resize(h, w, factor, self.min_pixels, self.max_pixels)
        if size != (h, w):
            raise ValueError(
                f"Qwen2VLVideoProcessor would resize these {h}x{w} frames to {size[0]}x{size[1]}; this stand-in "
                f"reproduces only frames it keeps: sides multiples of {factor}, {self.min_pixels} to "
                f"{self.max_pixels} pixels."
            )
        mean = torch.tensor(self.image_mean) * (1.0 / self.rescale_factor)
        std = torch.tensor(self.image_std) * (1.0 / self.rescale_factor)
        return (frames.to(torch.float32) - mean[:, None, None]) / std[:, None, None]

    def patchify(self, frames: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        """``(t * h * w, C * tp * p * p)`` patches of ``(T, C, H, W)`` frames, in ``Qwen2VLVideoProcessor.patchify``'s
        order (merge blocks contiguous), and the grid ``[t, h, w]`` in patches."""
        p, m, tp = self.patch_size, self.merge_size, self.temporal_patch_size
        if pad := -frames.shape[0] % tp:  # the last frame repeated up to a whole temporal patch
            frames = torch.cat([frames, frames[-1:].expand(pad, -1, -1, -1)])
        n, c, h, w = frames.shape
        gt, gh, gw = n // tp, h // p, w // p
        x = frames.view(gt, tp, c, gh // m, m, p, gw // m, m, p).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
        return x.reshape(gt * gh * gw, c * tp * p * p), [gt, gh, gw]


def with_video_processor(processor: Any, **settings: Any) -> Any:
    """A shallow copy of a Qwen2-VL-family ``processor`` whose ``video_processor`` is a :class:`QwenVideoProcessor`
    with its image processor's patch, merge, pixel bounds and normalisation (``settings`` override them)."""
    ip = processor.image_processor
    size = getattr(ip, "size", None)
    found = {
        "patch_size": getattr(ip, "patch_size", None),
        "temporal_patch_size": getattr(ip, "temporal_patch_size", None),
        "merge_size": getattr(ip, "merge_size", None),
        "min_pixels": getattr(size, "shortest_edge", None),
        "max_pixels": getattr(size, "longest_edge", None),
        "image_mean": getattr(ip, "image_mean", None),
        "image_std": getattr(ip, "image_std", None),
        "rescale_factor": getattr(ip, "rescale_factor", None),
    }
    out = copy.copy(processor)
    out.video_processor = QwenVideoProcessor(**{**{k: v for k, v in found.items() if v is not None}, **settings})
    return out
