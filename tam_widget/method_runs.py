"""Running the attribution methods ``explain`` was asked for on what one pass captured.

``explain(method="tam" | ["tam", "eagle"], options={"eagle": {...}})``: each method gets the
explain() keywords it declares (``explain_options``, e.g. TAM's ``kernel``) and its own entry of
``options``; a black-box method (``needs_scorer``) gets ``captured.score``, built once by the caller
for the explained tokens. The first method is the one shown first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .methods import Captured, Method, Scorer, get_method


def method_list(method: Any) -> list[Method]:
    """The methods named by ``method`` (a name or a non-empty sequence of distinct names), checked."""
    names = [method] if isinstance(method, str) else method
    if not isinstance(names, Sequence) or isinstance(names, bytes) or not names:
        raise TypeError(f"method must be a method's name or a list of names (e.g. ['tam', 'eagle']), got {method!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"method names each method once; got {list(names)}.")
    return [get_method(n) for n in names]


def options_check(options: Any, methods: Sequence[Method]) -> dict[str, dict[str, Any]]:
    """``options``: ``None`` or ``{method name: {option: value}}`` for methods that run."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict of dicts, e.g. {{'eagle': {{'division': 36}}}}, got {options!r}.")
    names = [m.name for m in methods]
    out = {}
    for key, value in options.items():
        if key not in names:
            raise ValueError(f"options has an entry for {key!r}, which is not among the methods run ({names}).")
        if not isinstance(value, Mapping):
            raise TypeError(f"options[{key!r}] must be a dict of that method's options, got {value!r}.")
        out[key] = dict(value)
    return out


def needs_scorer(methods: Sequence[Method]) -> bool:
    """Whether a black-box method is among ``methods``."""
    return any(getattr(m, "needs_scorer", False) for m in methods)


def run_methods(
    methods: Sequence[Method],
    captured: Captured,
    common: Mapping[str, Any],
    options: Mapping[str, Mapping[str, Any]],
    scorer: Callable[[], Scorer] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """``({name: result}, {name: seconds})``: each method on ``captured`` with its own options."""
    results, seconds = {}, {}
    for m in methods:
        given = {k: common[k] for k in getattr(m, "explain_options", ()) if k in common}
        run_on = captured
        if getattr(m, "needs_scorer", False):
            if scorer is None:
                raise ValueError(f"{m.title} scores masked images, and this run has no scorer.")
            run_on = replace(captured, score=scorer())
        t0 = time.perf_counter()
        results[m.name] = m.run(run_on, **given, **options.get(m.name, {}))
        seconds[m.name] = round(time.perf_counter() - t0, 4)
    return results, seconds
