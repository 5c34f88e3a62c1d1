"""Lint the layering rule: code outside the encrypted layer uses only its public names.

Run by ``make lint`` beside ruff (whose SLF001 catches private *attribute* access). Outside
``python/hetensor/he/`` (and in ``examples/`` and ``scripts/``), this fails on:

- an import of a ``_``-prefixed module of ``hetensor.he`` (``from hetensor.he._engine import
  Engine``, ``from ..he._backend import openfhe``, ``import hetensor.he._wire``);
- an import of a ``_``-prefixed name from ``hetensor.he`` or one of its public modules
  (``from hetensor.he.array import _normalize_axes``);
- slot-level work: any use of ``hetensor._core.packing`` (layouts, rotation plans), which
  belongs in ``hetensor.he``.

Usage: ``python scripts/check_layers.py [ROOT]`` (default: the repository root). Exits 1 and
prints ``path:line: message`` per finding.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ENCRYPTED = "hetensor.he"
CHECKED = ("python/hetensor", "examples", "scripts")
SLOT_LEVEL = "uses hetensor._core.packing: slot-level work belongs in hetensor.he"
EXEMPT = "python/hetensor/he"


def _module_of(path: Path, root: Path) -> str:
    """Dotted module name of a file under ``python/`` (empty for examples and scripts)."""
    try:
        rel = path.relative_to(root / "python")
    except ValueError:
        return ""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, node.module] if node.module else base)


def _private_part(module: str) -> str | None:
    """The first ``_``-prefixed component of ``module`` below ``hetensor.he``, if any."""
    if module != ENCRYPTED and not module.startswith(ENCRYPTED + "."):
        return None
    for part in module.split(".")[2:]:
        if part.startswith("_"):
            return part
    return None


def findings(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _module_of(path, root)
    is_package = path.name == "__init__.py"
    core_names: set[str] = set()  # local names bound to hetensor._core
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, is_package)
            private = _private_part(target)
            if private:
                yield node.lineno, f"imports the private module {private!r} of {ENCRYPTED}"
            elif target == ENCRYPTED or target.startswith(ENCRYPTED + "."):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        yield node.lineno, f"imports the private name {alias.name!r} from {target}"
            if target == "hetensor":
                core_names |= {a.asname or a.name for a in node.names if a.name == "_core"}
            if target == "hetensor._core" and any(a.name == "packing" for a in node.names):
                yield node.lineno, SLOT_LEVEL
        elif isinstance(node, ast.Import):
            for alias in node.names:
                private = _private_part(alias.name)
                if private:
                    yield node.lineno, f"imports the private module {private!r} of {ENCRYPTED}"
                if alias.name.startswith("hetensor._core.packing"):
                    yield (
                        node.lineno,
                        "imports hetensor._core.packing: slot-level work belongs in he/",
                    )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "packing"
            and isinstance(node.value, ast.Name)
            and node.value.id in core_names
        ):
            yield node.lineno, SLOT_LEVEL


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parents[1]
    bad = 0
    for top in CHECKED:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(EXEMPT + "/"):
                continue
            for line, message in findings(path, root):
                print(f"{rel}:{line}: {message}")
                bad += 1
    if bad:
        print(
            f"{bad} layering violation(s): use hetensor.he's public API "
            "(see docs/design/architecture.md)"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
