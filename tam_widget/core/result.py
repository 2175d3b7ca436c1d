"""What TAM computed, kept small enough to re-render any view without the model."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from .. import params
from .candidates import CandidateSet
from .eci import corrected, eci_weights, least_squares_scale
from .layout import VisionLayout
from .result_maps import corrected_into, filter_frames, filter_frames_into, normalise, normalise_into, u8_into
from .rgf import Workspace

__all__ = ["TAMMaps", "TAMResult", "filter_frames", "normalise"]

_MAPS_CHUNK_CELLS = 1 << 20  # image cells of the items that maps() processes at once (a 4 MiB buffer: few filter calls)


@dataclass(frozen=True)
class TAMMaps:
    """Displayable maps of every item for one setting of the ECI scale and the toggles."""

    image: torch.Tensor  # (T, n_v) float32 in [0, 1], flattened per image/frame in order
    text: torch.Tensor  # (T, T) float32 in [0, 1]; NaN where item k is not shown for item v
    layout: VisionLayout

    @property
    def u8(self) -> torch.Tensor:
        """``floor(255 * image)`` as uint8, the reference's displayed and evaluated maps."""
        return u8_into(self.image, torch.empty(self.image.shape, dtype=torch.uint8, device=self.image.device))

    def frames(self, item: int) -> list[np.ndarray]:
        """Item ``item``'s map as one ``(h, w)`` float array per image/frame."""
        return [m.cpu().numpy() for m in self.layout.split(self.image[item])]


