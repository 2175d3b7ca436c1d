"""The TAM core: pure tensor functions, no model, processor or widget inside."""

from .eci import corrected, interference
from .layout import Frame, VisionLayout
from .result import TAMMaps, TAMResult, filter_frames, normalise
from .rgf import rank_gaussian_filter
from .tam import TAMInputs, compute_tam

__all__ = [
    "Frame",
    "TAMInputs",
    "TAMMaps",
    "TAMResult",
    "VisionLayout",
    "compute_tam",
    "corrected",
    "filter_frames",
    "interference",
    "normalise",
    "rank_gaussian_filter",
]
