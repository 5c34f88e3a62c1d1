"""ht.linalg.power_iteration against numpy.linalg.eigh and scipy.sparse.linalg.eigsh."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import hetensor as ht
from hetensor.errors import ConvergenceWarning, InvalidDtypeError, NonFiniteError


def spectrum_matrix(n: int, eigvals: np.ndarray, seed: int = 0, dtype=np.float64) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    a = (q * eigvals) @ q.T
    return ((a + a.T) / 2).astype(dtype)


def reference_pairs(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k largest-|lambda| pairs from eigh, with hetensor's sign convention."""
    w, v = np.linalg.eigh(a.astype(np.float64))
    order = np.argsort(-np.abs(w), kind="stable")[:k]
    w, v = w[order], v[:, order]
    flip = v[np.argmax(np.abs(v), axis=0), np.arange(k)] < 0
    v[:, flip] *= -1
    return w, v


def test_dense_matches_eigh_with_sign_convention():
    n, k = 120, 5
    a = spectrum_matrix(n, 0.85 ** np.arange(n), seed=1)
    vals, vecs, info = ht.linalg.power_iteration(a, k, seed=2)
    w, v = reference_pairs(a, k)
    np.testing.assert_allclose(vals, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(vecs, v, atol=1e-9)  # same signs: no abs() needed
    assert info.converged and info.iterations < 100
    assert info.residual_norms.shape == (k,)
    np.testing.assert_array_less(info.residual_norms, 1e-9)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(k), atol=1e-12)
    assert vals.dtype == vecs.dtype == np.float64 and vecs.shape == (n, k)


def test_negative_and_mixed_sign_spectrum():
    n = 60
    lam = np.concatenate([[-5.0, 4.0, -3.0], np.linspace(1.0, 0.1, n - 3)])
    a = spectrum_matrix(n, lam, seed=3)
    vals, vecs, info = ht.linalg.power_iteration(a, 3, seed=0)
    np.testing.assert_allclose(vals, [-5.0, 4.0, -3.0], rtol=1e-12)
    _w, v = reference_pairs(a, 3)
    np.testing.assert_allclose(vecs, v, atol=1e-9)
    assert info.converged


def test_residual_norms_are_true_residuals():
    a = spectrum_matrix(80, 1.0 / (1 + np.arange(80)), seed=4)
    vals, vecs, info = ht.linalg.power_iteration(a, 4, tol=1e-6, seed=1)
    res = np.linalg.norm(a @ vecs - vecs * vals, axis=0)
    np.testing.assert_allclose(info.residual_norms, res, rtol=1e-6, atol=1e-14)


def test_float32():
    n, k = 200, 4
    a = spectrum_matrix(n, 0.7 ** np.arange(n), seed=5, dtype=np.float32)
    vals, vecs, info = ht.linalg.power_iteration(a, k, seed=0)
    assert vals.dtype == vecs.dtype == np.float32
    w, v = reference_pairs(a, k)
    np.testing.assert_allclose(vals, w, rtol=1e-5)
    np.testing.assert_allclose(vecs, v, atol=2e-4)
    assert info.converged and info.tol == pytest.approx(64 * np.finfo(np.float32).eps)


def test_sparse_csr_matches_eigsh():
    n, k = 3000, 4
    s = sp.random(
        n,
        n,
        density=2e-3,
        random_state=np.random.default_rng(0),
        data_rvs=np.random.default_rng(1).standard_normal,
        format="csr",
    )
    a = (s + s.T).tocsr()
    pos = np.random.default_rng(2).choice(n, k, replace=False)
    a = (a + sp.csr_matrix((30 * 0.8 ** np.arange(k), (pos, pos)), shape=(n, n))).tocsr()
    vals, vecs, info = ht.linalg.power_iteration(a, k, seed=3)
    w, v = spla.eigsh(a, k=k, which="LM", tol=0, v0=np.ones(n))
    order = np.argsort(-np.abs(w))
    w, v = w[order], v[:, order]
    np.testing.assert_allclose(vals, w, rtol=1e-11)
    assert np.abs(np.abs(np.sum(vecs * v, axis=0)) - 1).max() < 1e-10
    assert info.converged
    np.testing.assert_allclose(
        np.linalg.norm(a @ vecs - vecs * vals, axis=0), info.residual_norms, rtol=1e-5, atol=1e-13
    )


