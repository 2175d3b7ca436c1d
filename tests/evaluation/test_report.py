"""report.html of ``tam-widget eval`` from synthetic rows: one self-contained file, plotly.js once,
the summary table (3 decimals, best bold, "—" with a reason), hostile strings escaped, pictures
inline, links only where a page is given. ``synthetic`` also feeds the browser test."""

from __future__ import annotations

import base64
import io
import math
import random
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tam_widget.evaluation.eval_methods import EVAL_METHODS
from tam_widget.evaluation.report import Case, write_report
from tam_widget.evaluation.summary import METRIC_NAMES

pytest.importorskip("plotly")

LABELS = {m.name: m.label for m in EVAL_METHODS.values()}
NAMES = METRIC_NAMES  # the summary's own display names
LOWER = ("deletion_auc", "word_deletion_auc")  # lower is better: "↓" after the name
PER_WORD = [k for k in NAMES if k not in ("insertion_auc", "deletion_auc")]
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def picture(seed: int, size: int = 96) -> bytes:
    """A small map-over-image-like PNG: a grey gradient with a red-to-blue blob."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    cy, cx = 0.3 + 0.4 * ((seed * 0.37) % 1), 0.3 + 0.4 * ((seed * 0.61) % 1)
    heat = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.03)
    grey = 90 + 80 * xx
    rgb = np.stack([grey + 160 * heat, grey * (1 - 0.5 * heat), grey + 60 * (1 - heat)], -1)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def synthetic(n_samples: int = 12, seed: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]], list[Case]]:
    """A summary, rows and worst cases as the runner writes them, with a hostile sample id and answer."""
    rng = random.Random(seed)
    samples = [f"coco-{i:04d}" for i in range(n_samples - 1)] + [HOSTILE]
    rows = []
    for m, skill in zip(LABELS, (0.55, 0.35, 0.45, 0.5, 0.6), strict=True):
        for s in samples:
            words = [min(1.0, max(0.0, rng.gauss(skill, 0.15))) for _ in range(rng.randint(1, 4))]
            metrics: dict[str, Any] = {k: [w + rng.uniform(-0.05, 0.05) for w in words] for k in PER_WORD}
            metrics["obj_iou"][0] = float("nan") if rng.random() < 0.1 else metrics["obj_iou"][0]
            metrics["insertion_auc"] = min(1.0, max(0.0, rng.gauss(skill, 0.1)))
            metrics["deletion_auc"] = None if m == "cam" else min(1.0, max(0.0, rng.gauss(1 - skill, 0.1)))
            rows.append({"sample": s, "method": m, "metrics": metrics, "answer": f"answer {HOSTILE}", "seconds": 0.5})
    methods = {}
    for m in LABELS:
        mine = [r for r in rows if r["method"] == m]
        stats = {}
        for k in NAMES:
            vals = [v for r in mine for v in np.ravel(np.asarray(r["metrics"][k], float)) if math.isfinite(v)]
            stats[k] = float(np.mean(vals)) if vals else None
        methods[m] = {"n_samples": len(mine), **stats}
    summary = {"dataset": "coco-caption <b>", "source": "/data/coco", "model": "Qwen/Qwen2-VL-2B-Instruct"}
    summary |= {"n_samples": n_samples, "steps": 40, "methods": methods, "labels": LABELS, "metric_names": NAMES}
    cases = [
        Case(s, m, "obj_iou", 0.01 * i, "dog" if i % 2 else "", f"a dog {HOSTILE}", picture(i), "pages/a b.html")
        for i, (m, s) in enumerate((m, s) for m in LABELS for s in samples[::-1][:2])
    ]
    return summary, rows, cases


class Table(HTMLParser):
    """The summary table's rows as [(text, bold, title)], the header row first."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, bool, str | None]]] = []
        self.cell: list[Any] | None = None
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "summary") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ["", False, dict(attrs).get("title")]
        elif self.cell is not None and tag == "b":
            self.cell[1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell[0] += data


def table(text: str) -> dict[str, dict[str, tuple[str, bool, str | None]]]:
    """{method label: {column header: cell}} of the summary table."""
    parser = Table()
    parser.feed(text)
    head, *body = parser.rows
    return {r[0][0]: {h[0]: c for h, c in zip(head, r, strict=True)} for r in body}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], list[Case]]:
    summary, rows, cases = synthetic()
    summary["methods"]["tam"]["func_iou"] = float("nan")
    summary["methods"]["eagle"]["f1_iou"] = None
    summary["methods"]["tam"]["obj_iou"], summary["methods"]["eagle"]["obj_iou"] = 0.9, 0.89961  # ties at 3 decimals
    summary["methods"]["cam"]["deletion_auc"] = 0.01  # lower is better: CAM's is best
    cases = [*cases[:-1], Case("no-page", "eagle", "pointing", 0.0, "cat", "ok", picture(9), None)]
    path = write_report(tmp_path_factory.mktemp("r") / "sub" / "report.html", summary, rows, cases)
    return path.read_text(encoding="utf-8"), summary, cases


