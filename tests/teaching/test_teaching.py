"""The embedded teaching model: scenes, tokenizer, the shipped checkpoint, and maps that point at
the named object (checked against the scenes' exact masks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tam_widget import FAMILIES, Explanation, explain, teaching
from tam_widget.evaluation.localisation import METHODS, otsu_iou, outweighs, pointing, score, summarise, targets
from tam_widget.teaching.scenes import COLOURS, PROMPT, TEXTURES, cell_labels, make_scene

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shipped() -> tuple[object, object]:
    return teaching.load()


def test_scenes_are_deterministic_and_exact() -> None:
    a, b = make_scene(123), make_scene(123)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert a.objects == b.objects and a.caption == b.caption
    assert not np.array_equal(make_scene(124).image, a.image)
    counts = set()
    for seed in range(60):
        s = make_scene(seed)
        counts.add(len(s.objects))
        assert s.image.shape == (336, 336, 3) and s.image.dtype == np.uint8
        assert s.masks.sum(axis=0).max() == 1  # no overlap
        order = [list(COLOURS).index(o.colour) for o in s.objects]
        assert order == sorted(set(order))  # distinct colours, in the palette's order
        for o, m in zip(s.objects, s.masks, strict=True):
            colour = np.all(s.image == COLOURS[o.colour], axis=-1)
            assert colour[~m].sum() == 0  # the colour only inside its mask
            share = colour[m].mean()
            assert (share > 0.99) if o.texture == "plain" else (0.3 < share < 0.95)
        words = s.caption.split()
        assert words[-1] == "." and [w for w in words if w in COLOURS] == [o.colour for o in s.objects]
    assert counts == {1, 2, 3}


def test_cell_labels_follow_the_masks() -> None:
    s = make_scene(5)
    labels = cell_labels(s, 12)
    for k in range(len(s.objects)):
        cells = np.argwhere(labels == k)
        assert len(cells) >= 4  # objects span several cells
        for r, c in cells:
            assert s.masks[k, r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28].mean() >= 0.5
    for r, c in np.argwhere(labels == -1):
        assert s.masks[:, r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28].mean() < 0.05


def test_tokenizer_knows_every_caption_word() -> None:
    tok = teaching.tokenizer()
    unk = tok.convert_tokens_to_ids(teaching.UNK)
    for seed in range(30):
        cap = make_scene(seed).caption
        ids = tok(cap)["input_ids"]
        assert unk not in ids and len(ids) == len(cap.split())
        assert tok.decode(ids) == cap
    assert tok("describe the zebra")["input_ids"][-1] == unk  # unknown words are not dropped


def test_shipped_checkpoint_is_small_and_loads_with_safetensors(shipped: tuple[object, object]) -> None:
    files = {p.name: p.stat().st_size for p in teaching.CHECKPOINT.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "training.json"} <= set(files)
    assert sum(files.values()) <= 10 * 2**20
    assert not [p for p in teaching.CHECKPOINT.iterdir() if p.suffix in (".bin", ".pt", ".pkl", ".pth")]
    model, _ = shipped
    assert type(model).__name__ == "Qwen2VLForConditionalGeneration"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shipped_model_captions_held_out_scenes(shipped: tuple[object, object], seed: int) -> None:
    model, processor = shipped
    scene = make_scene(seed)
    exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=40)
    assert scene.says(exp.text), (exp.text, scene.caption)


def test_explain_on_the_teaching_model(shipped: tuple[object, object]) -> None:
    model, processor = shipped
    scene = make_scene(11)
    exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=40)
    assert isinstance(exp, Explanation)
    assert [v.grid for v in exp.views] == [(12, 12)] and exp.meta["family"] == FAMILIES["qwen2_vl"].name
    assert [t.strip() for t in exp.item_texts[: exp.n_prompt]] == PROMPT.split()
    found = list(targets(exp, scene))
    assert {t.word for t in found if t.kind == "colour"} == {o.colour for o in scene.objects}
    assert all(t.word in TEXTURES for t in found if t.kind == "texture")


def test_maps_point_at_the_named_object(shipped: tuple[object, object]) -> None:
    """A small-sample localisation benchmark: far above chance, and a broken map fails it."""
    model, processor = shipped
    records, broken = [], []
    for seed in range(200, 216):
        scene = make_scene(seed)
        exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=40)
        records.extend(score(exp, scene))
        maps = exp.maps().image.numpy()
        for t in targets(exp, scene):
            if t.kind == "colour":  # the same map, transposed: what a layout bug would show
                heat = np.kron(maps[t.item].reshape(12, 12).T, np.ones((28, 28)))
                broken.append(pointing(heat, scene.masks[t.objects[0]]))
    table = summarise(records)
    tam, whole = table["TAM"]["colour"], table["whole image"]["colour"]
    assert whole["iou"] < 0.12  # chance: an object covers about a tenth of the image
    assert tam["pointing"] >= 0.8 and tam["iou"] >= 0.35, table["TAM"]
    assert tam["n"] >= 25
    assert table["TAM"]["texture"]["pointing"] >= 0.5, table["TAM"]
    assert np.mean(broken) < tam["pointing"] - 0.3  # the test can fail
    assert set(METHODS) <= set(table)


def test_metrics() -> None:
    yy, xx = np.mgrid[:40, :40]
    mask = (yy - 12) ** 2 + (xx - 28) ** 2 <= 36  # a disc
    heat = np.exp(-((yy - 12) ** 2 + (xx - 28) ** 2) / 40.0)  # a bump on it
    assert otsu_iou(heat, mask) > 0.6 and pointing(heat, mask) == 1.0
    assert otsu_iou(1 - heat, mask) == 0.0 and pointing(1 - heat, mask) == 0.0
    assert otsu_iou(heat.T, mask) < 0.1  # transposed: elsewhere
    assert otsu_iou(np.ones((40, 40)), mask) == pytest.approx(mask.mean())  # flat = the whole image
    other = np.zeros_like(mask)
    other[30:38, 2:10] = True
    assert outweighs(heat, np.stack([mask, other]), (0,)) == 1.0
    assert outweighs(heat, np.stack([mask, other]), (1,)) == 0.0
    assert outweighs(heat, np.stack([mask]), (0,)) is None


@pytest.mark.slow
def test_training_script_runs_and_its_checkpoint_loads(tmp_path: Path) -> None:
    out = tmp_path / "ckpt"
    args = ["--steps", "2", "--batch", "2", "--eval-every", "2", "--eval-scenes", "2", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "tam_widget.teaching.train", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "saved to" in proc.stdout
    model, processor = teaching.load(out)
    scene = make_scene(0)
    exp = explain(model, processor, scene.image, PROMPT, max_new_tokens=3)
    assert exp.n_answer >= 1
    with pytest.raises(FileNotFoundError, match=r"tam_widget\.teaching\.train"):
        teaching.load(tmp_path / "nowhere")
