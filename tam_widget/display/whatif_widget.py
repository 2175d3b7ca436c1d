"""What-if from the page: the kernel side of "edit the answer" and "continue with this candidate".

:class:`WhatIfWidget` is the base of :class:`~tam_widget.display.widget.TAMWidget` that answers the
page's custom messages (``model.send`` in ``js/src/whatif/``); the page may send one request at a time:

- ``{"what_if": "<answer text>", "request": n}``: :meth:`Explanation.what_if` (one teacher-forced pass);
- ``{"continue_with": [item, token_id], "request": n}``: :meth:`Explanation.continue_with` (the answer
  up to answer item ``item``, then ``token_id``, then greedy generation).

A request is checked here (kinds, lengths, item range) before any work. On success the new explanation
crosses exactly as :class:`~tam_widget.display.compare_widget.CompareWidget`'s side b would
(:func:`~tam_widget.display.wire.encode`, :func:`~tam_widget.display.compare_widget.compare_meta`), and
the page shows the old and the new side by side; :attr:`WhatIfWidget.what_if_comparison` holds the
:class:`~tam_widget.compare.Comparison`. On failure only ``_what_if_status.error`` changes: a message,
never a traceback. ``js/src/whatif/model.ts`` mirrors these traits (kept apart from ``model.ts``, the
view and data traits). The traits are private: the browser may not set them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .. import params

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..explanation import Explanation

MAX_ANSWER_CHARS = 2000  # an edited answer longer than this is refused before any work
MAX_ERROR_CHARS = 600  # an error shown in the page is cut to this
LABELS = ("said", "what if")


class WhatIfWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Answers the page's what-if requests with a comparison of the explanation and the new one."""

    _what_if = traitlets.Dict(
        help="The last what-if: {} none, else compare (compare_meta), meta (side b's wire metadata), row, request"
    ).tag(sync=True)
    _what_if_data = traitlets.Bytes(help="The what-if explanation's arrays (wire.py's buffer)").tag(sync=True)
    _what_if_images = traitlets.List(traitlets.Bytes(), help="The what-if explanation's PNGs").tag(sync=True)
    _what_if_status = traitlets.Dict(
        help="kernel (a kernel answers), busy, error (the last request's, '' for none), request, answer (to edit)"
    ).tag(sync=True)

    explanation: Explanation
    what_if_comparison: Comparison | None = None

    def _listen_what_if(self) -> None:
        """Say the page has a kernel, and answer its requests (TAMWidget's constructor calls this)."""
        self._what_if_status = {
            "kernel": True,
            "busy": False,
            "error": "",
            "request": 0,
            "answer": self.explanation.text,
        }
        self.on_msg(self._on_what_if)

    def _on_what_if(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and "rows" in content:
            return  # a row request of a streamed explanation (stream.py): TAMWidget answers it
        request = _request_id(content)
        try:
            kind, args = check_request(content, len(self.explanation.item_positions))
        except (TypeError, ValueError) as e:
            return self._status(busy=False, error=_message(e), request=request)
        self._status(busy=True, error="", request=request)
        try:
            new = self.explanation.what_if(*args) if kind == "what_if" else self.explanation.continue_with(*args)
            self._show(new, request)
        except Exception as e:  # any failure is a message in the page; the kernel's log keeps the traceback
            self.log.warning("tam-widget: %s failed", kind, exc_info=True)
            self._status(busy=False, error=_message(e), request=request)

    def _show(self, new: Explanation, request: int) -> None:
        comparison, data, images, payload = self._what_if_payload(new)
        with self.hold_sync():  # one message: the page switches once, with everything
            self._what_if_data, self._what_if_images = data, images
            self._what_if = payload | {"request": request}
            self._status(busy=False, error="", request=request)
        self.what_if_comparison = comparison

    def _what_if_payload(self, new: Explanation) -> tuple[Comparison, bytes, list[bytes], dict[str, Any]]:
        """The comparison with ``new``, side b's buffer and PNGs, and the payload (TAMWidget's: the display
        layer reaches ``compare`` through the public surface, so no module here imports it)."""
        raise NotImplementedError

    def _status(self, **changes: Any) -> None:
        self._what_if_status = {**self._what_if_status, **changes}


def check_request(content: Any, n_items: int) -> tuple[str, tuple[Any, ...]]:
    """``("what_if", (text,))`` or ``("continue_with", (item, token_id))`` from a page's message, checked."""
    if not isinstance(content, dict):
        raise TypeError(f"A what-if request is a JSON object, got {type(content).__name__}.")
    kinds = [k for k in ("what_if", "continue_with") if k in content]
    extra = sorted(set(content) - {"what_if", "continue_with", "request"})
    if "request" in content and (type(content["request"]) is not int or content["request"] < 0):
        raise TypeError(f"A what-if request's 'request' is a number >= 0, got {content['request']!r:.40}.")
    if len(kinds) != 1 or extra:
        raise ValueError(
            f"A what-if request has one of 'what_if' or 'continue_with' (and 'request'), got {sorted(content)}."
        )
    value = content[kinds[0]]
    if kinds[0] == "what_if":
        if not isinstance(value, str):
            raise TypeError(f"what_if takes the answer's text, got {type(value).__name__}.")
        if not value.strip():
            raise ValueError("The edited answer is empty: type the answer to explain.")
        if len(value) > MAX_ANSWER_CHARS:
            raise ValueError(f"The edited answer is {len(value)} characters long; at most {MAX_ANSWER_CHARS}.")
        return "what_if", (value,)
    if not isinstance(value, list) or len(value) != 2:
        raise TypeError(f"continue_with takes [item, token id], got {value!r:.80}.")
    item = params.item("item", value[0], n_items)
    token = params.integer("token id", value[1], 0)
    return "continue_with", (item, token)


def _request_id(content: Any) -> int:
    """The page's number for the request, echoed back so it knows which answer is whose (0: none or not a number)."""
    value = content.get("request", 0) if isinstance(content, dict) else 0
    return value if type(value) is int and value >= 0 else 0


def _message(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
