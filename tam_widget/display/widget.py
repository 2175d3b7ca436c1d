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

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import traitlets

from .. import params
from ..methods import METHODS
from .bundle import MISSING, STATIC, bundle
from .signal import NOISE_FLOOR, strength
from .snapshot import with_fallback
from .stream import serve
from .whatif_widget import LABELS, WhatIfWidget
from .wire import encode, encode_streamed

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

COLORMAPS = params.COLORMAPS  # the colour maps the front end draws (js/src/colormap.ts COLORMAP_NAMES; a test checks)

# The view traits' checks, by name: value, number of items, the explanation's methods, its kept decoder
# layers (None: not known, any) -> the value normalised (params' errors otherwise).
CHECKS: dict[str, Callable[[Any, int, Sequence[str], Sequence[int] | None], Any]] = {
    "method": lambda v, n, m, L: params.choice("method", v, m),
    "selected": lambda v, n, m, L: params.item("selected", v, n),
    "eci_scale": lambda v, n, m, L: params.eci_scale(v),
    "eci": lambda v, n, m, L: params.flag("eci", v),
    "filter": lambda v, n, m, L: params.flag("filter", v),
    "opacity": lambda v, n, m, L: params.opacity(v),
    "colormap": lambda v, n, m, L: params.colormap(v),
    "group_words": lambda v, n, m, L: params.flag("group_words", v),
    "smooth": lambda v, n, m, L: params.flag("smooth", v),
    "show_original": lambda v, n, m, L: params.flag("show_original", v),
    "layer": lambda v, n, m, L: check_layer(v, L),
}

# Private synced traits the browser may write: ipywidgets' own view counter (off unless Python turns it on).
BROWSER_WRITABLE_PRIVATE = frozenset({"_view_count"})


class InvalidTraitValueError(traitlets.TraitError, ValueError):
    """A view trait out of range: a ``TraitError`` for traitlets, a ``ValueError`` like everywhere else."""


class InvalidTraitTypeError(traitlets.TraitError, TypeError):
    """A view trait of the wrong kind: a ``TraitError`` for traitlets, a ``TypeError`` like everywhere else."""


def check_view(
    name: str, value: Any, n_items: int, methods: Sequence[str] | None = None, layers: Sequence[int] | None = None
) -> Any:
    """``value`` for the view trait ``name`` checked by :mod:`tam_widget.params` and normalised.

    ``methods``: the explanation's methods, which ``method`` must name (default: every registered one);
    ``layers``: its kept decoder layers (``exp.layers``), which ``layer`` must name (default: any)."""
    return CHECKS[name](value, n_items, sorted(METHODS) if methods is None else list(methods), layers)


def check_view_traits(
    traits: Mapping[str, Any], n_items: int, methods: Sequence[str] | None = None, layers: Sequence[int] | None = None
) -> dict[str, Any]:
    """Every given view setting checked (:func:`check_view`); unknown names are refused."""
    known = view_traits()
    unknown = set(traits) - set(known)
    if unknown:
        raise ValueError(f"Unknown view settings {sorted(unknown)}; use {sorted(known)}.")
    return {k: check_view(k, v, n_items, methods, layers) for k, v in traits.items()}


def check_layer(value: Any, layers: Sequence[int] | None) -> int:
    """A decoder layer the explanation kept (``layers``, ``exp.layers``; negative counts from the end),
    normalised to its index; ``-1`` (the last) for an explanation that kept only the last layer."""
    v = params.integer("layer", value)
    if layers is None:
        return v
    kept = list(layers)
    if not kept:
        if v != -1:
            raise ValueError(f"layer must be -1 (the last): this explanation kept no other layer, got {v}. {MORE}")
        return v
    index = v + kept[-1] + 1 if v < 0 else v
    if index not in kept:
        raise ValueError(f"layer must be one of the kept decoder layers {kept} (exp.layers), got {v}. {MORE}")
    return index


MORE = "Explain with layers='all' (or a list of layer indices) to keep more."


