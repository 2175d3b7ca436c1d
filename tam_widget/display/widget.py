"""``TAMWidget``: the notebook view of an explanation, and the one place its traits and defaults live.

A thin anywidget: the maps' inputs cross once as one binary buffer plus JSON metadata
(:mod:`tam_widget.display.wire`) and the images as PNG; the browser recomputes every view itself.
Only the small view traits below sync back from the browser. ``js/src/model.ts`` mirrors these
traits (a test checks the names and types agree), and the offline page starts from
:func:`view_defaults`.

Every view trait is checked by :mod:`tam_widget.params` (:func:`check_view`), whoever sets it: Python
(``w.opacity = 2`` raises), :func:`~tam_widget.display.html.page` / ``save_html`` (the same check,
the same message) and the browser. The kernel owns the values: a bad value sent by the browser is
refused, never echoed, and every view is sent the current value back; the data traits (``_data``,
``_meta``, ``_images``) and the other private ones are read-only from the browser.
"""

# Imported "as" themselves: names this module held before it was split, which compare_widget.py and the
# tests still import from here.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import traitlets

from .. import params
from .browser_state import sort_state
from .bundle import MISSING, STATIC, bundle
from .first_view import default_layer as default_layer
from .first_view import default_row as default_row
from .first_view import first_item as first_item
from .snapshot import with_fallback
from .stream import serve
from .view_checks import CHECKS, InvalidTraitTypeError, InvalidTraitValueError, check_view
from .view_checks import _Bool as _Bool
from .view_checks import _Float as _Float
from .view_checks import _Int as _Int
from .view_checks import _Unicode as _Unicode
from .view_checks import check_layer as check_layer
from .whatif_widget import LABELS, WhatIfWidget
from .wire import encode, encode_streamed
from .wire_meta import compare_meta as compare_meta

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

COLORMAPS = params.COLORMAPS  # the colour maps the front end draws (js/src/colormap.ts COLORMAP_NAMES; a test checks)


