"""Build and version facts shared by ``ht.info()``, ``Context.info()`` and ``hetensor info``."""

from __future__ import annotations

import platform
from typing import Any

import numpy as np

from . import _core, cuda


def openfhe_version() -> str:
    """OpenFHE's version, or why it cannot be imported."""
    try:
        from .he import openfhe_version as version
    except ImportError as err:
        return f"unavailable ({str(err).split('.')[0]})"
    return version()


def build_info() -> dict[str, Any]:
    """Versions of hetensor and its engines, and what this build contains."""
    return {
        "hetensor": _core.__version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "openfhe": openfhe_version(),
        "cuda_built": cuda.is_built(),
        "cuda_devices": cuda.device_count(),
        "blas": _core.blas_config(),
        "blas_threads": _core.blas_num_threads(),
        "simd": _core.simd_isa(),
    }
