"""The dataset readers on tiny fake folders: ids, order, prompts, captions, categories, masks, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tam_widget.evaluation.datasets import COCO_CATEGORY, Dataset, open_dataset, scenes_dataset, write_coco
from tam_widget.evaluation.datasets.anno import PROMPTS, anno_dataset
from tam_widget.evaluation.datasets.coco import PROMPT, coco_dataset
from tam_widget.evaluation.datasets.coco_writer import numeric_ids
from tam_widget.evaluation.datasets.files import read_image, read_label_map
from tam_widget.evaluation.datasets.repope import PROMPT_TEMPLATE, repope_dataset
from tam_widget.evaluation.datasets.scenes import CATEGORY, label_map
from tam_widget.teaching.scenes import COLOURS, make_scene
from tam_widget.teaching.scenes import PROMPT as SCENE_PROMPT
from tam_widget.testing.eval_golden import case_files, load_case

RNG = np.random.default_rng(0)


def _rgb(path: Path, h: int = 6, w: int = 8) -> np.ndarray:
    pixels = RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def _grey(path: Path, h: int = 6, w: int = 8) -> np.ndarray:
    labels = RNG.integers(0, 91, (h, w), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(labels).save(path)
    return labels


def _json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# --- files -------------------------------------------------------------------------------------


def test_read_image_gives_rgb_uint8(tmp_path: Path) -> None:
    pixels = _rgb(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), pixels)
    _grey(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png").shape == (6, 8, 3)


def test_read_label_map_equals_opencv_greyscale(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    labels = _grey(tmp_path / "m.png")
    got = read_label_map(tmp_path / "m.png")
    assert got.dtype == np.uint8 and np.array_equal(got, labels)
    assert np.array_equal(got, cv2.imread(str(tmp_path / "m.png"), cv2.IMREAD_GRAYSCALE))


@pytest.mark.parametrize("mode", ["P", "RGB", "I;16", "1"])
def test_read_label_map_refuses_other_modes(tmp_path: Path, mode: str) -> None:
    Image.new(mode, (4, 3)).save(tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"m\.png.*8-bit greyscale PNG"):
        read_label_map(tmp_path / "m.png")


def test_missing_or_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"image file not found: .*nope\.jpg"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(FileNotFoundError, match=r"label map file not found: .*nope\.png"):
        read_label_map(tmp_path / "nope.png")
    (tmp_path / "bad.jpg").write_text("not an image")
    with pytest.raises(ValueError, match=r"bad\.jpg"):
        read_image(tmp_path / "bad.jpg")


# --- COCO --------------------------------------------------------------------------------------


def _coco(folder: Path, categories: list[dict[str, object]] | None = None) -> dict[int, np.ndarray]:
    """Three images, ids out of order, captions interleaved; image 7's mask missing."""
    instances: dict[str, object] = {"images": [{"id": 42}, {"id": 7}, {"id": 100}]}
    if categories is not None:
        instances["categories"] = categories
    _json(folder / "annotations" / "instances_minival2014.json", instances)
    captions = [(7, "seven a"), (42, "forty-two"), (7, "seven b"), (100, "hundred"), (5, "not listed")]
    _json(
        folder / "annotations" / "captions_val2014.json",
        {"annotations": [{"id": k, "image_id": i, "caption": c} for k, (i, c) in enumerate(captions)]},
    )
    for i in (42, 7, 100):
        _rgb(folder / "image" / f"{i:012d}.jpg")
    return {i: _grey(folder / "seg_label" / f"{i:012d}.png") for i in (42, 100)}