class TAMWidget(WhatIfWidget):
    """Tokens, per-token heatmaps, text relevance, top candidates and the ECI slider for one explanation;
    with a kernel, the answer edited from the page (:class:`~.whatif_widget.WhatIfWidget`)."""

    # read when the class is made; a missing bundle gives a widget that says how to build it
    _esm = STATIC / "widget.js" if (STATIC / "widget.js").exists() else MISSING
    _css = STATIC / "widget.css" if (STATIC / "widget.css").exists() else ""

    _data = traitlets.Bytes(help="Every method's arrays in one little-endian buffer (see wire.py)").tag(sync=True)
    _meta = traitlets.Dict(help="Method tag, items, views, frames, top candidates and the buffer's layout").tag(
        sync=True
    )
    _images = traitlets.List(traitlets.Bytes(), help="One PNG per image or video frame").tag(sync=True)

    method = _Unicode(
        "tam", help="The method shown: one of the explanation's (exp.results); default exp.method, shown first"
    ).tag(sync=True)
    selected = _Int(0, help="The item shown: 0..P-1 the prompt's tokens, then the answer's").tag(sync=True)
    eci_scale = _Float(1.0, help="ECI scale lambda in [0, 2]: 1 is TAM, 0 turns ECI off").tag(sync=True)
    eci = _Bool(True, help="Apply estimated causal inference (off: CAM + filter)").tag(sync=True)
    filter = _Bool(True, help="Apply the rank Gaussian filter").tag(sync=True)
    opacity = _Float(
        0.5, help="The heatmap's largest opacity over the image, in [0, 1]: a cell's alpha follows its value (0: clear)"
    ).tag(sync=True)
    colormap = _Unicode("jet", help="'jet' (as in the paper), 'viridis' or 'inferno' (perceptually uniform)").tag(
        sync=True
    )
    group_words = _Bool(False, help="Show tokens grouped into words").tag(sync=True)
    smooth = _Bool(True, help="Upsample the map bilinearly (False: one block per vision token)").tag(sync=True)
    show_original = _Bool(False, help="Show the original image beside the overlay").tag(sync=True)
    layer = _Int(
        -1,
        help="The decoder layer whose maps are shown: one of exp.layers (default the last; -1: only the last was kept)",
    ).tag(sync=True)

    def __init__(
        self,
        explanation: Explanation,
        *,
        diagnosis: Diagnosis | None = None,
        stream: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """The view of ``explanation``; ``kwargs`` set the view traits. ``diagnosis``: a hallucination
        diagnosis of it (``Diagnosis.widget`` passes its own), shown over the EAGLE view. ``stream``: send
        the big arrays in row blocks as the page needs them (:mod:`.stream`; None: when the explanation
        is large, True: always, False: never)."""
        _check_explanation(explanation)
        unknown = sorted(k for k in kwargs if not self.has_trait(k) or k.startswith("_"))
        if unknown:
            raise ValueError(f"Unknown view settings {unknown}; use {sorted(view_traits())}.")
        if stream is not None and not isinstance(stream, bool):
            raise TypeError(f"stream must be True, False or None (large explanations only), got {stream!r:.40}.")
        bundle()
        data, meta, images, left_out = encode_streamed(explanation, diagnosis, stream=stream)
        self.explanation = explanation
        self.diagnosis = diagnosis
        kwargs.setdefault("selected", first_item(explanation))
        kwargs.setdefault("method", explanation.method)
        kwargs.setdefault("layer", default_layer(explanation))
        super().__init__(_data=data, _meta=meta, _images=images, **kwargs)
        self._listen_what_if()
        self._rows = serve(self, left_out)  # the page's row requests, when the big arrays stream

    def _n_items(self) -> int:
        return len(self._meta.get("items", [])) if self._meta else 0

    def _methods(self) -> list[str]:
        """The explanation's methods, as the page holds them (``method`` must name one)."""
        return list(self._meta.get("methods", {})) if self._meta else []

    def _layers(self) -> list[int]:
        """The explanation's kept decoder layers, as the page holds them (``layer`` must name one)."""
        return list(self._meta.get("methods", {}).get("tam", {}).get("layers", [])) if self._meta else []

    @traitlets.validate(*CHECKS)
    def _check_view(self, proposal: dict[str, Any]) -> Any:
        try:
            trait = proposal["trait"].name
            return check_view(trait, proposal["value"], self._n_items(), self._methods(), self._layers())
        except TypeError as e:
            raise InvalidTraitTypeError(str(e)) from None
        except ValueError as e:
            raise InvalidTraitValueError(str(e)) from None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A state update from the browser, checked by the kernel before anything is echoed or set.

        A refused value (out of range, wrong kind, or a private trait such as ``_meta``) is logged,
        never echoed to the other views, and the current value is sent back to every view.
        """
        accepted, refused = sort_state(self, sync_data, self._n_items(), self._methods(), self._layers())
        if accepted:
            try:
                super().set_state(accepted)
            except traitlets.TraitError as e:  # a value refused by a trait type's own check
                self.log.warning("tam-widget: refused %s from the browser: %s", sorted(accepted), e)
                refused.extend(accepted)
        if refused:
            self.send_state(refused)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """anywidget's live view plus a static picture of the current view (``image/png``, ``text/html``)
        for front ends without the widget or its model (:mod:`tam_widget.display.snapshot`)."""
        return with_fallback(self, super()._repr_mimebundle_(**kwargs))

    def _what_if_payload(self, new: Explanation) -> tuple[Comparison, bytes, list[bytes], dict[str, Any]]:
        """The comparison of the explanation with ``new`` as CompareWidget's side b would cross (whatif_widget.py)."""
        import tam_widget  # the public surface: compare's module imports this one's package (no cycle)

        comparison = tam_widget.compare(self.explanation, new, labels=LABELS)
        data, meta, images = encode(new)
        payload = {"compare": compare_meta(comparison), "meta": meta, "row": default_row(comparison)}
        return comparison, data, images, payload

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
    out["method"] = explanation.method
    out["layer"] = default_layer(explanation)
    return out


def check_view_traits(
    traits: Mapping[str, Any], n_items: int, methods: Sequence[str] | None = None, layers: Sequence[int] | None = None
) -> dict[str, Any]:
    """Every given view setting checked (:func:`check_view`); unknown names are refused."""
    known = view_traits()
    unknown = set(traits) - set(known)
    if unknown:
        raise ValueError(f"Unknown view settings {sorted(unknown)}; use {sorted(known)}.")
    return {k: check_view(k, v, n_items, methods, layers) for k, v in traits.items()}


def _check_explanation(explanation: Any) -> None:
    needed = ("results", "item_positions", "views", "images")
    if not all(hasattr(explanation, k) for k in needed):
        raise TypeError(f"TAMWidget needs an Explanation (from tam_widget.explain), got {type(explanation).__name__}.")
