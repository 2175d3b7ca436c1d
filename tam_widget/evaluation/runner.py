"""``evaluate``: explain a dataset's samples and score them with the papers' metrics, resumably,
on one process or many.

Writes into ``out``:

- ``run.json``: what was run (dataset, model, settings); a rerun with other settings is refused;
- ``results.jsonl``: one row per (sample, method) (:mod:`.records`, :mod:`.sample_scores`);
- ``summary.json``: the figures per method (:mod:`.summary`);
- ``report.html`` and ``samples/``: the figures, distributions and worst cases (:mod:`.report`),
  each worst case linked to its sample's interactive page.

A rerun skips the (sample, method) pairs already in ``results.jsonl``. Under ``accelerate launch``
each rank scores its share (:mod:`.shards`) into ``results.rank-R.jsonl``; rank 0 merges them into
``results.jsonl`` in dataset order, then summarises and reports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import params
from .datasets.base import Dataset
from .eval_methods import EvalMethod, eval_methods
from .records import RESULTS, append, key, read, write_all
from .sample_scores import Settings, context, dataset_tagger, score
from .shards import Shards
from .summary import summarise

RUN, SUMMARY = "run.json", "summary.json"


def evaluate(
    model: Any,
    processor: Any,
    dataset: Dataset,
    methods: str | Sequence[str],
    out: str | Path,
    *,
    limit: int | None = None,
    settings: Settings | None = None,
    model_name: str = "",
    report: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Score the first ``limit`` samples of ``dataset`` (all when ``None``) with ``methods``
    (``"tam,cam"``, names of :data:`~.eval_methods.EVAL_METHODS`) and write ``out``; returns the summary.

    Run it under ``accelerate launch`` to shard the samples over processes; every rank returns the
    same summary. ``model_name`` labels the run (the checkpoint's path by default).
    """
    chosen = eval_methods(methods)
    settings = check_settings(settings or Settings())
    if limit is not None:
        limit = params.integer("limit", limit, 1, None, " Leave it None to run every sample.")
    samples = [dataset[i] for i in range(len(dataset) if limit is None else min(limit, len(dataset)))]
    order = _order(samples)
    shards = Shards.current()
    folder = Path(out)
    name = model_name or str(getattr(getattr(model, "config", None), "_name_or_path", "") or type(model).__name__)
    about = {"dataset": dataset.name, "source": dataset.source, "model": name, "steps": settings.steps}
    if shards.main:
        _start(folder, about | {"settings": _jsonable(settings)})
    shards.wait()
    _score_share(
        model,
        processor,
        dataset,
        [samples[i] for i in shards.mine(len(samples))],
        chosen,
        folder,
        settings,
        shards,
        progress,
    )
    shards.wait()
    if shards.main:
        rows = _merge(folder, order, [m.name for m in chosen])
        summary = summarise(rows, order, [m.name for m in chosen], **about)
        (folder / SUMMARY).write_text(json.dumps(_strict(summary), indent=2) + "\n", encoding="utf-8")
        if report:
            from .report_cases import write_run_report

            write_run_report(model, processor, folder, summary, rows, samples, chosen, settings)
    shards.wait()
    return _load_summary(folder)


def check_settings(settings: Settings) -> Settings:
    """``settings`` with each field checked (a ValueError names the field)."""
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a tam_widget.evaluation.Settings, got {type(settings).__name__}.")
    params.integer("max_new_tokens", settings.max_new_tokens, 1, 4096)
    params.integer("steps", settings.steps, 0, 1024, " Use 0 to skip faithfulness, 64 as EAGLE.")
    if settings.batch_size is not None:
        params.integer("batch_size", settings.batch_size, 1, None, " Pass None to size it from free memory.")
    if settings.prompt is not None and (not isinstance(settings.prompt, str) or not settings.prompt.strip()):
        raise ValueError(
            f"settings.prompt must be a non-empty string or None (the dataset's), got {settings.prompt!r}."
        )
    if not isinstance(settings.eagle, dict):
        raise TypeError(f"settings.eagle must be a dict of EAGLE's options, got {type(settings.eagle).__name__}.")
    return settings


