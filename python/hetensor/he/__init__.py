"""The encrypted layer: CKKS contexts with key roles and encrypted arrays (needs ``openfhe``).

Importing this module raises :class:`hetensor.errors.BackendUnavailableError` (an
``ImportError``) naming the supported Python versions when ``openfhe`` cannot be imported.
"""

from __future__ import annotations

from ._backend import openfhe as _openfhe  # noqa: F401  (fails early with a clear message)
from ._functions import (
    chebyshev,
    chebyshev_depth,
    concatenate,
    dot,
    matmul,
    matvec,
    mean,
    polyval,
    reshape,
    stack,
    sum,
    transpose,
)
from .array import EncryptedArray
from .ciphertext import Ciphertext
from .context import CKKSParameters, Context
from .keys import KeyPlan
from .matrix import EncryptedMatrix

__all__ = [
    "CKKSParameters",
    "Ciphertext",
    "Context",
    "EncryptedArray",
    "EncryptedMatrix",
    "KeyPlan",
    "chebyshev",
    "chebyshev_depth",
    "concatenate",
    "dot",
    "matmul",
    "matvec",
    "mean",
    "polyval",
    "reshape",
    "stack",
    "sum",
    "transpose",
]