@pytest.mark.parametrize("fmt", ["coo", "csc", "csr_unsorted", "csr64"])
def test_sparse_formats_and_index_types(fmt):
    n = 400
    a = sp.csr_matrix(
        spectrum_matrix(n, 0.8 ** np.arange(n), seed=6)
        * (np.abs(np.subtract.outer(np.arange(n), np.arange(n))) < 3)
    )
    a = ((a + a.T) / 2).tocsr()
    dense = a.toarray()
    if fmt == "csr_unsorted":  # COO -> CSR keeps the (shuffled) order within rows
        coo = a.tocoo()
        perm = np.random.default_rng(0).permutation(coo.nnz)
        a = sp.csr_matrix((coo.data[perm], (coo.row[perm], coo.col[perm])), shape=a.shape)
        a.has_sorted_indices = False
        assert not a.has_canonical_format
    elif fmt == "csr64":
        a = a.copy()
        a.indices = a.indices.astype(np.int64)
        a.indptr = a.indptr.astype(np.int64)
    else:
        a = a.asformat(fmt)
    vals, _, _info = ht.linalg.power_iteration(a, 2, seed=0, max_iter=5000)
    w, _ = reference_pairs(dense, 2)
    np.testing.assert_allclose(vals, w, rtol=1e-10)


def test_linear_operator_and_callable():
    n = 150
    a = spectrum_matrix(n, 0.75 ** np.arange(n), seed=7)
    calls = []

    def matmat(v):
        calls.append(v.shape)
        return a @ v

    op = spla.LinearOperator(
        (n, n), matvec=lambda x: a @ x, matmat=lambda v: a @ v, dtype=np.float64
    )
    w, v = reference_pairs(a, 3)
    for A, kw in ((op, {}), (matmat, {"n": n})):
        vals, vecs, info = ht.linalg.power_iteration(A, 3, seed=1, **kw)
        np.testing.assert_allclose(vals, w, rtol=1e-12)
        np.testing.assert_allclose(vecs, v, atol=1e-9)
    # method="auto" is Lanczos for operators: one (n, 1) block per step, then (n, k) once
    assert info.method == "lanczos" and info.block_size == 1
    assert calls[:-1] == [(n, 1)] * info.iterations and calls[-1] == (n, 3)
    assert info.matvecs == info.iterations + 3


def test_same_seed_same_result_and_block_size():
    a = spectrum_matrix(100, 0.9 ** np.arange(100), seed=8)
    r1 = ht.linalg.power_iteration(a, 3, seed=42)
    r2 = ht.linalg.power_iteration(a, 3, seed=np.random.default_rng(42))
    np.testing.assert_array_equal(r1[1], r2[1])
    _, _, info = ht.linalg.power_iteration(a, 3, seed=0, block_size=3, max_iter=2000)
    assert info.block_size == 3 and info.converged


def test_k_equals_n_and_rank_deficient():
    a = spectrum_matrix(6, np.array([3.0, 2.0, 1.0, 0.5, 0.25, 0.125]), seed=9)
    vals, vecs, _ = ht.linalg.power_iteration(a, 6, seed=0)
    np.testing.assert_allclose(vals, [3.0, 2.0, 1.0, 0.5, 0.25, 0.125], rtol=1e-12)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(6), atol=1e-12)
    # rank 2 with a block of 4 columns: two columns of A V are rounding noise
    u = np.linalg.qr(np.random.default_rng(0).standard_normal((40, 2)))[0]
    low = (u * [2.0, 1.0]) @ u.T
    vals, _vecs, info = ht.linalg.power_iteration(low, 2, seed=0, block_size=4)
    np.testing.assert_allclose(vals, [2.0, 1.0], rtol=1e-12)
    assert info.converged
    # A V = 0: CholeskyQR2 has no pivot and must hand over to Householder QR
    zeros_vals, _, info = ht.linalg.power_iteration(np.zeros((5, 5)), 2, seed=0)
    np.testing.assert_array_equal(zeros_vals, [0.0, 0.0])
    assert info.householder_fallbacks > 0 and info.converged


def test_non_convergence_warns_and_stops():
    a = spectrum_matrix(50, np.r_[1.0, 0.999999, 0.999998, 0.5 ** np.arange(47)], seed=10)
    with pytest.warns(ConvergenceWarning, match="did not converge in 3 iterations"):
        _, _, info = ht.linalg.power_iteration(a, 2, max_iter=3, seed=0, block_size=2)
    assert info.iterations == 3 and not info.converged


