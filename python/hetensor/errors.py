"""Exceptions raised by hetensor.

Every error hetensor raises on purpose derives from :class:`HetensorError` and also from the
built-in class a NumPy user would expect (``ValueError`` for bad values, ``TypeError`` for bad
types, ``LookupError`` for a missing key, ...), so both ``except HetensorError`` and the
familiar built-in ``except`` clauses work. The C++ core raises the same classes.

Examples
--------
>>> import hetensor as ht
>>> issubclass(ht.errors.DepthError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "CapacityError",
    "ContextMismatchError",
    "ConvergenceWarning",
    "DepthError",
    "FormatError",
    "HetensorError",
    "InsecureParametersError",
    "InsecureParametersWarning",
    "InvalidDtypeError",
    "KeyRoleError",
    "MissingKeyError",
    "NonFiniteError",
    "OpenFHEError",
    "ResourceError",
]


class HetensorError(Exception):
    """Base class of every error hetensor raises on purpose."""


class InvalidDtypeError(HetensorError, TypeError):
    """Input of a dtype hetensor cannot encrypt or compute with (complex, object, str...)."""


class NonFiniteError(HetensorError, ValueError):
    """Input holds NaN or infinity where finite numbers are required."""


class CapacityError(HetensorError, ValueError):
    """Data does not fit where it must go (e.g. more elements than a ciphertext has slots)."""


class DepthError(HetensorError, ValueError):
    """An operation needs more multiplicative levels than the ciphertext has left."""


class KeyRoleError(HetensorError, PermissionError):
    """An operation needs the secret key but the context does not hold it (compute side)."""


class MissingKeyError(HetensorError, LookupError):
    """An evaluation key (rotation, relinearization, bootstrapping) has not been generated."""


class ContextMismatchError(HetensorError, ValueError):
    """A ciphertext or key belongs to a different context (other keys or parameters)."""


class FormatError(HetensorError, ValueError):
    """Serialized bytes are corrupt, truncated, of the wrong kind or of an unknown format."""


class InsecureParametersError(HetensorError, ValueError):
    """Parameters below the requested security level, without ``insecure=True``."""


class OpenFHEError(HetensorError, RuntimeError):
    """OpenFHE rejected an operation; the message carries OpenFHE's own words."""


class ResourceError(HetensorError, MemoryError):
    """A context or its keys would not fit the memory budget; refused before allocating."""


class BackendUnavailableError(HetensorError, ImportError):
    """The encrypted layer needs the ``openfhe`` package, which cannot be imported here."""


class InsecureParametersWarning(UserWarning):
    """Issued whenever a context is created with ``insecure=True`` (tests only)."""


class ConvergenceWarning(UserWarning):
    """An iterative kernel stopped at its iteration limit before meeting its tolerance."""
