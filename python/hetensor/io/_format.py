"""The hetensor HDF5 file: root attributes, format versions, :func:`save` and :func:`load`.

What an object's datasets look like is its codec's business (the writer and reader registered
for its kind, see :mod:`hetensor.io._registry`); this module writes and checks what every
file has: the root attributes naming the format, its version, the kind and the versions of
the writing software. Files are written atomically (:mod:`hetensor.io._atomic`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .. import _core
from .._extras import require
from ..errors import FormatError
from ._atomic import atomic_path
from ._registry import Entry, LoadOptions, entry_for, readers

__all__ = ["FILE_FORMAT_VERSION", "import_h5py", "load", "save", "save_secret_key"]

FILE_FORMAT_VERSION = 1
_FORMAT_TAG = "hetensor"


def import_h5py() -> Any:
    """Import h5py, or say which extra provides it.

    Returns
    -------
    module
        ``h5py``.

    Raises
    ------
    ImportError
        h5py is not installed.
    """
    require(["h5py"], what="hetensor.save/load")
    import h5py

    return h5py


def _openfhe_version() -> str:
    module = sys.modules.get("openfhe")
    return str(getattr(module, "__version__", "unknown")) if module else "not loaded"


def _check_path(path: Any) -> str:
    """``path`` as a str; ``TypeError`` naming the parameter for anything but str/PathLike."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def _write_file(
    path: Any, entry: Entry, type_name: str, obj: Any, *, private: bool = False
) -> None:
    path = _check_path(path)
    h5py = import_h5py()
    with atomic_path(path, private=private) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = _FORMAT_TAG
            f.attrs["format_version"] = FILE_FORMAT_VERSION
            f.attrs["kind"] = entry.name
            f.attrs["object_type"] = type_name
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
        ``obj`` is of a type hetensor cannot store, or ``path`` is not a str or PathLike.

    Examples
    --------
    >>> import hetensor as ht                                   # doctest: +SKIP
    >>> ht.save("ctx.h5", owner)            # public keys only  # doctest: +SKIP
    >>> ht.save("x.h5", owner.encrypt([1.0, 2.0]))              # doctest: +SKIP
    >>> server = ht.load("ctx.h5")                              # doctest: +SKIP
    >>> x = ht.load("x.h5", context=server)                     # doctest: +SKIP
    """
    entry, type_name = entry_for(obj)
    _write_file(path, entry, type_name, obj)


def save_secret_key(path: str | os.PathLike[str], context: Any) -> None:
    """Save the owner's secret key, alone, to its own file (mode 0600).

    Keep this file with the data owner; never send it to a server. Restore the owner's context
    with ``ht.load(path, context=ht.load(context_path))``.

    Parameters
    ----------
    path : str or PathLike
        Destination file.
    context : Context
        An owner context (one that holds the secret key).

    Raises
    ------
    TypeError
        ``context`` is not a hetensor ``Context``.
    """
    from ..he import Context
    from ._encrypted import SECRET_KEY

    if not isinstance(context, Context):
        raise TypeError(f"expected a hetensor Context, got {type(context).__name__}")
    _write_file(path, SECRET_KEY, SECRET_KEY.type_names[0], context, private=True)


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

    Returns
    -------
    object
        The stored object, rebuilt by the reader registered for the file's kind.

    Raises
    ------
    TypeError
        ``path`` is not a str or PathLike, ``context`` not a Context, ``isolate`` not a bool.
    FormatError
        Not a hetensor HDF5 file, a newer format, or corrupt data.
    ContextMismatchError
        An encrypted object or key from another context.
    """
    from ._encrypted import SECRET_KEY  # at call time: importing this module loads no codec

    path = _check_path(path)
    if context is not None:
        from ..he import Context  # only then: plain arrays load without openfhe

        if not isinstance(context, Context):
            raise TypeError(
                f"context must be a hetensor Context or None, got {type(context).__name__}"
            )
    if not isinstance(isolate, bool):
        raise TypeError(f"isolate must be a bool, got {type(isolate).__name__}")
    h5py = import_h5py()
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
        by_kind = readers()
        by_kind[SECRET_KEY.name] = SECRET_KEY.read  # not in the registry: save never picks it
        if kind not in by_kind:
            raise FormatError(
                f"{path!r} holds a {kind!r}, which this hetensor cannot read "
                "(is the module that registers it imported?)"
            )
        options = LoadOptions(context, bool(isolate), version, attrs)
        try:
            return by_kind[kind](f, options)
        except (KeyError, OSError) as err:  # missing dataset, HDF5 checksum (Fletcher-32)
            raise FormatError(f"{path!r} is corrupt or incomplete: {err}") from err
