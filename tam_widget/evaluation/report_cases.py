"""The report's worst cases: per method, the samples it scored worst, drawn and linked to their pages.

A case is re-explained (the runs are deterministic, so it is the map that was scored): its
picture is the page's own snapshot of the object word's map (the answer's first token when the
sample has no object word), and ``samples/<sample>-<method>.html`` is the interactive page opened
at that token, with the method's toggles set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .datasets.base import Sample
from .eval_methods import EVAL_METHODS, EvalMethod
from .report_figures import per_sample
from .sample_scores import Settings

WORST = 3  # cases per method
REPORT = "report.html"


def worst(rows: Sequence[dict[str, Any]], method: str, k: int = WORST) -> list[tuple[dict[str, Any], str, float]]:
    """The ``k`` rows of ``method`` with the lowest Obj-IoU (or insertion AUC when no row has one)."""
    mine = [r for r in rows if r["method"] == method]
    for metric in ("obj_iou", "insertion_auc", "pointing"):
        scored = [(r, metric, v) for r in mine if (v := per_sample(r["metrics"].get(metric))) is not None]
        if scored:
            return sorted(scored, key=lambda c: c[2])[:k]
    return []


def _page_name(sample: str, method: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{sample}-{method}") + ".html"


def _explained(model: Any, processor: Any, sample: Sample, method: EvalMethod, token: int, settings: Settings) -> Any:
    """The sample's explanation as the method scored it (EAGLE explaining answer token ``token``)."""
    from ..explainer import explain

    image = sample.image()
    if settings.prompt is not None:
        sample = replace(sample, prompt=settings.prompt)
    exp = explain(model, processor, image, sample.prompt, max_new_tokens=settings.max_new_tokens, progress=False)
    if method.black_box:
        answer = exp.token_ids[exp.answer_start :]
        options = {"eagle": dict(settings.eagle)}
        methods = ["eagle", "tam"]
        exp = explain(
            model,
            processor,
            image,
            sample.prompt,
            answer=answer,
            method=methods,
            tokens=[token],
            options=options,
            progress=False,
        )
    return exp


def _case(
    model: Any,
    processor: Any,
    folder: Path,
    sample: Sample,
    found: tuple[dict[str, Any], str, float],
    method: EvalMethod,
    settings: Settings,
) -> Any:
    """One worst case: its picture, and its page written."""
    from ..display.snapshot import picture, png
    from ..display.widget import view_defaults
    from .report import Case

    row, metric, value = found
    words = row.get("words") or []
    token = int((row.get("tokens") or [0])[0])
    exp = _explained(model, processor, sample, method, token, settings)
    traits: dict[str, Any] = {"selected": exp.n_prompt + token}
    traits |= {"method": "eagle"} if method.black_box else {"eci": method.eci, "filter": method.filter}
    page = folder / "samples" / _page_name(sample.id, method.name)
    page.parent.mkdir(exist_ok=True)
    exp.save_html(page, **traits)
    return Case(
        sample=sample.id,
        method=method.name,
        metric=metric,
        value=value,
        word=words[0] if words else "",
        answer=str(row.get("answer", "")),
        picture_png=png(picture(exp, view_defaults(exp) | traits)),
        page=f"samples/{page.name}",
    )


def cases(
    model: Any,
    processor: Any,
    folder: Path,
    rows: Sequence[dict[str, Any]],
    samples: Sequence[Sample],
    methods: Sequence[EvalMethod],
    settings: Settings,
) -> list[Any]:
    """Every method's worst cases, drawn and with their pages written under ``folder/samples``."""
    by_id = {s.id: s for s in samples}
    return [
        _case(model, processor, folder, by_id[found[0]["sample"]], found, method, settings)
        for method in methods
        for found in worst(rows, method.name)
    ]


def write_run_report(
    model: Any,
    processor: Any,
    folder: Path,
    summary: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    samples: Sequence[Sample],
    methods: Sequence[EvalMethod],
    settings: Settings,
) -> Path:
    """``folder/report.html`` for this run."""
    from .report import write_report

    drawn = cases(model, processor, folder, rows, samples, methods, settings)
    return Path(write_report(folder / REPORT, summary, list(rows), drawn))


__all__ = ["EVAL_METHODS", "REPORT", "cases", "worst", "write_run_report"]
