"""CUDA runtime queries (0 devices without a CUDA build)."""

def device_count() -> int:
    """Number of usable CUDA devices; 0 when CUDA was not built or no device/driver exists."""
