"""Block power iteration (plain or Chebyshev-filtered): the k dominant eigenpairs of a
symmetric operator."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import _core
from ..errors import ConvergenceWarning, InvalidDtypeError, NonFiniteError

__all__ = ["PowerIterationInfo", "power_iteration"]

_DEFAULT_DEGREE = 8  # Chebyshev filter degree: products per Rayleigh-Ritz step


@dataclass(frozen=True)
class PowerIterationInfo:
    """What a :func:`power_iteration` run did.

    Attributes
    ----------
    iterations : int
        Operator applications (``A @ V`` block products) performed, filter steps included.
    converged : bool
        Whether the largest column change fell below ``tol`` before ``max_iter``.
    residual_norms : numpy.ndarray
        ``||A v_i - lambda_i v_i||`` for each returned pair (float64, shape ``(k,)``).
    max_change : float
        Largest change of any of the k eigenvector columns (signs aligned) at the last
        iteration; ``inf`` after a single iteration.
    tol : float
        The tolerance applied (``tol``, raised to ``64 * eps`` of the dtype if below it).
    block_size : int
        Columns iterated (``k`` plus oversampling).
    householder_fallbacks : int
        Orthonormalisations where CholeskyQR2 met a rank-deficient block and Householder QR
        took over (non-zero e.g. when ``A`` has rank below the block size).
    matvecs : int
        Single-vector products, ``iterations * block_size`` (comparable with the operator
        applications of a Lanczos solver such as ``scipy.sparse.linalg.eigsh``).
    rayleigh_ritz_steps : int
        Rayleigh-Ritz steps (outer iterations); equal to ``iterations`` for ``method="power"``.
    method : str
        ``"chebyshev"`` or ``"power"``.
    filter_degree : int
        Chebyshev filter degree used (1 for ``method="power"``).
    """

    iterations: int
    converged: bool
    residual_norms: np.ndarray
    max_change: float
    tol: float
    block_size: int
    householder_fallbacks: int
    matvecs: int = 0
    rayleigh_ritz_steps: int = 0
    method: str = "power"
    filter_degree: int = 1


def _dtype_of(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    if dt.kind in "biu" or dt == np.float16:
        return np.dtype(np.float64)
    if dt not in (np.float32, np.float64):
        raise InvalidDtypeError(f"power_iteration supports real float32/float64 input, not {dt}")
    return dt


def _is_sparse(A: Any) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is optional
        return False
    return bool(sp.issparse(A))


def power_iteration(
    A: Any,
    k: int,
    tol: float = 1e-10,
    max_iter: int = 1000,
    seed: int | np.random.Generator | None = None,
    *,
    block_size: int | None = None,
    n: int | None = None,
    dtype: Any = None,
    check_symmetric: bool = True,
    method: Literal["auto", "chebyshev", "power"] = "auto",
    filter_degree: int | None = None,
) -> tuple[np.ndarray, np.ndarray, PowerIterationInfo]:
    """The ``k`` dominant (largest-magnitude) eigenpairs of a symmetric matrix or operator.

    Block subspace iteration with a Rayleigh-Ritz step on every iterate, in C++. With
    ``method="power"`` each step is the plain power step ``V <- orth(A V)`` (the seed
    algorithm). With ``method="chebyshev"`` (the default for sparse and matrix-free ``A``) it
    is ``V <- orth(p_m(A) V)`` with
    ``p_m(x) = T_m(x / c)`` (rescaled), the degree-``m`` Chebyshev polynomial: at most 1 in
    magnitude on ``[-c, c]``, ``c`` being the ``(k+1)``-th largest ``|Ritz value|`` (the
    guard columns beyond ``k`` estimate the extent of the unwanted spectrum), and growing
    fastest outside it, for positive and negative eigenvalues alike: the wanted components
    grow by
    ``cosh(m * arccosh(|lambda| / c))`` per filter instead of ``(|lambda| / c)^m``, so the
    same accuracy takes far fewer products when ``|lambda_k|`` is close to the rest of the
    spectrum. Only products with ``A`` are needed, so it works for dense, sparse and
    matrix-free operators alike. ``orth`` is CholeskyQR2 (BLAS-3), with Householder QR when
    the block is numerically rank deficient. The iteration stops when the largest change of
    any of the ``k`` eigenvector columns (signs aligned) between Rayleigh-Ritz steps is below
    ``tol``, or after ``max_iter`` operator applications, with a
    :class:`~hetensor.errors.ConvergenceWarning`.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix/array, LinearOperator or callable
        Symmetric ``(n, n)`` operator. Dense arrays use BLAS GEMM; sparse input is converted
        to CSR and multiplied in C++ on all cores; a ``scipy.sparse.linalg.LinearOperator``
        (``A.matmat``) or a callable ``f(V) -> A @ V`` on ``(n, p)`` blocks is matrix-free
        (give ``n`` for a plain callable).
    k : int
        Number of eigenpairs, ``1 <= k <= n``.
    tol : float
        Stopping tolerance on the largest column change (2-norm of ``v_new - v_old``).
        It cannot go below rounding noise: values below ``64 * eps`` of the dtype
        (1.4e-14 for float64, 7.6e-6 for float32) are raised to it.
    max_iter : int
        Most operator applications (block products, filter steps included); the iteration
        never runs longer (the last filter is shortened to fit).
    seed : int, numpy.random.Generator or None
        Seed of the random start block (``numpy.random.default_rng(seed)``).
    block_size : int, optional
        Columns iterated, ``k <= block_size <= n``. Extra columns speed convergence from
        rate ``|lambda_{k+1}/lambda_k|`` to ``|lambda_{p+1}/lambda_k|`` at the cost of wider
        products, and give the Chebyshev filter its estimate of the unwanted spectrum (with
        ``block_size == k`` it falls back to power steps). Default ``min(n, 2k)`` for dense
        input (products read ``A`` once whatever the width); otherwise ``min(n, k + max(2,
        k // 4))`` for ``"chebyshev"`` and ``k`` for ``"power"`` (sparse products cost in
        proportion to the width).
    n : int, optional
        Order of a plain callable operator (ignored otherwise).
    dtype : numpy dtype, optional
        ``float32`` or ``float64``. Default: ``A``'s dtype when that is float32 or float64,
        else float64.
    check_symmetric : bool
        Dense input is checked for ``max|A - A.T| <= sqrt(eps) max|A|``; sparse input with
        four random probe vectors (``|u^T A v - v^T A u|`` against rounding, one extra pass
        over ``A`` instead of a transpose); a ``ValueError`` says which. Every iterate's
        ``V^T A V`` is also checked, for all operator kinds (free, and the only check for
        matrix-free operators). ``False`` skips the explicit dense/sparse check.
    method : {"auto", "chebyshev", "power"}
        Chebyshev-filtered subspace iteration or plain block power iteration. ``"auto"``
        (default) picks power steps for dense arrays (a block of ``2k`` with Rayleigh-Ritz
        converges in a few dozen BLAS-3 products there, fewer than a filter spends) and the
        filter for sparse and matrix-free operators (fewer passes over ``A``); an explicit
        ``filter_degree`` selects the filter.
    filter_degree : int, optional
        Degree ``m >= 2`` of the Chebyshev filter (``m`` products per Rayleigh-Ritz step;
        default 8). Only with ``method="chebyshev"``.

    Returns
    -------
    eigvals : ndarray, shape (k,)
        Eigenvalues by decreasing magnitude.
    eigvecs : ndarray, shape (n, k)
        Orthonormal eigenvectors as columns; the sign of each is fixed so that its entry of
        largest magnitude is positive (the first such entry on ties).
    info : PowerIterationInfo
        Iterations, convergence flag and residual norms ``||A v - lambda v||``.

    Raises
    ------
    ValueError
        Non-square or non-symmetric ``A``, ``k`` outside ``[1, n]``, bad ``tol``/``max_iter``.
    hetensor.errors.NonFiniteError
        NaN or infinity in ``A`` or in the operator's output.
    hetensor.errors.InvalidDtypeError
        Complex or non-numeric input.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> rng = np.random.default_rng(0)
    >>> Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    >>> A = (Q * 0.8 ** np.arange(50)) @ Q.T
    >>> vals, vecs, info = ht.linalg.power_iteration(A, 3, seed=1)
    >>> np.allclose(vals, [1.0, 0.8, 0.64]), info.converged
    (True, True)
    >>> bool(np.all(info.residual_norms < 1e-8))
    True
    >>> _, _, plain = ht.linalg.power_iteration(A, 3, seed=1, method="power")
    >>> info.iterations < plain.iterations
    True
    """
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")

    if method not in ("auto", "chebyshev", "power"):
        raise ValueError(f"method must be 'auto', 'chebyshev' or 'power', got {method!r}")
    kind, order, dt = _classify(A, n, dtype)
    if method == "auto":
        dense_power = kind == "dense" and filter_degree is None
        method = "power" if dense_power else "chebyshev"
    if filter_degree is None:
        degree = _DEFAULT_DEGREE if method == "chebyshev" else 1
    elif method == "power":
        raise ValueError("filter_degree applies to method='chebyshev' only")
    elif (
        not isinstance(filter_degree, numbers.Integral)
        or isinstance(filter_degree, bool)
        or filter_degree < 2
    ):
        raise ValueError(f"filter_degree must be an integer >= 2, got {filter_degree!r}")
    else:
        degree = int(filter_degree)

    k = int(k)
    if not 1 <= k <= order:
        raise ValueError(f"k={k} must be between 1 and n={order} (the matrix order)")
    if block_size is None:
        if kind == "dense":
            p = min(order, 2 * k)
        else:
            p = min(order, k + max(2, k // 4)) if method == "chebyshev" else k
    else:
        p = int(block_size)
        if not k <= p <= order:
            raise ValueError(f"block_size={p} must be between k={k} and n={order}")
    tol_used = max(float(tol), 64.0 * float(np.finfo(dt).eps))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    v0 = rng.standard_normal((order, p)).astype(dt)
    lin = _core.linalg

    if kind == "dense":
        a = np.ascontiguousarray(A, dtype=dt)
        vals, vecs, raw = lin.power_iteration_dense(
            a, v0, k, tol_used, int(max_iter), check_symmetric, degree
        )
    elif kind == "sparse":
        csr = A.tocsr()
        if not csr.has_canonical_format:
            csr = csr.copy()
            csr.sum_duplicates()
        data = np.ascontiguousarray(csr.data, dtype=dt)
        if not np.isfinite(data).all():
            raise NonFiniteError("A holds NaN or infinity")
        itype = np.int32 if csr.indices.dtype == np.int32 else np.int64
        vals, vecs, raw = lin.power_iteration_csr(
            np.ascontiguousarray(csr.indptr, dtype=itype),
            np.ascontiguousarray(csr.indices, dtype=itype),
            data,
            order,
            v0,
            k,
            tol_used,
            int(max_iter),
            check_symmetric,
            degree,
        )
    else:
        matmat = _operator_matmat(A)
        vals, vecs, raw = lin.power_iteration_operator(
            matmat, order, v0, k, tol_used, int(max_iter), degree
        )

    info = PowerIterationInfo(
        iterations=int(raw["matmats"]),
        converged=bool(raw["converged"]),
        residual_norms=np.asarray(raw["residual_norms"]),
        max_change=float(raw["max_change"]),
        tol=tol_used,
        block_size=p,
        householder_fallbacks=int(raw["householder_fallbacks"]),
        matvecs=int(raw["matmats"]) * p,
        rayleigh_ritz_steps=int(raw["iterations"]),
        method=method,
        filter_degree=degree if p > k else 1,
    )
    if not info.converged:
        warnings.warn(
            f"power_iteration did not converge in {info.iterations} iterations: largest "
            f"eigenvector change {info.max_change:.3g} > tol {tol_used:.3g} (eigenvalues "
            "close in magnitude converge slowly; raise max_iter or block_size)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return vals, vecs, info


def _classify(A: Any, n: int | None, dtype: Any) -> tuple[str, int, np.dtype]:
    """('dense'|'sparse'|'operator', order, computation dtype), validating shape and dtype."""
    if _is_sparse(A):
        kind, shape, dt = "sparse", A.shape, A.dtype
    elif isinstance(A, np.ndarray) or (hasattr(A, "__array__") and not callable(A)):
        arr = np.asarray(A)
        if arr.dtype.kind not in "biuf":
            raise InvalidDtypeError(f"power_iteration needs a real numeric matrix, not {arr.dtype}")
        kind, shape, dt = "dense", arr.shape, arr.dtype
    elif hasattr(A, "shape") and (hasattr(A, "matmat") or callable(A)):
        kind, shape, dt = "operator", tuple(A.shape), getattr(A, "dtype", None)
    elif callable(A):
        if n is None:
            raise ValueError("a callable operator needs its order: pass n=")
        kind, shape, dt = "operator", (int(n), int(n)), None
    else:
        raise TypeError(
            f"A must be an ndarray, a scipy.sparse matrix, a LinearOperator or a callable, "
            f"not {type(A).__name__}"
        )
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {tuple(shape)}")
    if shape[0] < 1:
        raise ValueError("A is empty")
    if dtype is not None:
        dt = dtype
    elif dt is not None and np.dtype(dt).kind == "c":
        raise InvalidDtypeError(f"power_iteration supports real matrices, not {np.dtype(dt)}")
    return kind, int(shape[0]), _dtype_of(dt)


def _operator_matmat(A: Any) -> Callable[[np.ndarray], np.ndarray]:
    apply = A.matmat if hasattr(A, "matmat") else A

    def matmat(v: np.ndarray) -> np.ndarray:
        out = np.asarray(apply(v))
        if out.ndim == 1 and v.shape[1] == 1:
            out = out[:, None]
        if out.dtype.kind == "c":
            raise InvalidDtypeError("the operator returned complex values")
        return out

    return matmat
