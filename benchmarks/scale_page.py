"""bench_scale's pages: built in a child process for one tree, measured in one chromium for both trees.

Run as a script with ``PYTHONPATH`` naming the tree under test (its ``tam_widget`` is imported, not
this checkout's): ``python benchmarks/scale_page.py CASE OUT.html`` explains the case through the
public ``explain`` path on a random tiny Qwen2-VL built offline, saves the page and prints one JSON
object. The cases: two 1008 x 1008 pictures (two 36 x 36 grids, 2,592 vision tokens) at T items,
and a video of 896 x 1008 frames (Qwen2-VL pairs frames: 16 frames are 8 groups of 32 x 36 = 9,216
vision tokens), its frames a drawn scene moving 24 px a frame with a little seeded noise (+-3 grey
levels), as a camera's frames do not compress like a flat drawing.

:func:`measure` opens the pages of both trees in one chromium, alternating between them (load,
load, ..., switch, switch, slider, slider), and returns for each: ``first_paint_ms`` (median over
loads of navigation start to first contentful paint), ``switch_p95_ms`` (bench_widget's SWITCH: one
click on a token, through the widget's handlers, plus a forced layout; with a stride, every k-th
token only) and the slider's frames (bench_widget's FRAMES: a new ECI value on every animation
frame; ``slider_frame_ms`` the mean interval, 16.7 ms at 60 Hz, ``slider_dropped`` the intervals
over 1.5 times the median).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

PROMPT = "Describe what you see."
TEXT = "A red disc at the top left moves right past a yellow bar and a blue square, then stops. "

# name -> (T items, frames or None for the two pictures)
CASES: dict[str, tuple[int, int | None]] = {
    "img_T276": (276, None),
    "img_T1024": (1024, None),
    "img_T2048": (2048, None),
    "vid16_T1024": (1024, 16),
    "vid32_T2048": (2048, 32),
}


def media(frames: int | None) -> Any:
    import numpy as np
    from PIL import Image

    from tam_widget import Video
    from tam_widget.cli.demo import scene

    if frames is None:
        return [scene(1008, 1008), np.asarray(Image.fromarray(scene()).resize((1008, 1008)).rotate(90))]
    base = np.asarray(Image.fromarray(scene(1008, 1008)).resize((1008, 896)), dtype=np.int16)
    noise = np.random.default_rng(0).integers(-3, 4, (frames, *base.shape), dtype=np.int16)
    shot = np.stack([np.roll(base, 24 * k, axis=1) for k in range(frames)]) + noise
    return Video(shot.clip(0, 255).astype(np.uint8), fps=1.0)


def explanation(name: str) -> Any:
    from tam_widget import explain
    from tam_widget.testing.toy import qwen2_vl_model, qwen2_vl_processor
    from tam_widget.testing.video import with_video_processor

    T, frames = CASES[name]
    model = qwen2_vl_model(seed=0, hidden=64, layers=1, vision_width=32, vision_depth=1, max_positions=65536)
    processor = qwen2_vl_processor(max_pixels=1008 * 1008)
    if frames is not None:
        processor = with_video_processor(processor)
    n_answer = T - len(PROMPT)  # byte tokens: one prompt item per character
    answer = (TEXT * (n_answer // len(TEXT) + 1))[: n_answer - 1] + "."
    exp = explain(model, processor, media(frames), PROMPT, answer=answer, progress=False)
    if exp.result.n_items != T:
        raise SystemExit(f"{name}: {exp.result.n_items} items, expected {T}")
    return exp


def build(name: str, out: Path) -> dict[str, Any]:
    import tam_widget

    start = time.perf_counter()
    exp = explanation(name)
    built = time.perf_counter() - start
    exp.save_html(out)
    saved = time.perf_counter() - start - built
    n_v = exp.result.layout.n_tokens
    return {"tam_widget": tam_widget.__file__, "n_v": n_v, "explain_s": built, "save_s": saved}


def _open(browser: Any, path: Path) -> tuple[Any, Any, Any]:
    from browser import Guard  # tests/browser.py, on the parent's path

    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)
    return context, page, guard


def first_paint(browser: Any, path: Path) -> float:
    context, page, guard = _open(browser, path)
    page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
    fcp = float(page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime"))
    guard.check()
    context.close()
    return fcp


SWITCH_EVERY = """(stride) => {
  const tokens = [...document.querySelectorAll('[data-role="token"]')].filter((_, i) => i % stride === 0);
  const times = [];
  for (const t of tokens.concat(tokens)) {   // every chosen token twice: the second round is warm
    const t0 = performance.now();
    t.click();
    document.body.getBoundingClientRect();   // force style and layout
    times.push(performance.now() - t0);
  }
  return times.slice(tokens.length);
}"""


def interact(browser: Any, path: Path, stride: int, frames: int) -> dict[str, float]:
    """Token switch p95 and the slider's frames on one fresh load."""
    import numpy as np
    from bench_widget import FRAMES, SWITCH

    context, page, guard = _open(browser, path)
    switch = np.asarray(page.evaluate(SWITCH) if stride == 1 else page.evaluate(SWITCH_EVERY, stride))
    page.evaluate(FRAMES, ["slider", 10])  # warm up
    intervals = np.diff(page.evaluate(FRAMES, ["slider", frames])["stamps"])
    guard.check()
    context.close()
    return {
        "switch_p95_ms": float(np.percentile(switch, 95)),
        "switch_ms": float(switch.mean()),
        "slider_frame_ms": float(intervals.mean()),
        "slider_dropped": int((intervals > 1.5 * np.median(intervals)).sum()),
    }


def measure(pages: dict[str, Path], loads: int, stride: int, frames: int) -> dict[str, dict[str, float]]:
    """Figures of each ``{side: page}``, the sides alternating in one chromium (see the docstring)."""
    from browser import launch
    from playwright.sync_api import sync_playwright

    paints: dict[str, list[float]] = {side: [] for side in pages}
    out: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        for _ in range(loads):
            for side, path in pages.items():
                paints[side].append(first_paint(browser, path))
        for side, path in pages.items():
            out[side] = {"first_paint_ms": statistics.median(paints[side])} | interact(browser, path, stride, frames)
        browser.close()
    return out


if __name__ == "__main__":
    print(json.dumps(build(sys.argv[1], Path(sys.argv[2]))))
