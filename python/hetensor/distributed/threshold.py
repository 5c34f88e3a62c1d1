"""Threshold CKKS for several data owners: a re-export of :mod:`hetensor.he.multiparty`.

The protocol is cryptography and lives in the encrypted layer (it needs no Dask); this name
stays so ``hetensor.distributed.threshold`` keeps working beside the Dask transport, fit and
search that use it.
"""

from __future__ import annotations

from ..he import multiparty
from ..he.multiparty import *  # noqa: F403  (exactly the names of multiparty.__all__)

__all__ = list(multiparty.__all__)
