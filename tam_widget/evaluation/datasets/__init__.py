"""Dataset readers for the evaluation runner: every dataset becomes a :class:`Dataset` of :class:`Sample`.

``open_dataset(spec)`` opens one by name: ``scenes`` / ``scenes:N`` (the teaching scenes, exact
masks, nothing to download), ``coco:DIR`` (COCO Caption in TAM's layout, with the reference's
category list :data:`COCO_CATEGORY`), ``grandf:DIR`` and ``openpsg:DIR`` (TAM's ``anno.json``),
``repope:FILE[:IMAGES_DIR]`` (POPE/RePOPE yes-no questions in EAGLE's prompt). ``write_coco``
writes any dataset in the COCO layout, e.g. scenes for the reference's own ``eval.py``. One reader
per module; files are read lazily, so opening a dataset reads only its annotation files.
"""

from .base import Dataset, Sample
from .coco import COCO_CATEGORY
from .coco_writer import write_coco
from .scenes import scenes_dataset
from .spec import open_dataset

__all__ = ["COCO_CATEGORY", "Dataset", "Sample", "open_dataset", "scenes_dataset", "write_coco"]
