"""The wire format: encrypted objects, contexts and secret keys as checked envelopes
(:class:`WireFormat`, the serialization methods of :class:`~hetensor.Context`).

Every payload OpenFHE serializes travels inside the envelope of :mod:`hetensor.he.serialize`
(magic, version, kind, context fingerprint, sections, checksum), which is checked before
OpenFHE parses a byte. What OpenFHE then parses is checked for structure (element count,
level, slots, scale degree and factor) before it is used, and every exception OpenFHE's
bindings raise on bad bytes (:data:`PARSE_ERRORS`) becomes a
:class:`~hetensor.errors.FormatError`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import _core
from ..errors import ContextMismatchError, FormatError
from . import _isolate
from . import serialize as envelope
from ._backend import openfhe as ofhe
from ._base import Encrypted
from ._engine import openfhe_error
from ._keys import KeyRing, setup_bootstrapping
from ._params import CKKSParameters

if TYPE_CHECKING:
    from .context import Context

__all__ = [
    "PARSE_ERRORS",
    "WireFormat",
    "check_ct_structure",
    "context_from_bytes",
    "context_to_bytes",
    "fingerprint",
    "key_sizes",
    "object_from_bytes",
    "object_to_bytes",
    "secret_key_from_bytes",
    "secret_key_to_bytes",
]

# Exceptions OpenFHE's Python bindings raise on bad bytes (pybind11 maps bad_alloc to
# MemoryError, out_of_range to IndexError, ...): all become FormatError on parse.
PARSE_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    RuntimeError,
    MemoryError,
    IndexError,
    OverflowError,
    AttributeError,
)


def _binary() -> Any:
    return ofhe.BINARY


def fingerprint(key_tag: str, params: CKKSParameters) -> bytes:
    """The id of a context's keys and parameters, shared by an owner and its public views."""
    fields = params.to_json()
    if fields["decryption"] == "standard":  # keep fingerprints of older contexts unchanged
        del fields["decryption"], fields["noise_estimate"]
    text = json.dumps({"key": key_tag, "params": fields}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=envelope.FINGERPRINT_BYTES).digest()


