"""Plaintext linear-algebra kernels.

Each kernel has a float32 and a float64 overload (the CSR ones also one per index type, int32
or int64); see the package docstring for how pybind11 picks one. Every kernel returns
``(eigvals (k,), eigvecs (n, k), info)``.
"""

from collections.abc import Callable
from typing import SupportsFloat, SupportsIndex, TypedDict, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_F32 = NDArray[np.float32]
_F64 = NDArray[np.float64]
_I32 = NDArray[np.int32]
_I64 = NDArray[np.int64]
_Float = SupportsFloat | SupportsIndex

class _PowerIterationInfo(TypedDict):
    iterations: int
    matmats: int
    converged: bool
    max_change: float
    householder_fallbacks: int
    residual_norms: NDArray[np.float64]

class _LanczosInfo(TypedDict):
    iterations: int
    restarts: int
    matvecs: int
    converged: bool
    max_change: float
    basis_size: int
    householder_fallbacks: int
    residual_norms: NDArray[np.float64]

@overload
def power_iteration_dense(
    a: _F32,
    v0: _F32,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F32, _F32, _PowerIterationInfo]: ...
@overload
def power_iteration_dense(
    a: _F64,
    v0: _F64,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F64, _F64, _PowerIterationInfo]:
    """Block power iteration on a dense symmetric matrix ``a`` (n, n) from the start block
    ``v0`` (n, p), p >= k. Returns ``(eigvals (k,), eigvecs (n, k), info dict)``; eigenvalues by
    decreasing magnitude, each eigenvector's largest-magnitude entry positive. Checks that
    ``a`` is finite (``NonFiniteError``) and symmetric to sqrt(eps) relative (``ValueError``).
    ``filter_degree`` 1: plain power steps; m >= 2: Chebyshev-filtered subspace iteration with
    degree-m filters (needs p > k). ``info["matmats"]`` counts block products."""

@overload
def lanczos_dense(
    a: _F32,
    v0: _F32,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F32, _F32, _LanczosInfo]: ...
@overload
def lanczos_dense(
    a: _F64,
    v0: _F64,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F64, _F64, _LanczosInfo]:
    """Thick-restart Lanczos (full reorthogonalisation, basis of at most ``m`` vectors) on a
    dense symmetric matrix from the start vector ``v0`` (n,); ``max_iter`` bounds the Lanczos
    steps, ``seed`` the random vectors it injects. Same returns and checks as
    ``power_iteration_dense``; ``info["iterations"]`` counts Lanczos steps, ``info["matvecs"]``
    adds the k products of the final residual check, ``info["max_change"]`` is the largest
    relative Ritz residual estimate."""

@overload
def power_iteration_csr(
    indptr: _I32,
    indices: _I32,
    data: _F32,
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F32, _F32, _PowerIterationInfo]: ...
@overload
def power_iteration_csr(
    indptr: _I64,
    indices: _I64,
    data: _F32,
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F32, _F32, _PowerIterationInfo]: ...
@overload
def power_iteration_csr(
    indptr: _I32,
    indices: _I32,
    data: _F64,
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F64, _F64, _PowerIterationInfo]: ...
@overload
def power_iteration_csr(
    indptr: _I64,
    indices: _I64,
    data: _F64,
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F64, _F64, _PowerIterationInfo]:
    """Block power iteration on a symmetric CSR matrix (``indptr``, ``indices``, ``data``,
    order ``n``; indices sorted per row, no duplicates) with multithreaded CSR x block
    products. Same returns and checks as ``power_iteration_dense``."""

@overload
def lanczos_csr(
    indptr: _I32,
    indices: _I32,
    data: _F32,
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F32, _F32, _LanczosInfo]: ...
@overload
def lanczos_csr(
    indptr: _I64,
    indices: _I64,
    data: _F32,
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F32, _F32, _LanczosInfo]: ...
@overload
def lanczos_csr(
    indptr: _I32,
    indices: _I32,
    data: _F64,
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F64, _F64, _LanczosInfo]: ...
@overload
def lanczos_csr(
    indptr: _I64,
    indices: _I64,
    data: _F64,
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    check_symmetric: bool = True,
    seed: SupportsIndex = 0,
) -> tuple[_F64, _F64, _LanczosInfo]:
    """Thick-restart Lanczos on a symmetric CSR matrix (as ``power_iteration_csr``) with
    threaded sparse matrix-vector products. Same returns as ``lanczos_dense``."""

@overload
def power_iteration_operator(
    matmat: Callable[[_F32], ArrayLike],
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F32, _F32, _PowerIterationInfo]: ...
@overload
def power_iteration_operator(
    matmat: Callable[[_F64], ArrayLike],
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    filter_degree: SupportsIndex = 1,
) -> tuple[_F64, _F64, _PowerIterationInfo]:
    """Block power iteration on a matrix-free symmetric operator: ``matmat(V)`` must return
    ``A @ V`` for an (n, p) block ``V``; it is called from the C++ loop (the GIL is taken for
    each call), while the Rayleigh-Ritz step and orthonormalisation run in C++. Symmetry is
    checked on ``V^T A V`` at every iteration."""

@overload
def lanczos_operator(
    matmat: Callable[[_F32], ArrayLike],
    n: SupportsIndex,
    v0: _F32,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    seed: SupportsIndex = 0,
) -> tuple[_F32, _F32, _LanczosInfo]: ...
@overload
def lanczos_operator(
    matmat: Callable[[_F64], ArrayLike],
    n: SupportsIndex,
    v0: _F64,
    k: SupportsIndex,
    m: SupportsIndex,
    tol: _Float,
    max_iter: SupportsIndex,
    seed: SupportsIndex = 0,
) -> tuple[_F64, _F64, _LanczosInfo]:
    """Thick-restart Lanczos on a matrix-free symmetric operator: ``matmat(V)`` is called with
    an (n, 1) block per Lanczos step (GIL taken per call) and once with (n, k) for the
    residuals; symmetry is checked on the Gram-Schmidt coefficients. Same returns as
    ``lanczos_dense``."""

@overload
def csr_matmat(indptr: _I64, indices: _I64, data: _F32, n_cols: SupportsIndex, x: _F32) -> _F32: ...
@overload
def csr_matmat(indptr: _I64, indices: _I64, data: _F64, n_cols: SupportsIndex, x: _F64) -> _F64:
    """``A @ x`` for a CSR matrix A (int64 indices) and a dense (n_cols, p) block x."""
