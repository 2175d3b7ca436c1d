"""What the browser may set: the kernel sorts a state update before anything is echoed or set.

A private trait (``_meta``, ``_data``...) other than :data:`BROWSER_WRITABLE_PRIVATE` is read-only
from the browser; a view trait must pass its check (:func:`~.view_checks.check_view`); anything else
synced goes through as ipywidgets would take it. Each refusal is logged on the widget's log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .view_checks import CHECKS, check_view

# Private synced traits the browser may write: ipywidgets' own view counter (off unless Python turns it on).
BROWSER_WRITABLE_PRIVATE = frozenset({"_view_count"})


def sort_state(
    widget: Any, sync_data: Mapping[str, Any], n: int, methods: Sequence[str], layers: Sequence[int]
) -> tuple[dict[str, Any], list[str]]:
    """``(accepted, refused)``: the browser's values ``sync_data`` for ``widget``, checked (``n`` items, the
    explanation's ``methods`` and kept ``layers``); names the widget has no trait for are left out."""
    accepted: dict[str, Any] = {}
    refused: list[str] = []
    for name, value in sync_data.items():
        if name not in widget.keys:
            continue  # ipywidgets ignores unknown keys too
        if name.startswith("_") and name not in BROWSER_WRITABLE_PRIVATE:
            widget.log.warning("tam-widget: the browser may not set %s (read-only); ignored, the views restored.", name)
            refused.append(name)
        elif name in CHECKS:
            try:
                accepted[name] = check_view(name, value, n, methods, layers)
            except (TypeError, ValueError) as e:
                widget.log.warning(
                    "tam-widget: refused %s from the browser: %s Restored %r.", name, e, getattr(widget, name)
                )
                refused.append(name)
        else:
            accepted[name] = value
    return accepted, refused