def test_errors():
    a = spectrum_matrix(10, np.arange(10.0), seed=11)
    with pytest.raises(ValueError, match="k=11 must be between 1 and n=10"):
        ht.linalg.power_iteration(a, 11)
    with pytest.raises(ValueError, match="k=0"):
        ht.linalg.power_iteration(a, 0)
    with pytest.raises(ValueError, match="square"):
        ht.linalg.power_iteration(np.ones((3, 4)), 1)
    with pytest.raises(ValueError, match="square"):
        ht.linalg.power_iteration(sp.random(3, 4, density=0.5, format="csr"), 1)
    nonsym = a.copy()
    nonsym[0, 1] += 1.0
    with pytest.raises(ValueError, match="not symmetric"):
        ht.linalg.power_iteration(nonsym, 2)
    with pytest.raises(ValueError, match="not symmetric"):
        ht.linalg.power_iteration(sp.csr_matrix(nonsym), 2)
    with pytest.raises(ValueError, match="not symmetric"):
        ht.linalg.power_iteration(lambda v: nonsym @ v, 2, n=10)
    bad = a.copy()
    bad[3, 3] = np.nan
    with pytest.raises(NonFiniteError):
        ht.linalg.power_iteration(bad, 2)
    with pytest.raises(NonFiniteError):
        ht.linalg.power_iteration(sp.csr_matrix(bad), 2)
    with pytest.raises(NonFiniteError):
        ht.linalg.power_iteration(lambda v: v * np.inf, 2, n=10)
    with pytest.raises(ValueError, match="operator returned shape"):
        ht.linalg.power_iteration(lambda v: v[:5], 2, n=10)
    with pytest.raises(ValueError, match="pass n="):
        ht.linalg.power_iteration(lambda v: v, 2)
    with pytest.raises(InvalidDtypeError):
        ht.linalg.power_iteration(a.astype(np.complex128), 2)
    with pytest.raises(ValueError, match="block_size"):
        ht.linalg.power_iteration(a, 3, block_size=2)
    with pytest.raises(ValueError, match="tol"):
        ht.linalg.power_iteration(a, 3, tol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        ht.linalg.power_iteration(a, 3, max_iter=0)
    with pytest.raises(TypeError):
        ht.linalg.power_iteration("matrix", 1)

    def boom(v):
        raise RuntimeError("operator failed")

    with pytest.raises(RuntimeError, match="operator failed"):
        ht.linalg.power_iteration(boom, 2, n=10)


def _random_sparse_symmetric(n: int, seed: int, spikes: np.ndarray) -> sp.csr_matrix:
    """S + S^T (density 2e-3, Gaussian) plus spikes on the diagonal: a dominant part."""
    rng = np.random.default_rng(seed)
    s = sp.random(n, n, density=2e-3, format="csr", random_state=rng, data_rvs=rng.standard_normal)
    pos = rng.choice(n, spikes.size, replace=False)
    return (s + s.T + sp.csr_matrix((spikes, (pos, pos)), shape=(n, n))).tocsr()


@pytest.mark.parametrize("method", ["chebyshev", "power"])
def test_sparse_methods_match_eigsh(method):
    a = _random_sparse_symmetric(3000, 11, 30.0 * 0.85 ** np.arange(6))
    vals, vecs, info = ht.linalg.power_iteration(a, 6, seed=0, method=method)
    w, u = spla.eigsh(a, k=6, which="LM", tol=0, v0=np.ones(3000))
    order = np.argsort(-np.abs(w))
    np.testing.assert_allclose(vals, w[order], rtol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(vecs * u[:, order], axis=0)), 1.0, atol=1e-9)
    assert info.converged and info.method == method
    assert info.matvecs == info.iterations * info.block_size
    if method == "chebyshev":
        assert info.block_size == 8 and info.filter_degree == 8
        assert info.rayleigh_ritz_steps < info.iterations
    else:
        assert info.block_size == 6 and info.filter_degree == 1
        assert info.rayleigh_ritz_steps == info.iterations


