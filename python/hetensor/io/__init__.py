"""Saving and loading hetensor objects as HDF5 files (``ht.save`` / ``ht.load``).

One object per file. The file's root attributes say what it holds and who wrote it::

    format           "hetensor"
    format_version   FILE_FORMAT_VERSION (files from a newer hetensor are refused)
    kind             registry name: "encrypted", "context", "secret_key", "conv2d",
                     "ndarray", "state_dict", ...
    hetensor_version, openfhe_version, h5py_version, object_type

Encrypted objects and contexts are stored as one ``uint8`` dataset, ``envelope``, holding the
checked envelope of :mod:`hetensor.he.serialize` (magic, format version, kind, context
fingerprint, sections, BLAKE2b checksum), so the bytes OpenFHE parses are checked twice: by
HDF5's Fletcher-32 filter and by the envelope's checksum. Plain arrays are stored as
datasets (Fletcher-32 checksummed where HDF5 allows, i.e. non-empty arrays of rank >= 1).

Writes are atomic (:mod:`hetensor.io._atomic`): a crash mid-save never leaves a truncated file
where a good one was. h5py is imported on first use: ``pip install 'hetensor[io]'``.

New object types plug in with :func:`register` (a writer and a reader); see the README.

Example
-------
>>> import numpy as np, os, tempfile
>>> import hetensor as ht
>>> path = os.path.join(tempfile.mkdtemp(), "weights.h5")
>>> ht.save(path, {"w": np.arange(3.0), "b": np.float64(0.5)})
>>> ht.load(path)["w"]
array([0., 1., 2.])
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from ..errors import ContextMismatchError, FormatError, InvalidDtypeError
from ._atomic import atomic_path

__all__ = ["FILE_FORMAT_VERSION", "LoadOptions", "load", "register", "save", "save_secret_key"]

FILE_FORMAT_VERSION = 1
_FORMAT_TAG = "hetensor"


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - the io extra is installed in tests
        raise ImportError(
            "hetensor.save/load need h5py: pip install 'hetensor[io]' (or pip install h5py)"
        ) from err
    return h5py


@dataclass(frozen=True)
class LoadOptions:
    """What a reader gets besides the HDF5 group.

    Attributes
    ----------
    context : Context or None
        The context passed to :func:`load` (needed for encrypted objects and secret keys).
    isolate : bool
        Deserialize untrusted OpenFHE bytes in a child process first (see
        :meth:`hetensor.Context.from_bytes`).
    format_version : int
        The file's format version (<= FILE_FORMAT_VERSION), for readers of older layouts.
    attrs : dict
        All root attributes of the file.
    """

    context: Any
    isolate: bool
    format_version: int
    attrs: Mapping[str, Any]


Writer = Callable[[Any, Any], None]  # (h5py group, object) -> None
Reader = Callable[[Any, LoadOptions], Any]  # (h5py group, options) -> object


@dataclass(frozen=True)
class _Entry:
    name: str
    cls: type | str  # a class, or "module:QualName" resolved only once the module is imported
    write: Writer
    read: Reader

    def matches(self, obj: Any) -> bool:
        cls = self.cls
        if isinstance(cls, str):
            module, _, qualname = cls.partition(":")
            if module not in sys.modules:  # not imported: obj cannot be an instance
                return False
            cls = getattr(sys.modules[module], qualname)
        return isinstance(obj, cls)

    @property
    def type_name(self) -> str:
        if isinstance(self.cls, str):
            return self.cls.replace(":", ".")
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


_REGISTRY: list[_Entry] = []


def register(cls: type | str, name: str, write: Writer, read: Reader) -> None:
    """Teach :func:`save` / :func:`load` a new object type.

    Parameters
    ----------
    cls : type or str
        The class (instances of subclasses match too), or ``"module:QualName"`` to avoid
        importing the module here. Later registrations take precedence.
    name : str
        The ``kind`` stored in the file; must be unique and stable across versions.
    write : callable ``(group, obj) -> None``
        Stores ``obj`` in an ``h5py.Group`` (datasets, subgroups, JSON-able attributes).
    read : callable ``(group, options) -> obj``
        Rebuilds the object; ``options`` is a :class:`LoadOptions`.

    Example
    -------
    >>> import numpy as np
    >>> from hetensor import io
    >>> class Scaler:
    ...     def __init__(self, mean): self.mean = np.asarray(mean)
    >>> io.register(Scaler, "doc_scaler",
    ...             lambda g, s: g.create_dataset("mean", data=s.mean),
    ...             lambda g, opts: Scaler(g["mean"][()]))
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"kind name must be an identifier, got {name!r}")
    _REGISTRY[:] = [e for e in _REGISTRY if e.name != name]
    _REGISTRY.append(_Entry(name, cls, write, read))


