"""The diagnosis's three panels as a plotly figure (the ``figures`` extra): the same panels as
:mod:`.picture` (whose map and removal images it shows), with the curve of panel (c) as data, so
hovering a point tells the prefix, the removed share, the probability and the revised answer.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from ..display.figure import image_trace
from . import chart, picture
from .words import first_word, word_offset

if TYPE_CHECKING:
    from .result import Diagnosis

HEIGHT = 520


def _plotly() -> Any:
    """plotly, or an ImportError that names the extra to install."""
    try:
        import plotly.graph_objects
        import plotly.subplots
    except ImportError as err:
        raise ImportError("Diagnosis.figure() needs plotly: pip install 'tam-widget[figures]' (or plotly).") from err
    return plotly


def figure(d: Diagnosis) -> Any:
    """A ``plotly.graph_objects.Figure`` with three subplots: (a) the inverted map, (b) the removal,
    (c) the correct token's probability against the share removed, the cut as a red line."""
    plotly = _plotly()
    go = plotly.graph_objects
    heads = [t for t, _ in picture.headings(d)]
    fig = plotly.subplots.make_subplots(
        rows=1, cols=3, subplot_titles=[html.escape(t) for t in heads], horizontal_spacing=0.06
    )
    fig.add_trace(image_trace(picture.map_panel(d)), row=1, col=1)
    fig.add_trace(image_trace(picture.removal_panel(d)), row=1, col=2)
    removed, p, says = chart.curve(d)
    n = len(removed) - 1
    text = [*(html.escape(t) for t in d.revised[::-1]), "(all-black image)"]
    fig.add_trace(
        go.Scatter(
            x=removed,
            y=p,
            mode="lines+markers",
            fill="tozeroy",
            line={"color": "rgb(31,119,180)"},
            marker={"color": ["rgb(44,160,44)" if s else "white" for s in says], "line": {"color": "grey", "width": 1}},
            customdata=np.stack([np.r_[np.arange(n, 0, -1), 0], np.asarray(text, dtype=object)], axis=-1),
            hovertemplate="k = %{customdata[0]}<br>removed %{x:.1%}<br>p = %{y:.3f}<br>%{customdata[1]}<extra></extra>",
            name=f"p({d.correct})",
        ),
        row=1,
        col=3,
    )
    if d.k is not None:
        fig.add_vline(x=d.r, line={"color": "rgb(214,39,40)", "width": 2}, row=1, col=3)
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_xaxes(visible=False, row=1, col=2)
    fig.update_yaxes(visible=False, row=1, col=2)
    fig.update_xaxes(title_text="share of the image removed", tickformat=".0%", range=[0, 1], row=1, col=3)
    fig.update_yaxes(title_text=f"p({html.escape(d.correct)})", range=[0, 1.02], row=1, col=3)
    lines = [
        f"Answer: {_marked(d.answer, d.wrong, d.position, 'rgb(214,39,40)')}",
        f"Revised: {_marked(d.revised_answer, d.correct, d.position, 'rgb(44,160,44)') or '(none corrects it)'}",
    ]
    fig.add_annotation(
        text="<br>".join(lines), xref="paper", yref="paper", x=0, y=-0.12, yanchor="top", showarrow=False, align="left"
    )
    fig.update_layout(
        title={"text": html.escape(d.summary()), "font": {"size": 14}},
        height=HEIGHT,
        showlegend=False,
        margin={"l": 20, "r": 20, "t": 80, "b": 90},
        template="plotly_white",
    )
    return fig


def _marked(text: str, word: str, position: int, colour: str) -> str:
    """``text`` escaped for plotly, ``word`` (at the answer's ``position``) bold in ``colour``."""
    text = " ".join(text.split())
    at = word_offset(text, word, position)
    if at < 0:
        return html.escape(text)
    end = at + len(first_word(text[at:]))
    mark = f"<b><span style='color:{colour}'>{html.escape(text[at:end])}</span></b>"
    return html.escape(text[:at]) + mark + html.escape(text[end:])
