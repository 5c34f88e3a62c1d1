"""2-D convolution kernels and FFT pseudo-inverse helpers.

The kernels take NumPy arrays (not other array-likes) and run in the dtype of their first
array: float32 or float64 for ``conv2d_*`` and ``gemm`` (``TypeError`` otherwise), complex64 or
complex128 for the pseudo-inverse helpers; the other arrays are converted to it. The
overloads below spell out that dtype rule (at run time each is one function).
"""

from typing import Any, SupportsFloat, SupportsIndex, TypedDict, overload

import numpy as np
from numpy.typing import NDArray

_F32 = NDArray[np.float32]
_F64 = NDArray[np.float64]
_C64 = NDArray[np.complex64]
_C128 = NDArray[np.complex128]
_Array = NDArray[Any]  # any dtype: converted to the computation's
_Pair = tuple[SupportsIndex, SupportsIndex]
_Quad = tuple[SupportsIndex, SupportsIndex, SupportsIndex, SupportsIndex]

class _PinvStats(TypedDict):
    inverted: int
    svd: int
    smax_svds: int

@overload
def conv2d_forward(
    x: _F32,
    weight: _Array,
    bias: _Array | None,
    stride: _Pair,
    padding: _Quad,
    dilation: _Pair,
    groups: SupportsIndex,
    algorithm: str = "auto",
    device: str = "cpu",
    threads: SupportsIndex = 0,
) -> _F32: ...
@overload
def conv2d_forward(
    x: _F64,
    weight: _Array,
    bias: _Array | None,
    stride: _Pair,
    padding: _Quad,
    dilation: _Pair,
    groups: SupportsIndex,
    algorithm: str = "auto",
    device: str = "cpu",
    threads: SupportsIndex = 0,
) -> _F64:
    """NCHW cross-correlation on the CPU (the kernel behind ``hetensor.nn.functional.conv2d``).

    ``padding`` is ``(top, bottom, left, right)``; ``stride`` and ``dilation`` are ``(h, w)``.
    The computation runs in ``x``'s dtype (float32 or float64); ``weight`` and ``bias`` are
    converted to it. ``algorithm``: ``"auto"``, ``"gemm"`` (cache-blocked im2col + OpenBLAS),
    ``"winograd"`` (F(2x2,3x3), 3x3 stride-1 undilated only) or ``"tiled"`` (the CUDA kernels'
    per-tile code run on the CPU, for tests). ``device="cuda"`` runs the tiled CUDA kernels
    (CUDA builds only; the algorithm is ignored). ``threads <= 0``: default count.
    """

@overload
def conv2d_backward(
    x: _F32,
    weight: _Array,
    grad_output: _Array,
    stride: _Pair,
    padding: _Quad,
    dilation: _Pair,
    groups: SupportsIndex,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
    algorithm: str = "auto",
    device: str = "cpu",
    threads: SupportsIndex = 0,
) -> tuple[_F32 | None, _F32 | None, _F32 | None]: ...
@overload
def conv2d_backward(
    x: _F64,
    weight: _Array,
    grad_output: _Array,
    stride: _Pair,
    padding: _Quad,
    dilation: _Pair,
    groups: SupportsIndex,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
    algorithm: str = "auto",
    device: str = "cpu",
    threads: SupportsIndex = 0,
) -> tuple[_F64 | None, _F64 | None, _F64 | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of
    ``sum(grad_output * conv2d(x, weight) + bias)``; an entry is ``None`` when its ``need_*``
    flag is false. Same conventions as ``conv2d_forward`` (the CPU backward always uses
    im2col + GEMM; ``"tiled"`` selects the CUDA emulation).
    """

@overload
def transfer_pinv(
    a: _C64,
    rcond: SupportsFloat | SupportsIndex,
    cutoff: str = "global",
    threads: SupportsIndex = 0,
) -> tuple[_C64, NDArray[np.int64], _PinvStats]: ...
@overload
def transfer_pinv(
    a: _C128,
    rcond: SupportsFloat | SupportsIndex,
    cutoff: str = "global",
    threads: SupportsIndex = 0,
) -> tuple[_C128, NDArray[np.int64], _PinvStats]:
    """Pseudo-inverses of the per-frequency transfer matrices ``a`` (F, c_out, c_in) of a
    multi-channel circular cross-correlation, singular values ``<= rcond * s_max`` dropped
    (``cutoff="global"``: ``s_max`` over all frequencies; ``"frequency"``: each matrix's own).
    Returns ``(p, rank, stats)``: ``p`` (F, c_in, c_out), ``rank`` (F,) int64, and ``stats`` a
    dict of frequency counts: ``inverted`` (square and provably above the cut-off, so inverted
    by LU: ``sigma_min >= 1/||A^-1||_F`` with a factor-2 margin), ``svd`` (the rest, one thin
    ``?gesdd`` each), ``smax_svds`` (singular-values-only SVDs for the exact global ``s_max``).
    Threaded over frequencies.
    """

@overload
def transfer_singular_values(a: _C64, threads: SupportsIndex = 0) -> _F32: ...
@overload
def transfer_singular_values(a: _C128, threads: SupportsIndex = 0) -> _F64:
    """Singular values (F, min(c_out, c_in)), descending, of the matrices ``a``
    (F, c_out, c_in) (LAPACK ``?gesdd`` with ``jobz='N'``), threaded over frequencies."""

@overload
def apply_per_frequency(mats: _C64, x: _Array, threads: SupportsIndex = 0) -> _C64: ...
@overload
def apply_per_frequency(mats: _C128, x: _Array, threads: SupportsIndex = 0) -> _C128:
    """``y[b][:, f] = mats[f] @ x[b][:, f]`` for spectra ``x`` (batch, cols, F) and matrices
    ``mats`` (F, rows, cols); returns (batch, rows, F). The forward operator (``mats`` =
    transfer matrices) and the pseudo-inverse (``mats`` = their pseudo-inverses) in the
    frequency domain."""

@overload
def gemm(a: _F32, b: _Array) -> _F32: ...
@overload
def gemm(a: _F64, b: _Array) -> _F64:
    """``a @ b`` through the same OpenBLAS (scipy-openblas32) GEMM the conv kernels call, in
    ``a``'s dtype; the benchmarks use it to measure the machine's SGEMM speed in the same run."""