def _order(samples: Sequence[Any]) -> dict[str, int]:
    order: dict[str, int] = {}
    for i, s in enumerate(samples):
        if s.id in order:
            raise ValueError(f"samples {order[s.id]} and {i} share the id {s.id!r}: results are keyed by it.")
        order[s.id] = i
    return order


def _jsonable(settings: Settings) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(asdict(settings), default=str))
    return plain


def _start(folder: Path, about: dict[str, Any]) -> None:
    """Create ``folder`` and record the run, or check a previous run there had the same settings."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RUN
    if path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in about if k != "source" and before.get(k) != about[k])
        if changed:
            raise ValueError(
                f"{folder} holds a run with other {', '.join(changed)} ({ {k: before.get(k) for k in changed} }): "
                "resume it with the same settings, or write to another --out folder."
            )
    path.write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")


def _done(folder: Path) -> set[tuple[str, str]]:
    """The pairs already scored, in the merged file or any rank's own."""
    files = [folder / RESULTS, *sorted(folder.glob("results.rank-*.jsonl"))]
    return {key(row) for f in files for row in read(f)}


def _score_share(
    model: Any,
    processor: Any,
    dataset: Dataset,
    mine: list[Any],
    methods: list[EvalMethod],
    folder: Path,
    settings: Settings,
    shards: Shards,
    progress: bool,
) -> None:
    """Score this rank's samples, one row appended per (sample, method) as it completes."""
    if shards.device is not None:
        model = model.to(shards.device)
    target = folder / (RESULTS if shards.world == 1 else f"results.rank-{shards.rank}.jsonl")
    done = _done(folder)
    todo = [(s, [m for m in methods if (s.id, m.name) not in done]) for s in mine]
    tagger = dataset_tagger(dataset.tags)
    with _bar(progress, len(mine), len(mine) - sum(bool(p) for _, p in todo), shards) as bar:
        for sample, pending in todo:
            if not pending:
                continue
            ctx = context(model, processor, sample, settings, tagger)
            for method in pending:
                append(target, score(ctx, method) | {"rank": shards.rank})
            bar.update(1)


def _bar(on: bool, total: int, initial: int, shards: Shards) -> Any:
    """A tqdm bar over this rank's samples (with its ETA), or a silent stand-in."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    desc = "samples" if shards.world == 1 else f"rank {shards.rank}"
    return tqdm(total=total, initial=initial, desc=desc, unit="sample", disable=not on, position=shards.rank)


def _merge(folder: Path, order: dict[str, int], methods: list[str]) -> list[dict[str, Any]]:
    """Every rank's rows merged into ``results.jsonl`` (each pair once, dataset order); returns this
    run's rows (its samples and methods)."""
    parts = sorted(folder.glob("results.rank-*.jsonl"))
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for f in [folder / RESULTS, *parts]:
        for row in read(f):
            seen[key(row)] = row  # a pair scored twice (a rerun of an interrupted merge) keeps its latest row
    rank = {m: i for i, m in enumerate(methods)}
    rows = sorted(
        seen.values(),
        key=lambda r: (order.get(r["sample"], len(order)), rank.get(r["method"], len(rank)), r["sample"], r["method"]),
    )
    write_all(folder / RESULTS, rows)
    for f in parts:
        f.unlink()
    return [r for r in rows if r["sample"] in order and r["method"] in rank]


def _strict(value: Any) -> Any:
    from .records import encode

    return encode(value)


def _load_summary(folder: Path) -> dict[str, Any]:
    from .records import decode

    summary: dict[str, Any] = decode(json.loads((folder / SUMMARY).read_text(encoding="utf-8")))
    return summary
