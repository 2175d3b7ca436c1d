"""The one pass of the model and what it needs around it.

``media`` normalises the user's images or video; ``prompt`` builds the model's input text and
finds the user's prompt tokens in it; ``text`` turns token ids into display text and words;
``capture`` owns the hooks that keep the last-layer hidden states and the top candidates during
the pass; ``passes`` runs that pass (``generate``, or one teacher-forced forward) and returns what
was captured; ``processors`` builds processors whose video half cannot be built without
torchvision. Nothing here computes a map: that is :mod:`tam_widget.methods`' job.
"""

from .capture import Capture, final_norm, lm_head, softcap_of
from .media import Video, as_media, to_pil
from .passes import Pass, generate, teacher_force
from .prompt import build_text, locate_prompt

__all__ = [
    "Capture",
    "Pass",
    "Video",
    "as_media",
    "build_text",
    "final_norm",
    "generate",
    "lm_head",
    "locate_prompt",
    "softcap_of",
    "teacher_force",
    "to_pil",
]
