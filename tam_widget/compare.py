"""Two explanations side by side: their items aligned, and where their maps differ.

:func:`compare` lines up the items of two explanations (two models on one image, the original
answer and a what-if, TAM beside EAGLE) so a selection in one selects the same token in the other:

- items are grouped into words (the explanations' own word grouping), and the two word sequences
  are aligned by their text (case and spaces aside) with :class:`difflib.SequenceMatcher`;
- within a matched word of as many tokens on both sides (one tokenizer), token pairs with token;
  otherwise (two tokenizers) the words' first tokens pair, so a selection follows the word;
- words only one side has pair with nothing (``None``).

:meth:`Comparison.difference` is one item's map minus its partner's where the grids match (the same
image through the same processor), signed in ``[-1, 1]``, of the maps each side shows (its shown
method's: TAM beside EAGLE subtracts EAGLE's map from TAM's, at the tokens EAGLE explained);
:meth:`Comparison.changed` marks the rows whose token differs or whose maps differ by more than a
tolerance.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import params
from .explanation import Explanation


@dataclass(frozen=True)
class Row:
    """One aligned pair of items (``None`` where one side has no such token)."""

    a: int | None
    b: int | None
    text_a: str
    text_b: str

    @property
    def same_token(self) -> bool:
        """Both sides have an item and their texts agree (case and spaces aside)."""
        return self.a is not None and self.b is not None and _key(self.text_a) == _key(self.text_b)


def _key(text: str) -> str:
    return "".join(text.split()).lower()


def _words(exp: Explanation) -> list[tuple[str, list[int]]]:
    """``(word text, its items)`` in item order, prompt items then answer items."""
    out: list[tuple[str, list[int]]] = []
    last = None
    for item, pos in enumerate(exp.item_positions):
        word = (item >= exp.n_prompt, exp.words[pos])  # a word never spans the prompt and the answer
        if word != last:
            out.append(("", []))
            last = word
        text, items = out[-1]
        out[-1] = (text + exp.tokens[pos], [*items, item])
    return out


def align(a: Explanation, b: Explanation) -> list[Row]:
    """The rows of ``a`` and ``b``'s items, aligned by word (see the module's docstring)."""
    wa, wb = _words(a), _words(b)
    matcher = difflib.SequenceMatcher(None, [_key(t) for t, _ in wa], [_key(t) for t, _ in wb], autojunk=False)
    rows: list[Row] = []
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag == "equal":
            for (_, ia), (_, ib) in zip(wa[i0:i1], wb[j0:j1], strict=True):
                rows += _pair_word(a, b, ia, ib)
            continue
        left = [i for _, items in wa[i0:i1] for i in items]
        right = [j for _, items in wb[j0:j1] for j in items]
        if tag == "replace" and len(left) == len(right):  # a changed word, token for token (a what-if)
            rows += [Row(i, j, a.item_texts[i], b.item_texts[j]) for i, j in zip(left, right, strict=True)]
            continue
        rows += [Row(i, None, a.item_texts[i], "") for i in left]
        rows += [Row(None, j, "", b.item_texts[j]) for j in right]
    return rows


def _pair_word(a: Explanation, b: Explanation, ia: list[int], ib: list[int]) -> list[Row]:
    if len(ia) == len(ib):
        return [Row(i, j, a.item_texts[i], b.item_texts[j]) for i, j in zip(ia, ib, strict=True)]
    rows = [Row(ia[0], ib[0], a.item_texts[ia[0]], b.item_texts[ib[0]])]
    rows += [Row(i, None, a.item_texts[i], "") for i in ia[1:]]
    return rows + [Row(None, j, "", b.item_texts[j]) for j in ib[1:]]


@dataclass
class Comparison:
    """Two explanations, their aligned rows, and their labels."""

    a: Explanation
    b: Explanation
    rows: list[Row]
    labels: tuple[str, str]

    def partner(self, item: int, side: str = "a") -> int | None:
        """The item of the other explanation aligned with ``item`` of side ``side`` ("a" or "b")."""
        side = params.choice("side", side, ("a", "b"))
        for row in self.rows:
            if (row.a if side == "a" else row.b) == item:
                return row.b if side == "a" else row.a
        raise ValueError(f"item {item} is not an item of explanation {side!r}.")

    def difference(self, row: int, eci_scale: float = 1.0, **toggles: Any) -> list[np.ndarray]:
        """Row ``row``'s map in ``a`` minus its partner's in ``b``, one array per view (``layer``,
        ``eci``, ``filter`` as :meth:`Explanation.view_maps`). A ValueError when a side has no item
        there, or the views' grids differ (other images or another processor: no pixel-wise difference)."""
        r = self.rows[params.item("row", row, len(self.rows))]
        if r.a is None or r.b is None:
            raise ValueError(f"row {row} has an item on one side only ({r.text_a or r.text_b!r}): nothing to subtract.")
        grids_a, grids_b = [v.grid for v in self.a.views], [v.grid for v in self.b.views]
        if grids_a != grids_b:
            raise ValueError(f"the views' grids differ ({grids_a} vs {grids_b}): the maps cannot be subtracted.")
        ma = shown_maps(self.a, r.a, eci_scale, **toggles)
        mb = shown_maps(self.b, r.b, eci_scale, **toggles)
        return [x - y for x, y in zip(ma, mb, strict=True)]

    def changed(self, tolerance: float = 1 / 255, **toggles: Any) -> list[bool]:
        """Per row: a side is missing, the tokens differ, or (grids matching) the maps differ by more
        than ``tolerance`` anywhere."""
        tolerance = params.number("tolerance", tolerance, 0.0, 1.0)
        same_grids = [v.grid for v in self.a.views] == [v.grid for v in self.b.views]
        out = []
        for k, r in enumerate(self.rows):
            if not r.same_token or not same_grids:
                out.append(not r.same_token)
                continue
            try:
                diff = self.difference(k, **toggles)
            except ValueError:  # a side's method did not explain this token: nothing to compare
                out.append(False)
                continue
            out.append(max(float(np.abs(d).max()) for d in diff) > tolerance)
        return out

    def widget(self, **traits: Any) -> Any:
        """The linked side-by-side :class:`~tam_widget.display.compare_widget.CompareWidget`."""
        from .display.compare_widget import CompareWidget

        return CompareWidget(self, **traits)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def save_html(self, path: str | os.PathLike[str], **traits: Any) -> Path:
        """One self-contained offline HTML page with the side-by-side view; returns its path."""
        from .display.compare_widget import save_compare_html

        return save_compare_html(self, path, **traits)


