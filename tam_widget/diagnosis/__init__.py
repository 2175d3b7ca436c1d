"""Hallucination diagnosis with EAGLE (spec ``eagle.md`` §6): given a wrong word in a model's answer
and the correct one, explain the correct word, re-answer on growing parts of the image, and find
the smallest part whose removal corrects the answer; then score many samples (AMCR, CSR@10%).

:func:`diagnose` runs one sample on a model and returns a :class:`Diagnosis` (a plain dataclass
that draws the reference's three-panel view); :mod:`.walk` holds the pure steps
(:func:`minimal_correction`, :func:`amcr`, :func:`csr_at`), :mod:`.answers` the batched
re-answering, :mod:`.words` the word and token bookkeeping, :mod:`.picture` and :mod:`.figure`
the views.
"""

from .result import Diagnosis
from .run import diagnose
from .walk import amcr, csr_at, minimal_correction, removed_mask, says

__all__ = ["Diagnosis", "amcr", "csr_at", "diagnose", "minimal_correction", "removed_mask", "says"]
