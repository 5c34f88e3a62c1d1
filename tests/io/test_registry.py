"""hetensor.io's type registry: several classes under one kind, class-path strings, checks of
what is registered, the built-in kinds under public names, and an import that stays light."""

from __future__ import annotations

import doctest
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import hetensor as ht  # noqa: E402
from hetensor import io as htio  # noqa: E402
from hetensor.io import _registry  # noqa: E402

BUILTIN_KINDS = (
    "ndarray",
    "state_dict",
    "conv2d",
    "recurrent",
    "linear_regression",
    "context",
    "encrypted_array",
    "encrypted_matrix",
    "encrypted_ciphertext",
)


@pytest.fixture
def registry():
    """Restores the registry after the test, so test kinds do not leak into other tests."""
    saved = list(_registry._REGISTRY)
    yield
    _registry._REGISTRY[:] = saved


class Celsius:
    def __init__(self, t):
        self.t = float(t)


def _write_temperature(group, x):
    group.attrs["unit"] = type(x).__name__
    group.attrs["t"] = x.t


def _read_temperature(group, options):
    cls = {"Celsius": Celsius}.get(str(group.attrs["unit"]))
    if cls is None:
        cls = sys.modules["fake_units"].Kelvin
    return cls(group.attrs["t"])


def test_tuple_registration_stores_every_class(tmp_path, registry, monkeypatch):
    htio.register(
        (Celsius, "fake_units:Kelvin"), "test_temperature", _write_temperature, _read_temperature
    )
    ht.save(tmp_path / "c.h5", Celsius(21.5))
    back = ht.load(tmp_path / "c.h5")
    assert type(back) is Celsius and back.t == 21.5
    with h5py.File(tmp_path / "c.h5") as f:
        assert f.attrs["kind"] == "test_temperature"
        assert f.attrs["object_type"] == f"{Celsius.__module__}.Celsius"

    # the class named by a string is matched only once its module has been imported
    units = types.ModuleType("fake_units")
    exec("class Kelvin:\n    def __init__(self, t): self.t = float(t)", units.__dict__)
    kelvin = units.Kelvin(300.0)
    with pytest.raises(TypeError, match=r"cannot store a Kelvin; it stores: .*fake_units\.Kelvin"):
        ht.save(tmp_path / "k.h5", kelvin)
    monkeypatch.setitem(sys.modules, "fake_units", units)
    ht.save(tmp_path / "k.h5", kelvin)
    with h5py.File(tmp_path / "k.h5") as f:
        assert f.attrs["kind"] == "test_temperature"
        assert f.attrs["object_type"] == "fake_units.Kelvin"
    back = ht.load(tmp_path / "k.h5")
    assert type(back) is units.Kelvin and back.t == 300.0


def test_registering_a_kind_again_replaces_it(tmp_path, registry):
    htio.register(Celsius, "test_temperature", _write_temperature, _read_temperature)
    htio.register((Celsius,), "test_temperature", _write_temperature, lambda g, o: "replaced")
    assert [e.name for e in _registry._REGISTRY].count("test_temperature") == 1
    ht.save(tmp_path / "c.h5", Celsius(1.0))
    assert ht.load(tmp_path / "c.h5") == "replaced"


@pytest.mark.parametrize(
    ("cls", "error", "match"),
    [
        ((), ValueError, "at least one class"),
        ("fake_units.Kelvin", ValueError, "module:QualName"),
        (("fake_units:", Celsius), ValueError, "module:QualName"),
        (42, TypeError, "got int"),
        ((Celsius, [Celsius]), TypeError, "got list"),
    ],
    ids=["empty", "no-colon", "no-qualname", "int", "list-in-tuple"],
)
def test_register_rejects_bad_classes(registry, cls, error, match):
    with pytest.raises(error, match=match):
        htio.register(cls, "test_bad", _write_temperature, _read_temperature)
    assert "test_bad" not in _registry.readers()


