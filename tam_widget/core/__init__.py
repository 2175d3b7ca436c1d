"""TAM's math as pure tensor functions: no model, processor or widget inside.

``layout`` says where the vision tokens sit and how they tile images and frames (and names the
shapes used everywhere); ``items`` plans which LM-head row each explained item reads and its ECI
context; ``activation`` computes the class activations in one product; ``eci`` the estimated
causal inference; ``rgf`` the rank Gaussian filter; ``result`` keeps what was computed and
renders maps for any ECI scale; ``tam`` ties them into :func:`compute_tam`, equal to the
reference implementation on every golden case.
"""

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
