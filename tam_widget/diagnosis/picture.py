"""The reference's three-panel hallucination picture (``visualize_hallucination.py``, spec §11) with
numpy, PIL and scikit-image: no matplotlib, so it draws wherever the package imports.

(a) the correct word's attribution map, inverted and in the COOL colours as the reference draws it
(magenta: regions that least support the correct word, where the wrong one comes from), smoothed as
its ``gen_cam`` (down 20x, back up, bilinear) and blended 50/50; (b) the image with the removed
regions at 30% brightness and outlined in red (:func:`skimage.segmentation.find_boundaries`); (c)
the correct token's probability against the share of the image removed, the area under it shaded,
each prefix's revised answer marked (green: says the correct word) and the cut as a red line.
Under them, the answer with the wrong word marked and the revised answer with the correct one.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from . import chart
from .chart import font
from .words import first_word, word_offset

if TYPE_CHECKING:
    from .result import Diagnosis

PANEL = 300  # px: each panel's height (and the chart's width)
PAD = 14
TITLE = 34  # the summary line
HEAD = 40  # a panel's two-line heading
LINE = 24  # an answer line under the panels
LABEL = 76  # px for an answer line's label
DIM = 0.3  # the removed regions' brightness, as the reference
SMOOTH = 20  # gen_cam's down-sampling factor
RED, GREEN = (214, 39, 40), (44, 160, 44)


def cool(values: np.ndarray) -> np.ndarray:
    """matplotlib's COOL colour map, ``(..., 3)`` uint8 for values in ``[0, 1]``: cyan to magenta."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    return np.round(255 * np.concatenate([v, 1 - v, np.ones_like(v)], axis=-1)).astype(np.uint8)


def resized(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` (uint8 RGB) at ``height`` pixels, its aspect kept."""
    h, w = image.shape[:2]
    size = (max(1, round(height * w / h)), height)
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize(size, Image.Resampling.BILINEAR))


def map_panel(d: Diagnosis, height: int = PANEL) -> np.ndarray:
    """(a): ``1 − map`` in COOL over the image, smoothed as ``gen_cam`` and blended 50/50."""
    base = resized(d.image, height)
    inverted = (1.0 - d.eagle.attribution_map()).astype(np.float32)
    h, w = inverted.shape
    small = Image.fromarray(inverted, mode="F").resize(
        (max(1, w // SMOOTH), max(1, h // SMOOTH)), Image.Resampling.BILINEAR
    )
    smooth = np.asarray(small.resize(base.shape[1::-1], Image.Resampling.BILINEAR))
    return np.round(0.5 * base + 0.5 * cool(smooth)).astype(np.uint8)


def removal_panel(d: Diagnosis, height: int = PANEL) -> np.ndarray:
    """(b): the removed regions at :data:`DIM` brightness with a red outline."""
    from skimage.segmentation import find_boundaries

    base = resized(d.image, height).astype(np.float64)
    mask = Image.fromarray(d.removed.astype(np.uint8) * 255).resize(base.shape[1::-1], Image.Resampling.NEAREST)
    removed = np.asarray(mask) > 127
    base[removed] *= DIM
    out = np.round(base).astype(np.uint8)
    out[find_boundaries(removed, mode="thick")] = RED  # type: ignore[no-untyped-call]  # 2 px: both sides of the edge
    return out


def picture(d: Diagnosis) -> Image.Image:
    """The three panels with their headings, the answers under them (see the module docstring)."""
    panels = [map_panel(d), removal_panel(d), chart.draw(d, PANEL)]
    width = sum(p.shape[1] for p in panels) + PAD * (len(panels) + 1)
    lines = _lines(d, width - 2 * PAD)
    top = TITLE + HEAD
    canvas = Image.new("RGB", (width, top + PANEL + PAD + LINE * len(lines) + PAD), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((PAD, 8), _fit(d.summary(), width - 2 * PAD, 15), fill="black", font=font(15))
    x = PAD
    for p, (title, note) in zip(panels, headings(d), strict=True):
        draw.text((x, TITLE + 2), _fit(title, p.shape[1], 14), fill="black", font=font(14))
        draw.text((x, TITLE + 20), _fit(note, p.shape[1], 12), fill="#555", font=font(12))
        canvas.paste(Image.fromarray(p), (x, top))
        x += p.shape[1] + PAD
    y = top + PANEL + PAD
    for label, text, at, colour in lines:
        _marked_line(draw, (PAD, y), label, text, at, colour)
        y += LINE
    return canvas


def headings(d: Diagnosis) -> list[tuple[str, str]]:
    """``(title, note)`` of each panel."""
    n = d.eagle.n_regions
    if d.k is None:
        cut = f"no cut of the {n} regions corrects it"
    elif d.r == 0:
        cut = f"nothing removed: the full image says {d.correct!r}"
    else:
        cut = f"{d.r:.1%} removed ({n - d.k} of {n} regions) -> {d.correct!r}"
    return [
        (f"(a) What speaks against {d.correct!r}", "EAGLE map, inverted: magenta = least support"),
        ("(b) Removed to correct it", cut),
        (f"(c) p({d.correct!r}) as regions are removed", "dots: revised answer says it (green) or not (grey)"),
    ]


def _lines(d: Diagnosis, width: int) -> list[tuple[str, str, int, tuple[int, int, int]]]:
    """``(label, text, character offset of the marked word or -1, colour)`` per line under the panels."""
    answer, revised = " ".join(d.answer.split()), " ".join(d.revised_answer.split())
    rows = [("Answer: ", answer, word_offset(answer, d.wrong, d.position), RED)]
    if revised:
        rows.append(("Revised: ", revised, word_offset(revised, d.correct, d.position), GREEN))
    else:
        rows.append(("Revised: ", "(no prefix of the order corrects the answer)", -1, GREEN))
    return [(label, _fit(text, width - LABEL, 14), at, colour) for label, text, at, colour in rows]


def _fit(text: str, width: int, px: int) -> str:
    """``text`` on one line, cut with ``…`` where it would overflow ``width`` pixels at ``px``."""
    text = " ".join(text.split())
    f = font(px)
    if f.getlength(text) <= width:
        return text
    while text and f.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _marked_line(draw: ImageDraw.ImageDraw, xy: tuple[int, int], label: str, text: str, at: int, colour: Any) -> None:
    x, y = xy
    f = font(14)
    draw.text((x, y), label, fill="#555", font=f)
    x += LABEL
    if at < 0 or at >= len(text):
        draw.text((x, y), text, fill="black", font=f)
        return
    word = first_word(text[at:])
    before, after = text[:at], text[at + len(word) :]
    draw.text((x, y), before, fill="black", font=f)
    x += round(f.getlength(before)) + 4  # the box's padding keeps the spaces around the word
    w = f.getlength(word)
    draw.rounded_rectangle((x - 3, y - 2, x + w + 3, y + 18), radius=4, fill=colour)
    draw.text((x, y), word, fill="white", font=f)
    draw.text((x + w + 4, y), after, fill="black", font=f)


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
