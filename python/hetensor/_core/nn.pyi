"""Recurrent-layer kernels: forward and BPTT.

Each function has a float32 and a float64 overload; see the package docstring for how pybind11
picks one. ``h0``/``c0`` and the gradients of ``h_n``/``c_n`` may be ``None`` (zeros); the
parameter arrays are converted to the overload's dtype.
"""

from collections.abc import Sequence
from typing import SupportsIndex, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_F32 = NDArray[np.float32]
_F64 = NDArray[np.float64]

class RecurrentTapeF32:
    """Saved activations of one recurrent forward pass, consumed by ``recurrent_backward``."""

    @property
    def seq_len(self) -> int: ...
    @property
    def batch(self) -> int: ...
    @property
    def consumed(self) -> bool: ...

class RecurrentTapeF64:
    """Saved activations of one recurrent forward pass, consumed by ``recurrent_backward``."""

    @property
    def seq_len(self) -> int: ...
    @property
    def batch(self) -> int: ...
    @property
    def consumed(self) -> bool: ...

@overload
def activation(fn: str, x: _F32) -> _F32: ...
@overload
def activation(fn: str, x: _F64) -> _F64:
    """The recurrent cells' element-wise ``exp``, ``expm1``, ``sigmoid`` or ``tanh`` of ``x``.

    The same branch-free code the LSTM / GRU / RNN kernels run, in the AVX-512 / AVX2 /
    baseline clone this machine selects; float32 or float64 in, same dtype and shape out.
    Arguments beyond the float range saturate (``sigmoid`` to 0 or 1, ``tanh`` to -1 or 1,
    ``exp`` at e^88 resp. e^709, never inf).
    """

@overload
def recurrent_forward(
    kind: str,
    x: _F32,
    h0: ArrayLike | None,
    c0: ArrayLike | None,
    params: Sequence[ArrayLike],
    input_size: SupportsIndex,
    hidden_size: SupportsIndex,
    num_layers: SupportsIndex,
    bidirectional: bool,
    bias: bool,
    peephole: bool = False,
    coupled: bool = False,
) -> tuple[_F32, _F32, _F32 | None, RecurrentTapeF32]: ...
@overload
def recurrent_forward(
    kind: str,
    x: _F64,
    h0: ArrayLike | None,
    c0: ArrayLike | None,
    params: Sequence[ArrayLike],
    input_size: SupportsIndex,
    hidden_size: SupportsIndex,
    num_layers: SupportsIndex,
    bidirectional: bool,
    bias: bool,
    peephole: bool = False,
    coupled: bool = False,
) -> tuple[_F64, _F64, _F64 | None, RecurrentTapeF64]:
    """Forward pass of a recurrent stack over a whole time-major sequence ``x`` (T, B, I).

    ``kind``: ``rnn_tanh``, ``rnn_relu``, ``lstm`` or ``gru``. ``params``: the arrays of each
    layer and direction in PyTorch ``state_dict`` order (``weight_ih``, ``weight_hh``, then
    ``bias_ih``, ``bias_hh`` with ``bias``, then ``weight_peephole`` (3 or 2, H) with
    ``peephole``). ``h0``/``c0``: (L*D, B, H) or None for zeros. Returns
    ``(output (T, B, D*H), h_n, c_n or None, tape)``; the tape feeds ``recurrent_backward``.
    """

@overload
def recurrent_backward(
    tape: RecurrentTapeF32,
    x: _F32,
    params: Sequence[ArrayLike],
    grad_output: _F32,
    grad_h_n: ArrayLike | None,
    grad_c_n: ArrayLike | None,
) -> tuple[_F32, _F32, _F32 | None, list[_F32]]: ...
@overload
def recurrent_backward(
    tape: RecurrentTapeF64,
    x: _F64,
    params: Sequence[ArrayLike],
    grad_output: _F64,
    grad_h_n: ArrayLike | None,
    grad_c_n: ArrayLike | None,
) -> tuple[_F64, _F64, _F64 | None, list[_F64]]:
    """Backpropagation through time for the forward pass that made ``tape`` (once per tape).

    ``grad_output`` (T, B, D*H); ``grad_h_n``/``grad_c_n`` (L*D, B, H) or None for zeros.
    Returns ``(grad_x, grad_h0, grad_c0 or None, [grad of each parameter in params order])``.
    Raises ``RuntimeError`` when the tape was already used.
    """
