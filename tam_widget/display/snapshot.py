"""A static picture of the widget's current view, for wherever the widget itself cannot run.

:func:`with_fallback` adds two entries to the widget's output bundle, next to anywidget's live view:

- ``image/png``: the selected item's map over each view's image, composed as the page composes it,
  under a title line with the token in context (:func:`.view_picture.picture`). No map is drawn for
  an item without visual signal.
- ``text/html``: that picture as an ``<img>``, then the answer text: every token text escaped, no script.
  The ``<img>`` is a JPEG (quality 85, no chroma subsampling) when that is under 3/4 of the PNG's
  bytes, as for a photo or a noisy image: the PNG of the demo is about 150 KB, its JPEG about 30 KB,
  and a notebook stores both entries. The ``image/png`` stays lossless.

A front end that has the widget and its model shows the live view; one that has not (nbconvert's
HTML without saved widget state, GitHub, an untrusted notebook in JupyterLab, VS Code reopening a
notebook without its kernel) falls back to these. numpy and PIL only.
"""

# Imported "as" themselves: names this module held before view_picture.py, which compare_picture.py and
# report_cases.py still import from here.
from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image

from .view_picture import _font as _font
from .view_picture import context
from .view_picture import picture as picture

if TYPE_CHECKING:
    from ..explanation import Explanation

JPEG_QUALITY = 85  # the text/html's picture: no visible change to the map's colour ramps or the title at 85
JPEG_GAIN = 0.75  # ... used when it is under this fraction of the PNG's bytes; else the PNG itself


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def jpeg(image: Image.Image) -> bytes:
    """``image`` as JPEG bytes: quality :data:`JPEG_QUALITY`, 4:4:4 (the title's text and highlight stay sharp)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
    return buf.getvalue()


def html_image(image: Image.Image, png_bytes: bytes) -> tuple[bytes, str]:
    """The picture for the ``text/html``: its JPEG when under :data:`JPEG_GAIN` of ``png_bytes``, else the PNG;
    with its MIME type."""
    small = jpeg(image)
    return (small, "image/jpeg") if len(small) < JPEG_GAIN * len(png_bytes) else (png_bytes, "image/png")


def html_fallback(exp: Explanation, image_bytes: bytes, item: int, mime: str = "image/png") -> str:
    """The picture (``mime``: ``image/png`` or ``image/jpeg``) as an ``<img>`` and the answer text; every token
    text HTML-escaped, no script."""
    if mime not in ("image/png", "image/jpeg"):
        raise ValueError(f"An <img> of {mime!r}: expected image/png or image/jpeg.")
    before, token, after = (html.escape(t).replace("\n", "⏎") for t in context(exp, item))
    src = base64.b64encode(image_bytes).decode("ascii")
    alt = html.escape(f"Token Activation Map of {exp.tokens[exp.item_positions[item]]!r}", quote=True)
    return (
        '<div class="tam-static">'
        f'<img src="data:{mime};base64,{src}" alt="{alt}" style="max-width:100%;height:auto">'
        f"<p>{before}<b>{token}</b>{after}</p>"
        f"<p><b>Answer:</b> {html.escape(exp.text)}</p>"
        '<p style="color:#666;font-size:smaller">A static picture of the tam-widget view; '
        "run the notebook with its kernel for the interactive widget.</p></div>"
    )


def fallback(exp: Explanation, view: dict[str, Any]) -> dict[str, str]:
    """``{"image/png": base64 text, "text/html": ...}`` for the view traits ``view``."""
    image = picture(exp, view)
    data = png(image)
    small, mime = html_image(image, data)
    return {
        "image/png": base64.b64encode(data).decode("ascii"),
        "text/html": html_fallback(exp, small, view["selected"], mime),
    }


def with_fallback(widget: Any, bundle: Any, make: Callable[[], dict[str, str]] | None = None) -> Any:
    """anywidget's bundle (``data`` or ``(data, metadata)``) plus :func:`fallback` for the widget's current view
    (or what ``make`` returns: another widget's static picture).

    A picture that cannot be drawn is logged and left out: the live widget still shows.
    """
    data, meta = bundle if isinstance(bundle, tuple) else (bundle, None)
    if not isinstance(data, dict):
        return bundle
    keys = ("selected", "eci_scale", "eci", "filter", "colormap", "opacity", "smooth", "layer")
    try:
        extra = make() if make is not None else fallback(widget.explanation, {k: getattr(widget, k) for k in keys})
    except Exception as e:  # the static picture is a convenience: never let it hide the live widget
        widget.log.warning("tam-widget: no static picture in the output (%s: %s)", type(e).__name__, e)
        return bundle
    out = {**data, **extra}
    return out if meta is None else (out, meta)
