"""tam-widget: see, token by token, where a multimodal LLM looked (Token Activation Map).

The user's surface: :func:`explain` (and :func:`explain_inputs` for processed inputs) returns an
:class:`Explanation`, which displays itself as the widget in a notebook; :class:`Video` marks a
video input; :func:`compute_tam` is TAM's core on plain tensors (with :class:`VisionLayout`), and
:func:`eagle_search` EAGLE's search on any image, label map and scorer of masked images, and
:func:`diagnose` EAGLE's hallucination diagnosis (the smallest region whose removal fixes a word);
:data:`FAMILIES` lists the supported model families; :func:`demo_model` loads the shipped
teaching model. Everything else lives in the subpackages (``core``, ``methods``, ``runtime``,
``families``, ``display``, ``evaluation``, ``teaching``, ``testing``, ``cli``).
"""

from .compare import compare
from .core import VisionLayout, compute_tam
from .core.eagle_search import eagle_search
from .diagnosis import diagnose
from .explainer import explain, explain_inputs, model_inputs
from .explanation import Explanation
from .families import FAMILIES
from .runtime.media import Video
from .teaching import demo_model

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "Explanation",
    "Video",
    "VisionLayout",
    "__version__",
    "compare",
    "compute_tam",
    "demo_model",
    "diagnose",
    "eagle_search",
    "explain",
    "explain_inputs",
    "model_inputs",
]
