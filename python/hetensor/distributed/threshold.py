"""Threshold CKKS for several data owners: a re-export of :mod:`hetensor.he.multiparty`.

The protocol is cryptography and lives in the encrypted layer (it needs no Dask); this name
stays so ``hetensor.distributed.threshold`` keeps working beside the Dask transport, fit and
search that use it.
"""

from __future__ import annotations

from ..he.multiparty import (
    REFRESH_RESERVE,
    PartialDecryption,
    Party,
    ThresholdRefresh,
    fuse,
    joint_decrypt,
    setup,
)

__all__ = [
    "REFRESH_RESERVE",
    "PartialDecryption",
    "Party",
    "ThresholdRefresh",
    "fuse",
    "joint_decrypt",
    "setup",
]
