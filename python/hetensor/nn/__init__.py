"""Neural-network layers and functional kernels on NumPy arrays, computed by the C++ core.

Recurrent layers (Elman RNN, LSTM, GRU) run a whole sequence per call and keep what
backpropagation through time needs, so ``layer.backward(grad_output)`` returns the gradients
with respect to the input, the initial state and every parameter. Shapes, gate order and
parameter names follow PyTorch, so ``layer.load_state_dict(numpy.load("m.npz"))`` loads a
``torch.nn.LSTM`` / ``GRU`` / ``RNN`` state_dict saved with ``numpy.savez``. ``Conv2d`` and
``functional.conv2d`` / ``functional.dropout`` follow PyTorch's NCHW semantics.

Examples
--------
>>> import numpy as np
>>> import hetensor as ht
>>> gru = ht.nn.GRU(4, 8, seed=0)
>>> out, h_n = gru(np.ones((10, 2, 4), dtype=np.float32))
>>> out.shape, h_n.shape
((10, 2, 8), (1, 2, 8))
>>> layer = ht.nn.Conv2d(3, 8, 3, padding=1, rng=0)
>>> layer(np.zeros((2, 3, 16, 16), dtype=np.float32)).shape
(2, 8, 16, 16)
"""

from __future__ import annotations

from . import functional
from ._recurrent import GRU, LSTM, RNN, RecurrentGrads
from .conv import Conv2d

__all__ = ["GRU", "LSTM", "RNN", "Conv2d", "RecurrentGrads", "functional"]