@dataclass(frozen=True)
class TAMResult:
    """Everything a view needs: raw maps, interference, scales, relevance and classes.

    Item ``v`` is the ``v``-th displayed token: ``0..P-1`` the prompt, ``P..P+N-1`` the answer.
    """

    A: torch.Tensor  # (T, n_v) raw maps, float32
    E: torch.Tensor  # (T, n_v) interference maps (zero where no ECI)
    omega: torch.Tensor  # (T, T) ECI weights, E = omega @ A (what the browser receives instead of E)
    scale: torch.Tensor  # (T,) least-squares scale s_v; NaN where the item has no context
    R: torch.Tensor  # (T, T) text activations: [v, k] = a(c_v) at item k's relevance position
    n_visible: torch.Tensor  # (T,) item v shows relevance on items 0..n_visible[v]-1
    classes: torch.Tensor  # (T,) LM-head row explained for each item
    token_ids: torch.Tensor  # (T,) token shown for each item
    layout: VisionLayout
    n_prompt: int
    n_answer: int
    kernel: int = 3
    candidates: CandidateSet | None = None  # other classes' maps (top-k candidates), see class_maps
    layers: dict[int, TAMResult] = field(default_factory=dict)  # earlier decoder layers' results (logit lens)
    n_layers: int | None = None  # the decoder's layer count (this result is the last layer's), when layers were kept

    def at_layer(self, layer: int | None) -> TAMResult:
        """The result at decoder layer ``layer`` (``None`` or the last layer: this one; negative counts
        from the end); a ValueError lists the layers this explanation kept."""
        if layer is None:
            return self
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise TypeError(f"layer must be an integer layer index or None, got {layer!r}.")
        last = self.n_layers - 1 if self.n_layers is not None else None
        index = int(layer) + self.n_layers if layer < 0 and self.n_layers is not None else int(layer)
        if index == last or (last is None and layer == -1):
            return self
        if index in self.layers:
            return self.layers[index]
        kept = [*sorted(self.layers), *([last] if last is not None else [])]
        raise ValueError(
            f"layer {layer} was not kept: this explanation has layers {kept or ['the last']}. "
            "Explain with layers='all' (or a list of layer indices) to keep more."
        )

    @property
    def n_items(self) -> int:
        """``T = P + N``: the number of explained items."""
        return self.n_prompt + self.n_answer

    @property
    def eval_items(self) -> list[int]:
        """The reference's evaluation list ``[0, P+1, .., P+N-1]`` (item 0 stands in for answer 0)."""
        return [0, *range(self.n_prompt + 1, self.n_items)] if self.n_answer else []

    def corrected(self, eci_scale: float = 1.0) -> torch.Tensor:
        """``A_hat``: ``(T, n_v)`` maps after ECI with multiplier ``eci_scale``."""
        return corrected(self.A, self.E, torch.nan_to_num(self.scale, nan=0.0), eci_scale)

    def maps(self, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True) -> TAMMaps:
        """Normalised maps: TAM by default; ``eci=False`` is CAM + filter, ``filter=False`` skips RGF.

        ``eci_scale`` (λ) is a finite number in ``[0, 2]``; anything else is refused. Items are
        processed in chunks (ECI, joint min-max, filter) written into the outputs: the extra memory is
        the maps themselves (``T x n_v`` and ``T x T``) plus ``O(chunk)``."""
        eci_scale = params.eci_scale(eci_scale)
        eci, filter = params.flag("eci", eci), params.flag("filter", filter)
        lam = eci_scale if eci else 0.0
        coef = lam * torch.nan_to_num(self.scale, nan=0.0) if lam != 0 else None
        image, text = torch.empty_like(self.A), torch.empty_like(self.R)
        step = max(1, _MAPS_CHUNK_CELLS // max(1, self.A.shape[1]))
        buf = torch.empty(min(step, self.n_items), self.A.shape[1], dtype=self.A.dtype, device=self.A.device)
        work: Workspace | None = None
        for start in range(0, self.n_items, step):
            rows = slice(start, start + step)
            dst = buf[: image[rows].shape[0]] if filter else image[rows]
            corrected_into(self.A[rows], self.E[rows], None if coef is None else coef[rows], dst)
            normalise_into(dst, self.R[rows], self.n_visible[rows], text[rows])
            if filter:
                work = filter_frames_into(dst, self.layout, self.kernel, image[rows], work, nonnegative=True)
        return TAMMaps(image, text, self.layout)

    def item_map(self, item: int, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True) -> torch.Tensor:
        """``(n_v,)``: item ``item``'s row of :meth:`maps` at the cost of one item (every step is per item:
        ECI with its own context, the joint min-max with its own relevance, the filter on its own frames)."""
        eci_scale = params.eci_scale(eci_scale)
        eci, filter = params.flag("eci", eci), params.flag("filter", filter)
        item = params.item("item", item, self.n_items)
        row = slice(item, item + 1)
        scale = torch.nan_to_num(self.scale[row], nan=0.0)
        image = corrected(self.A[row], self.E[row], scale, eci_scale if eci else 0.0)
        image, _ = normalise(image, self.R[row], self.n_visible[row])
        return (filter_frames(image, self.layout, self.kernel) if filter else image)[0]

    def eval_maps(self, eci_scale: float = 1.0) -> torch.Tensor:
        """``(N, n_v)`` uint8 maps of :attr:`eval_items`, as the reference evaluates them."""
        return self.maps(eci_scale).u8[self.eval_items]

    def class_activations(self, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(M, n_v)`` raw maps and ``(M, T)`` text activations of ``classes`` (``(M,)`` token ids),
        read from the candidates or, for an item's own class, the items; ``ValueError`` for another id."""
        classes = torch.as_tensor(classes).reshape(-1).long().to(self.A.device)
        row = self.candidates.index(classes) if self.candidates is not None else torch.full_like(classes, -1)
        own = (self.classes[None, :] == classes[:, None]).long().argmax(dim=1)
        missing = (row < 0) & (self.classes[own] != classes)
        if bool(missing.any()):
            raise ValueError(
                f"token id(s) {classes[missing].tolist()[:8]} have no map in this explanation: it keeps the items' "
                "own classes and the top-k candidates of every answer step; explain again with a larger top_k."
            )
        cand = self.candidates
        if cand is None:
            return self.A[own], self.R[own]
        pick = row.clamp(min=0)
        use = (row >= 0)[:, None]
        return torch.where(use, cand.A[pick], self.A[own]), torch.where(use, cand.R[pick], self.R[own])

    def class_maps(
        self, item: int, classes: torch.Tensor, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True
    ) -> torch.Tensor:
        """``(M, n_v)`` displayed maps of ``classes`` at ``item``, as if the item had each of them.

        The item's ECI context for a class ``c`` is every earlier item whose token is not ``c``
        (the repeated-word rule on token ids); text relevance covers the item's own visible items;
        normalisation and filter as for the items' own maps (:meth:`maps`). For the item's own
        token this is the item's own map (``compute_tam`` without ``token_texts``).
        """
        eci_scale = params.eci_scale(eci_scale)
        eci, filter = params.flag("eci", eci), params.flag("filter", filter)
        classes = torch.as_tensor(classes).reshape(-1).long().to(self.A.device)
        A, R = self.class_activations(classes)
        k = torch.arange(self.n_items, device=self.A.device)
        context = (k[None, :] < item) & (self.token_ids[None, :] != classes[:, None])
        E = eci_weights(R, context) @ self.A
        image = corrected(A, E, least_squares_scale(A, E), eci_scale if eci else 0.0)
        image, _ = normalise(image, R, self.n_visible[item].expand(classes.numel()))
        return filter_frames(image, self.layout, self.kernel) if filter else image

    def to(self, device: str | torch.device) -> TAMResult:
        """A copy with every tensor on ``device``."""
        moved: dict[str, object] = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        if self.candidates is not None:
            moved["candidates"] = self.candidates.to(device)
        if self.layers:
            moved["layers"] = {i: r.to(device) for i, r in self.layers.items()}
        return replace(self, **moved)  # type: ignore[arg-type]

    def reference_relevance(self, item: int) -> torch.Tensor:
        """``R_v`` exactly as the reference holds it, including the entry it drops before display."""
        return self.R[item, : int(self.n_visible[item]) + 1]
