"""The layering rule `make lint` enforces: outside hetensor.he, only its public names.

ruff's SLF001 (configured in pyproject.toml) catches private attribute access; the script
scripts/check_layers.py catches private imports from the encrypted layer and slot-level
packing outside it. Both are checked here on the repository and on planted violations.
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts/check_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_repository_follows_the_layering_rule(capsys):
    assert _checker().main(["check_layers", str(ROOT)]) == 0, capsys.readouterr().out


def test_planted_violations_are_found(tmp_path, capsys):
    pkg = tmp_path / "python/hetensor"
    (pkg / "linear_model").mkdir(parents=True)
    (pkg / "he").mkdir()
    (tmp_path / "examples").mkdir()
    (tmp_path / "scripts").mkdir()
    (pkg / "linear_model/model.py").write_text(
        "from .. import _core\n"
        "from ..he._engine import Engine\n"
        "from ..he.array import _normalize_axes\n"
        "from ..he import EncryptedArray, Context\n"
        "import hetensor.he._wire\n"
        "layout = _core.packing.plan_array((2,), 4)\n"
    )
    (pkg / "he/inside.py").write_text("from ._engine import Engine\nfrom .. import _core\n")
    (tmp_path / "examples/demo.py").write_text("from hetensor.he import _base\n")
    assert _checker().main(["check_layers", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "linear_model/model.py:2: imports the private module '_engine'" in out
    assert "linear_model/model.py:3: imports the private name '_normalize_axes'" in out
    assert "linear_model/model.py:5: imports the private module '_wire'" in out
    assert "linear_model/model.py:6: uses hetensor._core.packing" in out
    assert "examples/demo.py:1: imports the private name '_base'" in out
    assert "he/inside.py" not in out and ":4:" not in out  # he/ is exempt; public imports fine
    assert "5 layering violation(s)" in out


def test_ruff_flags_private_member_access_outside_he(tmp_path):
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed in this environment")
    for rel in ("python/hetensor/linear_model/m.py", "python/hetensor/he/m.py", "tests/t.py"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def f(x):\n    return x._cts, x._make\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run(
        [ruff, "check", "--select", "SLF001", "--output-format", "concise", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "linear_model/m.py:2:12: SLF001" in out and "linear_model/m.py:2:20: SLF001" in out
    assert "he/m.py" not in out and "tests/t.py" not in out
