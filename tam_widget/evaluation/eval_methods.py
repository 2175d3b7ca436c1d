"""The maps the evaluation runner compares, by name: TAM, CAM, TAM's two ablations and EAGLE.

The four white-box entries are read from one explanation (one pass): they differ only in the
toggles of :meth:`~tam_widget.core.result.TAMResult.maps` (CAM is the raw LM-head activation,
normalised, without ECI or the rank Gaussian filter, as TAM's paper compares it). EAGLE is a
black-box search run per explained word (its word-level protocol) and once over the whole answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class EvalMethod:
    """One compared method: its name on the command line, its label in tables, and how its maps come."""

    name: str
    label: str
    eci: bool = True
    filter: bool = True
    black_box: bool = False


EVAL_METHODS: dict[str, EvalMethod] = {
    m.name: m
    for m in (
        EvalMethod("tam", "TAM"),
        EvalMethod("cam", "CAM", eci=False, filter=False),
        EvalMethod("tam-no-eci", "TAM without ECI", eci=False),
        EvalMethod("tam-no-filter", "TAM without filter", filter=False),
        EvalMethod("eagle", "EAGLE", black_box=True),
    )
}


def eval_methods(names: str | Sequence[str]) -> list[EvalMethod]:
    """``"tam,cam"`` or ``["tam", "cam"]`` as methods, in the order given; unknown or repeated names,
    or none at all, are a ValueError that lists the known ones."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"methods must be a comma-separated string or a list of names, got {names!r}.")
    unknown = [n for n in names if n not in EVAL_METHODS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"methods must be distinct names among {list(EVAL_METHODS)} (comma-separated), got {list(names)!r}."
        )
    return [EVAL_METHODS[n] for n in names]