def default_layer(explanation: Explanation) -> int:
    """The layer shown first: the last (``-1`` when the explanation kept no other)."""
    return explanation.layers[-1] if _layers(explanation) else -1


def _layers(explanation: Any) -> list[int]:
    """The explanation's kept layers, ``[]`` for one without (or without TAM)."""
    return list(getattr(explanation, "layers", []) or [])


# The view traits' types only say what kind of value they hold (model.ts mirrors them): the check
# itself, kind included, is params' (TAMWidget._check_view), so that np.int64(3) is accepted and
# True is refused as an opacity, with the same message as save_html gives.
class _Unchecked:
    """Leaves the value as given: TAMWidget checks it through params (kind included)."""

    def validate(self, obj: Any, value: Any) -> Any:
        return value


class _Int(_Unchecked, traitlets.Int):  # type: ignore[type-arg]
    pass


class _Float(_Unchecked, traitlets.Float):  # type: ignore[type-arg]
    pass


class _Bool(_Unchecked, traitlets.Bool):  # type: ignore[type-arg]
    pass


class _Unicode(_Unchecked, traitlets.Unicode):  # type: ignore[type-arg]
    pass


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
        accepted: dict[str, Any] = {}
        refused: list[str] = []
        n, methods, layers = self._n_items(), self._methods(), self._layers()
        for name, value in sync_data.items():
            if name not in self.keys:
                continue  # ipywidgets ignores unknown keys too
            if name.startswith("_") and name not in BROWSER_WRITABLE_PRIVATE:
                self.log.warning(
                    "tam-widget: the browser may not set %s (read-only); ignored, the views restored.", name
                )
                refused.append(name)
            elif name in CHECKS:
                try:
                    accepted[name] = check_view(name, value, n, methods, layers)
                except (TypeError, ValueError) as e:
                    self.log.warning(
                        "tam-widget: refused %s from the browser: %s Restored %r.", name, e, getattr(self, name)
                    )
                    refused.append(name)
            else:
                accepted[name] = value
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


def first_item(explanation: Explanation) -> int:
    """The item shown first: the answer token with the strongest visual signal (the largest raw-map peak,
    :func:`~tam_widget.display.signal.strength`), special tokens (the end of turn) left out; the first
    answer token when every answer token is below the noise floor or there is no TAM result; item 0
    without an answer. When the method shown first explained only some answer tokens (its result's
    ``positions``, EAGLE's ``tokens=``), the item is one of those."""
    if not explanation.n_answer:
        return 0
    start = explanation.n_prompt
    positions = explanation.item_positions
    answer = list(range(start, start + explanation.n_answer))
    # a method that explained only some tokens (EAGLE's tokens=...) opens on one of them
    named = set(getattr(explanation.result, "positions", ()) or ())
    answer = [i for i in answer if positions[i] in named] or answer
    first = answer[0]
    s = strength(explanation)
    if s is None:
        return first
    special = explanation.special
    shown = [i for i in answer if not special[positions[i]] and s[i] >= NOISE_FLOOR]
    return max(shown, key=lambda i: (s[i], -i)) if shown else first  # ties: the earliest


def default_row(comparison: Comparison) -> int:
    """The row of side a's first item (:func:`first_item`) in a comparison (CompareWidget's and the what-if's)."""
    item = first_item(comparison.a)
    return next((k for k, r in enumerate(comparison.rows) if r.a == item), 0)


def compare_meta(comparison: Comparison) -> dict[str, Any]:
    """The alignment as the page reads it (``_compare``)."""
    c = comparison
    return {
        "rows": [[-1 if r.a is None else r.a, -1 if r.b is None else r.b] for r in c.rows],
        "changed": c.changed(),
        "labels": list(c.labels),
        "same_grids": [v.grid for v in c.a.views] == [v.grid for v in c.b.views],
    }


def _check_explanation(explanation: Any) -> None:
    needed = ("results", "item_positions", "views", "images")
    if not all(hasattr(explanation, k) for k in needed):
        raise TypeError(f"TAMWidget needs an Explanation (from tam_widget.explain), got {type(explanation).__name__}.")