def test_builtin_kinds_use_public_class_paths():
    classes = {e.name: e.classes for e in _registry._REGISTRY}
    assert classes["recurrent"] == ("hetensor.nn:RNN", "hetensor.nn:LSTM", "hetensor.nn:GRU")
    assert classes["linear_regression"] == (
        "hetensor.linear_model:EncryptedLinearRegression",
        "hetensor.linear_model:GramDescentRegression",
    )
    assert classes["conv2d"] == ("hetensor.nn:Conv2d",)
    assert classes["context"] == ("hetensor.he:Context",)
    for kind, name in [
        ("encrypted_array", "EncryptedArray"),
        ("encrypted_matrix", "EncryptedMatrix"),
        ("encrypted_ciphertext", "Ciphertext"),
    ]:
        assert classes[kind] == (f"hetensor.he:{name}",)
    names = [n for e in _registry._REGISTRY if e.name in BUILTIN_KINDS for n in e.type_names]
    assert not [n for n in names if "._" in n]


def test_class_paths_name_public_classes():
    """Each registered path resolves to a class in its package's public namespace."""
    import importlib

    for entry in _registry._REGISTRY:
        if entry.name not in BUILTIN_KINDS:
            continue
        for spec in entry.classes:
            if not isinstance(spec, str):
                continue
            module, _, name = spec.partition(":")
            try:
                package = importlib.import_module(module)
            except ImportError:  # openfhe or scikit-learn missing here
                continue
            assert name in package.__all__ and isinstance(getattr(package, name), type)


def test_error_lists_storable_public_types(tmp_path):
    with pytest.raises(TypeError) as info:
        ht.save(tmp_path / "o.h5", object())
    message = str(info.value)
    for name in (
        "numpy.ndarray",
        "builtins.dict",
        "hetensor.nn.Conv2d",
        "hetensor.nn.LSTM",
        "hetensor.he.EncryptedArray",
        "hetensor.he.Context",
        "hetensor.linear_model.EncryptedLinearRegression",
    ):
        assert name in message
    for private in ("hetensor.nn._recurrent", "hetensor.linear_model._estimator", "he.array."):
        assert private not in message


def test_recurrent_object_type_is_the_public_class(tmp_path):
    ht.save(tmp_path / "l.h5", ht.nn.LSTM(2, 3, seed=0))
    with h5py.File(tmp_path / "l.h5") as f:
        assert (f.attrs["kind"], f.attrs["object_type"]) == ("recurrent", "hetensor.nn.LSTM")


def test_import_and_plain_save_stay_light(tmp_path):
    """Importing hetensor.io imports neither h5py nor openfhe nor scikit-learn; saving and
    loading a plain array imports h5py only (classes registered by path stay unresolved)."""
    code = textwrap.dedent(
        f"""
        import sys
        import hetensor.io
        heavy = ("h5py", "openfhe", "sklearn", "hetensor.he", "hetensor.linear_model")
        loaded = lambda: [m for m in heavy if m in sys.modules]
        assert not loaded(), loaded()
        import numpy as np
        import hetensor as ht
        ht.save({str(tmp_path / "x.h5")!r}, {{"w": np.arange(3.0)}})
        assert list(ht.load({str(tmp_path / "x.h5")!r})) == ["w"]
        assert loaded() == ["h5py"], loaded()
        print("OK")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "OK"


def test_docstring_examples_run(registry):
    from hetensor.io import _registry as registry_module

    for module in (htio, registry_module):
        assert doctest.testmod(module).failed == 0


def test_plain_regression_model_round_trip(tmp_path):
    """The linear_regression kind, matched by its public class path (the plaintext twin)."""
    pytest.importorskip("sklearn")
    lm = pytest.importorskip("hetensor.linear_model", exc_type=ImportError)
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    model = lm.GramDescentRegression().fit(X, y)
    ht.save(tmp_path / "m.h5", model)
    with h5py.File(tmp_path / "m.h5") as f:
        assert f.attrs["kind"] == "linear_regression"
        assert f.attrs["object_type"] == "hetensor.linear_model.GramDescentRegression"
    back = ht.load(tmp_path / "m.h5")
    assert type(back) is lm.GramDescentRegression
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    with pytest.raises(NotFittedError):  # the save path checks the model is fitted
        ht.save(tmp_path / "u.h5", lm.GramDescentRegression())
    assert not (tmp_path / "u.h5").exists()
