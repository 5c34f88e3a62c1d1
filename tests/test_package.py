"""Package surface: import, version, build facts, lazy HE names, CLI entry points."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_version_and_core(ht):
    assert ht.__version__ == ht._core.__version__
    assert isinstance(ht._core.has_cuda, bool)
    assert "OpenBLAS" in ht._core.blas_config()
    assert ht._core.blas_num_threads() >= 1


def test_info_keys(ht):
    info = ht.info()
    for key in ("hetensor", "python", "numpy", "openfhe", "cuda_built", "cuda_devices", "blas"):
        assert key in info
    assert info["cuda_built"] == ht.cuda.is_built()


def test_cuda_flags_consistent(ht):
    assert ht.cuda.device_count() >= 0
    assert ht.cuda.is_available() == (ht.cuda.is_built() and ht.cuda.device_count() > 0)
    if not ht.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            ht.cuda.require()


def test_lazy_names_and_dir(ht, he):
    assert "Context" in dir(ht)
    assert ht.Context is he.Context
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = ht.nope


def test_top_level_serves_every_public_he_name(ht, he):
    import types

    names = {n for n in he.__all__ if not isinstance(getattr(he, n), types.ModuleType)}
    assert names == set(ht._HE_NAMES)
    for name in names:
        assert getattr(ht, name) is getattr(he, name)
    assert ht.he is he


def test_dir_is_the_public_api(ht, he):
    listed = dir(ht)
    assert set(listed) == {*ht.__all__, "distributed"}
    assert listed == sorted(listed)
    for name in ("Any", "annotations", "importlib", "scipy_openblas32", "TYPE_CHECKING"):
        assert name not in listed
    assert set(dir(he)) == set(he.__all__)
    assert not any(n.startswith("_") and n != "__version__" for n in listed)


def test_star_import_needs_no_extra(ht):
    namespace: dict[str, object] = {}
    exec("from hetensor import *", namespace)
    assert "Context" in namespace and "matvec" in namespace and "distributed" not in namespace


def test_errors_hierarchy(ht):
    e = ht.errors
    assert issubclass(e.DepthError, (e.HetensorError, ValueError))
    assert issubclass(e.KeyRoleError, e.HetensorError)
    assert issubclass(e.MissingKeyError, LookupError)
    assert issubclass(e.InvalidDtypeError, TypeError)
    assert issubclass(e.BackendUnavailableError, ImportError)


def test_missing_openfhe_gives_clear_error():
    """Where openfhe cannot be imported, the plaintext core still works and HE says why."""
    code = (
        "import sys; sys.modules['openfhe'] = None\n"
        "import hetensor as ht\n"
        "ht._core.packing.plan_vector(3, 8)\n"
        "try:\n"
        "    ht.Context\n"
        "except ht.errors.BackendUnavailableError as err:\n"
        "    print('OK', err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("OK")
    assert "3.10" in out and "3.12" in out


def test_cli_info_no_context():
    out = subprocess.run(
        [sys.executable, "-m", "hetensor", "info", "--no-context", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["hetensor"]


def test_cli_bench_list_and_unknown_filter(ht):
    from hetensor.cli import main

    assert main(["bench", "--list"]) == 0
    assert main(["bench", "--filter", "no-such-case"]) == 1
