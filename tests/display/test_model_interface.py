"""The TypeScript ``Model`` (js/src/model.ts) mirrors TAMWidget's synced traits: same names, matching types.

The browser reads and writes the traits by these names, so a trait renamed or retyped on one side
only would fail silently in the notebook. The TypeScript is parsed with a few regular expressions:
enough for the plain ``name: Type;`` fields, aliases and string-literal unions these files use.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import traitlets

from tam_widget.display.widget import COLORMAPS, TAMWidget, view_traits

SRC = Path(__file__).resolve().parents[2] / "js" / "src"
DATA_TRAITS = ("_data", "_meta", "_images")


def strip_comments(ts: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", ts, flags=re.S))


def sources() -> str:
    return "\n".join(strip_comments(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.ts")))


def block(ts: str, start: int) -> str:
    """The text between the brace at ``start`` and its match."""
    depth = 0
    for i in range(start, len(ts)):
        depth += {"{": 1, "}": -1}.get(ts[i], 0)
        if depth == 0:
            return ts[start + 1 : i]
    raise AssertionError("unbalanced braces")


def split_top(text: str, seps: str) -> list[str]:
    """``text`` split at the characters in ``seps`` outside (), [], {} and <>."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += {"(": 1, "[": 1, "{": 1, "<": 1, ")": -1, "]": -1, "}": -1, ">": -1}.get(ch, 0)
        if ch in seps and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [p for p in [*parts, cur.strip()] if p]


def interface(ts: str, name: str) -> dict[str, str]:
    """``{field: type}`` of ``interface name { ... }``."""
    found = re.search(rf"\binterface\s+{name}\s*\{{", ts)
    assert found, f"no interface {name} in {SRC}"
    fields = {}
    for member in split_top(block(ts, found.end() - 1), ";\n"):
        field = re.fullmatch(r"(?:readonly\s+)?(\w+)\s*\??\s*:\s*(.+)", member, flags=re.S)
        assert field, f"cannot read the member {member!r} of {name}"
        fields[field[1]] = " ".join(field[2].split())
    return fields


def alias(ts: str, name: str) -> str | None:
    found = re.search(rf"\btype\s+{name}\s*=\s*([^;]+);", ts)
    return " ".join(found[1].split()) if found else None


def string_list(ts: str, name: str) -> list[str]:
    """The strings of ``const name ... = [ ... ]``."""
    found = re.search(rf"\bconst\s+{name}\b[^=]*=\s*\[([^\]]*)\]", ts)
    assert found, f"no const {name} in {SRC}"
    return re.findall(r'"([^"]*)"', found[1])


def literals(ts_type: str) -> list[str] | None:
    """The strings of a union of string literals, else None."""
    members = split_top(ts_type, "|")
    quoted = [re.fullmatch(r'"([^"]*)"', m) for m in members]
    return [q[1] for q in quoted if q] if all(quoted) else None


def resolve(ts: str, ts_type: str) -> str:
    """Follow type aliases (``ColormapName`` -> ``"jet" | "viridis"``)."""
    seen = set()
    while re.fullmatch(r"\w+", ts_type) and ts_type not in seen and (target := alias(ts, ts_type)):
        seen.add(ts_type)
        ts_type = target
    return ts_type


def is_object(ts: str, ts_type: str) -> bool:
    if ts_type.startswith(("{", "Record<")):
        return True
    return bool(re.fullmatch(r"\w+", ts_type) and re.search(rf"\binterface\s+{ts_type}\s*\{{", ts))


def element(ts_type: str) -> str | None:
    """``X`` of ``X[]``, ``readonly X[]`` or ``Array<X>``; None for anything else."""
    found = re.fullmatch(r"(?:readonly\s+)?(.+)\[\]", ts_type) or re.fullmatch(r"(?:Readonly)?Array<(.+)>", ts_type)
    return found[1].strip() if found else None


def traitlets_kind(trait: traitlets.TraitType) -> type:
    """The traitlets class a trait is (TAMWidget's view traits subclass Int, Float... to leave the check to params)."""
    return next(c for c in type(trait).__mro__ if c.__module__ == "traitlets.traitlets")


