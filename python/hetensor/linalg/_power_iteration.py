"""The k dominant eigenpairs of a symmetric operator: thick-restart Lanczos, or block power
iteration (plain or Chebyshev-filtered)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import _core
from .._validate import check_float_dtype, check_int, check_optional_int, check_real
from ..errors import ConvergenceWarning, InvalidDtypeError, NonFiniteError

__all__ = ["PowerIterationInfo", "power_iteration"]

_DEFAULT_DEGREE = 8  # Chebyshev filter degree: products per Rayleigh-Ritz step
_MIN_BASIS = 20  # Lanczos basis size floor (as ARPACK's ncv = max(2k + 1, 20))


@dataclass(frozen=True)
class PowerIterationInfo:
    """What a :func:`power_iteration` run did.

    Attributes
    ----------
    iterations : int
        Operator applications performed: ``A @ V`` block products (filter steps included)
        for the block methods, Lanczos steps (``A @ v``, one vector each) for ``"lanczos"``.
    converged : bool
        Whether the stopping test (see ``tol``) passed before ``max_iter``.
    residual_norms : numpy.ndarray
        ``||A v_i - lambda_i v_i||`` for each returned pair (float64, shape ``(k,)``).
    max_change : float
        Block methods: largest change of any of the k eigenvector columns (signs aligned) at
        the last iteration (``inf`` after a single iteration). ``"lanczos"``: largest
        relative Ritz residual estimate ``|beta_m s_{m,i}| / |theta_i|`` at the end.
    tol : float
        The tolerance applied (``tol``, raised to ``64 * eps`` of the dtype if below it).
    block_size : int
        Columns iterated (``k`` plus oversampling); 1 for ``"lanczos"``.
    householder_fallbacks : int
        Orthonormalisations where CholeskyQR2 met a rank-deficient block and Householder QR
        took over (non-zero e.g. when ``A`` has rank below the block size).
    matvecs : int
        Single-vector products (comparable with the operator applications of
        ``scipy.sparse.linalg.eigsh``): ``iterations * block_size`` for the block methods;
        for ``"lanczos"`` the Lanczos steps plus the ``k`` products of the final residual
        check.
    rayleigh_ritz_steps : int
        Rayleigh-Ritz steps: outer iterations (equal to ``iterations`` for ``"power"``), or
        basis fills for ``"lanczos"`` (``restarts + 1``).
    method : str
        ``"lanczos"``, ``"chebyshev"`` or ``"power"``.
    filter_degree : int
        Chebyshev filter degree used (1 for ``"power"`` and ``"lanczos"``).
    basis_size : int
        Lanczos basis size ``m`` (vectors held before a thick restart); 0 otherwise.
    restarts : int
        Lanczos thick restarts (the one that injects the check vector included); 0 otherwise.
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
    basis_size: int = 0
    restarts: int = 0


