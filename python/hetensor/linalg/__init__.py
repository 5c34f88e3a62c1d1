"""Plaintext linear algebra on NumPy / SciPy inputs, computed by hetensor's C++ core.

Examples
--------
>>> import numpy as np
>>> import hetensor as ht
>>> A = np.diag([3.0, -2.0, 1.0, 0.5])
>>> vals, vecs, info = ht.linalg.power_iteration(A, 2, seed=0)
>>> np.round(vals, 6).tolist(), info.converged
([3.0, -2.0], True)
"""

from __future__ import annotations

from ._power_iteration import PowerIterationInfo, power_iteration

__all__ = ["PowerIterationInfo", "power_iteration"]
