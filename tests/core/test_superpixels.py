"""EAGLE's regions: SLICO superpixels (OpenCV-contrib, as the reference), the scikit-image fallback, the
video grid, and the label guards.

The OpenCV path is tested twice: against a fake ``cv2`` that records how it is called (always runs:
BGR input, ``region_size``, ``ruler``, 20 iterations, no connectivity enforcement, gaps in its
labels closed), and against the real ``cv2.ximgproc`` where OpenCV-contrib is installed
(``pip install 'tam-widget[eagle]'``). The scikit-image fallback is always tested.
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any, ClassVar

import numpy as np
import pytest

from tam_widget.core.superpixels import grid, opencv_slico_available, regions, relabel, slic, slico
from tam_widget.teaching import make_scene


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour field (blocks of noise, bilinearly upsampled): superpixels follow its shapes."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 32 + 2, w // 32 + 2, 3)).astype(np.float64)
    ys, xs = np.linspace(0, small.shape[0] - 1, h), np.linspace(0, small.shape[1] - 1, w)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, small.shape[0] - 1), np.minimum(x0 + 1, small.shape[1] - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = small[y0][:, x0] * (1 - fx) + small[y0][:, x1] * fx
    bottom = small[y1][:, x0] * (1 - fx) + small[y1][:, x1] * fx
    return np.rint(top * (1 - fy) + bottom * fy).astype(np.uint8)


IMAGES = {"scene-336": make_scene(7).image, "smooth-480x640": smooth_image(480, 640), "noise-84x112": None}


def image_named(name: str) -> np.ndarray:
    img = IMAGES[name]
    return img if img is not None else np.random.default_rng(0).integers(0, 256, (84, 112, 3), dtype=np.uint8)


def assert_labels(labels: np.ndarray, shape: tuple[int, ...]) -> int:
    """Labels are int32 of ``shape``, exactly ``0..N-1`` with every label used; returns ``N``."""
    assert labels.shape == shape and labels.dtype == np.int32
    n = int(labels.max()) + 1
    assert labels.min() == 0 and np.array_equal(np.unique(labels), np.arange(n))
    return n


def test_relabel_drops_unused_labels_and_keeps_their_order() -> None:
    gappy = np.array([[7, 2, 2], [9, 7, 40]])
    out = relabel(gappy)
    assert out.dtype == np.int32 and out.tolist() == [[1, 0, 0], [2, 1, 3]]
    contiguous = np.arange(12).reshape(3, 4)
    assert np.array_equal(relabel(contiguous), contiguous)


class FakeSLIC:
    """Stands in for OpenCV's SuperpixelSLIC: records its calls, returns labels with unused ids."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, image: np.ndarray, region_size: int, ruler: float) -> None:
        FakeSLIC.calls.append(("create", (image.copy(), region_size, ruler)))
        h, w = image.shape[:2]
        self.labels = (np.arange(h)[:, None] // 2 * 1000 + np.arange(w)[None, :] // 3 * 3).astype(np.int32)  # gaps

    def iterate(self, n: int) -> None:
        FakeSLIC.calls.append(("iterate", n))

    def enforceLabelConnectivity(self, *args: Any) -> None:  # noqa: N802  (OpenCV's name)
        FakeSLIC.calls.append(("enforceLabelConnectivity", args))

    def getLabels(self) -> np.ndarray:  # noqa: N802
        return self.labels


def test_slico_calls_opencv_as_the_reference_and_closes_label_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("cv2")
    fake.ximgproc = types.SimpleNamespace(createSuperpixelSLIC=FakeSLIC)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cv2", fake)
    FakeSLIC.calls = []
    img = image_named("noise-84x112")
    labels = slico(img, division=50)
    (kind, (given, size, ruler)), rest = FakeSLIC.calls[0], FakeSLIC.calls[1:]
    assert kind == "create" and np.array_equal(given, img[..., ::-1])  # BGR, as cv2.imread gives it
    assert size == math.floor(math.sqrt(84 * 112 / 50)) == 13 and ruler == 20.0
    assert rest == [("iterate", 20)]  # and never enforceLabelConnectivity
    n = assert_labels(labels, (84, 112))
    assert np.array_equal(labels, relabel(FakeSLIC(img, 1, 1.0).labels)) and n == 42 * 38


@pytest.mark.skipif(
    not opencv_slico_available(), reason="OpenCV-contrib is not installed: pip install 'tam-widget[eagle]'"
)
@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("division", [16, 64])
def test_opencv_slico_is_the_reference_and_gives_about_d_regions(name: str, division: int) -> None:
    import cv2

    img = image_named(name)
    h, w = img.shape[:2]
    labels = slico(img, division)
    n = assert_labels(labels, (h, w))
    engine = cv2.ximgproc.createSuperpixelSLIC(
        img[..., ::-1].copy(), region_size=int((h * w / division) ** 0.5), ruler=20.0
    )
    engine.iterate(20)
    assert np.array_equal(labels, relabel(engine.getLabels()))  # the reference's labels, relabelled
    assert 0.8 * division <= n <= 1.2 * division


@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("division", [16, 64])
def test_scikit_image_fallback_gives_about_d_contiguous_regions(name: str, division: int) -> None:
    img = image_named(name)
    labels = slic(img, division)
    n = assert_labels(labels, img.shape[:2])
    assert 0.75 * division <= n <= 1.25 * division
    assert np.array_equal(labels, slic(img, division))  # deterministic


def test_slico_falls_back_to_scikit_image_without_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    assert not opencv_slico_available()
    img = image_named("noise-84x112")
    assert np.array_equal(slico(img, 64), slic(img, 64))


def reference_grid(frames: np.ndarray, cells: int) -> np.ndarray:
    """The reference video notebook's partition (``build_V_set_5x5_keep_channel``), as one label map."""
    t_frames, h, w = frames.shape[:3]
    rows, cols = np.linspace(0, h, cells + 1, dtype=int), np.linspace(0, w, cells + 1, dtype=int)
    out = np.full((t_frames, h, w), -1)
    k = 0
    for t in range(t_frames):
        for r in range(cells):
            for c in range(cells):
                out[t, rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = k
                k += 1
    return out


@pytest.mark.parametrize(("shape", "cells"), [((3, 37, 50), 5), ((2, 8, 8), 8), ((1, 5, 7), 1), ((2, 99, 13), 4)])
def test_grid_cuts_each_frame_at_linspace_points(shape: tuple[int, int, int], cells: int) -> None:
    frames = np.zeros((*shape, 3), dtype=np.uint8)
    labels = grid(frames, cells)
    n = assert_labels(labels, shape)
    assert n == shape[0] * cells * cells
    assert np.array_equal(labels, reference_grid(frames, cells))


def test_regions_dispatches_by_input_and_method() -> None:
    img = image_named("noise-84x112")
    assert np.array_equal(regions(img), slico(img, 64))
    assert np.array_equal(regions(img, 30, method="slic"), slic(img, 30))
    assert np.array_equal(regions(img, 16, method="grid"), grid(img[None], 4)[0])
    video = np.zeros((2, 20, 30, 3), dtype=np.uint8)
    assert np.array_equal(regions(video), grid(video, 5))  # the reference's 5 x 5 per frame
    assert np.array_equal(regions(video, 9), grid(video, 3))
    both = regions([img, img[:40]], 16, method="slic")
    assert isinstance(both, list) and np.array_equal(both[1], slic(img[:40], 16))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda img: slico(img.astype(np.float32), 64), "image_rgb must be an \\(H, W, 3\\) uint8"),
        (lambda img: slico(img[..., 0], 64), "image_rgb"),
        (lambda img: slic(img, 0), "division must be an integer from 1"),
        (lambda img: slico(img, 84 * 112 + 1), "division"),
        (lambda img: slico(img, True), "division"),
        (lambda img: slic(img, 6.5), "division"),
        (lambda img: grid(img[None], 0), "cells"),
        (lambda img: grid(img[None, :4], 5), "cells must be an integer from 1 to the frame's shorter side \\(4\\)"),
        (lambda img: grid(img, 5), "frames must be a \\(T, H, W, 3\\)"),
        (lambda img: regions(img, method="seeds"), "method must be one of"),
        (lambda img: regions(img[None], method="slico"), "method='grid'"),
        (lambda img: regions(img, -3, method="grid"), "division must be a positive integer"),
        (lambda img: regions("cat.png"), "images_or_video must be an \\(H, W, 3\\) uint8"),
    ],
)
def test_bad_arguments_are_refused_with_what_to_do(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(image_named("noise-84x112"))
