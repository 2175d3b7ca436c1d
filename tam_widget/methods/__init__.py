"""Attribution methods, one file each behind one small protocol (:class:`~.base.Method`).

``METHODS`` is the registry :func:`tam_widget.explain` looks a method up in (``method="tam"``).
A method is given what the run captured (:class:`~.base.Captured`: hidden states, LM head,
layout, token ids, images, and a scorer of masked images for black-box methods) and returns its
own result object; it also says how that result is saved and sent to the browser. To add one,
write ``methods/<name>.py`` with a class following :class:`~.base.Method`, register an instance
below, and add ``js/src/methods/<name>.ts`` for its view.
"""

from __future__ import annotations

from .base import Captured, Method, Scorer
from .eagle import EAGLE
from .tam import TAM

METHODS: dict[str, Method] = {m.name: m for m in (TAM(), EAGLE())}


def get_method(name: str) -> Method:
    """The registered method called ``name``, or a ValueError listing the known ones."""
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {name!r}.")
    return METHODS[name]


__all__ = ["EAGLE", "METHODS", "TAM", "Captured", "Method", "Scorer", "get_method"]
