"""tam-widget: see, token by token, where a multimodal LLM looked (Token Activation Map)."""

from .core import TAMMaps, TAMResult, VisionLayout, compute_tam

__version__ = "0.1.0"

__all__ = ["TAMMaps", "TAMResult", "VisionLayout", "__version__", "compute_tam"]