def test_chebyshev_needs_fewer_products_than_power():
    n = 400
    lam = np.concatenate([[3.0, -2.9, 2.8, -2.7], np.linspace(2.5, -2.5, n - 4)])
    a = spectrum_matrix(n, lam, seed=12)
    w, v = reference_pairs(a, 4)
    kw = {"block_size": 8, "seed": 3, "max_iter": 5000}
    vals, vecs, cheb = ht.linalg.power_iteration(sp.csr_matrix(a), 4, method="chebyshev", **kw)
    _, _, plain = ht.linalg.power_iteration(sp.csr_matrix(a), 4, method="power", **kw)
    np.testing.assert_allclose(vals, w, rtol=1e-11)  # |lambda| ordering, both signs
    np.testing.assert_allclose(vecs, v, atol=1e-8)
    assert cheb.converged and plain.converged
    assert cheb.iterations * 2 < plain.iterations


@pytest.mark.parametrize("degree", [2, 3, 16])
def test_clustered_eigenvalues_and_filter_degrees(degree):
    n = 200
    lam = np.concatenate([[5.0, 5.0 - 1e-3, 5.0 - 2e-3], 0.9 ** np.arange(n - 3)])
    a = spectrum_matrix(n, lam, seed=13)
    vals, vecs, info = ht.linalg.power_iteration(a, 3, seed=0, filter_degree=degree)
    w, _ = reference_pairs(a, 3)
    np.testing.assert_allclose(vals, w, rtol=1e-12)
    # a cluster: the subspace is what converges; check residuals and invariance
    np.testing.assert_array_less(np.linalg.norm(a @ vecs - vecs * vals, axis=0), 1e-8)
    assert info.converged and info.filter_degree == degree


def test_chebyshev_dense_operator_and_float32():
    n = 300
    lam = np.concatenate([[-4.0, 3.5, -3.0], np.linspace(2.0, -2.0, n - 3)])
    a = spectrum_matrix(n, lam, seed=14)
    w, v = reference_pairs(a, 3)
    for A, kw in ((a, {}), (lambda x: a @ x, {"n": n}), (sp.csr_matrix(a), {})):
        vals, vecs, info = ht.linalg.power_iteration(A, 3, seed=1, method="chebyshev", **kw)
        np.testing.assert_allclose(vals, w, rtol=1e-11)
        np.testing.assert_allclose(vecs, v, atol=1e-8)
        assert info.method == "chebyshev" and info.rayleigh_ritz_steps < info.iterations
        auto = ht.linalg.power_iteration(A, 3, seed=1, **kw)[2].method  # method="auto"
        assert auto == ("power" if isinstance(A, np.ndarray) else "lanczos")
    a32 = a.astype(np.float32)
    vals, vecs, info = ht.linalg.power_iteration(a32, 3, seed=1)
    assert vals.dtype == vecs.dtype == np.float32 and info.converged
    np.testing.assert_allclose(vals, w, rtol=1e-5)
    np.testing.assert_allclose(vecs, v, atol=1e-3)


def test_chebyshev_respects_max_iter_and_block_equal_k():
    a = spectrum_matrix(100, 0.99 ** np.arange(100), seed=15)
    with pytest.warns(ConvergenceWarning):
        _, _, info = ht.linalg.power_iteration(a, 2, max_iter=13, seed=0, block_size=4)
    assert info.iterations == 13 and not info.converged
    # without guard vectors there is no estimate of the unwanted spectrum: power steps
    _, _, info = ht.linalg.power_iteration(a, 2, max_iter=5000, seed=0, block_size=2)
    assert info.filter_degree == 1 and info.rayleigh_ritz_steps == info.iterations


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "arnoldi"}, ValueError, "method"),
        ({"method": "lanczos", "filter_degree": 4}, ValueError, "filter_degree"),
        ({"method": "lanczos", "block_size": 4}, ValueError, "block_size"),
        ({"method": "power", "basis_size": 8}, ValueError, "basis_size"),
        ({"method": "lanczos", "basis_size": 2}, ValueError, "basis_size"),
        ({"method": "lanczos", "basis_size": 21}, ValueError, "basis_size"),
        ({"method": "lanczos", "basis_size": 8.0}, TypeError, "basis_size must be an int"),
        ({"filter_degree": 1}, ValueError, "filter_degree"),
        ({"filter_degree": 2.5}, TypeError, "filter_degree must be an int"),
        ({"method": "power", "filter_degree": 4}, ValueError, "filter_degree"),
    ],
)
def test_method_errors(kwargs, exc, match):
    a = spectrum_matrix(20, 0.5 ** np.arange(20))
    with pytest.raises(exc, match=match):
        ht.linalg.power_iteration(a, 2, **kwargs)


