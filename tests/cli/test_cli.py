"""The command line: bad arguments end at once with argparse's one-line error and status 2 (never a
traceback, never after the work), and the commands still run when the arguments are good."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tam_widget.cli import demo, main, parity
from tam_widget.cli import eval as eval_
from tam_widget.testing.golden import golden_dir


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any explanation the demo starts fails the test: argument errors must come first."""

    def refuse(seed: int = 0) -> None:
        raise AssertionError("the demo started its work before checking its arguments")

    monkeypatch.setattr(demo, "demo_explanation", refuse)
    monkeypatch.setattr(demo, "random_model_explanation", refuse)
    monkeypatch.setattr(eval_, "load", refuse)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


BAD = {
    "out in a missing folder": (
        ["demo", "--out", "{tmp}/missing/dir/x.html"],
        "the folder '{tmp}/missing/dir' does not exist",
    ),
    "out is a folder": (["demo", "--out", "{tmp}"], "--out '{tmp}' is a folder; give a file name in it"),
    "out under a file": (["demo", "--out", "{tmp}/a-file/x.html"], "'{tmp}/a-file' is not a folder"),
    "seed -1": (
        ["demo", "--seed", "-1", "--out", "{tmp}/x.html"],
        "argument --seed: seed must be an integer in [0, 4294967295], got -1",
    ),
    "seed 2**32": (["demo", "--seed", str(2**32), "--model", "random"], "got 4294967296"),
    "seed not a number": (["demo", "--seed", "abc"], "got 'abc'"),
    "seed 1.5": (["demo", "--seed", "1.5"], "got '1.5'"),
    "unknown model": (["demo", "--model", "gpt"], "argument --model: invalid choice: 'gpt'"),
    "unknown option": (["demo", "--size", "3"], "unrecognized arguments: --size 3"),
    "golden folder missing": (["parity", "--golden", "/no/such/dir"], "--golden '/no/such/dir' does not exist"),
    "golden folder empty": (["parity", "--golden", "{tmp}"], "--golden '{tmp}' holds no *.npz golden cases"),
    "golden is a file": (["parity", "--golden", "{tmp}/a-file"], "--golden '{tmp}/a-file' is not a folder"),
    "parity seed -5": (["parity", "--seed", "-5"], "argument --seed: seed must be an integer"),
    "eval: unknown dataset": (["eval", "--dataset", "imagenet", "--out", "{tmp}/r"], "scenes"),
    "eval: coco folder missing": (["eval", "--dataset", "coco:/no/such/dir", "--out", "{tmp}/r"], "/no/such/dir"),
    "eval: unknown method": (["eval", "--dataset", "scenes", "--methods", "tam,lime", "--out", "{tmp}/r"], "lime"),
    "eval: model not a folder": (
        ["eval", "--dataset", "scenes", "--model", "/no/model", "--out", "{tmp}/r"],
        "not 'teaching' and not a checkpoint folder",
    ),
    "eval: out is a file": (["eval", "--dataset", "scenes", "--out", "{tmp}/a-file"], "is a file; give a folder"),
    "eval: out under a missing folder": (["eval", "--dataset", "scenes", "--out", "{tmp}/no/r"], "does not exist"),
    "eval: limit 0": (["eval", "--dataset", "scenes", "--limit", "0", "--out", "{tmp}/r"], "expected an integer >= 1"),
    "eval: steps -1": (
        ["eval", "--dataset", "scenes", "--steps", "-1", "--out", "{tmp}/r"],
        "expected an integer >= 0",
    ),
    "eval: no out": (["eval", "--dataset", "scenes"], "the following arguments are required: --out"),
    "unknown command": (["explain"], "argument command: invalid choice: 'explain'"),
    "no command": ([], "the following arguments are required: command"),
}


@pytest.mark.parametrize(("argv", "fragment"), list(BAD.values()), ids=list(BAD))
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    status, out, err = run([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert status == 2 and out == ""
    assert fragment.replace("{tmp}", str(tmp_path)) in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("tam-widget") and ": error: " in last, err


def test_golden_dir_from_the_environment_must_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAM_GOLDEN_DIR", "/no/such/golden")
    status, _, err = run(["parity"], capsys)
    assert status == 2 and "$TAM_GOLDEN_DIR '/no/such/golden' does not exist" in err


def test_parity_falls_back_to_a_synthetic_case_only_without_a_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TAM_GOLDEN_DIR", raising=False)
    monkeypatch.setattr(parity, "golden_dir", lambda: tmp_path / "absent")
    status, out, _ = run(["parity", "--seed", "3"], capsys)
    assert status == 0 and out.startswith("synthetic case:")


def test_parity_refuses_a_golden_case_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.npz").write_bytes(b"not a zip file")
    status, _, err = run(["parity", "--golden", str(tmp_path)], capsys)
    assert status == 2 and "cannot read the golden case" in err and "broken.npz" in err
    np.savez(tmp_path / "broken.npz", hidden=np.zeros((2, 2)))  # a zip without the case's arrays
    status, _, err = run(["parity", "--golden", str(tmp_path)], capsys)
    assert status == 2 and "cannot read the golden case" in err


def test_parity_on_a_golden_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = golden_dir() / "single_8x8.npz"
    if not case.exists():
        pytest.skip(f"no golden case at {case}")
    shutil.copy(case, tmp_path)
    status, out, _ = run(["parity", "--golden", str(tmp_path)], capsys)
    assert status == 0 and "parity with the reference on 1 golden cases: OK" in out


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["demo", "--help"], capsys)
    assert status == 0 and "--seed SEED" in out and "4294967295" in out


@pytest.mark.slow  # about 10 s: a random Qwen2-VL explained and the page written
def test_the_demo_runs_with_the_largest_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "page.html"
    status, out, _ = run(["demo", "--model", "random", "--seed", str(2**32 - 1), "--out", str(out_file)], capsys)
    assert status == 0 and out_file.stat().st_size > 1000
    assert out.strip().splitlines()[-1] == str(out_file.resolve())
