"""bench_scale's pages: built in a child process for one tree, measured in one chromium for both trees.

Run as a script with ``PYTHONPATH`` naming the tree under test (its ``tam_widget`` is imported, not
this checkout's): ``python benchmarks/scale_page.py OUTDIR CASE...`` explains each case through the
public ``explain`` path on a random tiny Qwen2-VL built offline, saves ``OUTDIR/CASE.html`` (written
whole or not at all) and prints one JSON object, its ``pages`` per case: ``n_v``, ``explain_s``,
``save_s`` and ``pictures``, what the tree's own encoder (``tam_widget/display/images.py``, where the
tree has it) put in the page: how many JPEG and PNG pictures and their bytes. One process builds
every case: the imports (transformers: about 15 s) are paid once.

The cases: two 1008 x 1008 pictures (two 36 x 36 grids, 2,592 vision tokens) at T items, and a
video of 896 x 1008 frames (Qwen2-VL pairs frames: 16 frames are 8 groups of 32 x 36 = 9,216 vision
tokens), its frames a drawn scene moving 24 px a frame with a little seeded noise (+-3 grey levels),
as a camera's frames do not compress like a flat drawing.

:func:`measure` opens the pages of both trees in one chromium (one for every case), alternating
between them load by load (the side that goes first alternates too), and returns for each:
``first_paint_ms`` (median over fresh loads of navigation start to first contentful paint: the
tokens and pictures; the last load also runs the interactions, after its paint is read),
``first_map_ms`` (median, navigation start to the host's 'tam-map' mark: the first map drawn),
``switch_p95_ms`` (bench_widget's SWITCH:
one click on a token, through the widget's handlers, plus a forced layout, every token twice, the
second round timed; with ``tokens``, that many evenly spaced tokens only) and the slider's frames
(bench_widget's FRAMES: a new ECI value on every animation frame; ``slider_frame_ms`` the mean
interval, 16.7 ms at 60 Hz, ``slider_dropped`` the intervals over 1.5 times the median).
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


def pictures(exp: Any) -> dict[str, int] | None:
    """What the tree's encoder puts in the page: JPEG and PNG pictures and their bytes (None before it)."""
    try:
        from tam_widget.display.images import encoded_images
    except ImportError:
        return None
    encoded, _ = encoded_images(exp)
    jpeg = [p for p in encoded if p[:3] == b"\xff\xd8\xff"]
    png = [p for p in encoded if p[:8] == b"\x89PNG\r\n\x1a\n"]
    assert len(jpeg) + len(png) == len(encoded), "a picture neither JPEG nor PNG"
    return {"jpeg": len(jpeg), "png": len(png), "bytes": sum(map(len, encoded))}


def build(name: str, out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    exp = explanation(name)
    built = time.perf_counter() - start
    part = out.with_name(f"{name}.part.html")  # renamed when whole: an interrupted build leaves no page
    exp.save_html(part)
    part.rename(out)
    saved = time.perf_counter() - start - built
    n_v = exp.result.layout.n_tokens
    return {"n_v": n_v, "explain_s": built, "save_s": saved, "pictures": pictures(exp)}


def _open(browser: Any, path: Path) -> tuple[Any, Any, Any]:
    from browser import Guard  # tests/browser.py, on the parent's path

    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    guard = Guard(context, page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)
    return context, page, guard


PAINTED = "() => performance.getEntriesByName('first-contentful-paint').length > 0"
FIRST_PAINT = "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
# the host's mark once the first map is drawn (html.py); a page from before the two-stage start drew it
# before it was ready, so its 'tam-ready' is that time
FIRST_MAP = """() => (performance.getEntriesByName('tam-map')[0]
    ?? performance.getEntriesByName('tam-ready')[0]).startTime"""


def load(browser: Any, path: Path, interact: tuple[int, int] | None) -> dict[str, float]:
    """One fresh load: its first paint, then (with ``(tokens, frames)``) the token switch and the slider."""
    context, page, guard = _open(browser, path)
    page.wait_for_function(PAINTED)
    out = {"first_paint_ms": float(page.evaluate(FIRST_PAINT)), "first_map_ms": float(page.evaluate(FIRST_MAP))}
    if interact is not None:
        out |= interactions(page, *interact)
    guard.check()
    context.close()
    return out


def interactions(page: Any, tokens: int, frames: int) -> dict[str, float]:
    """Token switch p95 (every token, or ``tokens`` of them) and the slider's frames."""
    import numpy as np
    from bench_widget import FRAMES, SWITCH

    switch = np.asarray(page.evaluate(SWITCH, tokens))  # tokens 0: every token
    page.evaluate(FRAMES, ["slider", 10])  # warm up
    intervals = np.diff(page.evaluate(FRAMES, ["slider", frames])["stamps"])
    return {
        "switch_p95_ms": float(np.percentile(switch, 95)),
        "switch_ms": float(switch.mean()),
        "slider_frame_ms": float(intervals.mean()),
        "slider_dropped": int((intervals > 1.5 * np.median(intervals)).sum()),
    }


def measure(files: dict[str, dict[str, Path]], loads: int, tokens: int, frames: int) -> dict[str, Any]:
    """Per case, per side: the figures of ``files[case][side]`` (see the docstring; ``tokens`` 0: all)."""
    from browser import launch
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = launch(p)
        for case, pages in files.items():
            got: dict[str, list[dict[str, float]]] = {side: [] for side in pages}
            for k in range(loads):
                sides = list(pages) if k % 2 == 0 else list(pages)[::-1]
                for side in sides:
                    got[side].append(load(browser, pages[side], (tokens, frames) if k == loads - 1 else None))
            medians = ("first_paint_ms", "first_map_ms")
            out[case] = {
                side: got[side][-1] | {k: statistics.median(r[k] for r in got[side]) for k in medians} for side in pages
            }
            shown = [f"{s} {r['first_paint_ms']:.0f} ms (map {r['first_map_ms']:.0f})" for s, r in out[case].items()]
            print(f"  browser {case}: " + ", ".join(shown))
        browser.close()
    return out


def main(outdir: Path, names: list[str]) -> None:
    import tam_widget

    pages = {name: build(name, outdir / f"{name}.html") for name in names}
    print(json.dumps({"tam_widget": tam_widget.__file__, "pages": pages}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