def test_one_self_contained_file_with_plotly_js_once(report: tuple[str, dict[str, Any], list[Case]]) -> None:
    text, _, _ = report
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert text.count("* plotly.js v") == 1  # the library's banner: embedded once
    assert text.count("Plotly.newPlot(") == 2  # the bar chart and the spreads
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=\"?https?:", text)  # nothing to fetch
    assert "<script src" not in text and "<link" not in text and "@import" not in text


def test_table_is_formatted_and_the_best_is_bold(report: tuple[str, dict[str, Any], list[Case]]) -> None:
    text, summary, _ = report
    t = table(text)
    assert list(t) == list(LABELS.values())
    for m, label in LABELS.items():
        for k, name in NAMES.items():
            v = summary["methods"][m][k]
            if v is not None and math.isfinite(v):
                assert t[label][name + " ↓" * (k in LOWER)][0] == f"{v:.3f}", (label, name)
        assert t[label]["n"][0] == "12"
        assert t[label]["s / sample"][0] == "0.50"
    assert t["TAM"]["Obj-IoU"][:2] == ("0.900", True) and t["EAGLE"]["Obj-IoU"][:2] == ("0.900", True)
    assert not any(t[label]["Obj-IoU"][1] for label in ("CAM", "TAM without ECI", "TAM without filter"))
    assert t["CAM"]["Deletion AUC ↓"][:2] == ("0.010", True)  # lower is better
    assert sum(t[label]["Deletion AUC ↓"][1] for label in t) == 1
    for k, name in NAMES.items():  # one best per column here (ties aside), and it is the best
        values = [summary["methods"][m][k] for m in LABELS]
        finite = [v for v in values if v is not None and math.isfinite(v)]
        col = name + " ↓" * (k in LOWER)
        bold = [float(t[label][col][0]) for label in t if t[label][col][1]]
        best = min(finite) if "↓" in col else max(finite)
        assert bold and all(b == round(best, 3) for b in bold), name


def test_none_and_nan_show_a_dash_with_a_reason(report: tuple[str, dict[str, Any], list[Case]]) -> None:
    t = table(report[0])
    text, bold, title = t["TAM"]["Func-IoU"]  # NaN
    assert (text, bold) == ("—", False) and title and "undefined" in title and "nan" in title
    text, bold, title = t["EAGLE"]["F1-IoU"]  # None
    assert (text, bold) == ("—", False) and title and "no value" in title
    assert "nan" not in "".join(c[0] for r in t.values() for c in r.values()).lower()


def test_strings_from_the_data_are_escaped(report: tuple[str, dict[str, Any], list[Case]]) -> None:
    text = report[0]
    assert "<script>alert" not in text and "<img src=x" not in text and "coco-caption <b>" not in text
    assert text.count("<script") == 4  # plotly's: its config, the library, the two newPlot calls
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in text  # the answer, shown
    assert "coco-caption &lt;b&gt;" in text
    assert "\\u003cscript" not in text  # the hover text is escaped before plotly's JSON too
    assert "&lt;script&gt;alert(1)" in text.split("Plotly.newPlot(")[2]  # the sample id, in the spreads


def test_pictures_inline_and_links_only_with_a_page(report: tuple[str, dict[str, Any], list[Case]]) -> None:
    text, _, cases = report
    for case in cases:
        assert f'src="data:image/png;base64,{base64.b64encode(case.picture_png).decode()}"' in text
    with_page = [c for c in cases if c.page is not None]
    assert text.count("open in the widget</a>") == len(with_page) == len(cases) - 1
    assert text.count('<a href="pages/a%20b.html">open in the widget</a>') == len(with_page)
    no_page = text[text.index("no-page") :]
    assert "open in the widget" not in no_page[: no_page.index("</figure>")]
    sections = re.findall(r"<h3>(.*?)</h3>", text)
    assert sections == list(LABELS.values())  # grouped by method, in the summary's order


def test_a_summary_with_nothing_to_plot_keeps_plotly_js_once(tmp_path: Path) -> None:
    summary, rows, _ = synthetic(4)
    for stats in summary["methods"].values():
        stats.update(dict.fromkeys(NAMES))  # no bars: the spreads carry plotly.js
    text = write_report(tmp_path / "r.html", summary, rows, []).read_text()
    assert text.count("* plotly.js v") == 1 and text.count("Plotly.newPlot(") == 1
    assert "Worst cases" not in text
    for r in rows:
        r["metrics"] = dict.fromkeys(NAMES)
    text = write_report(tmp_path / "r.html", summary, rows, []).read_text()
    assert "plotly.js" not in text and "No metric has a value to plot." in text


def test_without_plotly_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)
    summary, rows, cases = synthetic(3)
    with pytest.raises(ImportError, match=r"pip install 'tam-widget\[eval\]'"):
        write_report(tmp_path / "r.html", summary, rows, cases)
    assert not (tmp_path / "r.html").exists()
