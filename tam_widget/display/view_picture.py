"""The picture of the widget's current view, composed as the page composes it (numpy and PIL only).

:func:`picture`: the selected item's map over each view's image (the colour map's table, an alpha that
follows the value so the image's own colours show where the map is low, the opacity, smooth or blocky
cells, the map over the view's box), under a title line with the token in context (:func:`context`).
No map is drawn for an item without visual signal. :mod:`.snapshot` puts it in the widget's output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..methods import get_method
from . import colormaps
from .signal import NOISE_FLOOR, strength

if TYPE_CHECKING:
    from ..explanation import Explanation

PANEL_H = 320  # a panel's height in the picture (px); lower when many views would make it wider than MAX_W
MAX_W = 1600
PAD = 8
TITLE_H = 44  # the context line and the settings line
CONTEXT = 6  # tokens shown either side of the explained one, fewer when the line would not fit
FLAT_SPREAD = 1e-6  # js/src/app.ts: a map whose values spread less is flat


def _font(px: int) -> Any:
    try:
        return ImageFont.load_default(px)
    except TypeError:  # Pillow < 10.1: one small bitmap font
        return ImageFont.load_default()


def context(exp: Explanation, item: int, k: int = CONTEXT) -> tuple[str, str, str]:
    """The item's token and up to ``k`` non-special tokens before and after it (``…`` where cut)."""
    p = exp.item_positions[item]
    shown = [i for i in range(len(exp.tokens)) if not exp.special[i] or i == p]
    at = shown.index(p)
    before = ("…" if at > k else "") + "".join(exp.tokens[q] for q in shown[max(0, at - k) : at])
    after = "".join(exp.tokens[q] for q in shown[at + 1 : at + 1 + k]) + ("…" if at + 1 + k < len(shown) else "")
    return before, exp.tokens[p], after


def _axis(size: int, cells: int, lo: float, hi: float, smooth: bool) -> tuple[np.ndarray, ...]:
    """js/src/views/raster.ts axis() / nearestAxis(): per pixel, inside the box, the two cells and the weight."""
    u = (np.arange(size) + 0.5) / size
    inside = (u >= lo) & (u < hi) & (hi > lo)
    f = (u - lo) / (hi - lo) * cells if hi > lo else np.zeros(size)
    if smooth:
        g = np.clip(f - 0.5, 0, cells - 1)
        i0 = np.floor(g).astype(np.intp)
        return inside, i0, np.minimum(cells - 1, i0 + 1), g - i0
    i = np.clip(np.floor(f), 0, cells - 1).astype(np.intp)
    return inside, i, i, np.zeros(size)


def overlay(image: np.ndarray, box: Any, m: np.ndarray | None, height: int, **look: Any) -> np.ndarray:
    """``image`` resized to ``height`` with the map ``m`` (grid, values in [0, 1]) over ``box``, as the page draws it.

    ``look``: ``colormap``, ``opacity``, ``smooth``. ``m`` None: the image alone.
    """
    H, W = image.shape[:2]
    width = max(1, round(height * W / H))
    rgb = Image.fromarray(np.ascontiguousarray(image)).convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    base = np.asarray(rgb, dtype=np.float64)
    if m is None:
        return base.astype(np.uint8)
    x0, y0, x1, y1 = (float(b) for b in box)
    xin, xi0, xi1, xt = _axis(width, m.shape[1], x0, x1, look["smooth"])
    yin, yi0, yi1, yt = _axis(height, m.shape[0], y0, y1, look["smooth"])
    rows = m[yi0] + yt[:, None] * (m[yi1] - m[yi0])
    values = rows[:, xi0] + xt[None, :] * (rows[:, xi1] - rows[:, xi0])
    i = colormaps.index(values)
    a = (colormaps.alpha(i) * float(look["opacity"]) * (yin[:, None] & xin[None, :]))[..., None]
    out: np.ndarray = base * (1 - a) + colormaps.lut(look["colormap"])[i] * a
    return np.round(out).astype(np.uint8)


