"""The encrypted layer: CKKS contexts with key roles and ciphertexts (needs ``openfhe``).

Importing this module raises :class:`hetensor.errors.BackendUnavailableError` (an
``ImportError``) naming the supported Python versions when ``openfhe`` cannot be imported.
"""

from __future__ import annotations

from ._backend import openfhe as _openfhe  # noqa: F401  (fails early with a clear message)
from .ciphertext import Ciphertext
from .context import Context

__all__ = ["Ciphertext", "Context"]
