"""The report's two plotly figures: the summary's main metrics per method, and per-sample spreads.

Both come back as HTML fragments (``full_html=False``); the caller says which one carries plotly.js
(``include_plotlyjs=True`` in the first only, so the report holds one copy and needs no network).
Every string from the data is HTML-escaped before plotly sees it: plotly.js draws labels and hover
text as its own small HTML dialect, and it decodes entities, so escaped text reads as written.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

# the bar chart's metrics, in order; a metric no method has a finite value for is left out
MAIN = ("obj_iou", "func_iou", "f1_iou", "pointing", "insertion_auc", "deletion_auc")
# per-sample spreads: the metric and its panel title (list metrics are the mean of the sample's words)
SPREADS = (
    ("obj_iou", "Obj-IoU per sample (mean over its words)"),
    ("func_iou", "Func-IoU per sample (mean over its words)"),
    ("insertion_auc", "Insertion AUC per sample (higher is better)"),
    ("deletion_auc", "Deletion AUC per sample (lower is better)"),
)
LOWER_IS_BETTER = frozenset({"deletion_auc", "word_deletion_auc"})
CONFIG = {"displaylogo": False, "responsive": True}


def plotly() -> Any:
    """plotly, or an ImportError that names the extra to install."""
    try:
        import plotly.graph_objects
        import plotly.io
        import plotly.subplots
    except ImportError as err:
        raise ImportError("The evaluation report needs plotly: pip install 'tam-widget[eval]' (or plotly).") from err
    return plotly


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (None, NaN, ±inf, a non-number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def per_sample(value: Any) -> float | None:
    """One number per (sample, method): a float as is, a per-word list by the mean of its finite values."""
    if isinstance(value, (list, tuple)):
        values = [v for v in map(finite, value) if v is not None]
        return sum(values) / len(values) if values else None
    return finite(value)


def colours(methods: Sequence[str]) -> dict[str, str]:
    """One colour per method, in order, from plotly's qualitative palette (the same in every figure)."""
    palette = plotly().colors.qualitative.Plotly
    return {m: palette[i % len(palette)] for i, m in enumerate(methods)}


def _html(fig: Any, div_id: str, include_plotlyjs: bool) -> str:
    fig.update_layout(template="plotly_white", font={"family": "system-ui, sans-serif", "size": 13})
    return str(
        fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, div_id=div_id, config=CONFIG, validate=True)
    )


def bars(summary: dict[str, Any], labels: dict[str, str], names: dict[str, str], include_plotlyjs: bool) -> str | None:
    """The grouped bar chart of the main metrics (x) per method (one colour each), or None with no value."""
    go = plotly().graph_objects
    methods = list(summary["methods"])
    shown = [k for k in MAIN if any(finite(summary["methods"][m].get(k)) is not None for m in methods)]
    if not shown:
        return None
    ticks = [html.escape(names.get(k, k)) + (" ↓" if k in LOWER_IS_BETTER else "") for k in shown]
    fig = go.Figure()
    for method, colour in colours(methods).items():
        label = html.escape(labels.get(method, method))
        values = [finite(summary["methods"][method].get(k)) for k in shown]
        fig.add_trace(
            go.Bar(
                x=ticks,
                y=values,
                name=label,
                marker_color=colour,
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=420,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        title={"text": "Main metrics per method (↓: lower is better)", "x": 0, "font": {"size": 15}},
        legend={"orientation": "h", "y": -0.12},
        yaxis={"title": "value", "rangemode": "tozero"},
    )
    return _html(fig, "tam-report-bars", include_plotlyjs)


def spreads(
    rows: Sequence[dict[str, Any]], methods: Sequence[str], labels: dict[str, str], include_plotlyjs: bool
) -> str | None:
    """Box plots with every sample as a point (hover: its id), one panel per metric of ``SPREADS``."""
    po = plotly()
    panels = []
    for key, title in SPREADS:
        points = {
            m: [(per_sample(r["metrics"].get(key)), r["sample"]) for r in rows if r["method"] == m] for m in methods
        }
        points = {m: [(v, s) for v, s in p if v is not None] for m, p in points.items()}
        if any(points.values()):
            panels.append((title, points))
    if not panels:
        return None
    cols = 2 if len(panels) > 1 else 1
    n_rows = math.ceil(len(panels) / cols)
    fig = po.subplots.make_subplots(
        rows=n_rows, cols=cols, subplot_titles=[t for t, _ in panels], vertical_spacing=0.16, horizontal_spacing=0.08
    )
    for i, (_, points) in enumerate(panels):
        for method, colour in colours(methods).items():
            label = html.escape(labels.get(method, method))
            pts = points[method]
            fig.add_trace(
                po.graph_objects.Box(
                    x=[label] * len(pts),
                    y=[v for v, _ in pts],
                    text=[html.escape(s) for _, s in pts],
                    name=label,
                    legendgroup=method,
                    showlegend=i == 0,
                    marker={"color": colour, "size": 5, "opacity": 0.7},
                    line={"width": 1.5},
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    hovertemplate=f"sample %{{text}}<br>{label}: %{{y:.3f}}<extra></extra>",
                ),
                row=i // cols + 1,
                col=i % cols + 1,
            )
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        height=330 * n_rows + 60,
        margin={"l": 50, "r": 20, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.05},
        boxgap=0.35,
    )
    return _html(fig, "tam-report-spreads", include_plotlyjs)
