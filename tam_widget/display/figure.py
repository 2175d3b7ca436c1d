"""A static figure of an item's map for a paper or slides: a plotly figure (needs the ``figures`` extra).

:func:`figure` draws the view's image, the item's map over the part of the image the view covers
(alpha following the value, as in the widget: low values leave the image's colours visible), a
colour bar from 0 to 1 and the token in context as the title; a list of items or words gives small
multiples, one panel per item with one shared colour bar. Every argument is checked by
:mod:`tam_widget.params`, as the widget and ``save_html`` check them. plotly is imported only
when a figure is drawn.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import params
from .images import first_picture, mime

if TYPE_CHECKING:
    from ..explanation import Explanation

PLOTLY_SCALES = {"jet": "Jet", "viridis": "Viridis", "inferno": "Inferno"}  # params.COLORMAPS -> plotly's names
CONTEXT = 4  # tokens shown before and after the explained one in the title
PANEL_PX = 420  # a panel's width in the figure


def _plotly() -> Any:
    """plotly, or an ImportError that names the extra to install."""
    try:
        import plotly.colors
        import plotly.graph_objects
        import plotly.subplots
    except ImportError as err:
        raise ImportError("Figures need plotly: pip install 'tam-widget[figures]' (or plotly).") from err
    return plotly


def figure(
    exp: Explanation,
    item_or_words: Any,
    *,
    eci_scale: float = 1.0,
    eci: bool = True,
    filter: bool = True,
    colormap: str = "jet",
    opacity: float = 0.5,
    view: int = 0,
) -> Any:
    """A ``plotly.graph_objects.Figure`` of an item's map over its image, with a colour bar and the
    token in context as the title.

    ``item_or_words`` is an item index, a word (the last item whose text, stripped, equals it; see
    :meth:`~tam_widget.Explanation.find`) or a list of them (small multiples: one panel per item,
    one shared colour bar). ``view`` picks the view (a video view shows its first frame); the map
    covers the view's ``box``. ``eci_scale``, ``eci`` and ``filter`` are as in
    :meth:`~tam_widget.Explanation.view_maps`; ``opacity`` is the map's largest opacity over the
    image (a cell's alpha is ``opacity * value``), ``colormap`` one of ``params.COLORMAPS``.
    """
    eci_scale = params.eci_scale(eci_scale)
    eci = params.flag("eci", eci)
    filter = params.flag("filter", filter)
    colormap = params.colormap(colormap)
    opacity = params.opacity(opacity)
    if not exp.views:
        raise ValueError("This explanation has no views: there is no image to draw a map over.")
    view = params.integer("view", view, 0, len(exp.views) - 1, f" This explanation has {len(exp.views)} view(s).")
    items = _items(exp, item_or_words)
    plotly = _plotly()
    go = plotly.graph_objects

    v = exp.views[view]
    image = np.asarray(exp.images[v.image])
    if image.ndim == 4:  # a video: its first frame
        image = image[0]
    H, W = image.shape[:2]
    picture, pw, ph = first_picture(exp, v.image)  # encoded once, as for the page (display/images.py)
    x0, y0, x1, y1 = v.box
    colorscale = _colorscale(plotly, colormap, opacity)

    n = len(items)
    titles = [_context(exp, i, CONTEXT if n == 1 else 2) for i in items]
    fig = plotly.subplots.make_subplots(
        rows=1, cols=n, subplot_titles=titles if n > 1 else None, horizontal_spacing=0.02 if n > 1 else 0.0
    )
    for col, i in enumerate(items, start=1):
        m = exp.view_maps(i, eci_scale, eci=eci, filter=filter)[view]
        if m.ndim == 3:  # a video view: its first (temporal) slice
            m = m[0]
        h, w = m.shape
        dx, dy = (x1 - x0) * W / w, (y1 - y0) * H / h
        fig.add_trace(picture_trace(picture, W / pw, H / ph), row=1, col=col)
        fig.add_trace(
            go.Heatmap(
                z=m,
                x0=x0 * W + dx / 2,
                dx=dx,
                y0=y0 * H + dy / 2,
                dy=dy,
                zmin=0.0,
                zmax=1.0,
                colorscale=colorscale,
                showscale=col == 1,
                colorbar={"title": {"text": "map"}, "tickvals": [0, 0.25, 0.5, 0.75, 1]},
                hovertemplate="value %{z:.3f}<extra></extra>",
                name=exp.item_texts[i],
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(range=[0, W], visible=False, constrain="domain", row=1, col=col)
        fig.update_yaxes(range=[H, 0], visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_layout(
        title={"text": titles[0] if n == 1 else None, "x": 0.5, "xanchor": "center"},
        width=PANEL_PX * n + 120,
        height=int(PANEL_PX * H / W) + 110,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        plot_bgcolor="white",
    )
    return fig


def _items(exp: Explanation, item_or_words: Any) -> list[int]:
    """Item indices for an index, a word, or a list of them."""
    if isinstance(item_or_words, (list, tuple)):
        if not item_or_words:
            raise ValueError("item_or_words is an empty list: pass an item index, a word, or a list of them.")
        return [_item(exp, x) for x in item_or_words]
    return [_item(exp, item_or_words)]


def _item(exp: Explanation, x: Any) -> int:
    n = len(exp.item_positions)
    if isinstance(x, str):
        found = exp.find(x)
        if not found:
            texts = [t.strip() for t in exp.item_texts if t.strip()]
            few = list(dict.fromkeys(texts))[:12]
            raise ValueError(f"No item's text is {x!r}. Items include {few}; pass an item index or one of these.")
        return found[-1]
    return params.item("item", x, n)


def _context(exp: Explanation, item: int, k: int) -> str:
    """The item's token with up to ``k`` non-special tokens either side, HTML-escaped, the token in bold."""
    p = exp.item_positions[item]
    text = [i for i in range(len(exp.tokens)) if not exp.special[i] or i == p]
    at = text.index(p)

    def show(positions: Sequence[int]) -> str:
        return html.escape("".join(exp.tokens[q] for q in positions).replace("\n", "⏎"))

    before, after = text[max(0, at - k) : at], text[at + 1 : at + 1 + k]
    lead = "…" if at - k > 0 else ""
    trail = "…" if at + 1 + k < len(text) else ""
    return f"{lead}{show(before)}<b>{show([p])}</b>{show(after)}{trail}"


def _colorscale(plotly: Any, colormap: str, opacity: float) -> list[list[Any]]:
    """The colormap as a plotly colourscale whose alpha rises with the value, from clear to ``opacity``."""
    scale = plotly.colors.get_colorscale(PLOTLY_SCALES[colormap])
    colors, _ = plotly.colors.convert_colors_to_same_type([c for _, c in scale], colortype="rgb")
    out = []
    for (pos, _), c in zip(scale, colors, strict=True):
        r, g, b = plotly.colors.unlabel_rgb(c)
        out.append([float(pos), f"rgba({r:.0f},{g:.0f},{b:.0f},{opacity * float(pos):.4f})"])
    return out


def picture_trace(data: bytes, dx: float, dy: float) -> Any:
    """A plotly image of an encoded picture (PNG or JPEG bytes), each of its pixels ``dx`` x ``dy`` image pixels
    (a picture smaller than its image still spans the image's coordinates)."""
    import base64

    go = _plotly().graph_objects
    uri = f"data:{mime(data)};base64,{base64.b64encode(data).decode('ascii')}"
    return go.Image(source=uri, dx=dx, dy=dy, hoverinfo="skip")


def image_trace(pixels: np.ndarray) -> Any:
    """A plotly image of ``pixels`` (``(H, W, 3)`` uint8) as a lossless PNG data URI: about a tenth of
    the size of the same pixels as a JSON number array (``z``), and the same image."""
    import base64

    from PIL import Image

    from .snapshot import png

    go = _plotly().graph_objects
    data = base64.b64encode(png(Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)))).decode("ascii")
    return go.Image(source=f"data:image/png;base64,{data}", hoverinfo="skip")