def _maps(exp: Explanation, item: int, view: dict[str, Any]) -> tuple[list[np.ndarray] | None, str]:
    """The item's first-frame maps, or None and why none is drawn ("" when drawn)."""
    method = view.get("method", exp.method)
    if method != "tam":  # a black-box method's one map on the vision cells, as the page draws it
        arrays, _ = get_method(method).wire_arrays(exp.results[method], exp)
        if item not in arrays.get("items", np.zeros(0)).tolist():
            return None, f"not explained by {get_method(method).title}"
        maps = exp._per_view(torch.from_numpy(arrays["grid"]))
    else:
        layer = view.get("layer", -1)  # the widget's layer (-1: the last)
        maps = exp.view_maps(item, view["eci_scale"], eci=view["eci"], filter=view["filter"], layer=layer)
    maps = [m[0] if m.ndim == 3 else m for m in maps]
    every = np.concatenate([m.ravel() for m in maps]) if maps else np.zeros(0)
    s = strength(exp)
    if every.size and not np.isfinite(every).all():
        return None, "map n/a (not finite)"
    if (method == "tam" and s is not None and s[item] < NOISE_FLOOR) or not every.size or np.ptp(every) < FLAT_SPREAD:
        return None, "no visual signal"
    return maps, ""


def picture(exp: Explanation, view: dict[str, Any]) -> Image.Image:
    """The picture of ``view``, the view traits: selected, eci_scale, eci, filter, colormap, opacity, smooth."""
    item = view["selected"]
    maps, note = _maps(exp, item, view)
    images = [np.asarray(exp.images[v.image]) for v in exp.views]
    images = [im[0] if im.ndim == 4 else im for im in images]  # a video: its first frame, as the page opens
    aspects = [im.shape[1] / im.shape[0] for im in images]
    height = max(48, min(PANEL_H, int((MAX_W - PAD * (len(images) + 1)) / max(sum(aspects), 1e-9))))
    look = {k: view[k] for k in ("colormap", "opacity", "smooth")}
    panels = [
        overlay(im, v.box, None if maps is None else maps[k], height, **look)
        for k, (im, v) in enumerate(zip(images, exp.views, strict=True))
    ]
    width = max(320, sum(p.shape[1] for p in panels) + PAD * (len(panels) + 1))
    canvas = Image.new("RGB", (width, TITLE_H + height + PAD), "white")
    x = PAD
    for p in panels:
        canvas.paste(Image.fromarray(p), (x, TITLE_H))
        x += p.shape[1] + PAD
    _title(ImageDraw.Draw(canvas), exp, view, note, width)
    return canvas


def _title(draw: ImageDraw.ImageDraw, exp: Explanation, view: dict[str, Any], note: str, width: int) -> None:
    """The token in context on a highlight, and a line with the item and the settings."""
    font, small = _font(15), _font(12)
    for k in range(CONTEXT, -1, -1):  # fewer tokens around it until the line fits
        before, token, after = (t.replace("\n", " ") for t in context(exp, view["selected"], k))
        if draw.textlength(before + token + after, font=font) <= width - 2 * PAD:
            break
    x = float(PAD)
    draw.text((x, 4), before, fill="#333", font=font)
    x += draw.textlength(before, font=font)
    w = draw.textlength(token, font=font)
    draw.rectangle((x, 3, x + w, 22), fill="#ffd54f")
    draw.text((x, 4), token, fill="black", font=font)
    draw.text((x + w, 4), after, fill="#333", font=font)
    part = "answer" if view["selected"] >= exp.n_prompt else "prompt"
    shown = view.get("method", exp.method)
    if shown == "tam":
        eci = f"ECI scale {view['eci_scale']:.2f}" if view["eci"] else "ECI off"  # the bundled font has no λ
        line = f"item {view['selected']} ({part}) · TAM, {eci}, filter {'on' if view['filter'] else 'off'}"
    else:
        line = f"item {view['selected']} ({part}) · {get_method(shown).title}"
    draw.text((PAD, 26), line + (f" · {note}" if note else ""), fill="#666", font=small)
