"""tam-widget: see, token by token, where a multimodal LLM looked (Token Activation Map)."""

from .core import TAMMaps, TAMResult, VisionLayout, compute_tam
from .explain import explain, explain_inputs
from .explanation import Explanation
from .families import FAMILIES
from .media import Video
from .scenes import Scene, make_scene
from .teaching import demo_model

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "Explanation",
    "Scene",
    "TAMMaps",
    "TAMResult",
    "Video",
    "VisionLayout",
    "__version__",
    "compute_tam",
    "demo_model",
    "explain",
    "explain_inputs",
    "make_scene",
]
