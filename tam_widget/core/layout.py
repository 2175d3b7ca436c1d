"""Where the vision tokens sit in the sequence and how they tile images and video frames.

Shapes used throughout the core (named once here):

- ``hidden``: ``(L, c)``      last-layer hidden states, after the final norm
- ``lm_head``: ``(V, c)``     LM-head weight
- ``vision_positions``: ``(n_v,)`` positions of the vision tokens, in sequence order
- ``A``, ``E``: ``(T, n_v)``  raw and interference maps of the ``T`` explained items
- ``R``: ``(T, T)``           text relevance, entry ``[v, k]`` drawn on item ``k``
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Frame:
    """One image, or one temporal group of a video, as a row-major grid of vision tokens."""

    image: int  # index of the image or video this frame belongs to
    frame: int  # temporal index within a video (0 for a still image)
    height: int
    width: int
    offset: int  # index of its first cell among the n_v vision tokens

    @property
    def size(self) -> int:
        """``h * w``: the frame's number of vision tokens."""
        return self.height * self.width


@dataclass(frozen=True)
class VisionLayout:
    """The vision positions of a sequence together with the grids they fill.

    Build it with :meth:`from_grids`; grids are ``(h, w)`` per image and ``(t, h, w)`` per video
    (``t`` frames of the same grid), after any patch merging, in sequence order.
    """

    positions: torch.Tensor  # (n_v,) int64, distinct, in grid order (row-major per frame, frames in order)
    grids: tuple[tuple[int, ...], ...]  # as given: (h, w) per image, (t, h, w) per video
    frames: tuple[Frame, ...]
    _groups: dict[tuple[int, int], torch.Tensor] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_grids(cls, positions: Sequence[int] | torch.Tensor, grids: Sequence[Sequence[int]]) -> VisionLayout:
        pos = torch.as_tensor(positions, dtype=torch.int64).reshape(-1).cpu()
        frames = _frames_from_grids(grids)
        n_cells = sum(f.size for f in frames)
        if n_cells != pos.numel():
            raise ValueError(
                f"The grids {[list(g) for g in grids]} hold {n_cells} vision tokens but {pos.numel()} "
                "vision positions were given. Pass the grids after patch merging (e.g. Qwen's "
                "image_grid_thw // merge_size) and exactly one position per vision token."
            )
        if pos.numel() > 1 and bool((torch.sort(pos).values.diff() == 0).any()):
            raise ValueError("Vision positions must be distinct: each vision token fills exactly one grid cell.")
        if pos.numel() and int(pos.min()) < 0:
            raise ValueError(f"Vision positions must be non-negative, got {int(pos.min())}.")
        return cls(pos, tuple(tuple(int(x) for x in g) for g in grids), frames)

    @property
    def n_tokens(self) -> int:
        """``n_v``: the number of vision tokens."""
        return int(self.positions.numel())

    def groups(self) -> dict[tuple[int, int], torch.Tensor]:
        """Frames grouped by grid shape: ``(h, w) -> (n_frames, h*w)`` column indices into ``n_v``.

        Lets the filter run once per distinct grid shape instead of once per frame.
        """
        if not self._groups:
            by_shape: dict[tuple[int, int], list[torch.Tensor]] = {}
            for f in self.frames:
                cols = torch.arange(f.offset, f.offset + f.size)
                by_shape.setdefault((f.height, f.width), []).append(cols)
            self._groups.update({k: torch.stack(v) for k, v in by_shape.items()})
        return self._groups

    def split(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Split ``(..., n_v)`` into one ``(..., h, w)`` tensor per frame."""
        return [
            flat[..., f.offset : f.offset + f.size].reshape(*flat.shape[:-1], f.height, f.width) for f in self.frames
        ]

    def to_json(self) -> list[list[int]]:
        """The grids in the ``from_grids`` format."""
        return [list(g) for g in self.grids]


def _frames_from_grids(grids: Sequence[Sequence[int]]) -> tuple[Frame, ...]:
    if len(grids) == 0:
        raise ValueError("At least one grid is needed: one [h, w] per image or [t, h, w] per video.")
    frames: list[Frame] = []
    offset = 0
    for image, grid in enumerate(grids):
        dims = [int(x) for x in grid]
        if len(dims) not in (2, 3) or min(dims) < 1:
            raise ValueError(f"Grid {image} is {list(grid)}: expected [h, w] or [t, h, w] with positive sizes.")
        t, h, w = [1, *dims] if len(dims) == 2 else dims
        for k in range(t):
            frames.append(Frame(image=image, frame=k, height=h, width=w, offset=offset))
            offset += h * w
    return tuple(frames)
