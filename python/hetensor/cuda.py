"""Whether this build of hetensor has CUDA kernels and a device to run them on.

Examples
--------
>>> import hetensor as ht
>>> isinstance(ht.cuda.is_available(), bool)
True
"""

from __future__ import annotations

from . import _core

__all__ = ["device_count", "is_available", "is_built", "require"]


def is_built() -> bool:
    """True when the CUDA kernels were compiled into ``hetensor._core``."""
    return bool(_core.has_cuda)


def device_count() -> int:
    """Number of CUDA devices usable by this build (0 without a CUDA build or a device)."""
    return int(_core.cuda.device_count())


def is_available() -> bool:
    """True when CUDA kernels were built and at least one CUDA device is present."""
    return is_built() and device_count() > 0


def require() -> None:
    """Raise ``RuntimeError`` saying why ``device="cuda"`` cannot run here, if it cannot."""
    if not is_built():
        raise RuntimeError(
            "device='cuda' requested but this hetensor build has no CUDA kernels "
            "(rebuild with nvcc on PATH, or HETENSOR_CUDA=ON to make that an error)"
        )
    if device_count() == 0:
        raise RuntimeError("device='cuda' requested but no CUDA device is visible to this process")
