"""The view traits' checks: every value a view trait takes, whoever sets it, goes through :mod:`tam_widget.params`.

:data:`CHECKS` names each view trait's check; :func:`check_view` runs one, :func:`check_layer` is the
decoder layer's. The trait kinds (``_Int``, ``_Float``, ``_Bool``, ``_Unicode``) only say what a
trait holds (``js/src/model.ts`` mirrors them): they leave the value as given, so that the check,
kind included, is params' own (``np.int64(3)`` accepted, ``True`` refused as an opacity, with the
message ``save_html`` gives). :class:`~tam_widget.display.widget.TAMWidget` and
:class:`~tam_widget.display.compare_widget.CompareWidget` declare their view traits with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import traitlets

from .. import params
from ..methods import METHODS

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

MORE = "Explain with layers='all' (or a list of layer indices) to keep more."


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
