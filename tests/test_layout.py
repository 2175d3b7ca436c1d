"""The package's shape: folders with one job each, a small public surface, no import cycles,
every public name documented, and the workarounds kept where they say what they are."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import tam_widget

PACKAGE = Path(tam_widget.__file__).parent
FOLDERS = ["core", "methods", "runtime", "families", "display", "evaluation", "diagnosis", "teaching", "testing", "cli"]
PUBLIC = {
    "explain",
    "explain_inputs",
    "model_inputs",
    "Explanation",
    "Video",
    "compute_tam",
    "VisionLayout",
    "FAMILIES",
    "demo_model",
    "eagle_search",
    "diagnose",
    "compare",
}


def modules() -> list[str]:
    """Every module of the package, by dotted name (``__main__`` left out: it runs the CLI)."""
    names = ["tam_widget"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="tam_widget."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin)


def runtime_imports(name: str) -> set[str]:
    """The ``tam_widget`` modules ``name`` imports at run time (top level or inside functions),
    not those under ``if TYPE_CHECKING:``."""
    path = module_file(name)
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out.update(t for t in targets if t and t.startswith("tam_widget") and is_module(t))
    return out - {name}


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # an attribute of a module, not a submodule
        return False


def test_each_folder_has_one_paragraph_saying_its_job() -> None:
    for folder in FOLDERS:
        doc = importlib.import_module(f"tam_widget.{folder}").__doc__
        assert doc and len(doc.split()) >= 20, f"tam_widget/{folder}/__init__.py needs a docstring saying its job"


def test_public_api_is_the_users_surface() -> None:
    assert set(tam_widget.__all__) - {"__version__"} == PUBLIC
    assert callable(tam_widget.explain)  # the function, not a module of the same name
    assert importlib.util.find_spec("tam_widget.explain") is None


def test_no_import_cycles() -> None:
    graph = {m: runtime_imports(m) for m in modules()}
    # a package imports its own submodules to re-export them; that is not a cycle
    edges = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            parent = t.rpartition(".")[0]
            if t.startswith(m + ".") or m.startswith(t + ".") or parent == "":
                continue
            if state.get(t) == 1:
                cycles.append([*path[path.index(t) :], t] if t in path else [*path, t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_only_the_processor_workaround_patches_transformers() -> None:
    holders = [m for m in modules() if "check_argument_for_proper_class" in module_file(m).read_text(encoding="utf-8")]
    assert holders == ["tam_widget.runtime.processors"]


def public_names(module: object) -> list[tuple[str, object]]:
    out = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != getattr(module, "__name__", None):
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            out.append((name, obj))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    fn = member.fget if isinstance(member, property) else member
                    if not attr.startswith("_") and (inspect.isfunction(fn) or isinstance(member, property)):
                        out.append((f"{name}.{attr}", fn))
    return out


@pytest.mark.parametrize("name", [m for m in modules() if not m.endswith(".train")])
def test_every_public_name_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    missing = [n for n, obj in public_names(module) if not inspect.getdoc(obj)]
    assert not missing, f"{name}: no docstring on {missing}"