def test_coco_reads_the_reference_layout(tmp_path: Path) -> None:
    masks = _coco(tmp_path)
    ds = coco_dataset(tmp_path)
    assert [s.id for s in ds] == ["000000000042", "000000000007", "000000000100"]
    assert ds.name == "coco" and all(s.prompt == PROMPT for s in ds)
    assert PROMPT == "Write a one-sentence caption for this image:"
    assert [s.captions for s in ds] == [("forty-two",), ("seven a", "seven b"), ("hundred",)]
    assert all(s.category == COCO_CATEGORY for s in ds) and all(s.label is None for s in ds)
    assert np.array_equal(ds[0].mask(), masks[42]) and np.array_equal(ds[2].mask(), masks[100])
    assert ds[1].mask() is None
    assert ds[0].image().shape == (6, 8, 3)


def test_coco_category_equals_the_references_dict() -> None:
    lists = [s["category"] for p in case_files("tam_eval") for s in load_case(p)["samples"]]
    coco = [c for c in lists if len(c) == 80]
    if not coco:
        pytest.skip("no tam_eval golden case with the COCO dict ($EVAL_GOLDEN_DIR)")
    assert all([tuple(pair) for pair in c] == list(COCO_CATEGORY) for c in coco)


def test_coco_standard_categories_keep_the_references_dict(tmp_path: Path) -> None:
    renamed = {"ball": "sports ball", "glass": "wine glass"}
    standard = [{"id": i, "name": renamed.get(n, n), "supercategory": "x"} for n, i in reversed(COCO_CATEGORY)]
    _coco(tmp_path, standard)
    assert coco_dataset(tmp_path)[0].category == COCO_CATEGORY


def test_coco_other_categories_are_the_files_own_by_id(tmp_path: Path) -> None:
    _coco(tmp_path, [{"id": 3, "name": "blue"}, {"id": 1, "name": "red"}, {"id": 2, "name": "green"}])
    assert coco_dataset(tmp_path)[0].category == (("red", 1), ("green", 2), ("blue", 3))
    _coco(tmp_path, [{"id": i, "name": n} for n, i in COCO_CATEGORY[:79]])  # COCO's, one missing
    assert coco_dataset(tmp_path)[0].category == COCO_CATEGORY[:79]


def test_coco_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"instances_minival2014\.json.*Expected layout.*captions_val2014"):
        coco_dataset(tmp_path)
    _coco(tmp_path)
    _json(tmp_path / "annotations" / "instances_minival2014.json", {"images": [{"id": 42}, {"id": 9}]})
    with pytest.raises(ValueError, match=r"image 9 .*no caption.*add at least one caption"):
        coco_dataset(tmp_path)
    _json(tmp_path / "annotations" / "instances_minival2014.json", {"images": [{"id": "42"}]})
    with pytest.raises(ValueError, match=r"images\[0\].*integer 'id'"):
        coco_dataset(tmp_path)
    _json(tmp_path / "annotations" / "instances_minival2014.json", {"images": [{"id": 42}], "categories": [{"id": 1}]})
    with pytest.raises(ValueError, match=r"'categories' must be a list of"):
        coco_dataset(tmp_path)


# --- GranDf / OpenPSG --------------------------------------------------------------------------


def _anno(folder: Path) -> np.ndarray:
    entries = [
        ["img/b.jpg", "A dog on a sofa.", "seg/b.png", {"sofa": 3, "dog": 1}],
        ["img/a.jpg", "A cat.", "seg/a.png", {"cat": 2}],
        ["c.jpg", "No mask.", "", {}],
    ]
    _json(folder / "anno.json", entries)
    _rgb(folder / "img" / "b.jpg")
    _rgb(folder / "img" / "a.jpg")
    return _grey(folder / "seg" / "b.png")


@pytest.mark.parametrize("name", ["grandf", "openpsg"])
def test_anno_reads_entries_in_order(tmp_path: Path, name: str) -> None:
    mask = _anno(tmp_path)
    ds = anno_dataset(tmp_path, name)
    assert ds.name == name and [s.id for s in ds] == ["b", "a", "c"]
    assert [s.captions for s in ds] == [("A dog on a sofa.",), ("A cat.",), ("No mask.",)]
    assert ds[0].category == (("sofa", 3), ("dog", 1)) and ds[1].category == (("cat", 2),)
    assert all(s.prompt == PROMPTS[name] for s in ds)
    assert np.array_equal(ds[0].mask(), mask) and ds[1].mask() is None and ds[2].mask() is None
    assert ds[2].category == () and ds[2].mask_path is None  # "" = no label map
    assert ds[1].image().shape == (6, 8, 3)


