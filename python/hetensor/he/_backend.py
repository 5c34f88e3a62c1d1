"""The one place that imports ``openfhe``, with a clear error where it cannot be imported."""

from __future__ import annotations

import platform
import sys
from typing import Any

from ..errors import BackendUnavailableError

SUPPORTED = (
    "OpenFHE's PyPI wheels run on Linux x86_64 with CPython 3.10 (glibc 2.35+, e.g. Ubuntu "
    "22.04 or Debian 12: openfhe==1.6.1.0.22.4) or CPython 3.12 (glibc of Ubuntu 24.04: "
    "openfhe==1.6.1.0.24.4)"
)


def load_openfhe() -> Any:
    """Import and return the ``openfhe`` module, or raise :class:`BackendUnavailableError`."""
    try:
        import openfhe
    except ImportError as err:
        python = f"{platform.python_implementation()} {platform.python_version()}"
        raise BackendUnavailableError(
            f"hetensor's encrypted layer needs the `openfhe` package, which cannot be imported "
            f"on {python} ({sys.platform}): {err}. {SUPPORTED}. Create the environment with "
            "`make test` (it finds Python 3.10), or `pip install hetensor` under a supported "
            "Python. The plaintext kernels (hetensor.linalg, hetensor.nn, ...) work without it."
        ) from err
    return openfhe


openfhe = load_openfhe()


def version() -> str:
    """The version of the ``openfhe`` package in use."""
    return str(getattr(openfhe, "__version__", "unknown"))
