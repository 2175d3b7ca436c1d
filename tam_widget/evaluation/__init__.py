"""Measuring explanations: the papers' metrics as pure functions on arrays, equal to their code.

- ``plausibility`` (with ``words``, ``word_scores``, ``nlg``, ``cv_u8``): TAM's ``eval.py``
  (word grouping, word types from a pluggable tagger, category matching with lemmas, Otsu on
  resized maps, the merge rule, Obj/Func/F1-IoU, precision/recall, ROUGE-L, METEOR, aggregation);
- ``eagle_metrics``, ``point_game``, ``polygons``: EAGLE's evaluation (insertion/deletion AUC,
  highest confidence and the sensitive-token variants, AMCR/CSR@10%, ``add_value``, the point
  game by box and mask);
- ``faithfulness``: any map scored by EAGLE's baseline protocol (pixels ranked, i/64 rates);
- ``localisation``: maps against exact object masks (Otsu IoU, pointing, named over others), as
  the teaching benchmark and tests use it.

The ``eval`` extra (scikit-image, NLTK's METEOR) is needed by ``localisation`` and
``plausibility``; the parity tests read every case of ``$EVAL_GOLDEN_DIR``.
"""
