"""The encrypted layer: CKKS contexts with key roles and encrypted arrays (needs ``openfhe``).

Importing this module raises :class:`hetensor.errors.BackendUnavailableError` (an
``ImportError``) naming the supported Python versions when ``openfhe`` cannot be imported.
"""

from __future__ import annotations

from . import linear, multiparty
from ._backend import openfhe as _openfhe  # noqa: F401  (fails early with a clear message)
from ._backend import version as openfhe_version
from ._base import Encrypted
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
from ._planner import ContextPlan, Workload, plan_context
from ._resources import ResourceEstimate, estimate_resources
from .array import EncryptedArray
from .ciphertext import Ciphertext
from .context import CKKSParameters, Context
from .dataset import EncryptedDataset
from .keys import KeyPlan
from .matrix import EncryptedMatrix
from .statistics import GramStatistics

__all__ = [
    "CKKSParameters",
    "Ciphertext",
    "Context",
    "ContextPlan",
    "Encrypted",
    "EncryptedArray",
    "EncryptedDataset",
    "EncryptedMatrix",
    "GramStatistics",
    "KeyPlan",
    "ResourceEstimate",
    "Workload",
    "chebyshev",
    "chebyshev_depth",
    "concatenate",
    "dot",
    "estimate_resources",
    "linear",
    "matmul",
    "matvec",
    "mean",
    "multiparty",
    "openfhe_version",
    "plan_context",
    "polyval",
    "reshape",
    "stack",
    "sum",
    "transpose",
]


def __dir__() -> list[str]:
    """The public API only (not the private modules the package imports)."""
    return sorted(__all__)
