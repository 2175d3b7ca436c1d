"""RePOPE / POPE yes-no questions about COCO images, asked with EAGLE's RePOPE prompt.

The question file is POPE's format, which RePOPE keeps with corrected labels: JSON lines (or one
JSON list) of ``{"question_id", "image", "text", "label"}``, the label ``"yes"`` or ``"no"``. The
records EAGLE's hallucination runs read (``{"image_name", "question", "label", "id"?, ...}``, e.g.
its ``datasets/*-RePOPE-FP.json``) are accepted too. Images are looked up by file name in a folder
given separately, by default ``images/`` next to the question file, else the file's own folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .base import Dataset, Sample

# EAGLE's RePOPE scripts (RuoyuChen10/EAGLE, e.g. Qwen25-VL-3B-RePOPE.py): "Yes"/"No" first, then
# a short explanation; {} is the question. The trailing spaces are theirs.
PROMPT_TEMPLATE = (
    "You are asked a visual question answering task. \n"
    'First, answer strictly with "Yes" or "No". \n'
    "Then, provide a short explanation if necessary.\n"
    "\n"
    "Question: {}\n"
    "Answer:"
)
LABELS = ("yes", "no")
FORMAT = (
    'JSON lines or a JSON list of {"question_id", "image", "text", "label": "yes"|"no"} (POPE/RePOPE), '
    'or of EAGLE\'s {"image_name", "question", "label", "id"} records.'
)


def repope_dataset(path: str | Path, images: str | Path | None = None) -> Dataset:
    """The questions of a POPE/RePOPE file, in file order, with images from ``images`` (default:
    ``images/`` beside the file if it exists, else the file's folder). Ids are POPE's
    ``question_id`` (EAGLE records: ``<image stem>_<id>``, as EAGLE names its outputs)."""
    path = Path(path)
    records = _records(path)
    folder = Path(images) if images is not None else _default_images(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} not found; give the folder holding the questions' images.")
    samples = [_sample(k, r, folder, path) for k, r in enumerate(records)]
    _check_unique(samples, path)
    return Dataset("repope", samples, source=str(path))


def _default_images(path: Path) -> Path:
    return path.parent / "images" if (path.parent / "images").is_dir() else path.parent


def _records(path: Path) -> list[object]:
    """The file's records: a JSON list, one JSON object, or JSON lines."""
    if not path.is_file():
        raise FileNotFoundError(f"question file {path} not found. Expected: {FORMAT}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        pass
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {n}: not valid JSON ({e}). Expected: {FORMAT}") from e
    return records


def _sample(k: int, record: object, images: Path, path: Path) -> Sample:
    """Record ``k`` as a sample, or a ``ValueError`` naming the record and what it lacks."""
    if not isinstance(record, dict):
        raise ValueError(f"{path}, record {k}: expected a JSON object. Expected: {FORMAT}")
    eagle = "question" in record  # EAGLE's records name the fields differently
    image = _text(k, record, "image_name" if eagle else "image", path)
    question = _text(k, record, "question" if eagle else "text", path)
    if eagle:  # EAGLE names its outputs <image stem>_<id>
        sample_id = f"{Path(image).stem}_{record['id']}" if "id" in record else str(k)
    else:
        sample_id = _question_id(k, record, path)
    return Sample(
        id=sample_id,
        prompt=PROMPT_TEMPLATE.format(question),
        label=_label(k, record, path),
        image_path=images / image,
    )


def _text(k: int, record: Mapping[str, object], key: str, path: Path) -> str:
    value = record.get(key)
    if not (isinstance(value, str) and value):
        raise ValueError(f"{path}, record {k}: {key!r} must be a non-empty string. Expected: {FORMAT}")
    return value


def _question_id(k: int, record: Mapping[str, object], path: Path) -> str:
    qid = record.get("question_id")
    if isinstance(qid, bool) or not isinstance(qid, (int, str)) or qid == "":
        raise ValueError(f"{path}, record {k}: 'question_id' must be an integer or a string. Expected: {FORMAT}")
    return str(qid)


def _label(k: int, record: Mapping[str, object], path: Path) -> str:
    label = record.get("label")
    norm = label.strip().lower() if isinstance(label, str) else None
    if norm not in LABELS:
        raise ValueError(f'{path}, record {k}: \'label\' must be "yes" or "no", got {label!r}.')
    return norm


def _check_unique(samples: list[Sample], path: Path) -> None:
    seen: dict[str, int] = {}
    for k, s in enumerate(samples):
        if s.id in seen:
            raise ValueError(
                f"{path}: records {seen[s.id]} and {k} share the id {s.id!r}; give each question its own id."
            )
        seen[s.id] = k