# ---------------------------------------------------------------- method="lanczos"


def _subspace_gap(x: np.ndarray, u: np.ndarray) -> float:
    """Largest principal-angle sine between span(x) and span(u) (orthonormal columns)."""
    return float(np.linalg.norm(u - x @ (x.T @ u), 2))


def _as_kind(a: np.ndarray, kind: str):
    if kind == "dense":
        return a, {}
    if kind == "sparse":
        return sp.csr_matrix(a), {}
    return (lambda v: a @ v), {"n": a.shape[0]}


@pytest.mark.parametrize("kind", ["dense", "sparse", "operator"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lanczos_matches_eigh(kind, dtype):
    # tolerances: float64 eigenvalues to 1e-12 relative and eigenvectors to 1e-9 (tol=1e-10
    # bounds the relative residual, the gap is 0.15); float32 to 64 eps = 7.6e-6 residuals
    n, k = 300, 6
    a = spectrum_matrix(n, 0.85 ** np.arange(n), seed=21, dtype=dtype)
    A, kw = _as_kind(a, kind)
    vals, vecs, info = ht.linalg.power_iteration(A, k, seed=4, method="lanczos", dtype=dtype, **kw)
    w, v = reference_pairs(a, k)
    assert vals.dtype == vecs.dtype == dtype and vecs.shape == (n, k)
    assert info.method == "lanczos" and info.converged and info.block_size == 1
    assert info.basis_size == 20 and info.matvecs == info.iterations + k
    if dtype == np.float64:
        np.testing.assert_allclose(vals, w, rtol=1e-12)
        np.testing.assert_allclose(vecs, v, atol=1e-9)  # same sign convention
        np.testing.assert_allclose(vecs.T @ vecs, np.eye(k), atol=1e-12)
        np.testing.assert_array_less(info.residual_norms, 1e-9)
    else:
        np.testing.assert_allclose(vals, w, rtol=2e-5)
        np.testing.assert_allclose(vecs, v, atol=2e-3)
        np.testing.assert_array_less(info.residual_norms, 1e-4)
    res = np.linalg.norm(a.astype(np.float64) @ vecs - vecs * vals, axis=0)
    np.testing.assert_allclose(
        info.residual_norms, res, rtol=1e-3, atol=1e-6 if dtype == np.float32 else 1e-14
    )


def test_lanczos_sparse_matches_eigsh_and_needs_fewer_matvecs():
    a = _random_sparse_symmetric(4000, 22, 30.0 * 0.85 ** np.arange(8))
    vals, vecs, info = ht.linalg.power_iteration(a, 8, seed=0)  # auto: lanczos for sparse
    w, u = spla.eigsh(a, k=8, which="LM", tol=0, v0=np.ones(4000))
    order = np.argsort(-np.abs(w))
    np.testing.assert_allclose(vals, w[order], rtol=1e-11)
    np.testing.assert_allclose(np.abs(np.sum(vecs * u[:, order], axis=0)), 1.0, atol=1e-10)
    assert info.method == "lanczos" and info.converged
    _, _, cheb = ht.linalg.power_iteration(a, 8, seed=0, method="chebyshev")
    assert info.matvecs < cheb.matvecs


def test_lanczos_negative_dominant_eigenvalues():
    n = 200
    lam = np.concatenate([[-6.0, -5.0, 4.5, -4.0], np.linspace(2.0, -2.0, n - 4)])
    a = spectrum_matrix(n, lam, seed=23)
    vals, vecs, info = ht.linalg.power_iteration(sp.csr_matrix(a), 4, seed=1)
    np.testing.assert_allclose(vals, [-6.0, -5.0, 4.5, -4.0], rtol=1e-12)
    np.testing.assert_allclose(vecs, reference_pairs(a, 4)[1], atol=1e-9)
    assert info.converged


def test_lanczos_repeated_and_clustered_eigenvalues():
    n = 300
    # an exactly repeated dominant eigenvalue (multiplicity 3): one Krylov sequence holds one
    # vector of it; the check vector injected after first convergence brings in the others
    lam = np.concatenate([[5.0, 5.0, 5.0, 4.0], 0.9 ** np.arange(n - 4)])
    a = spectrum_matrix(n, lam, seed=24)
    vals, vecs, info = ht.linalg.power_iteration(a, 4, seed=0, method="lanczos")
    np.testing.assert_allclose(vals, [5.0, 5.0, 5.0, 4.0], rtol=1e-12)
    _, v = reference_pairs(a, 4)
    assert _subspace_gap(vecs[:, :3], v[:, :3]) < 1e-9  # the eigenspace, not each vector
    np.testing.assert_allclose(np.abs(vecs[:, 3] @ v[:, 3]), 1.0, atol=1e-12)
    np.testing.assert_array_less(info.residual_norms, 1e-9)
    assert info.converged and info.restarts >= 1
    # a cluster 1e-4 apart: the cluster's span converges; residuals are small
    lam = np.concatenate([[3.0, 3.0 - 1e-4, 3.0 - 2e-4], np.linspace(1.0, -1.0, n - 3)])
    a = spectrum_matrix(n, lam, seed=25)
    vals, vecs, info = ht.linalg.power_iteration(sp.csr_matrix(a), 3, seed=2)
    np.testing.assert_allclose(vals, lam[:3], rtol=1e-12)
    assert _subspace_gap(vecs, reference_pairs(a, 3)[1]) < 1e-9 and info.converged


@pytest.mark.parametrize("basis_size", [None, 9])
def test_lanczos_high_multiplicity_and_tight_basis(basis_size):
    # multiplicity 6 at the top, k=8: each check vector brings one more copy, so the check is
    # repeated until it finds nothing new; with basis_size = k + 1 the check cycle still adds
    # 10 vectors (found as bugs by a randomized comparison with eigh)
    n = 80
    lam = np.concatenate([np.full(6, -2.0), [1.5, 1.25], np.linspace(1.0, -1.0, n - 8)])
    a = spectrum_matrix(n, lam, seed=32)
    vals, vecs, info = ht.linalg.power_iteration(
        sp.csr_matrix(a), 8, seed=1, basis_size=basis_size, max_iter=5000
    )
    np.testing.assert_allclose(vals, lam[:8], rtol=1e-11)
    assert _subspace_gap(vecs, reference_pairs(a, 8)[1]) < 1e-8
    assert info.converged and info.restarts >= 6


@pytest.mark.parametrize(("n", "k"), [(12, 12), (30, 28), (25, 5)])
def test_lanczos_k_close_to_n(n, k):
    a = spectrum_matrix(n, np.linspace(2.0, -1.5, n), seed=26)
    vals, vecs, info = ht.linalg.power_iteration(a, k, seed=3, method="lanczos")
    w, _ = reference_pairs(a, k)
    np.testing.assert_allclose(vals, w, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(k), atol=1e-12)
    np.testing.assert_array_less(info.residual_norms, 1e-10)
    assert info.converged and info.basis_size == min(n, max(2 * k + 1, 20))


def test_lanczos_invariant_subspaces_and_zero_matrix():
    # rank 2: the Krylov space is invariant after 2 steps; random continuation finds zeros
    u = np.linalg.qr(np.random.default_rng(0).standard_normal((40, 2)))[0]
    low = (u * [2.0, -1.0]) @ u.T
    vals, vecs, info = ht.linalg.power_iteration(low, 3, seed=0, method="lanczos")
    np.testing.assert_allclose(vals, [2.0, -1.0, 0.0], atol=1e-13)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-12)
    assert info.converged
    vals, _, info = ht.linalg.power_iteration(np.zeros((6, 6)), 2, seed=0, method="lanczos")
    np.testing.assert_array_equal(vals, [0.0, 0.0])
    assert info.converged


def test_lanczos_restarts_with_small_basis():
    n = 400
    a = spectrum_matrix(n, 0.97 ** np.arange(n), seed=27)
    w, v = reference_pairs(a, 4)
    vals, vecs, small = ht.linalg.power_iteration(a, 4, seed=5, method="lanczos", basis_size=6)
    np.testing.assert_allclose(vals, w, rtol=1e-12)
    np.testing.assert_allclose(vecs, v, atol=1e-8)
    assert small.converged and small.basis_size == 6 and small.restarts > 5
    assert small.rayleigh_ritz_steps == small.restarts + 1
    _, _, big = ht.linalg.power_iteration(a, 4, seed=5, method="lanczos", basis_size=40)
    assert big.converged and big.restarts < small.restarts


def test_lanczos_non_convergence_warns_and_stops():
    a = spectrum_matrix(100, np.r_[1.0, 0.999999, 0.5 ** np.arange(98)], seed=28)
    calls = []

    def op(v):
        calls.append(v.shape[1])
        return a @ v

    with pytest.warns(ConvergenceWarning, match=r"lanczos\) did not converge in 7 iterations"):
        vals, vecs, info = ht.linalg.power_iteration(op, 2, n=100, max_iter=7, seed=0)
    assert info.iterations == 7 and not info.converged and calls == [1] * 7 + [2]
    assert vals.shape == (2,) and vecs.shape == (100, 2)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(2), atol=1e-12)
    with pytest.warns(ConvergenceWarning):  # fewer steps than k: orthonormal fill-in columns
        _, vecs, info = ht.linalg.power_iteration(a, 4, max_iter=2, seed=0, method="lanczos")
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(4), atol=1e-12)


