"""Signal-processing helpers: the FFT pseudo-inverse of a multi-channel 2-D convolution.

Examples
--------
>>> import numpy as np
>>> import hetensor as ht
>>> rng = np.random.default_rng(0)
>>> op = ht.signal.conv2d_pinv(rng.standard_normal((4, 3, 3, 3)), (16, 16))
>>> x = rng.standard_normal((2, 3, 16, 16))
>>> bool(np.allclose(op.apply(op.forward(x)), x))   # 4 outputs >= 3 inputs: left inverse
True
"""

from __future__ import annotations

from ._pinv import Conv2dPinv, conv2d_pinv

__all__ = ["Conv2dPinv", "conv2d_pinv"]
