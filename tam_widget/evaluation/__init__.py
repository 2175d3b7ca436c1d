"""Measuring explanations against ground truth.

``localisation`` scores maps against exact object masks (Otsu IoU, the pointing game, the named
object over the others), as the teaching benchmark and tests use it. The papers' metrics
(plausibility, faithfulness, hallucination correction) and the dataset runner come next.
Needs the ``eval`` extra (scikit-image).
"""