def test_lanczos_errors():
    a = spectrum_matrix(10, np.arange(10.0), seed=29)
    for A, kw in (_as_kind(a, "dense"), _as_kind(a, "sparse"), _as_kind(a, "operator")):
        with pytest.raises(ValueError, match="k=11 must be between 1 and n=10"):
            ht.linalg.power_iteration(A, 11, method="lanczos", **kw)
    with pytest.raises(ValueError, match="square"):
        ht.linalg.power_iteration(np.ones((3, 4)), 1, method="lanczos")
    nonsym = a.copy()
    nonsym[0, 1] += 1.0
    for A, kw in (_as_kind(nonsym, "dense"), _as_kind(nonsym, "sparse")):
        with pytest.raises(ValueError, match="not symmetric"):
            ht.linalg.power_iteration(A, 2, method="lanczos", **kw)
    big = spectrum_matrix(200, 0.9 ** np.arange(200), seed=30)
    big[0, 5] += 0.3
    with pytest.raises(ValueError, match="not symmetric"):  # caught inside the iteration
        ht.linalg.power_iteration(lambda v: big @ v, 2, n=200, method="lanczos")
    bad = a.copy()
    bad[3, 3] = np.nan
    for A, kw in (_as_kind(bad, "dense"), _as_kind(bad, "sparse"), _as_kind(bad, "operator")):
        with pytest.raises(NonFiniteError):
            ht.linalg.power_iteration(A, 2, method="lanczos", **kw)
    with pytest.raises(ValueError, match="operator returned shape"):
        ht.linalg.power_iteration(lambda v: v[:5], 2, n=10, method="lanczos")

    def boom(v):
        raise RuntimeError("operator failed")

    with pytest.raises(RuntimeError, match="operator failed"):
        ht.linalg.power_iteration(boom, 2, n=10, method="lanczos")