def _dtype_of(dtype: Any) -> np.dtype:
    """The computation dtype for input of ``dtype``: integers (cast like NumPy) and float16
    compute in float64; booleans, complex and object data are refused."""
    dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    if dt.kind in "iu" or dt == np.float16:
        return np.dtype(np.float64)
    if dt not in (np.float32, np.float64):
        raise InvalidDtypeError(f"power_iteration supports real numeric input, not {dt}")
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
    method: Literal["auto", "lanczos", "chebyshev", "power"] = "auto",
    filter_degree: int | None = None,
    basis_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray, PowerIterationInfo]:
    """The ``k`` dominant (largest-magnitude) eigenpairs of a symmetric matrix or operator.

    Three methods, all in C++ and all needing only products with ``A`` (dense, sparse and
    matrix-free operators alike), for positive and negative eigenvalues (``|lambda|``
    ordering):

    - ``"lanczos"`` (the default for sparse and matrix-free ``A``): thick-restart Lanczos
      with full reorthogonalisation. The basis (at most ``basis_size`` vectors) is kept
      orthonormal by classical Gram-Schmidt against all of it (BLAS GEMV, repeated when the
      first pass removed over 30% of the vector: "twice is enough"); when it is full, the
      Ritz pairs of ``T = Q^T A Q`` are tested and the basis restarts from the Ritz vectors
      of largest ``|theta|`` (``k + (m - k) // 2`` of them) and the last Lanczos vector. One
      Krylov sequence holds one vector per eigenvalue, so an exactly repeated eigenvalue's
      other copies would be missed: after convergence the basis is continued from a random
      vector orthogonal to the ``k`` Ritz vectors (one more basis fill), which brings a
      missing copy in; repeated until such a check brings nothing new. Single-vector
      products: the fewest passes over ``A``.
    - ``"power"`` (the default for dense arrays): the classic block power iteration
      ``V <- orth(A V)`` with a Rayleigh-Ritz step on every iterate. For a dense matrix a
      block product costs about one matrix-vector product (both stream ``A`` once), and a
      block of ``2k`` converges in a few dozen of them.
    - ``"chebyshev"``: the same block iteration with each power step replaced by a
      degree-``m`` Chebyshev polynomial ``p_m(A)`` that damps ``[-c, c]`` (``c`` estimated
      from the guard columns beyond ``k``) and grows fastest outside it.

    The block methods orthonormalise by CholeskyQR2 (BLAS-3), with Householder QR when the
    block is numerically rank deficient.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix/array, LinearOperator or callable
        Symmetric ``(n, n)`` operator. Dense arrays use our threaded block kernel (GEMV for
        Lanczos); sparse input is converted to CSR and multiplied in C++ on all cores; a
        ``scipy.sparse.linalg.LinearOperator`` (``A.matmat``) or a callable
        ``f(V) -> A @ V`` on ``(n, p)`` blocks is matrix-free (give ``n`` for a plain
        callable; ``"lanczos"`` calls it with ``(n, 1)`` blocks, and once with ``(n, k)``
        for the final residuals).
    k : int
        Number of eigenpairs, ``1 <= k <= n``.
    tol : float
        Stopping tolerance. Block methods: on the largest column change (2-norm of
        ``v_new - v_old``) between Rayleigh-Ritz steps. ``"lanczos"``: on every wanted Ritz
        pair's relative residual estimate, ``||A v - theta v|| <= tol * |theta|`` (``tol``
        times ``eps^(2/3) ||A||`` for ``theta`` near 0); the default ``1e-10`` gives
        eigenvectors as accurate as ``scipy.sparse.linalg.eigsh(tol=0)`` up to rounding
        when the eigen-gap is not tiny. Values below ``64 * eps`` of the dtype (1.4e-14
        for float64, 7.6e-6 for float32) are raised to it.
    max_iter : int
        Most operator applications: block products (filter steps included) for the block
        methods, Lanczos steps for ``"lanczos"``. The iteration never runs longer.
    seed : int, numpy.random.Generator or None
        Seed of the random start block or vector (``numpy.random.default_rng(seed)``) and
        of the vectors Lanczos injects.
    block_size : int, optional
        Block methods: columns iterated, ``k <= block_size <= n``. Extra columns speed
        convergence from rate ``|lambda_{k+1}/lambda_k|`` to ``|lambda_{p+1}/lambda_k|`` and
        give the Chebyshev filter its estimate of the unwanted spectrum. Default
        ``min(n, 2k)`` for dense input; otherwise ``min(n, k + max(2, k // 4))`` for
        ``"chebyshev"`` and ``k`` for ``"power"``.
    n : int, optional
        Order of a plain callable operator (ignored otherwise).
    dtype : numpy dtype, optional
        ``float32`` or ``float64``. Default: ``A``'s dtype when that is float32 or float64,
        else float64.
    check_symmetric : bool
        Dense input is checked for ``max|A - A.T| <= sqrt(eps) max|A|``; sparse input with
        four random probe vectors (``|u^T A v - v^T A u|`` against rounding); a
        ``ValueError`` says which. The iterations also check symmetry for free (``V^T A V``
        for the block methods, ``q_i^T A q_j`` against ``q_j^T A q_i`` for Lanczos), the
        only check for matrix-free operators. ``False`` skips the explicit check.
    method : {"auto", "lanczos", "chebyshev", "power"}
        ``"auto"`` (default): ``"power"`` for dense arrays, ``"lanczos"`` for sparse and
        matrix-free operators (see the README's benchmark table for the measurements);
        an explicit ``filter_degree`` selects ``"chebyshev"``, an explicit ``block_size``
        a block method (``"power"`` for dense, ``"chebyshev"`` otherwise).
    filter_degree : int, optional
        Degree ``m >= 2`` of the Chebyshev filter (``m`` products per Rayleigh-Ritz step;
        default 8). Only with ``method="chebyshev"``.
    basis_size : int, optional
        Lanczos basis size ``m``, ``k < m`` (or ``m = n``): vectors held before a thick
        restart. Default ``min(n, max(2k + 1, 20))``. Only with ``method="lanczos"``.

    Returns
    -------
    eigvals : ndarray, shape (k,)
        Eigenvalues by decreasing magnitude.
    eigvecs : ndarray, shape (n, k)
        Orthonormal eigenvectors as columns; the sign of each is fixed so that its entry of
        largest magnitude is positive (the first such entry on ties).
    info : PowerIterationInfo
        Iterations, matvecs, convergence flag and residual norms ``||A v - lambda v||``
        (computed explicitly at the end).

    Raises
    ------
    ValueError
        Non-square or non-symmetric ``A``, ``k`` outside ``[1, n]``, bad ``tol``,
        ``max_iter``, ``block_size``, ``basis_size`` or ``method``.
    hetensor.errors.NonFiniteError
        NaN or infinity in ``A`` or in the operator's output.
    hetensor.errors.InvalidDtypeError
        Complex or non-numeric input.

    Warns
    -----
    hetensor.errors.ConvergenceWarning
        When ``max_iter`` operator applications did not reach ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> import hetensor as ht
    >>> rng = np.random.default_rng(0)
    >>> Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    >>> A = (Q * 0.8 ** np.arange(50)) @ Q.T
    >>> vals, vecs, info = ht.linalg.power_iteration(A, 3, seed=1)
    >>> np.allclose(vals, [1.0, 0.8, 0.64]), info.converged, info.method
    (True, True, 'power')
    >>> bool(np.all(info.residual_norms < 1e-8))
    True
    >>> S = sp.csr_matrix(A * (np.abs(A) > 0.02))  # a sparse symmetric matrix
    >>> vals, vecs, info = ht.linalg.power_iteration(S, 3, seed=1)
    >>> info.method, info.converged, bool(np.all(info.residual_norms < 1e-8))
    ('lanczos', True, True)
    >>> w = np.linalg.eigvalsh(S.toarray())
    >>> np.allclose(vals, w[np.argsort(-np.abs(w))][:3])
    True
    """
    k = check_int("k", k)
    max_iter = check_int("max_iter", max_iter, 1)
    tol = check_real("tol", tol, 0.0, lo_open=True)
    block_size = check_optional_int("block_size", block_size)
    basis_size = check_optional_int("basis_size", basis_size)
    n = check_optional_int("n", n, 1)
    if dtype is not None:
        dtype = check_float_dtype("dtype", dtype)

    if method not in ("auto", "lanczos", "chebyshev", "power"):
        raise ValueError(
            f"method must be 'auto', 'lanczos', 'chebyshev' or 'power', got {method!r}"
        )
    kind, order, dt = _classify(A, n, dtype)
    if method == "auto":
        if filter_degree is not None:
            method = "chebyshev"
        elif kind == "dense":
            method = "power"
        else:
            method = "lanczos" if block_size is None else "chebyshev"
    if filter_degree is None:
        degree = _DEFAULT_DEGREE if method == "chebyshev" else 1
    elif method != "chebyshev":
        raise ValueError("filter_degree applies to method='chebyshev' only")
    else:
        degree = check_int("filter_degree", filter_degree, 2)
    if basis_size is not None and method != "lanczos":
        raise ValueError("basis_size applies to method='lanczos' only")
    if block_size is not None and method == "lanczos":
        raise ValueError("block_size applies to the block methods ('power', 'chebyshev')")

    k = int(k)
    if not 1 <= k <= order:
        raise ValueError(f"k={k} must be between 1 and n={order} (the matrix order)")
    tol_used = max(float(tol), 64.0 * float(np.finfo(dt).eps))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if method == "lanczos":
        return _lanczos(
            A, kind, order, dt, k, tol_used, int(max_iter), rng, basis_size, check_symmetric
        )
    if block_size is None:
        if kind == "dense":
            p = min(order, 2 * k)
        else:
            p = min(order, k + max(2, k // 4)) if method == "chebyshev" else k
    else:
        p = int(block_size)
        if not k <= p <= order:
            raise ValueError(f"block_size={p} must be between k={k} and n={order}")
    v0 = rng.standard_normal((order, p)).astype(dt)
    lin = _core.linalg

    if kind == "dense":
        vals, vecs, raw = lin.power_iteration_dense(
            _dense(A, dt), v0, k, tol_used, int(max_iter), check_symmetric, degree
        )
    elif kind == "sparse":
        indptr, indices, data = _csr(A, dt)
        vals, vecs, raw = lin.power_iteration_csr(
            indptr, indices, data, order, v0, k, tol_used, int(max_iter), check_symmetric, degree
        )
    else:
        vals, vecs, raw = lin.power_iteration_operator(
            _operator_matmat(A), order, v0, k, tol_used, int(max_iter), degree
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


def _lanczos(
    A: Any,
    kind: str,
    order: int,
    dt: np.dtype,
    k: int,
    tol: float,
    max_iter: int,
    rng: np.random.Generator,
    basis_size: int | None,
    check_symmetric: bool,
) -> tuple[np.ndarray, np.ndarray, PowerIterationInfo]:
    """method='lanczos': validates the basis size and runs the C++ kernel for A's kind."""
    if basis_size is None:
        m = min(order, max(2 * k + 1, _MIN_BASIS))
    elif not (k < basis_size <= order or basis_size == order >= k):
        raise ValueError(
            f"basis_size={basis_size!r} must be an integer with k={k} < basis_size <= "
            f"n={order} (or equal to n)"
        )
    else:
        m = int(basis_size)
    v0 = rng.standard_normal(order).astype(dt)
    inject_seed = int(rng.integers(0, 2**63 - 1))
    lin = _core.linalg
    if kind == "dense":
        vals, vecs, raw = lin.lanczos_dense(
            _dense(A, dt), v0, k, m, tol, max_iter, check_symmetric, inject_seed
        )
    elif kind == "sparse":
        indptr, indices, data = _csr(A, dt)
        vals, vecs, raw = lin.lanczos_csr(
            indptr, indices, data, order, v0, k, m, tol, max_iter, check_symmetric, inject_seed
        )
    else:
        vals, vecs, raw = lin.lanczos_operator(
            _operator_matmat(A), order, v0, k, m, tol, max_iter, inject_seed
        )
    info = PowerIterationInfo(
        iterations=int(raw["iterations"]),
        converged=bool(raw["converged"]),
        residual_norms=np.asarray(raw["residual_norms"]),
        max_change=float(raw["max_change"]),
        tol=tol,
        block_size=1,
        householder_fallbacks=0,
        matvecs=int(raw["matvecs"]),
        rayleigh_ritz_steps=int(raw["restarts"]) + 1,
        method="lanczos",
        filter_degree=1,
        basis_size=int(raw["basis_size"]),
        restarts=int(raw["restarts"]),
    )
    if not info.converged:
        warnings.warn(
            f"power_iteration (lanczos) did not converge in {info.iterations} iterations: "
            f"largest relative Ritz residual estimate {info.max_change:.3g} > tol {tol:.3g} "
            "(raise max_iter or basis_size)",
            ConvergenceWarning,
            stacklevel=3,
        )
    return vals, vecs, info


def _dense(A: Any, dt: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(A, dtype=dt)


def _csr(A: Any, dt: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of a scipy.sparse matrix in canonical form (sorted, no duplicates)."""
    csr = A.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    data = np.ascontiguousarray(csr.data, dtype=dt)
    if not np.isfinite(data).all():
        raise NonFiniteError("A holds NaN or infinity")
    itype = np.int32 if csr.indices.dtype == np.int32 else np.int64
    return (
        np.ascontiguousarray(csr.indptr, dtype=itype),
        np.ascontiguousarray(csr.indices, dtype=itype),
        data,
    )


def _classify(A: Any, n: int | None, dtype: Any) -> tuple[str, int, np.dtype]:
    """('dense'|'sparse'|'operator', order, computation dtype), validating shape and dtype."""
    if _is_sparse(A):
        kind, shape, dt = "sparse", A.shape, A.dtype
    elif isinstance(A, np.ndarray) or (hasattr(A, "__array__") and not callable(A)):
        arr = np.asarray(A)
        if arr.dtype.kind not in "iuf":
            raise InvalidDtypeError(
                f"A has dtype {arr.dtype}: power_iteration needs a real numeric matrix "
                "(integer or floating)"
            )
        kind, shape, dt = "dense", arr.shape, arr.dtype
    elif hasattr(A, "shape") and (hasattr(A, "matmat") or callable(A)):
        kind, shape, dt = "operator", tuple(A.shape), getattr(A, "dtype", None)
    elif callable(A):
        if n is None:
            raise ValueError("a callable operator needs its order: pass n=")
        kind, shape, dt = "operator", (n, n), None
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
