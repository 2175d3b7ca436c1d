"""``tam-widget eval`` end to end on the teaching scenes: one process against two launched by
Accelerate (equal summaries, every pair once), and a run killed mid-way then resumed (the same
summary as the uninterrupted run, the rows written before the kill kept, not recomputed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tam_widget.evaluation.records import RESULTS, encode, read
from tam_widget.evaluation.summary import summarise

pytestmark = pytest.mark.slow

LIMIT = 16
ARGS = ["eval", "--dataset", "scenes", "--limit", str(LIMIT), "--methods", "tam,cam", "--steps", "2", "--quiet"]
# torchrun through Accelerate: two CPU processes over gloo (its --cpu launcher starts only one)
ACCELERATE = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
ACCELERATE += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _cli(out: Path, *extra: str, launcher: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    head = [*launcher, "-m", "tam_widget"] if launcher else [sys.executable, "-m", "tam_widget"]
    cmd = [*head, *ARGS, "--out", str(out), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _figures(out: Path) -> dict[str, Any]:
    summary = json.loads((out / "summary.json").read_text())
    return {k: summary[k] for k in ("methods", "n_samples", "dataset", "steps")}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    _cli(out)
    return out


def test_two_processes_under_accelerate_give_the_one_process_summary(one_process: Path, tmp_path: Path) -> None:
    out = tmp_path / "two"
    _cli(out, "--no-report", launcher=ACCELERATE)
    assert _figures(out) == _figures(one_process)
    pairs = Counter((r["sample"], r["method"]) for r in read(out / RESULTS))
    assert len(pairs) == 2 * LIMIT and set(pairs.values()) == {1}  # each (sample, method) exactly once
    assert not list(out.glob("results.rank-*.jsonl"))  # rank 0 merged the ranks' files
    rows = list(read(out / RESULTS))
    assert {r["rank"] for r in rows} == {0, 1} and {r["rank"] for r in read(one_process / RESULTS)} == {0}
    assert [r["sample"] for r in rows] == [r["sample"] for r in read(one_process / RESULTS)]  # dataset order


def test_the_one_process_run_scored_the_objects_and_wrote_its_report(one_process: Path) -> None:
    figures = _figures(one_process)["methods"]
    for method in ("tam", "cam"):
        assert figures[method]["n_samples"] == LIMIT
        for name in ("obj_iou", "func_iou", "f1_iou", "pointing", "insertion_auc", "deletion_auc"):
            assert isinstance(figures[method][name], float), (method, name)
    assert (one_process / "report.html").stat().st_size > 0
    assert list((one_process / "samples").glob("*.html"))  # the worst cases' widget pages


def test_a_killed_run_resumes_to_the_uninterrupted_summary(one_process: Path, tmp_path: Path) -> None:
    out, limit = tmp_path / "killed", 6
    cmd = [sys.executable, "-m", "tam_widget", *ARGS, "--out", str(out), "--no-report"]
    cmd[cmd.index("--limit") + 1] = str(limit)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    results = out / RESULTS
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and len(list(read(results))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {(r["sample"], r["method"]): r for r in read(results)}
    assert 3 <= len(before) < 2 * limit
    _cli(out, "--no-report", "--limit", str(limit))
    after = list(read(results))
    pairs = Counter((r["sample"], r["method"]) for r in after)
    assert len(pairs) == 2 * limit and set(pairs.values()) == {1}
    for row in after:  # the rows written before the kill were kept, not scored again
        if (row["sample"], row["method"]) in before:
            assert row == before[row["sample"], row["method"]]
    full = list(read(one_process / RESULTS))
    order = {f"scene-{i:06d}": i for i in range(limit)}
    want = summarise([r for r in full if r["sample"] in order], order, ["tam", "cam"])["methods"]
    assert json.loads((out / "summary.json").read_text())["methods"] == encode(want)