def _entry_for(obj: Any) -> _Entry:
    for entry in reversed(_REGISTRY):
        if entry.matches(obj):
            return entry
    known = ", ".join(sorted(e.type_name for e in _REGISTRY))
    raise TypeError(f"hetensor.save cannot store a {type(obj).__name__}; it stores: {known}")


def _openfhe_version() -> str:
    module = sys.modules.get("openfhe")
    return str(getattr(module, "__version__", "unknown")) if module else "not loaded"


def _write_file(path: Any, entry: _Entry, obj: Any, *, private: bool = False) -> None:
    h5py = _h5py()
    with atomic_path(path, private=private) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = _FORMAT_TAG
            f.attrs["format_version"] = FILE_FORMAT_VERSION
            f.attrs["kind"] = entry.name
            f.attrs["object_type"] = entry.type_name
            f.attrs["hetensor_version"] = _core.__version__
            f.attrs["openfhe_version"] = _openfhe_version()
            f.attrs["h5py_version"] = h5py.__version__
            entry.write(f, obj)
            f.flush()


def save(path: str | os.PathLike[str], obj: Any) -> None:
    """Save one object to an HDF5 file, atomically (replacing ``path`` if it exists).

    Parameters
    ----------
    path : str or PathLike
        Destination file (conventionally ``.h5``).
    obj : object
        An ``EncryptedArray``, ``EncryptedMatrix`` or ``Ciphertext`` (with its context's
        fingerprint, no keys); a ``Context`` (public and evaluation keys only: the secret key
        is never written here, see :func:`save_secret_key`); a ``hetensor.nn.Conv2d``; a NumPy
        array; or a dict of arrays (a state dict; nested dicts become groups). More types
        plug in with :func:`register`.

    Raises
    ------
    TypeError
        ``obj`` is of a type hetensor cannot store.

    Example
    -------
    >>> import hetensor as ht                                   # doctest: +SKIP
    >>> ht.save("ctx.h5", owner)            # public keys only  # doctest: +SKIP
    >>> ht.save("x.h5", owner.encrypt([1.0, 2.0]))              # doctest: +SKIP
    >>> server = ht.load("ctx.h5")                              # doctest: +SKIP
    >>> x = ht.load("x.h5", context=server)                     # doctest: +SKIP
    """
    _write_file(path, _entry_for(obj), obj)


def save_secret_key(path: str | os.PathLike[str], context: Any) -> None:
    """Save the owner's secret key, alone, to its own file (mode 0600).

    Keep this file with the data owner; never send it to a server. Restore the owner's context
    with ``ht.load(path, context=ht.load(context_path))``.
    """
    from ..he import Context

    if not isinstance(context, Context):
        raise TypeError(f"expected a hetensor Context, got {type(context).__name__}")
    entry = _Entry("secret_key", Context, _write_secret_key, _read_secret_key)
    _write_file(path, entry, context, private=True)