# ---------------------------------------------------------------------- encrypted objects
def _kinds() -> dict[str, type[Encrypted]]:
    """Wire kind -> encrypted type (every subclass of Encrypted names its kind)."""
    out: dict[str, type[Encrypted]] = {}
    todo = list(Encrypted.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "_kind" in cls.__dict__:
            out[cls._kind] = cls
    return out


def object_to_bytes(ctx: Context, obj: Encrypted) -> bytes:
    """``obj`` (checked compatible with ``ctx``) in an envelope of its kind."""
    meta = {**obj._wire_meta(), "bound": obj._bound}  # public, like the shape
    sections = {"meta": json.dumps(meta).encode()}
    try:
        for i, ct in enumerate(obj._cts):
            sections[f"ct{i}"] = ofhe.Serialize(ct, _binary())
    except RuntimeError as err:
        raise openfhe_error(err, "serializing a ciphertext") from err
    return envelope.pack(obj._kind, ctx._fingerprint, sections)


def object_from_bytes(ctx: Context, data: bytes, *, isolate: bool = False) -> Encrypted:
    """Rebuild an encrypted object made under ``ctx`` (see :meth:`Context.from_bytes`)."""
    kinds = _kinds()
    kind = envelope.peek_kind(data)
    if kind not in kinds:
        raise FormatError(f"expected serialized ciphertext, array or matrix, got {kind}")
    _, sections = envelope.unpack(data, kind, ctx._fingerprint)
    if isolate:
        _isolate.check_untrusted(data, ctx)
    try:
        meta = json.loads(sections["meta"])
        n_cts = sum(1 for name in sections if name.startswith("ct"))
        cts = [
            ofhe.DeserializeCiphertextString(sections[f"ct{i}"], _binary()) for i in range(n_cts)
        ]
        if not cts:
            raise ValueError("no ciphertext in the data")
        obj = kinds[kind]._from_wire(ctx, cts, meta)
        for ct in cts:
            check_ct_structure(ct, ctx._params)
    except PARSE_ERRORS as err:
        raise FormatError(f"corrupt serialized {kind}: {err}") from err
    if any(ct.GetKeyTag() != ctx._keys.tag for ct in cts):
        raise ContextMismatchError("ciphertext was encrypted under another key")
    return obj


def check_ct_structure(ct: Any, params: CKKSParameters) -> None:
    """Reject parsed ciphertexts that do not fit a context of ``params`` (ValueError)."""
    n_elems = int(ct.NumberCiphertextElements())
    level = int(ct.GetLevel())
    if n_elems != 2:
        raise ValueError(f"ciphertext has {n_elems} elements (expected 2, relinearized)")
    if not 0 <= level <= params.total_depth:
        raise ValueError(f"ciphertext level {level} outside [0, {params.total_depth}]")
    if int(ct.GetSlots()) != params.slots:
        raise ValueError(f"ciphertext has {ct.GetSlots()} slots, context {params.slots}")
    deg = int(ct.GetNoiseScaleDeg())
    if not 1 <= deg <= 2:
        raise ValueError(f"ciphertext scale degree {deg} is invalid")
    scale = float(ct.GetScalingFactor())
    if not np.isfinite(scale) or not 2.0**10 < scale < 2.0 ** (2 * 61):
        raise ValueError(f"ciphertext scaling factor {scale:g} is invalid")


# ---------------------------------------------------------------------- contexts and keys
def context_to_bytes(ctx: Context, *, include_secret: bool) -> bytes:
    """See :meth:`Context.serialize`."""
    keys = ctx._keys
    meta = {
        "params": ctx._params.to_json(),
        "rotations": sorted(keys.rotations),
        "bootstrap_ready": keys.bootstrap_ready,
        "hetensor": _core.__version__,
        "openfhe": getattr(ofhe, "__version__", "unknown"),
    }
    sections: dict[str, bytes] = {"meta": json.dumps(meta).encode()}
    try:
        sections["cryptocontext"] = ofhe.Serialize(ctx._cc, _binary())
        sections["public_key"] = ofhe.Serialize(keys.public_key, _binary())
        sections["mult_key"] = ofhe.SerializeEvalMultKeyString(_binary(), keys.tag)
        if keys.rotations or keys.bootstrap_ready:
            sections["rotation_keys"] = ofhe.SerializeEvalAutomorphismKeyString(_binary(), keys.tag)
        if include_secret:
            sk = keys.require_secret("serialize the secret key")
            sections["secret_key"] = ofhe.Serialize(sk, _binary())
    except RuntimeError as err:
        raise openfhe_error(err, "serializing the context") from err
    return envelope.pack("context", ctx._fingerprint, sections)


def context_from_bytes(
    data: bytes, *, isolate: bool = False
) -> tuple[Any, CKKSParameters, KeyRing, bytes]:
    """Crypto context, parameters and keys from :func:`context_to_bytes` output, with the
    fingerprint the envelope claims (the caller checks it against the rebuilt context)."""
    claimed, sections = envelope.unpack(data, "context")
    if isolate:
        _isolate.check_untrusted(data)
    try:
        meta = json.loads(sections["meta"])
        params = CKKSParameters.from_json(meta["params"])
        cc = ofhe.DeserializeCryptoContextString(sections["cryptocontext"], _binary())
        public_key = ofhe.DeserializePublicKeyString(sections["public_key"], _binary())
        # OpenFHE keeps evaluation keys in process-wide tables keyed by the key tag; in the
        # process that made them (or loaded them before) they are already there.
        if public_key.GetKeyTag() not in cc.GetAllEvalMultKeys():
            ofhe.DeserializeEvalMultKeyString(sections["mult_key"], _binary())
        if "rotation_keys" in sections:
            ofhe.DeserializeEvalAutomorphismKeyString(sections["rotation_keys"], _binary())
        secret_key = None
        if "secret_key" in sections:
            secret_key = ofhe.DeserializePrivateKeyString(sections["secret_key"], _binary())
        ready = bool(meta.get("bootstrap_ready"))
        if params.bootstrapping and ready:
            cc.Enable(ofhe.PKESchemeFeature.FHE)
            setup_bootstrapping(cc, params.level_budget, params.bootstrap_slots or params.slots)
    except PARSE_ERRORS as err:
        raise FormatError(f"corrupt serialized context: {err}") from err
    keys = KeyRing(cc, public_key, secret_key, meta.get("rotations", ()), ready)
    return cc, params, keys, claimed


def secret_key_to_bytes(ctx: Context) -> bytes:
    """See :meth:`Context.secret_key_bytes`."""
    sk = ctx._keys.require_secret("serialize the secret key")
    try:
        payload = ofhe.Serialize(sk, _binary())
    except RuntimeError as err:
        raise openfhe_error(err, "serializing the secret key") from err
    return envelope.pack("secret_key", ctx._fingerprint, {"secret_key": payload})


def secret_key_from_bytes(ctx: Context, data: bytes, *, isolate: bool = False) -> Any:
    """The secret key in ``data``, checked to belong to ``ctx``."""
    _, sections = envelope.unpack(data, "secret_key", ctx._fingerprint)
    if isolate:
        _isolate.check_untrusted(data)
    try:
        sk = ofhe.DeserializePrivateKeyString(sections["secret_key"], _binary())
    except PARSE_ERRORS as err:
        raise FormatError(f"corrupt serialized secret key: {err}") from err
    if sk.GetKeyTag() != ctx._keys.tag:
        raise ContextMismatchError("this secret key belongs to another context")
    return sk


def key_sizes(keys: KeyRing) -> dict[str, int]:
    """Serialized size in bytes of each key ``keys`` holds (serializes them)."""
    b = _binary()
    sizes = {
        "public_key": len(ofhe.Serialize(keys.public_key, b)),
        "relinearization_key": len(ofhe.SerializeEvalMultKeyString(b, keys.tag)),
    }
    if keys.rotations or keys.bootstrap_ready:
        sizes["rotation_keys"] = len(ofhe.SerializeEvalAutomorphismKeyString(b, keys.tag))
    if keys.secret_key is not None:
        sizes["secret_key"] = len(ofhe.Serialize(keys.secret_key, b))
    return sizes


# Only Context inherits this facet, so ``self`` is a Context: the methods pass it on as one
# with ``cast("Context", self)``.
class WireFormat:
    """The serialization methods of :class:`~hetensor.Context` (a facet of it: Context
    inherits them; they use its crypto context, parameters, keys and fingerprint)."""

    if TYPE_CHECKING:
        _cc: Any
        _params: CKKSParameters
        _keys: KeyRing
        _fingerprint: bytes

        def __init__(self, *, _state: tuple[Any, CKKSParameters, KeyRing]) -> None: ...

        def _check_compatible(self, obj: Any) -> None: ...

        def _with_keys(self, keys: KeyRing) -> Context: ...

    def to_bytes(self, obj: Any) -> bytes:
        """Serialize an encrypted object into a checked envelope (:mod:`.serialize`)."""
        self._check_compatible(obj)
        return object_to_bytes(cast("Context", self), obj)

    def from_bytes(self, data: bytes, *, isolate: bool = False) -> Any:
        """Deserialize an encrypted object made under this context (or a compatible one).

        With ``isolate=True`` (for bytes from untrusted parties) OpenFHE first parses the
        payload in a child process (:mod:`hetensor.he._isolate`), so a payload that would
        crash OpenFHE raises :class:`~hetensor.errors.FormatError` instead.

        Raises
        ------
        FormatError
            Corrupt, truncated or non-ciphertext bytes.
        ContextMismatchError
            The object belongs to another context.
        """
        return object_from_bytes(cast("Context", self), data, isolate=isolate)

    def receive(self, obj: Any) -> Any:
        """Re-bind an encrypted object to this context, through bytes as over a network."""
        return self.from_bytes(obj.context.to_bytes(obj))

    def serialize(self, *, include_secret: bool = False) -> bytes:
        """Serialize the context with its public and evaluation keys.

        Parameters
        ----------
        include_secret : bool, default False
            Also write the secret key (owner only). Never send that to a server.
        """
        return context_to_bytes(cast("Context", self), include_secret=include_secret)

    @classmethod
    def deserialize(cls, data: bytes, *, isolate: bool = False) -> Context:
        """Rebuild a context from :meth:`serialize` output.

        The result is an owner context if the bytes hold the secret key, otherwise public.
        ``isolate=True`` parses untrusted bytes in a child process first (see
        :meth:`from_bytes`).
        """
        cc, params, keys, claimed = context_from_bytes(data, isolate=isolate)
        ctx = cast("Context", cls(_state=(cc, params, keys)))
        if ctx._fingerprint != claimed:
            raise FormatError("serialized context is inconsistent: fingerprint mismatch")
        return ctx

    def secret_key_bytes(self) -> bytes:
        """The secret key alone, in a checked envelope of kind ``"secret_key"`` (owner only).

        See :func:`hetensor.io.save_secret_key`; restore with :meth:`with_secret_key`.
        """
        return secret_key_to_bytes(cast("Context", self))

    def with_secret_key(self, data: bytes, *, isolate: bool = False) -> Context:
        """The owner's context: this (public) context plus the secret key in ``data``.

        Raises
        ------
        ContextMismatchError
            The key belongs to another context.
        FormatError
            Corrupt bytes.

        Examples
        --------
        >>> public = Context.deserialize(owner.serialize())           # doctest: +SKIP
        >>> again = public.with_secret_key(owner.secret_key_bytes())  # doctest: +SKIP
        >>> again.role                                                # doctest: +SKIP
        'owner'
        """
        secret = secret_key_from_bytes(cast("Context", self), data, isolate=isolate)
        return self._with_keys(self._keys.view(secret_key=secret))

    def key_sizes(self) -> dict[str, int]:
        """Serialized size in bytes of each key this context holds (serializes them)."""
        return key_sizes(self._keys)
