"""Recurrent layers (Elman RNN, LSTM, GRU) on NumPy arrays, computed by hetensor's C++ core.

Each layer runs a whole sequence per call (forward in C++, one call per sequence) and keeps
what backpropagation through time needs, so ``layer.backward(grad_output)`` returns the
gradients with respect to the input, the initial state and every parameter. Shapes, gate
order and parameter names follow PyTorch, so ``layer.load_state_dict(numpy.load("m.npz"))``
loads a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` state_dict saved with ``numpy.savez``.

Example
-------
>>> import numpy as np
>>> import hetensor as ht
>>> gru = ht.nn.GRU(4, 8, seed=0)
>>> out, h_n = gru(np.ones((10, 2, 4), dtype=np.float32))
>>> out.shape, h_n.shape
((10, 2, 8), (1, 2, 8))
"""

from __future__ import annotations

from ._recurrent import GRU, LSTM, RNN, RecurrentGrads

__all__ = ["GRU", "LSTM", "RNN", "RecurrentGrads"]
