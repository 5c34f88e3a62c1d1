"""TenSEAL 0.3.16 worker (run by ``.venv-tenseal``'s interpreter; see :mod:`._protocol`).

Written as TenSEAL's tutorials write it: CKKSVector for vectors, a matrix as one CKKSVector
per row, ``vector.matmul(plain)`` for plain matrix products, CKKSTensor for encrypted @
encrypted, one thread. Each operation gets the cheapest 128-bit context TenSEAL accepts for
its depth (SEAL's table: ring 8192 holds 218 bits of modulus, 16384 holds 438).
"""

from __future__ import annotations

import functools
import operator
import sys
import time
from typing import Any

import numpy as np
import tenseal as ts

from ._protocol import Prepared, RidgeTask, Unsupported, main

SCALE_BITS = 40
# multiplicative depth each operation needs
DEPTH = {"multiply": 1, "matvec_plain": 1, "matvec_enc": 1, "matmul_enc": 1, "ridge": 2}


def context(depth: int, rotations: bool) -> tuple[Any, dict[str, Any]]:
    """The cheapest 128-bit CKKS context holding ``depth`` levels of 40-bit scale."""
    bits = [60] + [SCALE_BITS] * depth + [60]
    ring = 8192 if sum(bits) <= 218 else 16384
    ctx = ts.context(
        ts.SCHEME_TYPE.CKKS, poly_modulus_degree=ring, coeff_mod_bit_sizes=bits, n_threads=1
    )
    ctx.global_scale = 2.0**SCALE_BITS
    if rotations:
        ctx.generate_galois_keys()
    return ctx, {"ring": ring, "depth": depth, "modulus_bits": bits}


