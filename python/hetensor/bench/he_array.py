"""Benchmark cases for EncryptedArray at ring 2^14, 128-bit (one context for all cases).

- elementwise overhead: ``a * b`` and ``a + b`` on EncryptedArrays against the raw OpenFHE
  call on the same ciphertexts;
- encrypted (64 x 64) @ encrypted (64,): the diagonal BSGS plan against the naive row-by-row
  way (matrix row-major in one ciphertext, vector replicated per row, one product, then per
  row a masked rotation-sum gathering its result), written on raw OpenFHE;
- ``sum(axis=1)``: log2 rotations against a linear rotate-and-add loop on raw OpenFHE.

Rows report ciphertext and rotation counts per operation.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..he import Context
from . import BenchConfig, Row, Target, case, compare, time_pair


@functools.lru_cache(maxsize=1)
def _ctx() -> Context:
    return Context.ckks(depth=3)  # 128-bit; OpenFHE picks ring 2^14 (8192 slots)


def _ops(ctx: Context, fn: Any) -> dict[str, int]:
    with ctx.count_ops() as ops:
        fn()
    return ops


@case("he.array_elementwise", group="he", reference="openfhe EvalMult/EvalAdd")
def bench_elementwise(cfg: BenchConfig) -> list[Row]:
    """EncryptedArray a*b and a+b (NumPy dispatch, broadcasting checks) vs raw OpenFHE."""
    ctx = _ctx()
    rng = np.random.default_rng(0)
    a = ctx.encrypt(rng.uniform(-1, 1, (64, 128)))  # exactly one full ciphertext
    b = ctx.encrypt(rng.uniform(-1, 1, (64, 128)))
    cc, ca, cb = ctx.openfhe[0], a.openfhe[0], b.openfhe[0]
    return [
        compare(
            "array a*b (64x128)",
            lambda: a * b,
            lambda: cc.EvalMult(ca, cb),
            reference="openfhe EvalMult",
            repeat=cfg.repeat,
            target=Target(max_ratio=1.05),
            ciphertexts=a.n_ciphertexts,
        ),
        compare(
            "array a+b (64x128)",
            lambda: a + b,
            lambda: cc.EvalAdd(ca, cb),
            reference="openfhe EvalAdd",
            repeat=cfg.repeat * 10,
            target=Target(max_overhead_us=30),
            ciphertexts=a.n_ciphertexts,
        ),
    ]


def _naive_matvec(ctx: Context, a_ct: Any, x_rep: Any, n: int) -> tuple[Any, int]:
    """Row-by-row: one product, then per row mask, rotate-and-sum, move to slot i, mask
    (raw OpenFHE on the context's keys, which must hold the rotations)."""
    cc = ctx.openfhe[0]
    slots = ctx.slots

    def rot(ct: Any, k: int) -> Any:
        k = ctx.normalize_rotation(k)
        return cc.EvalRotate(ct, k) if k else ct  # OpenFHE has no key for rotating by 0

    def plain(values: np.ndarray, level: int) -> Any:
        return cc.MakeCKKSPackedPlaintext(values.tolist(), 1, level, None, slots)

    prod = cc.EvalMult(a_ct, x_rep)
    rotations = 0
    y = None
    for i in range(n):
        row_mask = np.zeros(slots)
        row_mask[i * n : (i + 1) * n] = 1.0
        r = cc.EvalMult(prod, plain(row_mask, prod.GetLevel()))
        step = 1
        while step < n:
            r = cc.EvalAdd(r, rot(r, step))
            rotations += 1
            step *= 2
        r = rot(r, i * n - i)  # row sum from slot i*n to slot i
        rotations += 1
        one = np.zeros(slots)
        one[i] = 1.0
        r = cc.EvalMult(r, plain(one, r.GetLevel()))
        y = r if y is None else cc.EvalAdd(y, r)
    return y, rotations


@case("he.matvec64", group="he", reference="naive row-by-row matvec (raw openfhe)")
def bench_matvec(cfg: BenchConfig) -> list[Row]:
    """Encrypted 64x64 @ encrypted 64-vector: diagonal BSGS vs the naive row-by-row way."""
    ctx = _ctx()
    n = 64
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (n, n))
    x = rng.uniform(-1, 1, n)
    a_row = ctx.encrypt(w)  # row-major, 4096 slots replicated twice
    ex = ctx.encrypt(x)
    a_diag = ctx.encrypt(w, layout="diagonal")
    (x_rep,) = ctx.encrypt(np.tile(x, n)).openfhe  # x replicated per row (the naive input)
    # keys for every method, so no timed run makes keys
    ctx.generate_keys(rotations=[*range(1, n), *[i * n - i for i in range(n)]])
    _ = (a_diag @ ex, a_row @ ex)
    naive_y, naive_rot = _naive_matvec(ctx, a_row.openfhe[0], x_rep, n)
    cc, _, sk = ctx.openfhe
    pt = cc.Decrypt(naive_y, sk)
    pt.SetLength(ctx.slots)
    y_naive = np.asarray(pt.GetRealPackedValue())[:n]
    ref = w @ x
    err = {
        "bsgs": float(np.abs(ctx.decrypt(a_diag @ ex) - ref).max()),
        "rowmajor": float(np.abs(ctx.decrypt(a_row @ ex) - ref).max()),
        "naive": float(np.abs(y_naive - ref).max()),
    }
    ops_bsgs = _ops(ctx, lambda: a_diag @ ex)
    ops_row = _ops(ctx, lambda: a_row @ ex)
    repeat = max(2, cfg.repeat // 10)
    t_bsgs, t_naive = time_pair(
        lambda: a_diag @ ex, lambda: _naive_matvec(ctx, a_row.openfhe[0], x_rep, n), repeat
    )
    t_row, _ = time_pair(lambda: a_row @ ex, lambda: None, repeat)
    naive = "naive row-by-row"
    return [
        Row(
            "matvec 64 diagonal BSGS (enc x enc)",
            t_bsgs,
            naive,
            t_naive,
            Target(min_speedup=5),
            extras={
                "ciphertexts": 1,
                "rotations": ops_bsgs.get("rotation", 0),
                "ct_mults": ops_bsgs.get("ct_mult", 0),
                "naive_rotations": naive_rot,
                "max_err": f"{err['bsgs']:.1e}",
                "naive_err": f"{err['naive']:.1e}",
            },
        ),
        Row(
            "matvec 64 row-major, strided out (enc x enc)",
            t_row,
            naive,
            t_naive,
            extras={
                "ciphertexts": 1,
                "rotations": ops_row.get("rotation", 0),
                "max_err": f"{err['rowmajor']:.1e}",
            },
        ),
    ]


@case("he.sum_axis", group="he", reference="linear rotate-and-add (raw openfhe)")
def bench_sum_axis(cfg: BenchConfig) -> list[Row]:
    """sum(axis=1) of a 64x128 array: log2(128) = 7 rotations vs 127 in a linear loop."""
    ctx = _ctx()
    a = ctx.encrypt(np.random.default_rng(2).uniform(-1, 1, (64, 128)))
    cc, ct = ctx.openfhe[0], a.openfhe[0]
    ctx.generate_keys(rotations=range(1, 128))

    def linear() -> Any:
        acc = ct
        for k in range(1, 128):
            acc = cc.EvalAdd(acc, cc.EvalRotate(ct, k))
        return acc

    ops = _ops(ctx, lambda: a.sum(axis=1))
    return [
        compare(
            "sum(axis=1) of 64x128",
            lambda: a.sum(axis=1),
            linear,
            reference="linear rotate-and-add",
            repeat=max(2, cfg.repeat // 5),
            ciphertexts=a.n_ciphertexts,
            rotations=ops.get("rotation", 0),
            linear_rotations=127,
        )
    ]
