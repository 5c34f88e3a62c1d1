"""Benchmark cases: ht.linalg.power_iteration against NumPy/SciPy on two problems.

- dense: n = 2000, k = 8, A = Q diag(0.85^i) Q^T with Q a seeded random orthogonal matrix;
- sparse: n = 200,000, k = 8, S + S^T with S seeded random CSR (density 1e-4, Gaussian
  values) plus 60 * 0.85^i on the diagonal at 8 seeded positions (an eigen-gap).

References, timed in the same run: the plain NumPy block power iteration hetensor's kernel
started from (``V <- qr(A V)`` until the largest column change < tol, labelled "seed"), a NumPy
transliteration of hetensor's own iteration (same Rayleigh-Ritz step, block size and stopping
rule: the like-for-like implementation ratio for the dense block iteration),
``numpy.linalg.eigh`` (dense) and ``scipy.sparse.linalg.eigsh`` (sparse, ``which="LM"``,
default tol). The dense case also times ``method="lanczos"`` against ``"auto"``'s choice.
Each row's note gives the eigenvector alignment error ``max_i (1 - |<v_i, u_i>|)`` against
eigh / eigsh(tol=0) and iteration counts.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import linalg
from ..linalg import PowerIterationInfo
from . import BenchConfig, Row, Target, case

K = 8
TOL = 1e-10


def _median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up, and the result we report accuracy for
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _alignment(v: np.ndarray, u: np.ndarray) -> float:
    """max over columns of 1 - |<v_i, u_i>| (0 = same directions)."""
    v = v / np.linalg.norm(v, axis=0)
    u = u / np.linalg.norm(u, axis=0)
    return float(np.max(1.0 - np.abs(np.sum(v * u, axis=0))))


def _describe(info: PowerIterationInfo) -> str:
    if info.method == "lanczos":
        return (
            f"lanczos basis {info.basis_size}: {info.iterations} steps, {info.restarts}"
            f" restarts, {info.matvecs} matvecs"
        )
    return (
        f"{info.method} m={info.filter_degree}: {info.iterations} products of block"
        f" {info.block_size}, {info.matvecs} matvecs"
    )


def _note(
    vecs: np.ndarray,
    info: PowerIterationInfo,
    u: np.ndarray,
    v_seed: np.ndarray,
    it_seed: int,
    v_ritz: np.ndarray,
    it_ritz: int,
) -> str:
    return (
        f"align err ht {_alignment(vecs, u):.1e} ({_describe(info)}),"
        f" seed-numpy {_alignment(v_seed, u):.1e} ({it_seed} it),"
        f" ritz-numpy {_alignment(v_ritz, u):.1e} ({it_ritz} it)"
    )


def seed_power_iteration(
    a: Any, k: int, tol: float, v0: np.ndarray, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray, int]:
    """Plain block power iteration (V <- qr(A V), stop on the largest column change), NumPy."""
    v, _ = np.linalg.qr(v0[:, :k])
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
        v_old = v
        v, _ = np.linalg.qr(a @ v)
        if np.max(np.sqrt(np.sum((v - v_old) ** 2, axis=0))) < tol:
            break
    vals = np.sum(v * (a @ v), axis=0)
    order = np.argsort(-np.abs(vals))
    return vals[order], v[:, order], it


def ritz_power_iteration(
    a: Any, k: int, tol: float, v0: np.ndarray, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray, int]:
    """hetensor's iteration transliterated to NumPy: Rayleigh-Ritz on each V, same stop rule."""
    v, _ = np.linalg.qr(v0)
    x_prev = None
    it = 0
    x = v
    theta: np.ndarray = np.zeros(v.shape[1])
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
        w = a @ v
        theta, s = np.linalg.eigh(v.T @ w)
        order = np.argsort(-np.abs(theta), kind="stable")
        theta, s = theta[order], s[:, order]
        x, ax = v @ s, w @ s
        if x_prev is not None:
            signs = np.sign(np.sum(x[:, :k] * x_prev[:, :k], axis=0))
            x[:, :k] *= signs
            change = np.max(np.linalg.norm(x[:, :k] - x_prev[:, :k], axis=0))
            if change < tol:
                break
        x_prev = x
        v, _ = np.linalg.qr(ax)
    return theta[:k], x[:, :k], it


@functools.lru_cache(maxsize=2)
def dense_problem(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(2024)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * 0.85 ** np.arange(n)) @ q.T
    return (a + a.T) / 2


@functools.lru_cache(maxsize=2)
def sparse_problem(n: int = 200_000) -> Any:
    import scipy.sparse as sp

    rng = np.random.default_rng(2024)
    # random_state: the keyword of every SciPy (1.15 added rng=, the only one its stubs know)
    s = sp.random(  # type: ignore[call-overload]
        n, n, density=1e-4, format="csr", random_state=rng, data_rvs=rng.standard_normal
    )
    pos = rng.choice(n, K, replace=False)
    spikes = sp.csr_matrix((60.0 * 0.85 ** np.arange(K), (pos, pos)), shape=(n, n))
    return (s + s.T + spikes).tocsr()