def _ridge(data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    """Full-batch GD with one CKKSVector per column chunk (TenSEAL's best packing for GD).

    The server computes the residual and the gradient sums (two levels: TenSEAL's scalar
    products would need a third, i.e. ring 16384); the owner decrypts the gradient, steps and
    re-encrypts the weights every epoch (pTensor's refresh: the owner sees the weights).
    """
    task = RidgeTask.from_op(data, params)
    n, d = task.shape
    split: dict[str, float] = {}
    t0 = time.perf_counter()
    ctx, info = context(DEPTH["ridge"], rotations=True)
    slots = info["ring"] // 2
    split["keygen"] = time.perf_counter() - t0
    chunks = [slice(s, min(s + slots, n)) for s in range(0, n, slots)]
    t0 = time.perf_counter()
    cols = [[ts.ckks_vector(ctx, task.Xa[c, j].tolist()) for c in chunks] for j in range(d + 1)]
    ys = [ts.ckks_vector(ctx, task.y[c].tolist()) for c in chunks]
    split["encrypt"] = time.perf_counter() - t0
    widths = sorted({c.stop - c.start for c in chunks})  # the last chunk may be shorter

    def gradient(w: np.ndarray) -> np.ndarray:
        # the owner encrypts each weight replicated to each chunk width
        we = {m: [ts.ckks_vector(ctx, [v] * m) for v in w] for m in widths}
        res = []  # the server: residual per chunk, then the gradient sums
        for k, c in enumerate(chunks):
            wk = we[c.stop - c.start]
            acc = functools.reduce(operator.add, (cols[j][k] * wk[j] for j in range(d + 1)))
            res.append(acc - ys[k])
        grad = [
            functools.reduce(
                operator.add, ((cols[j][k] * res[k]).sum() for k in range(len(chunks)))
            )
            for j in range(d + 1)
        ]
        return np.array([v.decrypt()[0] for v in grad])  # the owner decrypts

    return Prepared(
        lambda: task.fit(gradient, split), lambda w: w, {**info, "n": n, "d": d}, split, True
    )


def _ridge_per_sample(data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    """TenSEAL's Tutorial 1 way: one CKKSVector per sample, ``x_i.dot(w)`` per row.

    Slow (a rotation sum per sample and epoch): run with ``timed_epochs`` (see
    :class:`RidgeTask`).
    """
    task = RidgeTask.from_op(data, params)
    n, d = task.shape
    split: dict[str, float] = {}
    t0 = time.perf_counter()
    # three levels: the dot product, the broadcast of its 1-slot result (a masking
    # product), the product with the row
    ctx, info = context(3, rotations=True)
    split["keygen"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = [ts.ckks_vector(ctx, r.tolist()) for r in task.Xa]
    ys = [ts.ckks_vector(ctx, [v]) for v in task.y]
    split["encrypt"] = time.perf_counter() - t0

    def gradient(w: np.ndarray) -> np.ndarray:
        we = ts.ckks_vector(ctx, w.tolist())  # the owner encrypts
        g = functools.reduce(  # the server
            operator.add, (xi * (xi.dot(we) - yi) for xi, yi in zip(rows, ys, strict=True))
        )
        return np.asarray(g.decrypt())  # the owner decrypts

    return Prepared(
        lambda: task.fit(gradient, split), lambda w: w, {**info, "n": n, "d": d}, split, True
    )


def prepare(op: str, data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    if op == "ridge":
        if params.get("packing") == "samples":
            return _ridge_per_sample(data, params)
        return _ridge(data, params)
    rotations = op in ("total_sum", "sum_axis1", "matvec_plain", "matvec_enc", "matmul_enc")
    ctx, info = context(DEPTH.get(op, 0) or 1, rotations)
    if op in ("encrypt", "decrypt", "add", "multiply", "total_sum"):
        x = data["x"].tolist()
        a = ts.ckks_vector(ctx, x)
        b = ts.ckks_vector(ctx, data["y"].tolist()) if "y" in data else None
        run = {
            "encrypt": lambda: ts.ckks_vector(ctx, x),
            "decrypt": lambda: a.decrypt(),
            "add": lambda: a + b,
            "multiply": lambda: a * b,
            "total_sum": lambda: a.sum(),
        }[op]
        if op == "decrypt":
            return Prepared(run, np.asarray, info)
        return Prepared(run, lambda ct: np.asarray(ct.decrypt()), info)
    if op in ("sum_axis0", "sum_axis1"):
        rows = [ts.ckks_vector(ctx, r.tolist()) for r in data["M"]]

        def axis0() -> Any:
            acc = rows[0]
            for r in rows[1:]:
                acc = acc + r
            return acc

        if op == "sum_axis0":
            return Prepared(axis0, lambda ct: np.asarray(ct.decrypt()), info)
        return Prepared(
            lambda: [r.sum() for r in rows],
            lambda cts: np.array([c.decrypt()[0] for c in cts]),
            info,
        )
    if op == "matvec_plain":
        A, v = data["A"], data["v"]
        ve = ts.ckks_vector(ctx, v.tolist())
        At = A.T.tolist()
        return Prepared(lambda: ve.matmul(At), lambda ct: np.asarray(ct.decrypt()), info)
    if op == "matvec_enc":
        A, v = data["A"], data["v"]
        rows = [ts.ckks_vector(ctx, r.tolist()) for r in A]
        ve = ts.ckks_vector(ctx, v.tolist())
        return Prepared(
            lambda: [r.dot(ve) for r in rows],
            lambda cts: np.array([c.decrypt()[0] for c in cts]),
            info,
        )
    if op == "matmul_enc":
        A, B = data["A"], data["B"]
        ea = ts.ckks_tensor(ctx, ts.plain_tensor(A.tolist()))
        eb = ts.ckks_tensor(ctx, ts.plain_tensor(B.tolist()))
        return Prepared(
            lambda: ea.dot(eb),
            lambda ct: np.asarray(ct.decrypt().tolist()),
            info,
        )
    raise Unsupported(op)


if __name__ == "__main__":
    sys.exit(main("tenseal", ts.__version__, prepare))
