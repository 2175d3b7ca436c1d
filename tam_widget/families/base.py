"""What a model family must tell the explainer, and the helpers the family files share.

A family file holds only what differs between architectures:

- where its vision tokens sit and which grid each run fills (``views``);
- how the extra forward inputs extend over a teacher-forced answer (``extend_inputs``);
- a default prompt layout for processors that carry no chat template (``template``).

Everything else (generation, hidden-state capture, the TAM core) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) as fractions of the original image
FULL: Box = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class View:
    """One grid of vision tokens and the part of an input image or video it covers.

    ``positions`` lists the sequence positions of the grid's cells in row-major order of
    ``grid`` (frame-major for a ``(t, h, w)`` video grid); for tiled families that is the
    stitched order, not the sequence order. ``kind`` says how to present it: ``"image"`` (the
    whole image), ``"tiles"`` (tiles stitched back over the image), ``"thumbnail"`` /
    ``"global"`` / ``"base"`` (a low-resolution view of the whole image, offered separately),
    ``"crop"`` (a pan-and-scan crop covering ``box``) or ``"video"``. A box may reach outside
    ``[0, 1]`` where the model saw padding around the image (LLaVA ``do_pad``); clip it to draw.
    """

    image: int  # index of the input image (or video) it belongs to
    kind: str
    grid: tuple[int, ...]  # (h, w) or (t, h, w), after any merging or pooling
    positions: tuple[int, ...]
    box: Box = FULL

    def __post_init__(self) -> None:
        cells = 1
        for g in self.grid:
            cells *= g
        if cells != len(self.positions):
            raise ValueError(
                f"{self.kind} view of input {self.image}: grid {self.grid} needs {cells} positions, "
                f"got {len(self.positions)}."
            )


@dataclass(frozen=True)
class Media:
    """The user's visual inputs as the family sees them: sizes in pixels, and whether it is a video."""

    sizes: tuple[tuple[int, int], ...]  # (height, width) of each image, or of the video's frames
    video: bool = False
    n_frames: int = 0
    fps: float | None = None  # the video's frame rate, when the user gave it


class Family:
    """Base class: subclass it in one file per family and register the instance in ``FAMILIES``."""

    name: ClassVar[str] = "?"
    model_types: ClassVar[tuple[str, ...]] = ()  # the config.model_type values it explains
    supports_video: ClassVar[bool] = False
    #: the prompt layout used when the processor has no chat template; ``{images}`` is replaced by
    #: one placeholder per image and ``{prompt}`` by the user's words
    default_template: ClassVar[str] = "{images}{prompt}"
    image_placeholder: ClassVar[str] = "<image>"
    video_placeholder: ClassVar[str] = "<video>"

    def views(
        self, config: Any, inputs: Mapping[str, Any], input_ids: torch.Tensor, media: Media, processor: Any
    ) -> list[View]:
        """The grids of vision tokens in ``input_ids`` (``(L0,)``), in sequence order of their inputs."""
        raise NotImplementedError

    def extend_inputs(self, inputs: Mapping[str, Any], n_answer: int) -> dict[str, Any]:
        """The model inputs for a teacher-forced forward over the input plus ``n_answer`` tokens.

        ``input_ids`` and ``attention_mask`` are set by the caller; per-token extras are extended
        here. The default drops ``labels`` and keeps everything else as it is.
        """
        return {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask", "labels")}

    def template(self, processor: Any, video: bool = False) -> tuple[str, str]:
        """``(layout, placeholder)`` for a processor without a chat template (see ``default_template``)."""
        return self.default_template, self.video_placeholder if video else self.image_placeholder

    # -- shared helpers -------------------------------------------------------------------------

    def placeholder(self, processor: Any, video: bool = False) -> str:
        """The placeholder string the processor expands, as the processor names it."""
        attr = "video_token" if video else "image_token"
        value = getattr(processor, attr, None) or getattr(getattr(processor, "tokenizer", None), attr, None)
        return str(value) if value else (self.video_placeholder if video else self.image_placeholder)

    def check_video(self, media: Media) -> None:
        """A ValueError when ``media`` is a video and this family explains images only."""
        if media.video and not self.supports_video:
            raise ValueError(
                f"{self.name} takes images only, but a video was given. Pass the frames as a list of images, "
                "or use a video family (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision, InternVL, SmolVLM)."
            )


def token_id(config: Any, *names: str) -> int:
    """The first of ``names`` the config (or its text config) defines, as an int."""
    for holder in (config, getattr(config, "text_config", None)):
        for name in names:
            value = getattr(holder, name, None) if holder is not None else None
            if isinstance(value, int):
                return value
    raise ValueError(f"The model config has none of {list(names)}; it cannot locate its vision tokens.")


def runs(mask: torch.Tensor) -> list[tuple[int, int]]:
    """Maximal runs of ``True`` in a 1-D bool tensor, as ``(start, end)`` half-open intervals."""
    m = mask.reshape(-1).to(torch.int8)
    if m.numel() == 0:
        return []
    edges = torch.diff(torch.cat([m.new_zeros(1), m, m.new_zeros(1)]))
    starts = torch.nonzero(edges == 1).reshape(-1).tolist()
    ends = torch.nonzero(edges == -1).reshape(-1).tolist()
    return list(zip(starts, ends, strict=True))


def block_starts(found: list[tuple[int, int]], per: int, why: str) -> list[int]:
    """First position of every block of ``per`` tokens in the runs ``found``; ``why`` explains a run
    that is not a whole number of blocks (the usual cause: ids and config from different models)."""
    if any((end - start) % per for start, end in found):
        raise ValueError(f"An image block is not a whole number of {per}-token blocks: {why}")
    return [s for start, end in found for s in range(start, end, per)]


def row_major(start: int, h: int, w: int, stride: int | None = None) -> list[int]:
    """Positions of an ``(h, w)`` block whose rows start every ``stride`` positions (default ``w``)."""
    step = w if stride is None else stride
    return [start + r * step + c for r in range(h) for c in range(w)]


def stitch(tile_starts: Sequence[int], rows: int, cols: int, side: int) -> list[int]:
    """Row-major positions of ``rows x cols`` tiles of ``side x side`` tokens, stitched into one grid.

    ``tile_starts`` holds the first position of each tile, tiles in row-major order.
    """
    out: list[int] = []
    for r in range(rows * side):
        tr, ir = divmod(r, side)
        for c in range(cols * side):
            tc, ic = divmod(c, side)
            out.append(tile_starts[tr * cols + tc] + ir * side + ic)
    return out


def count_mismatch(kind: str, n_runs: int, n_given: int, placeholder: str) -> ValueError:
    """The error for a prompt whose placeholder runs do not match the images given."""
    return ValueError(
        f"The input holds {n_runs} {kind} block(s) but {n_given} {kind}(s) were given. Put exactly one "
        f"{placeholder!r} in the prompt per {kind} (or leave placeholders out and let tam_widget add them)."
    )