def shown_maps(exp: Explanation, item: int, eci_scale: float = 1.0, **toggles: Any) -> list[np.ndarray]:
    """``item``'s map per view as the page shows it for ``exp``'s shown method: TAM's own map
    (:meth:`Explanation.view_maps`), or a black-box method's map on the vision cells (EAGLE's, for
    the tokens it explained; a ValueError for the others)."""
    if exp.method == "tam":
        return exp.view_maps(item, eci_scale, **toggles)
    import torch

    from .methods import get_method

    method = get_method(exp.method)
    arrays, _ = method.wire_arrays(exp.results[exp.method], exp)
    if item not in arrays.get("items", np.zeros(0)).tolist():
        raise ValueError(
            f"item {item} ({exp.item_texts[item]!r}) was not explained by {method.title}: no map to compare."
        )
    return exp._per_view(torch.from_numpy(np.asarray(arrays["grid"], dtype=np.float32)))


def compare(a: Explanation, b: Explanation, labels: Sequence[str] | None = None) -> Comparison:
    """``a`` and ``b`` aligned (two models, two answers, or an explanation and its what-if)."""
    for name, exp in (("a", a), ("b", b)):
        if not isinstance(exp, Explanation):
            raise TypeError(f"{name} must be a tam_widget.Explanation, got {type(exp).__name__}.")
    if labels is None:
        labels = (str(a.meta.get("model") or "a"), str(b.meta.get("model") or "b"))
    if isinstance(labels, str) or len(labels) != 2 or not all(isinstance(x, str) for x in labels):
        raise ValueError(f"labels must be two strings, one per explanation, got {labels!r}.")
    return Comparison(a, b, align(a, b), (labels[0], labels[1]))