def test_anno_prompts_are_the_references() -> None:
    assert PROMPTS["grandf"] == "Write a description for this image using around two sentences:"
    assert PROMPTS["openpsg"] == "Write a description for this image using around three sentences:"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (["a.jpg", "cap", "a.png"], r"entry 1: expected \[image_rel_path"),
        (["", "cap", "a.png", {}], r"entry 1: the image path must be"),
        (["a.jpg", 3, "a.png", {}], r"entry 1: the caption must be a string"),
        (["a.jpg", "cap", None, {}], r"entry 1: the label-map path must be"),
        (["a.jpg", "cap", "a.png", {"cat": "2"}], r"entry 1: the category must be an object \{name: integer id\}"),
        (["b.jpg", "cap", "a.png", {}], r"entries 0 and 1 .*distinct file name"),
    ],
)
def test_anno_bad_entries_are_named(tmp_path: Path, entry: list[object], message: str) -> None:
    _json(tmp_path / "anno.json", [["x/b.jpg", "ok", "b.png", {"cat": 1}], entry])
    with pytest.raises(ValueError, match=message):
        anno_dataset(tmp_path, "grandf")


def test_anno_missing_file_explains_the_layout(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"anno\.json not found.*\[image_rel_path, caption, seg_rel_path"):
        anno_dataset(tmp_path, "openpsg")
    _json(tmp_path / "anno.json", {"not": "a list"})
    with pytest.raises(ValueError, match=r"must hold a JSON list"):
        anno_dataset(tmp_path, "openpsg")


# --- RePOPE ------------------------------------------------------------------------------------

POPE = [
    {
        "question_id": 1,
        "image": "COCO_val2014_000000310196.jpg",
        "text": "Is there a snowboard in the image?",
        "label": "yes",
    },
    {"question_id": 2, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a dog in the image?", "label": "no"},
]


def test_repope_template_is_eagles() -> None:
    assert PROMPT_TEMPLATE.format("Q?") == (
        'You are asked a visual question answering task. \nFirst, answer strictly with "Yes" or "No". \n'
        "Then, provide a short explanation if necessary.\n\nQuestion: Q?\nAnswer:"
    )


def test_repope_reads_json_lines_with_images_beside(tmp_path: Path) -> None:
    (tmp_path / "q.json").write_text("\n".join(json.dumps(r) for r in POPE) + "\n")
    (tmp_path / "images").mkdir()
    ds = repope_dataset(tmp_path / "q.json")
    assert ds.name == "repope" and [s.id for s in ds] == ["1", "2"]
    assert [s.label for s in ds] == ["yes", "no"]
    assert ds[1].prompt == PROMPT_TEMPLATE.format("Is there a dog in the image?")
    assert ds[0].image_path == tmp_path / "images" / "COCO_val2014_000000310196.jpg"
    assert ds[0].captions == () and ds[0].category == () and ds[0].mask() is None


def test_repope_reads_a_json_list_and_eagle_records(tmp_path: Path) -> None:
    _json(tmp_path / "q.json", [{**POPE[0], "label": " Yes"}])
    assert repope_dataset(tmp_path / "q.json")[0].image_path == tmp_path / POPE[0]["image"]
    assert repope_dataset(tmp_path / "q.json")[0].label == "yes"
    eagle = [
        {"image_name": "COCO_val2014_000000310196.jpg", "question": "Is there a skis?", "label": "no", "id": 3},
        {"image_name": "x.jpg", "question": "Is there a cat?", "label": "yes", "generated_ids": [[1, 2]]},
    ]
    ds = repope_dataset(_json(tmp_path / "e.json", eagle))
    assert [s.id for s in ds] == ["COCO_val2014_000000310196_3", "1"]
    assert ds[0].prompt == PROMPT_TEMPLATE.format("Is there a skis?") and ds[0].label == "no"


def test_repope_explicit_image_folder(tmp_path: Path) -> None:
    _json(tmp_path / "q.json", POPE)
    (tmp_path / "val2014").mkdir()
    ds = repope_dataset(tmp_path / "q.json", tmp_path / "val2014")
    assert ds[0].image_path == tmp_path / "val2014" / POPE[0]["image"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({**POPE[0], "label": "maybe"}, r"record 1: 'label' must be \"yes\" or \"no\", got 'maybe'"),
        ({**POPE[0], "text": ""}, r"record 1: 'text' must be a non-empty string"),
        ({**POPE[0], "question_id": None}, r"record 1: 'question_id' must be an integer or a string"),
        ({**POPE[0], "question_id": 2}, r"records 0 and 1 share the id '2'; give each question its own id"),
        ([1, 2], r"record 1: expected a JSON object"),
    ],
)
def test_repope_bad_records_are_named(tmp_path: Path, record: object, message: str) -> None:
    _json(tmp_path / "q.json", [POPE[1], record])
    with pytest.raises(ValueError, match=message):
        repope_dataset(tmp_path / "q.json")


