"""A comparison's static picture: both sides' snapshots (:mod:`.snapshot`) side by side under their
labels, for front ends that show an output's ``image/png`` or ``text/html`` but not the widget."""

from __future__ import annotations

import base64
import html
from typing import Any

from PIL import Image, ImageDraw

from .snapshot import _font, picture, png

PAD = 12
LABEL_H = 24


def _view(exp: Any, item: int | None, traits: dict[str, Any]) -> dict[str, Any]:
    from .widget import view_defaults

    shared = ("eci_scale", "eci", "filter", "colormap", "opacity")
    view = view_defaults(exp) | {k: v for k, v in traits.items() if k in shared}
    if traits.get("layer") in exp.layers:  # a side that did not keep the shared layer shows its last
        view["layer"] = traits["layer"]
    if item is not None:
        view["selected"] = item
    return view


def side_by_side(comparison: Any, row: int, traits: dict[str, Any]) -> Image.Image:
    """Both sides at aligned row ``row`` (a side without a token there shows its default), labelled."""
    r = comparison.rows[row]
    pics = [picture(exp, _view(exp, item, traits)) for exp, item in ((comparison.a, r.a), (comparison.b, r.b))]
    width = sum(p.width for p in pics) + PAD * 3
    canvas = Image.new("RGB", (width, LABEL_H + max(p.height for p in pics) + PAD), "white")
    draw = ImageDraw.Draw(canvas)
    x = PAD
    for label, p in zip(comparison.labels, pics, strict=True):
        draw.text((x, 4), label, fill=(31, 35, 40), font=_font(14))
        canvas.paste(p, (x, LABEL_H))
        x += p.width + PAD
    return canvas


def fallback(comparison: Any, row: int, traits: dict[str, Any]) -> dict[str, str]:
    """``{"image/png": base64 text, "text/html": ...}``: the picture, and both answers HTML-escaped."""
    data = png(side_by_side(comparison, row, traits))
    src = base64.b64encode(data).decode("ascii")
    a, b = (html.escape(label) for label in comparison.labels)
    page = (
        '<div class="tam-static">'
        f'<img src="data:image/png;base64,{src}" alt="{a} beside {b}" style="max-width:100%;height:auto">'
        f"<p><b>{a}:</b> {html.escape(comparison.a.text)}</p><p><b>{b}:</b> {html.escape(comparison.b.text)}</p>"
        '<p style="color:#666;font-size:smaller">A static picture of the tam-widget comparison; '
        "run the notebook with its kernel for the linked view.</p></div>"
    )
    return {"image/png": src, "text/html": page}
