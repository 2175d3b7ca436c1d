"""display/stream.py: which arrays a large explanation streams, and the kernel's answers to row requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tam_widget.display import stream
from tam_widget.display.stream import RowServer, streamed
from tam_widget.methods.tam import TAM


def arrays(rows: int = 64, width: int = 8192) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return {
        "tam": {
            "A": rng.integers(0, 65535, (rows, width), dtype=np.uint16),
            "scale": rng.random(rows, dtype=np.float32),
            "layer_A": rng.integers(0, 65535, (2, rows, width), dtype=np.uint16),
        },
        "eagle": {"small": np.zeros((4, 4), np.float32)},
    }


def test_only_big_streamable_arrays_stream_and_only_when_asked_or_large() -> None:
    a = arrays()
    may = {"tam": TAM.streamable, "eagle": frozenset({"small"})}
    assert streamed(a, 10, None, may) == set()
    assert streamed(a, stream.STREAM_BYTES + 1, None, may) == {("tam", "A"), ("tam", "layer_A")}
    assert streamed(a, 10, True, may) == {("tam", "A"), ("tam", "layer_A"), ("eagle", "small")}  # True: any size
    assert streamed(a, 10, True, {"tam": TAM.streamable}) == {("tam", "A"), ("tam", "layer_A")}  # what may stream
    assert streamed(a, stream.STREAM_BYTES + 1, False, may) == set()


def test_the_pages_block_size_is_the_documented_one_and_the_kernel_answers_it() -> None:
    ts = (Path(__file__).parents[2] / "js" / "src" / "stream.ts").read_text()
    found = re.search(r"export const BLOCK_BYTES = (\d+) << (\d+);", ts)
    assert found, "no BLOCK_BYTES = a << b in js/src/stream.ts"
    page = int(found[1]) << int(found[2])
    assert page == stream.BLOCK_BYTES
    assert stream.BLOCK_BYTES <= stream.MAX_BLOCK_BYTES  # a block the page asks for is never refused


def test_the_rows_answered_are_the_arrays_rows_little_endian() -> None:
    a = arrays()
    server = RowServer({("tam", "A"): a["tam"]["A"], ("tam", "layer_A"): a["tam"]["layer_A"]})
    reply, buffers = server.answer({"rows": {"method": "tam", "array": "A", "start": 3, "stop": 9}})
    assert reply == {"rows": {"method": "tam", "array": "A", "start": 3, "stop": 9}}
    assert np.array_equal(np.frombuffer(buffers[0], "<u2").reshape(6, -1), a["tam"]["A"][3:9])
    reply, buffers = server.answer({"rows": {"method": "tam", "array": "layer_A", "start": 63, "stop": 66}})
    flat = a["tam"]["layer_A"].reshape(-1, a["tam"]["layer_A"].shape[-1])
    assert np.array_equal(np.frombuffer(buffers[0], "<u2").reshape(3, -1), flat[63:66])


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        ({"rows": {"method": "tam", "array": "omega", "start": 0, "stop": 1}}, "No streamed array"),
        ({"rows": {"method": "tam", "array": "A", "start": 5, "stop": 5}}, "not a non-empty range"),
        ({"rows": {"method": "tam", "array": "A", "start": 0, "stop": 65}}, "not a non-empty range"),
        ({"rows": {"method": "tam", "array": "A", "start": -1, "stop": 2}}, "not a non-empty range"),
        ({"rows": {"method": "tam", "array": "A", "start": 0.5, "stop": 2}}, "must be integers"),
        ({"rows": {"method": "tam", "array": "A", "start": True, "stop": 2}}, "must be integers"),
        ({"rows": "all"}, "A rows request is"),
    ],
)
def test_a_bad_request_gets_an_error_and_no_bytes(request_: dict, says: str) -> None:
    server = RowServer({("tam", "A"): arrays()["tam"]["A"]})
    reply, buffers = server.answer(request_)
    assert says in reply["rows"]["error"]
    assert buffers == []


def test_a_request_for_too_many_bytes_at_once_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "MAX_BLOCK_BYTES", 4 * 8192 * 2)
    server = RowServer({("tam", "A"): arrays()["tam"]["A"]})
    assert "error" not in server.answer({"rows": {"method": "tam", "array": "A", "start": 0, "stop": 4}})[0]["rows"]
    reply, buffers = server.answer({"rows": {"method": "tam", "array": "A", "start": 0, "stop": 5}})
    assert "ask in blocks" in reply["rows"]["error"] and buffers == []


@pytest.fixture(scope="module")
def exp() -> Any:
    from family_fixtures import FIXTURES

    from tam_widget import explain

    fx = FIXTURES["qwen2_vl"]()
    return explain(fx.model, fx.processor, fx.images, fx.prompt, answer="a cat on a mat")


def test_a_streaming_widget_leaves_the_maps_out_and_answers_for_their_rows(exp: Any) -> None:
    from tam_widget.display.widget import TAMWidget
    from tam_widget.display.wire import encode

    full, full_meta, _ = encode(exp)
    w = TAMWidget(exp, stream=True)
    spec = w._meta["methods"]["tam"]["arrays"]["A"]
    assert spec["streamed"] is True and len(w._data) < len(full)
    assert w._meta["methods"]["tam"]["arrays"]["omega"].get("streamed") is None  # 1-D: always in the buffer
    sent: list[tuple[Any, list[bytes]]] = []
    w.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    w._handle_custom_msg({"rows": {"method": "tam", "array": "A", "start": 1, "stop": 3}}, [])
    (content, buffers) = sent[0]
    assert content == {"rows": {"method": "tam", "array": "A", "start": 1, "stop": 3}}
    a = full_meta["methods"]["tam"]["arrays"]["A"]
    width = a["shape"][1]
    assert buffers[0] == full[a["offset"] + 2 * width : a["offset"] + 6 * width]  # rows 1, 2 of the buffer's A
    assert w._what_if_status["error"] == ""  # a rows message is not a what-if request


def test_a_small_explanation_does_not_stream_unless_asked_and_stream_is_checked(exp: Any) -> None:
    from tam_widget.display.widget import TAMWidget

    w = TAMWidget(exp)
    assert not any(s.get("streamed") for s in w._meta["methods"]["tam"]["arrays"].values())
    with pytest.raises(TypeError, match="stream must be True, False or None"):
        TAMWidget(exp, stream="yes")