@case("linalg.power_iteration.dense", group="linalg", reference="NumPy power iteration, eigh")
def bench_dense(cfg: BenchConfig) -> list[Row]:
    """Dense n=2000 (1000 with --quick), k=8, eigenvalues 0.85^i, float64."""
    n = 1000 if cfg.quick else 2000
    a = dense_problem(n)
    v0 = np.random.default_rng(1).standard_normal((n, 2 * K))
    repeat = max(2, cfg.repeat // 5)
    t_ht, (_vals, vecs, info) = _median_time(
        lambda: linalg.power_iteration(a, K, tol=TOL, seed=1), repeat
    )
    t_seed, (_, v_seed, it_seed) = _median_time(
        lambda: seed_power_iteration(a, K, TOL, v0), max(1, repeat // 2)
    )
    t_ritz, (_, v_ritz, it_ritz) = _median_time(lambda: ritz_power_iteration(a, K, TOL, v0), repeat)
    t_lz, (_, v_lz, info_lz) = _median_time(
        lambda: linalg.power_iteration(a, K, tol=TOL, seed=1, method="lanczos"), repeat
    )
    t_eigh, (w, u) = _median_time(lambda: np.linalg.eigh(a), max(1, repeat // 2))
    u = u[:, np.argsort(-np.abs(w))[:K]]
    extras = {"n": n, "k": K, "dtype": "float64", "threads": _threads()}
    note = _note(vecs, info, u, v_seed, it_seed, v_ritz, it_ritz)
    return [
        Row(
            "dense: vs seed NumPy power iteration",
            t_ht,
            "numpy seed algorithm (qr)",
            t_seed,
            Target(min_speedup=3),
            note,
            extras,
        ),
        Row(
            "dense: vs NumPy same iteration (like-for-like)",
            t_ht,
            "numpy Ritz iteration",
            t_ritz,
            None,
            "same block size, Rayleigh-Ritz and stop rule in NumPy",
            extras,
        ),
        Row(
            "dense: method='lanczos' vs the auto choice",
            t_lz,
            f"ht method={info.method!r}",
            t_ht,
            None,
            f"align err {_alignment(v_lz, u):.1e} ({_describe(info_lz)})",
            extras,
        ),
        Row(
            "dense: vs numpy.linalg.eigh",
            t_ht,
            "numpy.linalg.eigh",
            t_eigh,
            None,
            "eigh computes all n pairs",
            extras,
        ),
    ]


@case(
    "linalg.power_iteration.sparse",
    group="linalg",
    reference="NumPy power iteration, eigsh",
    requires=("scipy",),
)
def bench_sparse(cfg: BenchConfig) -> list[Row]:
    """Sparse n=200,000 (20,000 with --quick), k=8, density 1e-4 + eigen-gap, float64."""
    import scipy.sparse.linalg as spla

    n = 20_000 if cfg.quick else 200_000
    a = sparse_problem(n)
    v0 = np.random.default_rng(1).standard_normal((n, K + 2))
    repeat = max(1, cfg.repeat // 10)
    t_ht, (_vals, vecs, info) = _median_time(
        lambda: linalg.power_iteration(a, K, tol=TOL, seed=1), repeat
    )
    t_seed, (_, v_seed, it_seed) = _median_time(lambda: seed_power_iteration(a, K, TOL, v0), 1)
    t_ritz, (_, v_ritz, it_ritz) = _median_time(lambda: ritz_power_iteration(a, K, TOL, v0), 1)
    x0 = np.random.default_rng(2).standard_normal(n)
    t_eigsh, _ = _median_time(lambda: spla.eigsh(a, k=K, which="LM", v0=x0), repeat)
    u: np.ndarray
    w, u = spla.eigsh(a, k=K, which="LM", tol=0, v0=x0)  # accuracy reference
    u = u[:, np.argsort(-np.abs(w))]
    calls = [0]

    def matvec(x: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return a @ x

    # the functional form (it makes a _CustomLinearOperator), which scipy-stubs types only there
    counted = spla.LinearOperator(a.shape, matvec=matvec, dtype=a.dtype)  # type: ignore[call-overload]
    u_eigsh: np.ndarray
    w_e, u_eigsh = spla.eigsh(counted, k=K, which="LM", v0=x0)
    u_eigsh = u_eigsh[:, np.argsort(-np.abs(w_e))]
    extras = {"n": n, "k": K, "nnz": int(a.nnz), "dtype": "float64", "threads": _threads()}
    note = _note(vecs, info, u, v_seed, it_seed, v_ritz, it_ritz)
    return [
        Row(
            "sparse: vs seed NumPy power iteration",
            t_ht,
            "numpy/scipy seed algorithm (qr)",
            t_seed,
            Target(min_speedup=3),
            note,
            extras,
        ),
        Row(
            "sparse: vs NumPy Ritz block iteration",
            t_ht,
            "numpy Ritz iteration",
            t_ritz,
            None,
            "block power iteration with Rayleigh-Ritz in NumPy/SciPy (auto runs Lanczos here)",
            extras,
        ),
        Row(
            "sparse: vs scipy eigsh",
            t_ht,
            "scipy.sparse.linalg.eigsh",
            t_eigsh,
            Target(min_speedup=1),
            f"eigsh default tol; its align err {_alignment(u_eigsh, u):.1e}, {calls[0]} matvecs",
            extras,
        ),
    ]


def _threads() -> str:
    from .. import _core

    return f"blas={_core.blas_num_threads()},kernels={_core.default_num_threads()}"
