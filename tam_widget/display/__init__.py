"""Showing an explanation: the notebook widget, the wire format, the offline HTML page.

``widget`` holds :class:`TAMWidget` (the one place trait names and defaults live); ``wire``
encodes an explanation for the browser (one binary buffer of every method's arrays, tagged by
method, plus JSON); ``html`` writes the self-contained offline page; ``figure`` draws one
item's map (or a phrase's, as small multiples) as a plotly figure for papers and slides (the
``figures`` extra); ``bundle`` finds the built
front end in ``static/`` (bundled from ``js/`` at install time). Non-finite probabilities or map
values never blank the page: they show as n/a, with one :class:`~.wire.NonFiniteWarning`.
Display depends on the explanation, never the other way round at import time.
"""

from .html import page, save_html
from .widget import TAMWidget, view_defaults
from .wire import WIRE_VERSION, NonFiniteWarning, encode

__all__ = ["WIRE_VERSION", "NonFiniteWarning", "TAMWidget", "encode", "page", "save_html", "view_defaults"]