def load(path: str | os.PathLike[str], context: Any = None, *, isolate: bool = False) -> Any:
    """Load an object saved with :func:`save` (or :func:`save_secret_key`).

    Parameters
    ----------
    path : str or PathLike
        The file.
    context : Context, optional
        Required for encrypted objects (which must belong to it: same keys and parameters)
        and for secret-key files (the public context the key belongs to).
    isolate : bool, default False
        For files from untrusted sources: let OpenFHE parse the bytes in a child process
        first, so a payload that would crash OpenFHE raises ``FormatError`` instead.

    Raises
    ------
    FormatError
        Not a hetensor HDF5 file, a newer format, or corrupt data.
    ContextMismatchError
        An encrypted object or key from another context.
    """
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise FormatError(f"{path!r} is not a readable HDF5 file: {err}") from err
    with f:
        attrs = dict(f.attrs)
        if attrs.get("format") != _FORMAT_TAG:
            raise FormatError(f"{path!r} is an HDF5 file but not one written by hetensor.save")
        version = int(attrs.get("format_version", -1))
        if version > FILE_FORMAT_VERSION:
            raise FormatError(
                f"{path!r} has hetensor file format {version}, newer than this hetensor "
                f"({_core.__version__}) reads ({FILE_FORMAT_VERSION}); written by hetensor "
                f"{attrs.get('hetensor_version', '?')}: upgrade hetensor"
            )
        if version < 1:
            raise FormatError(f"{path!r} has an invalid format version {version}")
        kind = str(attrs.get("kind", ""))
        readers = {e.name: e.read for e in _REGISTRY}
        readers["secret_key"] = _read_secret_key
        if kind not in readers:
            raise FormatError(
                f"{path!r} holds a {kind!r}, which this hetensor cannot read "
                "(is the module that registers it imported?)"
            )
        options = LoadOptions(context, bool(isolate), version, attrs)
        try:
            return readers[kind](f, options)
        except (KeyError, OSError) as err:  # missing dataset, HDF5 checksum (Fletcher-32)
            raise FormatError(f"{path!r} is corrupt or incomplete: {err}") from err


