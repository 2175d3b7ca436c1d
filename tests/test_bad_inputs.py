"""Every bad input answered: a clear error of a sensible type, raised by tam-widget's own code, naming the
argument and what to do, or a checked-correct result. Never a bare KeyError / IndexError from a library,
never a library-internal message for plain misuse, never a hang or a silent wrong result.

One row per case: ``(id, call, expected)`` where ``call(ctx)`` makes the call and ``expected`` is an
exception type with a regex the message must match, or ``OK`` with a check of the result. The rows are
grouped by class; ``CLASSES`` counts them for the note.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from family_fixtures import FIXTURES, Fixture

import tam_widget
from tam_widget import Explanation, explain, explain_inputs
from tam_widget.cli import main as cli_main
from tam_widget.display import TAMWidget, page
from tam_widget.runtime.media import as_media
from tam_widget.testing.synthetic import make_case

PACKAGE = str(Path(tam_widget.__file__).parent)


class Ctx:
    """Lazily built models and explanations shared by the rows."""

    @cached_property
    def qwen(self) -> Fixture:
        return FIXTURES["qwen2_vl"]()

    @cached_property
    def llava(self) -> Fixture:
        return FIXTURES["llava"]()

    @cached_property
    def exp(self) -> Explanation:
        q = self.qwen
        return explain(q.model, q.processor, q.images, q.prompt, answer="a red cat")

    @cached_property
    def teaching(self) -> tuple[Any, Any]:
        return tam_widget.teaching.load()

    def explain(self, *args: Any, **kwargs: Any) -> Explanation:
        q = self.qwen
        return explain(q.model, q.processor, q.images, q.prompt, *args, **kwargs)

    def forced(self, **kwargs: Any) -> Explanation:
        return self.explain(**{"answer": "a cat", **kwargs})


@dataclass(frozen=True)
class Raises:
    kind: type[BaseException]
    pattern: str


@dataclass(frozen=True)
class OK:
    check: Callable[[Any, Ctx], bool]


Row = tuple[str, str, Callable[[Ctx], Any], Raises | OK]
ROWS: list[Row] = []


def row(cls: str, name: str, expected: Raises | OK) -> Callable[[Callable[[Ctx], Any]], Callable[[Ctx], Any]]:
    def add(call: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        ROWS.append((cls, name, call, expected))
        return call

    return add


def same_maps(other: Explanation, ctx: Ctx) -> bool:
    return bool(torch.equal(other.maps().image, ctx.exp.maps().image))


# -- numbers: checked once (tam_widget.params), the same at every boundary ------------------------

for bad, kind, pattern in [
    (1001, ValueError, r"kernel must be an integer in \[1, 15\], got 1001"),
    (4, ValueError, r"kernel must be odd"),
    (0, ValueError, r"kernel must be an integer in \[1, 15\]"),
    (True, TypeError, r"kernel must be an integer.*got True \(bool\)"),
    ("3", TypeError, r"kernel must be an integer.*got '3' \(str\)"),
    (3.5, TypeError, r"kernel must be an integer.*got 3.5"),
]:
    row("numbers", f"explain kernel={bad!r}", Raises(kind, pattern))(lambda c, b=bad: c.forced(kernel=b))
    row("numbers", f"compute_tam kernel={bad!r}", Raises(kind, pattern))(lambda c, b=bad: make_case().compute(kernel=b))
row("numbers", "kernel=3.0 is 3", OK(same_maps))(lambda c: c.explain(answer="a red cat", kernel=3.0))
row("numbers", "kernel=np.int64(3) is 3", OK(same_maps))(lambda c: c.explain(answer="a red cat", kernel=np.int64(3)))
for bad, kind, pattern in [
    (-1, ValueError, r"top_k must be an integer in \[1, 100\], got -1"),
    (0, ValueError, r"top_k must be an integer in \[1, 100\]"),
    (10**6, ValueError, r"top_k must be an integer in \[1, 100\]"),
    ("3", TypeError, r"top_k must be an integer"),
]:
    row("numbers", f"top_k={bad!r}", Raises(kind, pattern))(lambda c, b=bad: c.forced(top_k=b))
for bad, kind, pattern in [
    ("5", TypeError, r"max_new_tokens must be an integer >= 1, got '5' \(str\)"),
    (0, ValueError, r"max_new_tokens must be an integer >= 1, got 0"),
    (-3, ValueError, r"max_new_tokens must be an integer >= 1"),
    (2.5, TypeError, r"max_new_tokens must be an integer"),
    (None, TypeError, r"max_new_tokens must be an integer"),
]:
    row("numbers", f"max_new_tokens={bad!r}", Raises(kind, pattern))(lambda c, b=bad: c.explain(max_new_tokens=b))
for bad, kind, pattern in [
    (float("nan"), ValueError, r"eci_scale must be a finite number in \[0.0, 2.0\], got nan"),
    (float("inf"), ValueError, r"eci_scale must be a finite number"),
    (-0.1, ValueError, r"eci_scale must be a finite number in \[0.0, 2.0\], got -0.1"),
    (2.5, ValueError, r"eci_scale must be a finite number in \[0.0, 2.0\]"),
    ("1", TypeError, r"eci_scale must be a number"),
    (None, TypeError, r"eci_scale must be a number"),
]:
    row("numbers", f"maps(eci_scale={bad!r})", Raises(kind, pattern))(lambda c, b=bad: c.exp.maps(b))
row("numbers", "maps(eci='yes')", Raises(TypeError, r"eci must be True or False"))(lambda c: c.exp.maps(eci="yes"))
row("numbers", "maps(filter=None)", Raises(TypeError, r"filter must be True or False"))(
    lambda c: c.exp.maps(filter=None)
)
row("numbers", "maps(np.float32(0.5))", OK(lambda m, c: torch.equal(m.image, c.exp.maps(0.5).image)))(
    lambda c: c.exp.maps(np.float32(0.5))
)
for bad, kind in [(-1, ValueError), (999, ValueError), ("0", TypeError), (1.5, TypeError)]:
    row("numbers", f"view_maps({bad!r})", Raises(kind, r"item must be an integer in \[0, \d+\]"))(
        lambda c, b=bad: c.exp.view_maps(b)
    )
row("numbers", "reference_quirks='no'", Raises(TypeError, r"reference_quirks must be True or False"))(
    lambda c: c.forced(reference_quirks="no")
)

# -- the model and the processor -------------------------------------------------------------------

row("model", "model=None", Raises(TypeError, r"model must be a Hugging Face multimodal model"))(
    lambda c: explain(None, c.qwen.processor, c.qwen.images, "Describe.")
)
row("model", "a plain nn.Linear", Raises(TypeError, r"model must be a Hugging Face multimodal model"))(
    lambda c: explain(torch.nn.Linear(2, 2), c.qwen.processor, c.qwen.images, "Describe.")
)
row("model", "DataParallel-wrapped model", Raises(TypeError, r"explain the model inside it.*model\.module"))(
    lambda c: explain(torch.nn.DataParallel(c.qwen.model), c.qwen.processor, c.qwen.images, "Describe.")
)
row("model", "method='grad-cam'", Raises(ValueError, r"method must be one of \['eagle', 'tam'\], got 'grad-cam'"))(
    lambda c: c.forced(method="grad-cam")
)
row("model", "method=['tam', 'tam']", Raises(ValueError, r"method names each method once"))(
    lambda c: c.forced(method=["tam", "tam"])
)
row("model", "options for a method not run", Raises(ValueError, r"options has an entry for 'eagle'"))(
    lambda c: c.forced(options={"eagle": {"division": 16}})
)
row("model", "tokens=True", Raises(TypeError, r"tokens must be None \(the whole answer\)"))(
    lambda c: c.forced(method="eagle", tokens=True)
)
row("model", "tokens='zebra' (not in the answer)", Raises(ValueError, r"the word 'zebra' is not in the answer"))(
    lambda c: c.forced(method="eagle", tokens="zebra")
)
row("processor", "processor=None", Raises(TypeError, r"processor must be the model's processor"))(
    lambda c: explain(c.qwen.model, None, c.qwen.images, "Describe.")
)
row("processor", "processor='Qwen/Qwen2-VL'", Raises(TypeError, r"processor must be the model's processor"))(
    lambda c: explain(c.qwen.model, "Qwen/Qwen2-VL-2B-Instruct", c.qwen.images, "Describe.")
)
row("processor", "an image processor without tokenizer", Raises(TypeError, r"has no tokenizer"))(
    lambda c: explain(c.qwen.model, c.qwen.processor.image_processor, c.qwen.images, "Describe.")
)
row(
    "processor", "another model's processor (LLaVA's for Qwen2-VL)", Raises(ValueError, r"same checkpoint as the model")
)(lambda c: explain(c.qwen.model, c.llava.processor, c.qwen.images, "Describe.", answer="a cat"))

# -- prompts ----------------------------------------------------------------------------------------

row("prompt", 'prompt=""', Raises(ValueError, r"prompt is empty"))(lambda c: explain(*_mpi(c), "", answer="a"))
row("prompt", "prompt of spaces", Raises(ValueError, r"prompt is empty"))(
    lambda c: explain(*_mpi(c), "  \n", answer="a")
)
row("prompt", "prompt=None", Raises(TypeError, r"prompt must be a string"))(lambda c: explain(*_mpi(c), None))
row("prompt", "prompt=3", Raises(TypeError, r"prompt must be a string"))(lambda c: explain(*_mpi(c), 3))
row("prompt", "words the teaching tokenizer lacks", Raises(ValueError, r"cannot represent.*\['zebra'"))(
    lambda c: explain(*c.teaching, tam_widget.teaching.make_scene(0).image, "describe the zebra .", answer="a")
)


def _mpi(c: Ctx) -> tuple[Any, Any, Any]:
    return c.qwen.model, c.qwen.processor, c.qwen.images


# -- answers ----------------------------------------------------------------------------------------

row(
    "answer", "answer text holding the image placeholder", Raises(ValueError, r"answer contains the image placeholder")
)(lambda c: c.explain(answer="a <|image_pad|> cat"))
row("answer", "answer ids holding the image token", Raises(ValueError, r"placeholder token\(s\) \[260\]"))(
    lambda c: c.explain(answer=[97, 260])
)
row("answer", "answer id -1", Raises(ValueError, r"answer\[1\] must be an integer in \[0, 319\], got -1"))(
    lambda c: c.explain(answer=[97, -1])
)
row("answer", "answer id = vocabulary size", Raises(ValueError, r"answer\[0\] must be an integer in \[0, 319\]"))(
    lambda c: c.explain(answer=[320])
)
row("answer", "answer id 1.5", Raises(TypeError, r"answer\[0\] must be an integer"))(lambda c: c.explain(answer=[1.5]))
row("answer", "answer=5 (an int)", Raises(TypeError, r"answer must be a string or a sequence of token ids"))(
    lambda c: c.explain(answer=5)
)
row("answer", "answer=b'cat'", Raises(TypeError, r"answer must be a string or a sequence"))(
    lambda c: c.explain(answer=b"cat")
)
row(
    "answer", "answer as a tensor equals the list", OK(lambda e, c: e.token_ids == c.explain(answer=[97, 98]).token_ids)
)(lambda c: c.explain(answer=torch.tensor([97, 98])))
row("answer", "num_beams with answer=", Raises(ValueError, r"\['num_beams'\] are options of model.generate"))(
    lambda c: c.forced(num_beams=4)
)
row("answer", "do_sample with answer=", Raises(ValueError, r"options of model.generate, but answer= is given"))(
    lambda c: c.forced(do_sample=True, temperature=0.7)
)
row("answer", "the prompt alone beyond the context", Raises(ValueError, r"the prompt with its images is \d+ tokens"))(
    lambda c: explain(*_mpi(c), "word " * 600, answer="a")
)


def _other_inputs(c: Ctx) -> Any:
    inputs = dict(
        c.llava.processor(text=["USER: <image>\nDescribe. ASSISTANT:"], images=c.qwen.images, return_tensors="pt")
    )
    return explain_inputs(c.qwen.model, c.qwen.processor, inputs, images=c.qwen.images, answer="a")


row("processor", "explain_inputs with another model's inputs", Raises(ValueError, r"another model|beyond this model"))(
    _other_inputs
)


# -- images and video (tam_widget.runtime.media) ---------------------------------------------------

_u16 = np.array([[[0, 257, 65535]]], np.uint16)
row("images", "uint16 is scaled by its range, not clipped", OK(lambda a, c: a[0][0].tolist() == [[[0, 1, 255]]]))(
    lambda c: as_media(_u16)
)
row("images", "bool array is 0/255", OK(lambda a, c: a[0][0].max() == 255 and a[0][0].min() == 0))(
    lambda c: as_media(np.eye(4, dtype=bool)[..., None].repeat(3, -1))
)
row("images", "one NaN pixel", Raises(ValueError, r"NaN or infinite"))(
    lambda c: as_media(np.where(np.eye(4)[..., None] > 0, np.nan, 0.5).repeat(3, -1))
)
row("images", "float image in [0, 255]", Raises(ValueError, r"float images must lie in \[0, 1\]"))(
    lambda c: as_media(np.full((4, 4, 3), 255.0))
)
row("images", "negative int16", Raises(ValueError, r"negative"))(lambda c: as_media(np.full((4, 4, 3), -1, np.int16)))
row("images", "empty array", Raises(ValueError, r"is empty"))(lambda c: as_media(np.zeros((0, 4, 3), np.uint8)))
row("images", "a file name", Raises(TypeError, r"open it first"))(lambda c: as_media("cat.jpg"))
row("images", "2**28+ pixels refused before allocating", Raises(ValueError, r"at most"))(
    lambda c: as_media(np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (2**15, 2**13 + 1, 3)))
)
row("images", "Video([])", Raises(ValueError, r"no frames"))(lambda c: as_media(tam_widget.Video([])))
row("images", "Video fps=-1", Raises(ValueError, r"fps"))(
    lambda c: as_media(tam_widget.Video(np.zeros((2, 4, 4, 3), np.uint8), fps=-1))
)

# -- saved explanations (tam_widget.io) ------------------------------------------------------------


def _resaved(c: Ctx, edit: Callable[[dict[str, torch.Tensor], dict[str, Any]], None]) -> Path:
    import json
    import tempfile

    from safetensors import safe_open
    from safetensors.torch import save_file

    folder = Path(tempfile.mkdtemp())
    path = c.exp.save(folder / "good.safetensors")
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        header = json.loads(f.metadata()["tam_widget"])
    edit(tensors, header)
    save_file(tensors, str(folder / "bad.safetensors"), metadata={"tam_widget": json.dumps(header)})
    return folder / "bad.safetensors"


row("files", "kernel 1001 in a file's header", Raises(ValueError, r"kernel must be"))(
    lambda c: Explanation.load(_resaved(c, lambda t, h: h["methods"]["tam"].update(kernel=1001)))
)
row("files", "a missing tensor", Raises(ValueError, r"Cannot load .*tam\.A"))(
    lambda c: Explanation.load(_resaved(c, lambda t, h: t.pop("tam.A")))
)
row("files", "a tensor of the wrong shape", Raises(ValueError, r"Cannot load"))(
    lambda c: Explanation.load(_resaved(c, lambda t, h: t.update({"tam.R": t["tam.R"][:-1]})))
)
row("files", "not a safetensors file", Raises(ValueError, r"not a readable \.safetensors file"))(
    lambda c: Explanation.load(_text_file())
)
row("files", "device='gpu9'", Raises(ValueError, r"device must be a torch device"))(
    lambda c: Explanation.load(c.exp.save(_text_file().with_name("e.safetensors")), device="gpu9")
)
row("files", "a missing file", Raises(FileNotFoundError, r"no-such"))(lambda c: Explanation.load("/tmp/no-such.st"))


def _text_file() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "x.safetensors"
    path.write_text("hello")
    return path


# -- the widget and the page (tam_widget.display) ---------------------------------------------------

row("widget", "TAMWidget(selected=999)", Raises(ValueError, r"selected must be an integer in \[0, \d+\]"))(
    lambda c: TAMWidget(c.exp, selected=999)
)
row("widget", "page(selected=999)", Raises(ValueError, r"selected must be an integer in \[0, \d+\]"))(
    lambda c: page(c.exp, selected=999)
)
row("widget", "page(colormap='hot')", Raises(ValueError, r"colormap must be one of"))(
    lambda c: page(c.exp, colormap="hot")
)
row("widget", "page(opacity=-0.1)", Raises(ValueError, r"opacity must be a finite number in \[0.0, 1.0\]"))(
    lambda c: page(c.exp, opacity=-0.1)
)
row("widget", "page(zoom=2)", Raises(ValueError, r"Unknown view settings"))(lambda c: page(c.exp, zoom=2))


def _browser_writes(c: Ctx, state: dict[str, Any]) -> tuple[Any, Any]:
    w = TAMWidget(c.exp)
    before = (w.selected, w._meta)
    w.set_state(state)
    return before, (w.selected, w._meta)


row("widget", "the browser writes selected=999", OK(lambda r, c: r[0] == r[1]))(
    lambda c: _browser_writes(c, {"selected": 999})
)
row("widget", "the browser writes _meta", OK(lambda r, c: r[0] == r[1]))(lambda c: _browser_writes(c, {"_meta": {}}))


def _nan_page(c: Ctx) -> str:
    import dataclasses
    import warnings

    bad = dataclasses.replace(c.exp, top_probs=np.full_like(c.exp.top_probs, np.nan))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        html = page(bad)
    assert any("non-finite" in str(w.message).lower() or "nan" in str(w.message).lower() for w in caught)
    return html


row("widget", "NaN probabilities: the page still opens, with a warning", OK(lambda h, c: '"NaN"' in h))(_nan_page)

# -- the command line (tam_widget.cli) ---------------------------------------------------------------


def _cli(*argv: str) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli_main(list(argv))
    return code, err.getvalue()


row("cli", "demo --out into a missing folder", OK(lambda r, c: r[0] == 2 and "does not exist" in r[1]))(
    lambda c: _cli("demo", "--out", "/no/such/dir/x.html")
)
row("cli", "demo --seed -1", OK(lambda r, c: r[0] == 2 and "seed must be an integer" in r[1]))(
    lambda c: _cli("demo", "--seed", "-1")
)
row("cli", "parity --golden /no/such/dir", OK(lambda r, c: r[0] == 2 and "does not exist" in r[1]))(
    lambda c: _cli("parity", "--golden", "/no/such/dir")
)

CLASSES = sorted({r[0] for r in ROWS})


@pytest.fixture(scope="module")
def ctx() -> Ctx:
    return Ctx()


@pytest.mark.parametrize(("cls", "name", "call", "expected"), ROWS, ids=[f"{r[0]}: {r[1]}" for r in ROWS])
def test_bad_input(ctx: Ctx, cls: str, name: str, call: Callable[[Ctx], Any], expected: Raises | OK) -> None:
    if isinstance(expected, OK):
        assert expected.check(call(ctx), ctx), name
        return
    with pytest.raises(BaseException) as info:
        call(ctx)
    assert isinstance(info.value, expected.kind), f"{name}: {type(info.value).__name__}: {info.value}"
    assert re.search(expected.pattern, str(info.value), re.S), f"{name}: {info.value}"
    assert PACKAGE in str(info.traceback[-1].path), f"{name}: raised outside tam_widget, at {info.traceback[-1].path}"


def test_the_table_is_large_and_covers_every_class() -> None:
    assert len(ROWS) >= 60, len(ROWS)
    assert {"numbers", "model", "processor", "prompt", "answer", "images", "files", "widget", "cli"} <= set(CLASSES)
    assert len({(r[0], r[1]) for r in ROWS}) == len(ROWS)  # names are unique