def mismatch(ts: str, name: str, trait: traitlets.TraitType, ts_type: str) -> str | None:
    """Why ``ts_type`` cannot hold ``trait``'s values, or None when it can."""
    ts_type = resolve(ts, ts_type)
    kind = traitlets_kind(trait)
    if kind in (traitlets.Int, traitlets.Float):
        ok = ts_type == "number"
    elif kind is traitlets.Bool:
        ok = ts_type == "boolean"
    elif kind is traitlets.Unicode:
        values = literals(ts_type)
        if values is not None:
            return None if name == "colormap" and values == list(COLORMAPS) else f"literals {values} ({COLORMAPS=})"
        ok = ts_type == "string"
    elif kind is traitlets.Bytes:
        ok = ts_type == "DataView"
    elif kind is traitlets.Dict:
        ok = is_object(ts, ts_type)
    elif kind is traitlets.List:
        inner = element(ts_type)
        return mismatch(ts, name, trait._trait, inner) if inner else f"{ts_type} is not an array type"
    else:
        return f"no TypeScript type known for traitlets.{kind.__name__}"
    return None if ok else f"{ts_type} does not hold traitlets.{kind.__name__}"


@pytest.fixture(scope="module")
def ts() -> str:
    return sources()


@pytest.fixture(scope="module")
def model(ts: str) -> dict[str, str]:
    return interface(ts, "Model")


def own_synced_traits() -> dict[str, traitlets.TraitType]:
    return {k: t for k, t in TAMWidget.class_traits(sync=True).items() if t.this_class is TAMWidget}


def test_python_traits_are_the_view_traits_and_the_data_traits() -> None:
    assert set(own_synced_traits()) == set(view_traits()) | set(DATA_TRAITS)


def test_model_has_exactly_the_python_traits(model: dict[str, str]) -> None:
    assert sorted(model) == sorted(own_synced_traits())


def test_model_types_hold_the_python_trait_types(ts: str, model: dict[str, str]) -> None:
    traits = own_synced_traits().items()
    problems = {k: mismatch(ts, k, t, model[k]) if k in model else "missing in model.ts" for k, t in traits}
    assert {k: v for k, v in problems.items() if v} == {}


def test_colormap_choices_agree(ts: str, model: dict[str, str]) -> None:
    assert literals(resolve(ts, model["colormap"])) == list(COLORMAPS)
    assert string_list(ts, "COLORMAP_NAMES") == list(COLORMAPS)  # the options of the colour-map select


def test_the_keys_the_browser_sets_are_the_view_traits(ts: str, model: dict[str, str]) -> None:
    data_keys = string_list(ts, "DATA_KEYS")
    assert sorted(data_keys) == sorted(DATA_TRAITS)
    synced = alias(ts, "SyncedKey")
    assert synced, "no type SyncedKey in js/src"
    values = literals(synced)
    if values is None:  # derived from the interface: every Model key but the data keys
        assert re.fullmatch(r"Exclude<keyof Model, \(?typeof DATA_KEYS\)?\[number\]>", synced), synced
        values = [k for k in model if k not in data_keys]
    assert sorted(values) == sorted(view_traits())


def test_the_parser_reads_what_it_checks() -> None:
    ts = (
        "interface M {\n  /** doc */ a: number;\n  readonly b?: X[];\n  c: Record<string, { d: 1; e: 2 }>;\n}\n"
        'type X = "p" | "q";'
    )
    fields = interface(strip_comments(ts), "M")
    assert fields == {"a": "number", "b": "X[]", "c": "Record<string, { d: 1; e: 2 }>"}
    assert literals(resolve(ts, "X")) == ["p", "q"]
    assert element("readonly DataView[]") == "DataView" and element("Array<string>") == "string"
    assert mismatch(ts, "x", traitlets.List(traitlets.Bytes()), "DataView[]") is None
    assert mismatch(ts, "x", traitlets.List(traitlets.Bytes()), "string[]") is not None
    assert mismatch(ts, "x", traitlets.Float(), "boolean") is not None
    assert mismatch(ts, "x", traitlets.Unicode(), "X") is not None  # literals without a Python list