# ---------------------------------------------------------------------- arrays, state dicts
def _checked_array(value: Any, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise InvalidDtypeError(
            f"{where}: cannot save an array of dtype {arr.dtype} (numbers and booleans only)"
        )
    return arr


def _write_array(group: Any, name: str, value: Any, where: str) -> None:
    arr = _checked_array(value, where)
    checksum = arr.ndim >= 1 and arr.size > 0
    group.create_dataset(name, data=arr, fletcher32=checksum)


def _read_array(dataset: Any) -> np.ndarray:
    return np.asarray(dataset[()])


def _write_ndarray(group: Any, arr: np.ndarray) -> None:
    _write_array(group, "array", arr, "array")


def _read_ndarray(group: Any, options: LoadOptions) -> np.ndarray:
    return _read_array(group["array"])


def _write_state(group: Any, state: Mapping[Any, Any], where: str = "state") -> None:
    """Entries are stored under index names with the key as an attribute, so any key (with
    slashes, dots, spaces) round-trips exactly (cf. the '/' trouble in seed note 001)."""
    g = group.create_group("state")
    for i, (key, value) in enumerate(state.items()):
        if not isinstance(key, str):
            raise TypeError(f"{where}: state dict keys must be str, got {type(key).__name__}")
        name = f"e{i}"
        if isinstance(value, Mapping):
            sub = g.create_group(name)
            _write_state(sub, value, f"{where}[{key!r}]")
        else:
            _write_array(g, name, value, f"{where}[{key!r}]")
        g[name].attrs["key"] = key


def _read_state(group: Any, options: LoadOptions | None = None) -> dict[str, Any]:
    g = group["state"]
    out: dict[str, Any] = {}
    for name in sorted(g, key=lambda n: int(n[1:])):
        item = g[name]
        key = str(item.attrs["key"])
        out[key] = _read_state(item) if isinstance(item, _h5py().Group) else _read_array(item)
    return out


# ---------------------------------------------------------------------- Conv2d
def _write_conv2d(group: Any, conv: Any) -> None:
    config = {
        "in_channels": conv.in_channels,
        "out_channels": conv.out_channels,
        "kernel_size": list(conv.kernel_size),
        "stride": list(conv.stride),
        "padding": list(conv.padding) if isinstance(conv.padding, tuple) else conv.padding,
        "dilation": list(conv.dilation),
        "groups": conv.groups,
        "bias": conv.bias is not None,
        "dtype": str(conv.weight.dtype),
        "device": conv.device,
    }
    group.attrs["config"] = json.dumps(config)
    _write_state(group, conv.state_dict())


def _read_conv2d(group: Any, options: LoadOptions) -> Any:
    from ..nn import Conv2d

    config = json.loads(group.attrs["config"])
    for key in ("kernel_size", "stride", "dilation", "padding"):
        if isinstance(config[key], list):
            config[key] = tuple(config[key])
    try:
        conv = Conv2d(**config)
        conv.load_state_dict(_read_state(group))
    except (TypeError, ValueError) as err:
        raise FormatError(f"corrupt Conv2d file: {err}") from err
    return conv


# ---------------------------------------------------------------------- RNN / LSTM / GRU
_RECURRENT_OPTIONS = ("nonlinearity", "output_size", "peepholes", "coupled_input_forget")


def _write_recurrent(group: Any, layer: Any) -> None:
    config = {
        "class": type(layer).__name__,
        "input_size": layer.input_size,
        "hidden_size": layer.hidden_size,
        "num_layers": layer.num_layers,
        "bias": layer.bias,
        "batch_first": layer.batch_first,
        "bidirectional": layer.bidirectional,
        "dtype": str(layer.dtype),
    }
    config.update({k: getattr(layer, k) for k in _RECURRENT_OPTIONS if hasattr(layer, k)})
    group.attrs["config"] = json.dumps(config)
    _write_state(group, layer.state_dict())


def _read_recurrent(group: Any, options: LoadOptions) -> Any:
    from .. import nn

    try:
        config = json.loads(group.attrs["config"])
        cls = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[config.pop("class")]
        layer = cls(**config)
        layer.load_state_dict(_read_state(group))
    except (KeyError, TypeError, ValueError) as err:
        raise FormatError(f"corrupt recurrent-layer file: {err}") from err
    return layer


# ---------------------------------------------------------------------- regression models
_FITTED = ("n_features_in_", "n_iter_", "n_refreshes_")


def _write_regression(group: Any, model: Any) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    group.attrs["class"] = type(model).__name__
    group.attrs["params"] = json.dumps(model.get_params())
    group.attrs["fitted"] = json.dumps({k: getattr(model, k) for k in _FITTED if hasattr(model, k)})
    for name in ("coef_", "intercept_"):
        value = getattr(model, name)
        sub = group.create_group(name)
        if isinstance(value, (int, float, np.ndarray)):
            sub.create_dataset("plain", data=np.asarray(value, dtype=np.float64))
        else:  # encrypted: the checked envelope of its context
            _write_envelope(sub, value._ctx.to_bytes(value), value._ctx.fingerprint)


def _read_regression(group: Any, options: LoadOptions) -> Any:
    from .. import linear_model

    encrypted = [n for n in ("coef_", "intercept_") if n in group and "envelope" in group[n]]
    ctx = _require_context(options, "an encrypted model") if encrypted else None
    for name in encrypted:
        stored = str(group[name].attrs.get("context_fingerprint", ""))
        if stored != ctx.fingerprint:
            raise ContextMismatchError(
                f"this model's {name} belongs to another context (fingerprint {stored[:12]}..., "
                f"the given context is {ctx.fingerprint[:12]}...)"
            )
    try:
        cls = {
            "EncryptedLinearRegression": linear_model.EncryptedLinearRegression,
            "GramDescentRegression": linear_model.GramDescentRegression,
        }[str(group.attrs["class"])]
        model = cls(**json.loads(group.attrs["params"]))
        for key, value in json.loads(group.attrs["fitted"]).items():
            setattr(model, key, value)
        for name in ("coef_", "intercept_"):
            if name in encrypted:
                value = ctx.from_bytes(_read_envelope(group[name]), isolate=options.isolate)
            else:
                value = group[name]["plain"][()]
                value = float(value) if np.ndim(value) == 0 else np.asarray(value)
            setattr(model, name, value)
    except (KeyError, TypeError, ValueError) as err:
        raise FormatError(f"corrupt regression-model file: {err}") from err
    return model


# ---------------------------------------------------------------------- encrypted objects
def _write_envelope(group: Any, data: bytes, fingerprint: str) -> None:
    group.attrs["context_fingerprint"] = fingerprint
    group.create_dataset("envelope", data=np.frombuffer(data, dtype=np.uint8), fletcher32=True)


def _read_envelope(group: Any) -> bytes:
    return bytes(np.asarray(group["envelope"][()], dtype=np.uint8).tobytes())


def _require_context(options: LoadOptions, what: str) -> Any:
    from ..he import Context

    ctx = options.context
    if not isinstance(ctx, Context):
        raise TypeError(
            f"loading {what} needs context=<the hetensor Context it belongs to>, "
            f"got {type(ctx).__name__}"
        )
    stored = str(options.attrs.get("context_fingerprint", ""))
    if stored and stored != ctx.fingerprint:
        raise ContextMismatchError(
            f"this file's {what} belongs to another context (fingerprint {stored[:12]}..., "
            f"the given context is {ctx.fingerprint[:12]}...)"
        )
    return ctx


def _write_encrypted(group: Any, obj: Any) -> None:
    ctx = obj._ctx
    _write_envelope(group, ctx.to_bytes(obj), ctx.fingerprint)
    group.attrs["shape"] = json.dumps(list(getattr(obj, "shape", ())))


def _read_encrypted(group: Any, options: LoadOptions) -> Any:
    ctx = _require_context(options, "an encrypted object")
    return ctx.from_bytes(_read_envelope(group), isolate=options.isolate)


def _write_context(group: Any, ctx: Any) -> None:
    _write_envelope(group, ctx.serialize(include_secret=False), ctx.fingerprint)


def _read_context(group: Any, options: LoadOptions) -> Any:
    from ..he import Context

    return Context.deserialize(_read_envelope(group), isolate=options.isolate)


def _write_secret_key(group: Any, ctx: Any) -> None:
    _write_envelope(group, ctx.secret_key_bytes(), ctx.fingerprint)


def _read_secret_key(group: Any, options: LoadOptions) -> Any:
    ctx = _require_context(options, "a secret key")
    return ctx.with_secret_key(_read_envelope(group), isolate=options.isolate)


register(np.ndarray, "ndarray", _write_ndarray, _read_ndarray)
register(dict, "state_dict", lambda g, d: _write_state(g, d), _read_state)
register("hetensor.nn.conv:Conv2d", "conv2d", _write_conv2d, _read_conv2d)
register("hetensor.nn._recurrent:_Recurrent", "recurrent", _write_recurrent, _read_recurrent)
register(
    "hetensor.linear_model._estimator:_Params",
    "linear_regression",
    _write_regression,
    _read_regression,
)
register("hetensor.he.context:Context", "context", _write_context, _read_context)
for _cls in ("array:EncryptedArray", "matrix:EncryptedMatrix", "ciphertext:Ciphertext"):
    register(
        f"hetensor.he.{_cls}",
        f"encrypted_{_cls.partition(':')[0]}",
        _write_encrypted,
        _read_encrypted,
    )
