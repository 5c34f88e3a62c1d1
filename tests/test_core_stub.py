"""The committed type stubs of ``hetensor._core`` (``python/hetensor/_core/*.pyi``) cannot drift
from the compiled module: every public name of the live module, its submodules and its classes
is in the stubs and the stubs name nothing else, and each function's parameter names are the
bindings' (``py::arg``)."""

from __future__ import annotations

import ast
import inspect
import re
import types
from pathlib import Path

import pytest

import hetensor
from hetensor import _core

STUB_DIR = Path(hetensor.__file__).parent / "_core"

# Dunder methods a binding adds on purpose and a stub must declare (``__init__`` and
# ``__repr__`` every class has anyway).
PROTOCOL = {"__eq__", "__hash__", "__getstate__", "__setstate__", "__call__", "__len__"}


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__version__"


def _stub(path: str) -> ast.Module:
    file = STUB_DIR / (path.replace(".", "/") + ".pyi") if path else STUB_DIR / "__init__.pyi"
    return ast.parse(file.read_text(), filename=str(file))


def _defined(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Names a stub module or class body defines (functions and overloads, classes,
    annotated or assigned variables, ``from . import x as x`` re-exports)."""
    out: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.setdefault(node.name, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
        elif isinstance(node, ast.Assign):
            out.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            out.update({a.asname: node for a in node.names if a.asname == a.name})
    return out


def _modules() -> list[tuple[str, types.ModuleType]]:
    """(dotted path below _core, module) for _core and its submodules, recursively."""
    found = [("", _core)]
    for path, mod in found:
        for name in dir(mod):
            sub = getattr(mod, name)
            if isinstance(sub, types.ModuleType) and not name.startswith("_"):
                found.append((f"{path}.{name}".lstrip("."), sub))
    return found


MODULES = _modules()


def _class_names(cls: type) -> set[str]:
    return {
        n
        for n, v in vars(cls).items()
        if v is not None and (not n.startswith("_") or n in PROTOCOL)
    }


def _split_params(text: str) -> list[str]:
    """Top-level comma split of a pybind11 signature's parameter list."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _live_signatures(func: object, name: str) -> set[tuple[str, ...]]:
    """Parameter-name tuples of each overload, read from pybind11's docstring signatures."""
    sigs = set()
    for line in (func.__doc__ or "").splitlines():
        m = re.match(rf"^(?:\d+\. )?{name}\((.*)\) -> ", line)
        if m:
            sigs.add(tuple(p.split(":")[0].strip() for p in _split_params(m.group(1))))
    return sigs


def _stub_signatures(body: list[ast.stmt], name: str) -> set[tuple[str, ...]]:
    return {
        tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args])
        for node in body
        if isinstance(node, ast.FunctionDef) and node.name == name
    }


def test_stub_files_match_submodules():
    files = {
        str(p.relative_to(STUB_DIR).with_suffix("")).replace("/", ".")
        for p in STUB_DIR.rglob("*.pyi")
    }
    assert files == {path or "__init__" for path, _ in MODULES}


@pytest.mark.parametrize("path, mod", MODULES, ids=[p or "_core" for p, _ in MODULES])
def test_module_names_match(path, mod):
    live = {n for n in dir(mod) if _public(n)}
    stub = {n for n in _defined(_stub(path).body) if _public(n)}
    assert sorted(live - stub) == [], f"in hetensor._core.{path} but not in its stub"
    assert sorted(stub - live) == [], f"in the stub of hetensor._core.{path} only"


@pytest.mark.parametrize("path, mod", MODULES, ids=[p or "_core" for p, _ in MODULES])
def test_class_members_match(path, mod):
    stub = _defined(_stub(path).body)
    classes = [n for n in dir(mod) if _public(n) and inspect.isclass(getattr(mod, n))]
    for name in classes:
        node = stub[name]
        assert isinstance(node, ast.ClassDef), name
        declared = {n for n in _defined(node.body) if not n.startswith("_") or n in PROTOCOL}
        assert declared == _class_names(getattr(mod, name)), f"{path}.{name}"


@pytest.mark.parametrize("path, mod", MODULES, ids=[p or "_core" for p, _ in MODULES])
def test_parameter_names_match(path, mod):
    body = _stub(path).body
    funcs = [n for n in dir(mod) if _public(n) and inspect.isbuiltin(getattr(mod, n))]
    for name in funcs:
        live = _live_signatures(getattr(mod, name), name)
        assert live, f"no signature in the docstring of {path}.{name}"
        assert _stub_signatures(body, name) == live, f"{path}.{name}"


def test_stubs_are_marked_typed():
    assert (STUB_DIR.parent / "py.typed").is_file()
