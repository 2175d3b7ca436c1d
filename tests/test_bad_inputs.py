"""Every bad input answered: a clear error of a sensible type, raised by tam-widget's own code, naming the
argument and what to do, or a checked-correct result. Never a bare KeyError / IndexError from a library,
never a library-internal message for plain misuse, never a hang or a silent wrong result.

One row per case: ``(id, call, expected)`` where ``call(ctx)`` makes the call and ``expected`` is an
exception type with a regex the message must match, or ``OK`` with a check of the result. The rows are
grouped by class; ``CLASSES`` counts them for the note.
"""

from __future__ import annotations

import copy
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
row("model", "method='grad-cam'", Raises(ValueError, r"method must be one of \['tam'\], got 'grad-cam'"))(
    lambda c: c.forced(method="grad-cam")
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
    assert {"numbers", "model", "processor", "prompt", "answer"} <= set(CLASSES)
    assert len({(r[0], r[1]) for r in ROWS}) == len(ROWS)  # names are unique
    _ = copy  # rows from the other classes (images, files, widget, CLI) join below as they land
