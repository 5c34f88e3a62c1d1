"""hetensor: encrypted arrays with NumPy semantics (CKKS through OpenFHE) and native kernels.

The plaintext parts (``hetensor._core``) import on any supported Python. The encrypted layer
(:class:`Context` and friends, in :mod:`hetensor.he`) needs the ``openfhe`` package and is
imported on first use, so a missing ``openfhe`` is reported only when encryption is touched.

Examples
--------
>>> import numpy as np
>>> import hetensor as ht
>>> ctx = ht.Context.ckks(depth=2, insecure=True, ring_dim=2**12)  # doctest: +SKIP
>>> ct = ctx.encrypt(np.array([0.5, -0.25]))                       # doctest: +SKIP
>>> np.round(ctx.decrypt(ct * ct), 4)                              # doctest: +SKIP
array([0.25  , 0.0625])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

try:  # load OpenBLAS (scipy-openblas32) into the process before the extension needs it
    import scipy_openblas32  # noqa: F401
except ImportError:  # pragma: no cover - the wheel's RPATH finds the library anyway
    pass

try:
    from . import _core
except ImportError as err:  # pragma: no cover - only on a broken install
    raise ImportError(
        f"{err}\nhetensor's C++ extension is missing or broken: reinstall with `pip install .`"
    ) from err

from . import cuda, errors, io, linalg, nn, signal
from .io import load, save, save_secret_key

__version__: str = _core.__version__

# Names served lazily from hetensor.he (needs openfhe): every public name of hetensor.he but
# its submodules (tests/test_init.py keeps the two lists equal).
_HE_NAMES = (
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
    "matmul",
    "matvec",
    "mean",
    "openfhe_version",
    "plan_context",
    "polyval",
    "reshape",
    "stack",
    "sum",
    "transpose",
)

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from . import distributed, he  # noqa: F401
    from .he import *  # noqa: F403

__all__ = [
    "__version__",
    "cuda",
    "errors",
    "he",
    "info",
    "io",
    "linalg",
    "load",
    "nn",
    "save",
    "save_secret_key",
    "signal",
    *_HE_NAMES,
]


def __getattr__(name: str) -> Any:
    if name in _HE_NAMES:
        he = importlib.import_module(".he", __name__)
        return getattr(he, name)
    if name in ("he", "distributed"):  # need openfhe / the [distributed] extra
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'hetensor' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API only (not the modules and names this file imports for itself); it
    includes ``distributed``, which ``__all__`` leaves out because it needs an extra."""
    return sorted([*__all__, "distributed"])


def info() -> dict[str, Any]:
    """Versions and build facts of this installation (no context needed).

    Returns
    -------
    dict
        ``hetensor``, ``python``, ``numpy``, ``openfhe`` versions (``openfhe`` is the reason it
        cannot be imported, when it cannot), ``cuda_built``, ``cuda_devices`` and ``blas``.

    Examples
    --------
    >>> import hetensor as ht
    >>> sorted(ht.info())[:3]
    ['blas', 'cuda_built', 'cuda_devices']
    """
    from ._info import build_info

    return build_info()
