"""Neural-network layers and functional kernels on NumPy arrays.

Example
-------
>>> import numpy as np
>>> import hetensor as ht
>>> layer = ht.nn.Conv2d(3, 8, 3, padding=1, rng=0)
>>> layer(np.zeros((2, 3, 16, 16), dtype=np.float32)).shape
(2, 8, 16, 16)
"""

from __future__ import annotations

from . import functional
from .conv import Conv2d

__all__ = ["Conv2d", "functional"]