def test_lanczos_deterministic_with_seed():
    a = _random_sparse_symmetric(2000, 31, 20.0 * 0.9 ** np.arange(5))
    r1 = ht.linalg.power_iteration(a, 5, seed=7)
    r2 = ht.linalg.power_iteration(a, 5, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(r1[0], r2[0])
    np.testing.assert_array_equal(r1[1], r2[1])
    assert r1[2].iterations == r2[2].iterations


@pytest.mark.parametrize("n", [101, 400])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_every_simd_path(dtype, n, simd_isa):
    """The dense block product runs the step GEMM's tiles of each instruction set; n = 101
    leaves partial row tiles and, with k = 5, a block narrower than one panel; at n = 400 each
    thread's rows of A outgrow the kernel's 256 KiB bound while the packed block stays under
    it, so rows go in blocks over all panels (the last block partial)."""
    k = 5
    a = spectrum_matrix(n, 0.8 ** np.arange(n), seed=3, dtype=dtype)
    vals, vecs, info = ht.linalg.power_iteration(a, k, method="power", seed=1)
    w, v = reference_pairs(a, k)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(vals, w, rtol=tol, atol=tol, err_msg=simd_isa)
    np.testing.assert_allclose(vecs, v, atol=1e-8 if dtype == np.float64 else 2e-3)
    assert info.converged