def test_repope_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"question file .*q\.json not found"):
        repope_dataset(tmp_path / "q.json")
    with pytest.raises(FileNotFoundError, match=r"question file .*q\.json not found"):
        repope_dataset(tmp_path / "missing" / "q.json")
    _json(tmp_path / "q.json", POPE)
    with pytest.raises(FileNotFoundError, match=r"image folder .*nowhere not found"):
        repope_dataset(tmp_path / "q.json", tmp_path / "nowhere")
    (tmp_path / "q.json").write_text(json.dumps(POPE[0]) + "\n{broken\n")
    with pytest.raises(ValueError, match=r"line 2: not valid JSON"):
        repope_dataset(tmp_path / "q.json")


# --- scenes ------------------------------------------------------------------------------------


def test_scenes_are_the_teaching_scenes() -> None:
    ds = scenes_dataset(3)
    assert (
        ds.name == "scenes" and len(ds) == 3 and [s.id for s in ds] == ["scene-000000", "scene-000001", "scene-000002"]
    )
    for seed, sample in enumerate(ds):
        scene = make_scene(seed)
        assert sample.prompt == SCENE_PROMPT and sample.captions == (scene.caption,)
        assert sample.category == tuple((c, i) for i, c in enumerate(COLOURS, 1))
        assert np.array_equal(sample.image(), scene.image)
        mask = sample.mask()
        assert mask is not None and mask.dtype == np.uint8
        for obj, m in zip(scene.objects, scene.masks, strict=True):
            assert (mask[m] == dict(CATEGORY)[obj.colour]).all()
        assert (mask[~scene.masks.any(axis=0)] == 0).all()


def test_scenes_open_lazily_and_fix_the_caption_words_tags() -> None:
    start = time.perf_counter()
    ds = scenes_dataset()
    assert len(ds) == 500 and time.perf_counter() - start < 0.5
    assert ds[-1].id == "scene-000499" and [s.id for s in ds.samples[1:3]] == ["scene-000001", "scene-000002"]
    with pytest.raises(IndexError):
        ds[500]
    words = {w for s in ds.samples[:20] for w in s.captions[0].split()} - {"."}
    assert words <= set(ds.tags) and ds.tags["red"] == "NN" and ds.tags["striped"] == "JJ"
    assert (ds.tags["shape"], ds.tags["a"], ds.tags["and"]) == ("NN", "DT", "CC")


def test_scene_image_is_a_copy() -> None:
    sample = scenes_dataset(1)[0]
    sample.image()[:] = 0
    assert sample.image().any()


