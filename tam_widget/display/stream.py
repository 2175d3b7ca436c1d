"""Large explanations in a notebook: the big arrays cross in row blocks, when the page needs them.

A widget whose wire buffer (:mod:`.wire`) would exceed :data:`STREAM_BYTES` leaves its big arrays
(each at least :data:`MIN_ARRAY_BYTES`, e.g. TAM's quantised maps) out of the ``_data`` buffer: their
specs say ``"streamed": true`` and the browser allocates them empty. To show an item the page
needs some rows of them (TAM: the item's map and its ECI context's, rows ``0..item``); it asks the
kernel for the missing blocks and, once the view is up, for the rest in order (js/src/stream.ts,
whose ``BLOCK_BYTES`` sets a block's size: :data:`BLOCK_BYTES` here is its value, a test checks that
they agree and that a block fits under :data:`MAX_BLOCK_BYTES`, the most the kernel answers at once).
The exported page never streams: it stays one file.

The messages (``model.send`` / ``Widget.send``), one block each way::

    page -> kernel  {"rows": {"method": m, "array": a, "start": s, "stop": e}}
    kernel -> page  {"rows": {"method": m, "array": a, "start": s, "stop": e}}, buffers [rows s..e-1]
                    or {"rows": {..., "error": "why"}} and no buffer

Rows are the array's leading dimensions flattened (``(L, T, n_v)`` has ``L * T`` rows of ``n_v``),
little-endian as in the buffer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

STREAM_BYTES = 32 * 2**20  # a buffer larger than this streams its big arrays
MIN_ARRAY_BYTES = 2**20  # arrays at least this large are the ones streamed
BLOCK_BYTES = 2**20  # the page asks about this much a block, at least one row (js/src/stream.ts; a test checks)
MAX_BLOCK_BYTES = 16 * 2**20  # a request for more at once is refused

Key = tuple[str, str]  # (method, array)


def streamed(
    arrays: Mapping[str, Mapping[str, np.ndarray]],
    total_bytes: int,
    stream: bool | None,
    streamable: Mapping[str, frozenset[str]],
) -> set[Key]:
    """The (method, array) pairs to leave out of the buffer: none when ``stream`` is False or, when it is
    None, the buffer is at most :data:`STREAM_BYTES`; else each array the method says may stream
    (``streamable[method]``, the method's ``streamable`` names) of 2 or more dimensions and at least
    :data:`MIN_ARRAY_BYTES` (``stream`` True: of any size)."""
    if stream is False or (stream is None and total_bytes <= STREAM_BYTES):
        return set()
    least = 0 if stream else MIN_ARRAY_BYTES
    return {
        (method, name)
        for method, named in arrays.items()
        for name, arr in named.items()
        if name in streamable.get(method, frozenset()) and arr.ndim >= 2 and arr.nbytes >= least and arr.size
    }


def rows_of(arr: np.ndarray) -> np.ndarray:
    """``arr`` as ``(rows, row length)``, little-endian and contiguous (what a block's bytes slice)."""
    flat = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return flat.reshape(-1, arr.shape[-1])


class RowServer:
    """Answers a page's row requests from the arrays left out of its buffer."""

    def __init__(self, arrays: Mapping[Key, np.ndarray]) -> None:
        self.arrays = {key: rows_of(arr) for key, arr in arrays.items()}
        self.served = 0  # blocks answered with their rows

    def answer(self, content: Any) -> tuple[dict[str, Any], list[bytes]]:
        """The reply to one ``{"rows": ...}`` message: the rows, or an ``error`` saying what was wrong."""
        request = content.get("rows") if isinstance(content, dict) else None
        try:
            key, start, stop = self._check(request)
        except (TypeError, ValueError) as e:
            echo = request if isinstance(request, dict) else {}
            return {"rows": {**_echo(echo), "error": str(e)}}, []
        data = self.arrays[key][start:stop].tobytes()
        self.served += 1
        return {"rows": {"method": key[0], "array": key[1], "start": start, "stop": stop}}, [data]

    def _check(self, request: Any) -> tuple[Key, int, int]:
        if not isinstance(request, dict):
            raise TypeError("A rows request is {'rows': {'method', 'array', 'start', 'stop'}}.")
        key = (request.get("method"), request.get("array"))
        if key not in self.arrays:
            raise ValueError(
                f"No streamed array {key[1]!r:.40} of method {key[0]!r:.40}; streamed: {sorted(self.arrays)}."
            )
        rows = self.arrays[key]  # type: ignore[index]
        start, stop = request.get("start"), request.get("stop")
        if type(start) is not int or type(stop) is not int:
            raise TypeError(f"start and stop must be integers, got {start!r:.20} and {stop!r:.20}.")
        if not 0 <= start < stop <= rows.shape[0]:
            raise ValueError(f"Rows [{start}, {stop}) are not a non-empty range of [0, {rows.shape[0]}).")
        if (stop - start) * rows.strides[0] > max(MAX_BLOCK_BYTES, rows.strides[0]):
            raise ValueError(f"Rows [{start}, {stop}) are more than {MAX_BLOCK_BYTES} bytes; ask in blocks.")
        return key, start, stop  # type: ignore[return-value]


def _echo(request: dict[str, Any]) -> dict[str, Any]:
    """The request's fields worth echoing (JSON-safe scalars only)."""
    return {k: request[k] for k in ("method", "array", "start", "stop") if isinstance(request.get(k), (str, int))}


def serve(widget: Any, arrays: Mapping[Key, np.ndarray]) -> RowServer | None:
    """Answer ``widget``'s row requests from ``arrays`` (none: nothing to serve, None)."""
    if not arrays:
        return None
    server = RowServer(arrays)

    def on_msg(_widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and "rows" in content:
            reply, buffers = server.answer(content)
            widget.send(reply, buffers)

    widget.on_msg(on_msg)
    return server
