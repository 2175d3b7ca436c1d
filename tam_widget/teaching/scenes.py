"""Synthetic scenes with exact object masks: the teaching model's world and its ground truth.

A scene is 1-3 non-overlapping objects (a disc or a square) on a lightly noisy grey background.
Each object has its own colour and a texture (``striped``, ``dotted`` or ``plain``). The caption
names every object's colour and texture in a fixed order, the order of :data:`COLOURS`:
``"a red striped shape and a blue dotted shape ."``. Shapes vary for the eye but are not named:
a vision tower as small as the teaching model's does not learn them in its training budget.

Everything is a pure function of the seed (numpy's PCG64), so a scene can be rebuilt anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
    "purple": (150, 50, 180),
}
TEXTURES = ("striped", "dotted", "plain")
SHAPES = ("disc", "square")
NOUN = "shape"
PROMPT = "describe the picture ."
SIZE = 336  # pixels: a 12 x 12 grid of 28-pixel vision tokens


@dataclass(frozen=True)
class SceneObject:
    colour: str
    texture: str
    shape: str
    box: tuple[int, int, int, int]  # (y0, x0, y1, x1) in pixels, y1/x1 exclusive

    @property
    def words(self) -> tuple[str, str]:
        """The caption words that denote this object: its colour and its texture."""
        return self.colour, self.texture


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    masks: np.ndarray  # (n_objects, H, W) bool, exact, one per object in caption order
    objects: tuple[SceneObject, ...]  # in caption order
    seed: int

    @property
    def caption(self) -> str:
        """The true caption of the scene."""
        return caption(self.objects)

    def says(self, text: str) -> bool:
        """Whether ``text`` (a generated answer) is this scene's caption, whitespace aside."""
        return " ".join(text.split()) == self.caption

    def mask_of(self, word: str) -> int | None:
        """The object a colour or texture word names (the first, for a texture shared by two)."""
        for i, o in enumerate(self.objects):
            if word in o.words:
                return i
        return None


def caption(objects: tuple[SceneObject, ...] | list[SceneObject]) -> str:
    """``"a red striped shape and a blue dotted shape ."``: every object's colour and texture, in order."""
    return " and ".join(f"a {o.colour} {o.texture} {NOUN}" for o in objects) + " ."


def make_scene(seed: int, size: int = SIZE, n_objects: int | None = None) -> Scene:
    """The scene of ``seed``: 1-3 objects (or ``n_objects``) of distinct colours, 25-40% of the side each."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4)) if n_objects is None else n_objects
    if not 1 <= n <= len(COLOURS):
        raise ValueError(f"n_objects must be between 1 and {len(COLOURS)}, got {n}.")
    names = list(COLOURS)
    colours = sorted(rng.choice(len(names), size=n, replace=False).tolist())
    noise = rng.standard_normal((size, size, 3), dtype=np.float32)
    image = np.clip(205 + 6 * noise, 0, 255).astype(np.uint8)
    boxes = _layout(rng, size, n)
    objects, masks = [], np.zeros((n, size, size), bool)
    for i, (c, box) in enumerate(zip(colours, boxes, strict=True)):
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        y0, x0, y1, x1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1]  # the object's box only
        if shape == "square":
            mask = np.ones(yy.shape, bool)
        else:
            cy, cx, r = (y0 + y1 - 1) / 2, (x0 + x1 - 1) / 2, (y1 - y0) / 2
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        paint = _texture(texture, yy, xx, int(rng.integers(0, 12)))
        region = image[y0:y1, x0:x1]
        region[mask & paint] = COLOURS[names[c]]
        region[mask & ~paint] = (245, 245, 245)
        masks[i, y0:y1, x0:x1] = mask
        objects.append(SceneObject(names[c], texture, shape, box))
    return Scene(image, masks, tuple(objects), seed)


def _layout(rng: np.random.Generator, size: int, n: int) -> list[tuple[int, int, int, int]]:
    """``n`` square boxes, 25-40% of the side, apart from the edges and each other by a margin;
    a layout that cannot be completed is drawn again (still a function of the seed)."""
    gap = size // 24
    for _ in range(1000):
        boxes: list[tuple[int, int, int, int]] = []
        for _ in range(50 * n):
            side = int(rng.integers(int(0.25 * size), int(0.40 * size) + 1))
            y0 = int(rng.integers(gap, size - side - gap + 1))
            x0 = int(rng.integers(gap, size - side - gap + 1))
            box = (y0, x0, y0 + side, x0 + side)
            if all(_apart(box, b, gap) for b in boxes):
                boxes.append(box)
                if len(boxes) == n:
                    return boxes
    raise RuntimeError(f"could not place {n} objects without overlap in {size} pixels; use fewer or a larger size")


def _apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int], gap: int) -> bool:
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def _texture(name: str, yy: np.ndarray, xx: np.ndarray, phase: int) -> np.ndarray:
    """Where the object's colour goes (the rest of the object is near-white)."""
    if name == "striped":  # diagonal bands, period 12 px
        return np.asarray(((xx + yy + phase) % 12) < 6)
    if name == "dotted":  # white dots of radius 3 on a 12 px lattice, on the colour
        dy, dx = (yy + phase) % 12 - 6, (xx + phase) % 12 - 6
        return np.asarray(dy * dy + dx * dx > 9)
    return np.ones_like(yy, dtype=bool)


def cell_labels(scene: Scene, grid: int, full: float = 0.5, empty: float = 0.05) -> np.ndarray:
    """``(grid, grid)`` int: the object under each cell (``>= full`` of it covered), -1 background
    (``< empty`` covered by any object), -2 ambiguous (left out of the alignment loss)."""
    n, h, w = scene.masks.shape
    cover = scene.masks.reshape(n, grid, h // grid, grid, w // grid).mean(axis=(2, 4))  # (n, grid, grid)
    labels = np.full((grid, grid), -2, np.int64)
    labels[cover.sum(axis=0) < empty] = -1
    best = cover.argmax(axis=0)
    labels[cover.max(axis=0) >= full] = best[cover.max(axis=0) >= full]
    return labels