def test_label_map_paints_colour_ids() -> None:
    scene = make_scene(5, n_objects=3)
    lm = label_map(scene)
    ids = {c: i for i, c in enumerate(COLOURS, 1)}
    assert sorted(np.unique(lm).tolist()) == [0, *sorted(ids[o.colour] for o in scene.objects)]


# --- write_coco --------------------------------------------------------------------------------


def test_write_coco_of_scenes_reads_back(tmp_path: Path) -> None:
    scenes = Dataset("scenes", scenes_dataset(7).samples[2:])  # seeds 2-6: ids are seeds, not positions
    write_coco(scenes, tmp_path, limit=4)
    back = coco_dataset(tmp_path)
    assert [s.id for s in back] == [f"{seed:012d}" for seed in range(2, 6)]
    for original, copy in zip(scenes.samples[:4], back, strict=True):
        assert copy.captions == original.captions and copy.category == CATEGORY
        assert np.array_equal(copy.mask(), original.mask())
        error = np.abs(copy.image().astype(int) - original.image())
        assert error.mean() < 4 and error.max() < 40  # JPEG, quality 95
    instances = json.loads((tmp_path / "annotations" / "instances_minival2014.json").read_text())
    assert instances["categories"] == [{"id": i, "name": n} for n, i in CATEGORY]
    assert Image.open(tmp_path / "seg_label" / "000000000003.png").mode == "L"


def test_numeric_ids_are_trailing_digits_else_positions() -> None:
    assert numeric_ids(["scene-000012", "x7", "000000000042"]) == [12, 7, 42]
    assert numeric_ids(["a1", "b1"]) == [0, 1] and numeric_ids(["a1", "b"]) == [0, 1]


def test_write_coco_refuses_what_the_layout_cannot_hold(tmp_path: Path) -> None:
    _json(tmp_path / "q.json", POPE)
    with pytest.raises(ValueError, match=r"no caption; the COCO layout needs at least one"):
        write_coco(repope_dataset(tmp_path / "q.json"), tmp_path / "out")
    mixed = Dataset("mixed", [scenes_dataset(1)[0], *anno_dataset(_anno_folder(tmp_path), "grandf")])
    with pytest.raises(ValueError, match=r"one category list.*Write them apart"):
        write_coco(mixed, tmp_path / "out")


def _anno_folder(tmp_path: Path) -> Path:
    _anno(tmp_path / "anno")
    return tmp_path / "anno"


# --- open_dataset ------------------------------------------------------------------------------


def test_open_dataset_forms(tmp_path: Path) -> None:
    assert len(open_dataset("scenes")) == 500 and len(open_dataset("scenes:7")) == 7
    _coco(tmp_path / "coco")
    assert open_dataset(f"coco:{tmp_path / 'coco'}")[0].id == "000000000042"
    _anno(tmp_path / "g")
    assert open_dataset(f"grandf:{tmp_path / 'g'}").name == "grandf"
    assert open_dataset(f"openpsg:{tmp_path / 'g'}")[0].prompt == PROMPTS["openpsg"]
    _json(tmp_path / "q.json", POPE)
    assert open_dataset(f"repope:{tmp_path / 'q.json'}")[0].image_path == tmp_path / POPE[0]["image"]
    (tmp_path / "val").mkdir()
    assert open_dataset(f"repope:{tmp_path / 'q.json'}:{tmp_path / 'val'}")[0].image_path.parent == tmp_path / "val"


@pytest.mark.parametrize("spec", ["", "coco", "coco:", "imagenet:/x", "scenes:0", "scenes:ten", "scenes:", "repope:"])
def test_open_dataset_bad_specs_list_the_forms(spec: str) -> None:
    with pytest.raises(
        ValueError, match=r"Accepted forms: scenes .*scenes:N, coco:DIR, grandf:DIR.*repope:FILE:IMAGES_DIR"
    ):
        open_dataset(spec)
