"""Which token a user means: a token id, or a text looked up among the tokens an explanation knows
(the candidates of every answer step and the tokens of the sequence), for
:meth:`tam_widget.Explanation.class_map` and :meth:`~tam_widget.Explanation.contrast`."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .explanation import Explanation


def resolve(exp: Explanation, item: int, token: Any, name: str = "token") -> int:
    """The token id ``token`` means at ``item``: an int is an id; a string is matched exactly, then
    stripped and case-insensitively, against the item's candidates and own token first, then
    every token the explanation knows. ``ValueError`` when nothing or several ids match."""
    if isinstance(token, bool) or (not isinstance(token, str) and not hasattr(token, "__index__")):
        raise TypeError(f"{name} must be a token id (int) or a token's text (str), got {type(token).__name__}.")
    if not isinstance(token, str):
        return operator.index(token)
    for scope in (_local(exp, item), _everywhere(exp)):
        for loose in (False, True):
            ids = sorted({i for t, i in scope if _key(t, loose) == _key(token, loose)})
            if len(ids) == 1:
                return ids[0]
            if ids:
                raise ValueError(
                    f"{name} {token!r} matches token ids {ids}: pass the id you mean (exp.top_ids, exp.token_ids)."
                )
    here = list(dict((i, t) for t, i in reversed(_local(exp, item))).values())[::-1]
    raise ValueError(
        f"{name} {token!r} is not a token this explanation knows; at item {item} the candidates are {here}. "
        "Pass one of them, or a token id."
    )


def _key(text: str, loose: bool) -> str:
    return text.strip().lower() if loose else text


def _local(exp: Explanation, item: int) -> list[tuple[str, int]]:
    """The item's own token, then the top candidates at its answer step (none for a prompt item)."""
    pos = exp.item_positions[item]
    pairs = [(exp.tokens[pos], int(exp.token_ids[pos]))]
    r = item - exp.n_prompt
    if r >= 0:
        pairs += [(t, int(i)) for t, i in zip(exp.top_texts[r], exp.top_ids[r], strict=True)]
    return pairs


def _everywhere(exp: Explanation) -> list[tuple[str, int]]:
    pairs = [
        (t, int(i))
        for texts, ids in zip(exp.top_texts, exp.top_ids, strict=True)
        for t, i in zip(texts, ids, strict=True)
    ]
    return pairs + [(t, int(i)) for t, i in zip(exp.tokens, exp.token_ids, strict=True)]
