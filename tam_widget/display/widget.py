"""``TAMWidget``: the notebook view of an explanation, and the one place its traits and defaults live.

A thin anywidget: the maps' inputs cross once as one binary buffer plus JSON metadata
(:mod:`tam_widget.display.wire`) and the images as PNG; the browser recomputes every view itself.
Only the small view traits below sync back from the browser. ``js/src/model.ts`` mirrors these
traits (a test checks the names and types agree), and the offline page starts from
:func:`view_defaults`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .bundle import MISSING, STATIC, bundle
from .wire import encode

if TYPE_CHECKING:
    from ..explanation import Explanation

COLORMAPS = ("jet", "viridis")


class TAMWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Tokens, per-token heatmaps, text relevance, top candidates and the ECI slider for one explanation."""

    # read when the class is made; a missing bundle gives a widget that says how to build it
    _esm = STATIC / "widget.js" if (STATIC / "widget.js").exists() else MISSING
    _css = STATIC / "widget.css" if (STATIC / "widget.css").exists() else ""

    _data = traitlets.Bytes(help="Every method's arrays in one little-endian buffer (see wire.py)").tag(sync=True)
    _meta = traitlets.Dict(help="Method tag, items, views, frames, top candidates and the buffer's layout").tag(
        sync=True
    )
    _images = traitlets.List(traitlets.Bytes(), help="One PNG per image or video frame").tag(sync=True)

    selected = traitlets.Int(0, help="The item shown: 0..P-1 the prompt's tokens, then the answer's").tag(sync=True)
    eci_scale = traitlets.Float(1.0, help="ECI scale lambda in [0, 2]: 1 is TAM, 0 turns ECI off").tag(sync=True)
    eci = traitlets.Bool(True, help="Apply estimated causal inference (off: CAM + filter)").tag(sync=True)
    filter = traitlets.Bool(True, help="Apply the rank Gaussian filter").tag(sync=True)
    opacity = traitlets.Float(0.5, help="Heatmap opacity over the image, in [0, 1]").tag(sync=True)
    colormap = traitlets.Unicode("jet", help="'jet' (as in the paper) or 'viridis' (perceptually uniform)").tag(
        sync=True
    )
    group_words = traitlets.Bool(False, help="Show tokens grouped into words").tag(sync=True)

    def __init__(self, explanation: Explanation, **kwargs: Any) -> None:
        _check_explanation(explanation)
        bundle()
        data, meta, images = encode(explanation)
        self.explanation = explanation
        kwargs.setdefault("selected", first_item(explanation))
        super().__init__(_data=data, _meta=meta, _images=images, **kwargs)

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict[str, Any]) -> int:
        n = len(self._meta.get("items", [])) if self._meta else None
        value = int(proposal["value"])
        if n is not None and not 0 <= value < n:
            raise traitlets.TraitError(f"selected must be an item index in [0, {n}), got {value}.")
        return value

    @traitlets.validate("eci_scale")
    def _check_scale(self, proposal: dict[str, Any]) -> float:
        return _in_range("eci_scale", proposal["value"], 0.0, 2.0)

    @traitlets.validate("opacity")
    def _check_opacity(self, proposal: dict[str, Any]) -> float:
        return _in_range("opacity", proposal["value"], 0.0, 1.0)

    @traitlets.validate("colormap")
    def _check_colormap(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in COLORMAPS:
            raise traitlets.TraitError(f"colormap must be one of {COLORMAPS}, got {proposal['value']!r}.")
        return str(proposal["value"])

    def select(self, word: str) -> int:
        """Select the last item whose text is ``word``; returns its index."""
        hits = self.explanation.find(word)
        if not hits:
            raise ValueError(f"No token {word!r} among {self.explanation.item_texts}.")
        self.selected = hits[-1]
        return hits[-1]


def view_traits() -> dict[str, traitlets.TraitType[Any, Any]]:
    """The synced traits a user may set (``selected``, ``eci_scale``...): TAMWidget's own, not the data
    traits and not those every ipywidget inherits (``layout``, ``tooltip``...)."""
    own = TAMWidget.class_traits(sync=True).items()
    return {k: t for k, t in own if t.this_class is TAMWidget and not k.startswith("_")}


def view_defaults(explanation: Explanation) -> dict[str, Any]:
    """The initial value of every view trait for ``explanation`` (what the widget opens with)."""
    out = {k: t.default_value for k, t in view_traits().items()}
    out["selected"] = first_item(explanation)
    return out


def first_item(explanation: Explanation) -> int:
    """The item shown first: the first answer token, else item 0."""
    return explanation.n_prompt if explanation.n_answer else 0


def _check_explanation(explanation: Any) -> None:
    needed = ("results", "item_positions", "views", "images")
    if not all(hasattr(explanation, k) for k in needed):
        raise TypeError(f"TAMWidget needs an Explanation (from tam_widget.explain), got {type(explanation).__name__}.")


def _in_range(name: str, value: Any, lo: float, hi: float) -> float:
    v = float(value)
    if not lo <= v <= hi:
        raise traitlets.TraitError(f"{name} must be in [{lo}, {hi}], got {v}.")
    return v
