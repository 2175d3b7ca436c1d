"""``CompareWidget``: two explanations side by side with one selection and one set of view settings.

Each side crosses exactly as a :class:`~tam_widget.display.widget.TAMWidget` would get it
(:func:`~tam_widget.display.wire.encode`: ``_data_a``, ``_meta_a``, ``_images_a`` and the same for
``b``), so the browser decodes and draws each with the single widget's own code (``js/src/compare/``).
``_compare`` adds the alignment: ``rows`` (``[a, b]`` item pairs, ``-1`` for none), ``changed`` (per
row, :meth:`~tam_widget.compare.Comparison.changed`), ``labels`` and ``same_grids`` (a difference view
is drawn only then). ``js/src/compare/model.ts`` mirrors these traits.

The shared view traits (``selected_row``, ``eci_scale``, ``eci``, ``filter``, ``layer``,
``colormap``, ``opacity``, ``difference``) are checked by :mod:`tam_widget.params`, whoever sets
them; a bad value from the browser is refused and the current value sent back.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .. import params
from .bundle import MISSING, STATIC, bundle
from .widget import _Bool, _Float, _Int, _Unicode, check_layer, compare_meta, default_layer, default_row

__all__ = ["CompareWidget", "compare_meta", "compare_page", "default_row", "save_compare_html", "shared_traits"]
from .wire import encode

if TYPE_CHECKING:
    from ..compare import Comparison


class CompareWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Two explanations' views side by side: a click on either selects the aligned token in both."""

    _esm = STATIC / "widget.js" if (STATIC / "widget.js").exists() else MISSING
    _css = STATIC / "widget.css" if (STATIC / "widget.css").exists() else ""

    _data_a = traitlets.Bytes(help="Side a's arrays (wire.py's buffer)").tag(sync=True)
    _meta_a = traitlets.Dict(help="Side a's wire metadata").tag(sync=True)
    _images_a = traitlets.List(traitlets.Bytes(), help="Side a's PNGs").tag(sync=True)
    _data_b = traitlets.Bytes(help="Side b's arrays (wire.py's buffer)").tag(sync=True)
    _meta_b = traitlets.Dict(help="Side b's wire metadata").tag(sync=True)
    _images_b = traitlets.List(traitlets.Bytes(), help="Side b's PNGs").tag(sync=True)
    _compare = traitlets.Dict(help="rows ([a, b], -1: none), changed, labels, same_grids").tag(sync=True)

    selected_row = _Int(0, help="The aligned row shown in both views (Comparison.rows)").tag(sync=True)
    eci_scale = _Float(1.0, help="ECI scale lambda in [0, 2], both sides").tag(sync=True)
    eci = _Bool(True, help="Apply ECI, both sides").tag(sync=True)
    filter = _Bool(True, help="Apply the rank Gaussian filter, both sides").tag(sync=True)
    layer = _Int(-1, help="The decoder layer shown (a side that did not keep it shows its last)").tag(sync=True)
    colormap = _Unicode("jet", help="'jet', 'viridis' or 'inferno', both sides").tag(sync=True)
    opacity = _Float(0.5, help="The heatmaps' largest opacity in [0, 1], both sides").tag(sync=True)
    difference = _Bool(True, help="Show a − b (where the grids match) in the diverging colours").tag(sync=True)

    def __init__(self, comparison: Comparison, **kwargs: Any) -> None:
        """The view of ``comparison``; ``kwargs`` set the shared view traits."""
        kwargs = shared_traits(comparison, **kwargs)  # unknown names and bad values refused before the work
        bundle()
        self.comparison = comparison
        self._n_rows = len(comparison.rows)
        self._kept = sorted(set(comparison.a.layers or []) | set(comparison.b.layers or []))
        sides: dict[str, Any] = {}
        for side, exp in (("a", comparison.a), ("b", comparison.b)):
            data, meta, images = encode(exp)
            sides |= {f"_data_{side}": data, f"_meta_{side}": meta, f"_images_{side}": images}
        super().__init__(**sides, _compare=compare_meta(comparison), **kwargs)

    @traitlets.validate("selected_row", "eci_scale", "eci", "filter", "layer", "colormap", "opacity", "difference")
    def _check(self, proposal: dict[str, Any]) -> Any:
        name = proposal["trait"].name
        try:
            return CHECKS[name](proposal["value"], self._n_rows, self._kept)
        except (TypeError, ValueError) as e:
            raise traitlets.TraitError(str(e)) from None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A browser update: private traits and bad values are refused and the current value sent back."""
        refused = [k for k in sync_data if k.startswith("_") and k != "_view_count"]
        for name, value in sync_data.items():
            if name in refused or name not in self.keys:
                continue
            try:
                super().set_state({name: value})
            except traitlets.TraitError as e:
                self.log.warning("tam-widget: refused %s from the browser: %s", name, e)
                refused.append(name)
        if refused:
            self.send_state(refused)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """anywidget's live view plus a static picture of both sides at the shown row (``image/png``,
        ``text/html``) for front ends without the widget (:mod:`.compare_picture`)."""
        from .compare_picture import fallback
        from .snapshot import with_fallback

        keys = ("eci_scale", "eci", "filter", "colormap", "opacity", "layer")
        traits = {k: getattr(self, k) for k in keys}
        make = lambda: fallback(self.comparison, self.selected_row, traits)  # noqa: E731
        return with_fallback(self, super()._repr_mimebundle_(**kwargs), make)

    def select(self, word: str) -> int:
        """Select the last row whose text (either side's) is ``word``; returns the row."""
        key = "".join(word.split()).lower()
        hits = [k for k, r in enumerate(self.comparison.rows) if key in (_key(r.text_a), _key(r.text_b))]
        if not hits:
            raise ValueError(f"No row with the token {word!r}.")
        self.selected_row = hits[-1]
        return hits[-1]


def _key(text: str) -> str:
    return "".join(text.split()).lower()


# shared view trait -> check(value, number of rows, kept layers of either side)
CHECKS: dict[str, Callable[[Any, int, list[int]], Any]] = {
    "selected_row": lambda v, n, L: params.item("selected_row", v, n),
    "eci_scale": lambda v, n, L: params.eci_scale(v),
    "eci": lambda v, n, L: params.flag("eci", v),
    "filter": lambda v, n, L: params.flag("filter", v),
    "layer": lambda v, n, L: check_layer(v, L),
    "colormap": lambda v, n, L: params.colormap(v),
    "opacity": lambda v, n, L: params.opacity(v),
    "difference": lambda v, n, L: params.flag("difference", v),
}


def shared_traits(comparison: Comparison, **traits: Any) -> dict[str, Any]:
    """The shared view traits the widget opens with: ``traits`` checked over the defaults (the offline page's)."""
    unknown = sorted(set(traits) - set(CHECKS))
    if unknown:
        raise ValueError(f"Unknown view settings {unknown}; use {sorted(CHECKS)}.")
    own = CompareWidget.class_traits()
    out = {k: own[k].default_value for k in CHECKS}
    out |= {"selected_row": default_row(comparison), "layer": default_layer(comparison.a)}
    kept = sorted(set(comparison.a.layers or []) | set(comparison.b.layers or []))
    return out | {k: CHECKS[k](v, len(comparison.rows), kept) for k, v in traits.items()}


def compare_page(comparison: Comparison, title: str | None = None, **traits: Any) -> str:
    """The offline HTML page of the comparison (:func:`~tam_widget.display.html.document`, the single
    page's host and bundle; each side's buffer deflated as the single page's, :func:`~.html.pack`);
    ``traits`` set the shared view traits."""
    from .html import document, pack

    state: dict[str, Any] = {"traits": shared_traits(comparison, **traits), "images": [], "meta": None, "bytes": {}}
    state["deflated"] = ["_data_a", "_data_b"]
    state["traits"]["_compare"] = compare_meta(comparison)
    for side, exp in (("a", comparison.a), ("b", comparison.b)):
        data, meta, images = encode(exp)
        state["traits"][f"_meta_{side}"] = meta
        state["bytes"] |= {f"_data_{side}": pack(data), f"_images_{side}": [_b64(i) for i in images]}
    a, b = comparison.labels
    return document(title or f"TAM: {a} vs {b}", state, "")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def save_compare_html(comparison: Comparison, path: str | os.PathLike[str], **traits: Any) -> Path:
    """Write :func:`compare_page` to ``path``; returns the path."""
    out = Path(path)
    out.write_text(compare_page(comparison, **traits), encoding="utf-8")
    return out
