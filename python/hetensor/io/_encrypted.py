"""Codec for the encrypted layer (:mod:`hetensor.he`): contexts, encrypted objects, keys.

Registers the kinds ``context``, ``encrypted_array``, ``encrypted_matrix`` and
``encrypted_ciphertext``, and defines the ``secret_key`` kind, which only
:func:`hetensor.io.save_secret_key` writes.

Each object is stored as one ``uint8`` dataset, ``envelope``: the checked envelope of
:mod:`hetensor.he.serialize`, with the context's fingerprint as the attribute
``context_fingerprint`` of the same group (the envelope carries it too), so loading with
another context raises ``ContextMismatchError``. The envelope helpers here are shared with
the codecs of models that hold encrypted values. Only the public API of the encrypted layer
is used (``obj.context``, ``obj.to_bytes()``, ``Context.from_bytes``, ``serialize`` /
``deserialize``, ``secret_key_bytes`` / ``with_secret_key``), and only once an object is
stored or loaded: importing this module does not import :mod:`hetensor.he`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import ContextMismatchError
from ._registry import Entry, LoadOptions, register

__all__ = ["SECRET_KEY", "read_envelope", "require_context", "write_envelope"]


def write_envelope(group: Any, data: bytes, fingerprint: str) -> None:
    """Store an envelope as dataset ``envelope`` of ``group`` (Fletcher-32 checksummed).

    Parameters
    ----------
    group : h5py.Group
        Where to store it.
    data : bytes
        The envelope (from ``obj.to_bytes()``, ``ctx.serialize()``, ...).
    fingerprint : str
        The context's fingerprint, stored as the group's ``context_fingerprint`` attribute.
    """
    group.attrs["context_fingerprint"] = fingerprint
    group.create_dataset("envelope", data=np.frombuffer(data, dtype=np.uint8), fletcher32=True)


def read_envelope(group: Any) -> bytes:
    """The envelope stored by :func:`write_envelope` in ``group``.

    Parameters
    ----------
    group : h5py.Group
        The group holding the ``envelope`` dataset.

    Returns
    -------
    bytes
        The envelope, unchecked (the encrypted layer checks it when parsing).
    """
    return bytes(np.asarray(group["envelope"][()], dtype=np.uint8).tobytes())


def require_context(options: LoadOptions, what: str) -> Any:
    """The context passed to :func:`load`, checked against the file's fingerprint.

    Parameters
    ----------
    options : LoadOptions
        The reader's options (``context`` and the root attributes).
    what : str
        What is being loaded, for messages (``"an encrypted object"``, ...).

    Returns
    -------
    Context
        ``options.context``.

    Raises
    ------
    TypeError
        No hetensor ``Context`` was given.
    ContextMismatchError
        The file's root ``context_fingerprint`` names another context.
    """
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
    write_envelope(group, obj.to_bytes(), obj.context.fingerprint)
    group.attrs["shape"] = json.dumps(list(getattr(obj, "shape", ())))


def _read_encrypted(group: Any, options: LoadOptions) -> Any:
    ctx = require_context(options, "an encrypted object")
    return ctx.from_bytes(read_envelope(group), isolate=options.isolate)


def _write_context(group: Any, ctx: Any) -> None:
    write_envelope(group, ctx.serialize(include_secret=False), ctx.fingerprint)


def _read_context(group: Any, options: LoadOptions) -> Any:
    from ..he import Context

    return Context.deserialize(read_envelope(group), isolate=options.isolate)


def _write_secret_key(group: Any, ctx: Any) -> None:
    write_envelope(group, ctx.secret_key_bytes(), ctx.fingerprint)


def _read_secret_key(group: Any, options: LoadOptions) -> Any:
    ctx = require_context(options, "a secret key")
    return ctx.with_secret_key(read_envelope(group), isolate=options.isolate)


SECRET_KEY = Entry("secret_key", ("hetensor.he:Context",), _write_secret_key, _read_secret_key)
"""The ``secret_key`` kind: not registered, so :func:`save` never writes a secret key; written
by :func:`save_secret_key` and read by :func:`load`."""

register("hetensor.he:Context", "context", _write_context, _read_context)
register("hetensor.he:EncryptedArray", "encrypted_array", _write_encrypted, _read_encrypted)
register("hetensor.he:EncryptedMatrix", "encrypted_matrix", _write_encrypted, _read_encrypted)
register("hetensor.he:Ciphertext", "encrypted_ciphertext", _write_encrypted, _read_encrypted)
