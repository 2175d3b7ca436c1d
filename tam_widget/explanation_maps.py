"""An :class:`~tam_widget.explanation.Explanation`'s maps: TAM's maps of every item
(:meth:`~ExplanationMaps.maps`), one item's per view (:meth:`~ExplanationMaps.view_maps`), a
candidate's (:meth:`~ExplanationMaps.class_map`) and two candidates' difference
(:meth:`~ExplanationMaps.contrast`), and where each vision cell lies (:meth:`~ExplanationMaps.cells`).

:class:`ExplanationMaps` is a mixin with no fields of its own: it reads the Explanation's
``results``, ``views``, ``tam`` and ``item_positions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from . import params
from .core.result import TAMMaps, TAMResult
from .families.base import View

if TYPE_CHECKING:
    from .explanation import Explanation


class ExplanationMaps:
    """The map methods of :class:`~tam_widget.explanation.Explanation` (a mixin: no fields)."""

    results: dict[str, Any]
    views: list[View]

    if TYPE_CHECKING:

        @property
        def tam(self) -> TAMResult: ...

        @property
        def item_positions(self) -> list[int]: ...

    def maps(
        self, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True, layer: int | None = None
    ) -> TAMMaps:
        """All items' normalised TAM maps (see :meth:`TAMResult.maps`), computed on the result's device.
        ``layer``: a decoder layer kept by ``explain(..., layers=...)`` (None: the last, as published)."""
        return self.tam.at_layer(layer).maps(eci_scale, eci=eci, filter=filter)

    @property
    def layers(self) -> list[int]:
        """The decoder layers whose maps this explanation holds (the last only, unless ``layers=`` asked)."""
        tam = self.results.get("tam")
        if tam is None or tam.n_layers is None:
            return []
        return [*sorted(tam.layers), tam.n_layers - 1]

    def view_maps(
        self, item: int, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True, layer: int | None = None
    ) -> list[np.ndarray]:
        """One float map per view for ``item``: ``(h, w)``, or ``(t, h, w)`` for a video view; it costs
        one item's work (:meth:`TAMResult.item_map`), so a loop over the tokens costs one :meth:`maps`."""
        item = params.item("item", item, len(self.item_positions))
        return self._per_view(self.tam.at_layer(layer).item_map(item, eci_scale, eci=eci, filter=filter))

    def class_map(
        self, item: int, token: int | str, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True
    ) -> list[np.ndarray]:
        """``token``'s map at ``item`` (one float map per view, as :meth:`view_maps`): "what if the
        model had said *this* here". ``token``: a token id or text among the candidates kept at
        explain time (the top-k of every answer step) and the answer's tokens; the item's own token
        gives its own map. The page shows the same map when a candidate is clicked."""
        from .classes import resolve

        item = params.item("item", item, len(self.item_positions))
        ids = torch.tensor([resolve(cast("Explanation", self), item, token)])
        return self._per_view(self.tam.class_maps(item, ids, eci_scale, eci=eci, filter=filter)[0])

    def contrast(
        self, item: int, a: int | str, b: int | str, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True
    ) -> list[np.ndarray]:
        """``class_map(item, a) - class_map(item, b)`` per view: signed, in ``[-1, 1]``; positive where
        the evidence is for ``a`` rather than ``b`` (the page's contrast mode shows the same)."""
        from .classes import resolve

        item = params.item("item", item, len(self.item_positions))
        exp = cast("Explanation", self)
        ids = torch.tensor([resolve(exp, item, a, "a"), resolve(exp, item, b, "b")])
        maps = self.tam.class_maps(item, ids, eci_scale, eci=eci, filter=filter)
        return self._per_view(maps[0] - maps[1])

    def _per_view(self, image: torch.Tensor) -> list[np.ndarray]:
        """A ``(n_v,)`` map split into one ``(h, w)`` or ``(t, h, w)`` array per view."""
        flat = image.float().cpu().numpy()
        out, at = [], 0
        for v in self.views:
            n = len(v.positions)
            out.append(flat[at : at + n].reshape(v.grid))
            at += n
        return out

    def cells(self) -> np.ndarray:
        """``(n_v, 5)`` int: for every vision token in layout order, ``[view, image, frame, row, col]``."""
        rows = []
        for k, v in enumerate(self.views):
            t, h, w = (1, *v.grid) if len(v.grid) == 2 else v.grid
            f, r, c = np.unravel_index(np.arange(t * h * w), (t, h, w))
            rows.append(np.stack([np.full_like(f, k), np.full_like(f, v.image), f, r, c], axis=1))
        return np.concatenate(rows).astype(np.int64)
