"""Every script in examples/ runs to completion."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(he, path):
    res = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "error" in res.stdout


def test_walkthrough_demo(he, capsys):
    from hetensor.cli import main

    assert main(["demo", "walkthrough", "--rows", "6", "--cols", "4"]) == 0
    out = capsys.readouterr().out
    assert "refused" in out and "worst error" in out


@pytest.mark.slow
def test_ames_demo(he, capsys, tmp_path):
    """`make demo` (Ames, client refresh, the planned 128-bit context), cut to 3 iterations."""
    pytest.importorskip("sklearn")
    from hetensor.cli import main

    plot = tmp_path / "curve.png"
    assert main(["demo", "ames", "--iterations", "3", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "encrypted (hetensor)" in out and "scikit-learn Ridge" in out
    assert "max |coef - same algorithm in float64|" in out
