"""openfhe-numpy 1.5.1 worker (run by ``.venv-ofnumpy``'s interpreter; see :mod:`._protocol`).

Written as openfhe-numpy's examples write it: ``onp.array(..., fhe_type="C")`` packs a
matrix row-major (a vector column-major for ``@``), ``onp.sum``/``@`` with the keys its
helpers make, one thread. Parameters as its examples, at 128-bit: FIXEDAUTO, HYBRID key
switching, uniform ternary secrets, 40-bit scale over a 60-bit first modulus; the ring is
OpenFHE's 128-bit choice for the depth, raised until the packed operands fit the slots.
"""

from __future__ import annotations

import functools
import operator
import sys
import time
from typing import Any

import numpy as np
import openfhe as fhe  # before openfhe_numpy: the other order crashes the 1.5.1 wheels
import openfhe_numpy as onp

from ._protocol import Prepared, RidgeTask, Unsupported, main

SCALE_BITS = 40
DEPTH = {"multiply": 1, "matvec_plain": 2, "matvec_enc": 2, "matmul_enc": 3}


def _padded(shape: tuple[int, ...]) -> int:
    return int(np.prod([1 << max(0, int(s) - 1).bit_length() for s in shape]))


def context(depth: int, slots: int) -> tuple[Any, Any, dict[str, Any]]:
    """OpenFHE's 128-bit context for ``depth``, with a ring of at least ``2 * slots``."""
    ring = 0
    while True:
        p = fhe.CCParamsCKKSRNS()
        p.SetMultiplicativeDepth(depth)
        p.SetScalingModSize(SCALE_BITS)
        p.SetFirstModSize(60)
        p.SetScalingTechnique(fhe.ScalingTechnique.FIXEDAUTO)
        p.SetKeySwitchTechnique(fhe.KeySwitchTechnique.HYBRID)
        p.SetSecretKeyDist(fhe.SecretKeyDist.UNIFORM_TERNARY)
        p.SetSecurityLevel(fhe.SecurityLevel.HEStd_128_classic)
        if ring:
            p.SetRingDim(ring)
        cc = fhe.GenCryptoContext(p)
        if cc.GetRingDimension() // 2 >= slots:
            break
        ring = max(2 * slots, 2 * cc.GetRingDimension())
    for feature in ("PKE", "LEVELEDSHE", "ADVANCEDSHE"):
        cc.Enable(getattr(fhe.PKESchemeFeature, feature))
    keys = cc.KeyGen()
    cc.EvalMultKeyGen(keys.secretKey)
    info = {"ring": int(cc.GetRingDimension()), "depth": depth, "scale_bits": SCALE_BITS}
    return cc, keys, info


def _ridge(data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    """Full-batch GD with the matrix API: ``X_b @ w`` and ``sum(X_b * r_b, axis=0)`` per
    block of rows (as many rows as one ciphertext holds); the owner decrypts the gradient,
    steps and re-encrypts the weights every epoch (pTensor's refresh, as for TenSEAL)."""
    task = RidgeTask.from_op(data, params)
    n, d = task.shape
    split: dict[str, float] = {}
    t0 = time.perf_counter()
    cols = 1 << d.bit_length()  # d + 1 columns, padded to a power of two
    # three levels: X_b @ w is a product and a masked column sum, then X_b * r_b
    cc, keys, info = context(3, min(_padded((n, cols)), 8192))
    pk, sk = keys.publicKey, keys.secretKey
    batch = cc.GetRingDimension() // 2
    colkey = onp.sum_col_keys(sk)
    split["keygen"] = time.perf_counter() - t0

    def enc(v: np.ndarray, order: Any = onp.ROW_MAJOR, mode: str = "zero", **kw: Any) -> Any:
        return onp.array(
            cc=cc,
            data=v,
            batch_size=batch,
            order=order,
            fhe_type="C",
            mode=mode,
            public_key=pk,
            **kw,
        )

    t0 = time.perf_counter()
    step = batch // cols
    blocks = []
    for s in range(0, n, step):
        xb = enc(task.Xa[s : s + step])
        xb.extra["colkey"] = colkey
        blocks.append((xb, enc(task.y[s : s + step], target_cols=xb.ncols)))
    rowkey = onp.sum_row_keys(sk, blocks[0][0].ncols, batch)
    split["encrypt"] = time.perf_counter() - t0

    def gradient(w: np.ndarray) -> np.ndarray:
        # the owner encrypts (tiled: w repeats for every row; the blocks are zero padded so
        # the row sums do not count a tiled copy twice)
        we = enc(w, onp.COL_MAJOR, mode="tile")
        parts = []
        for xb, yb in blocks:  # the server
            prod = xb * ((xb @ we) - yb)
            prod.extra["rowkey"] = rowkey
            parts.append(onp.sum(prod, axis=0))
        g = functools.reduce(operator.add, parts)
        return np.asarray(g.decrypt(sk, unpack_type="original"))[: d + 1]  # the owner

    return Prepared(
        lambda: task.fit(gradient, split), lambda w: w, {**info, "n": n, "d": d}, split, True
    )


def prepare(op: str, data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    if op == "ridge":
        return _ridge(data, params)
    operands = [v for k, v in data.items() if k in ("x", "M", "A", "B")]
    need = max(_padded(v.shape) for v in operands)
    cc, keys, info = context(DEPTH.get(op, 1), need)
    pk, sk = keys.publicKey, keys.secretKey
    batch = cc.GetRingDimension() // 2

    def enc(v: np.ndarray, order: Any = onp.ROW_MAJOR, kind: str = "C") -> Any:
        return onp.array(
            cc=cc,
            data=v,
            batch_size=batch,
            order=order,
            fhe_type=kind,
            mode="tile",
            public_key=pk if kind == "C" else None,
        )

    def dec(ct: Any) -> np.ndarray:
        return np.asarray(ct.decrypt(sk, unpack_type="original"), dtype=np.float64)

    if op in ("encrypt", "decrypt", "add", "multiply", "total_sum"):
        x = data["x"]
        a = enc(x)
        b = enc(data["y"]) if "y" in data else None
        if op == "total_sum":
            onp.gen_sum_key(sk)
        run = {
            "encrypt": lambda: enc(x),
            "decrypt": lambda: dec(a),
            "add": lambda: a + b,
            "multiply": lambda: a * b,
            "total_sum": lambda: onp.sum(a),
        }[op]
        return Prepared(run, np.asarray if op == "decrypt" else dec, info)
    if op in ("sum_axis0", "sum_axis1"):
        m = enc(data["M"])
        if op == "sum_axis0":
            m.extra["rowkey"] = onp.sum_row_keys(sk, m.ncols, m.batch_size)
        else:
            m.extra["colkey"] = onp.sum_col_keys(sk, m.ncols)
        axis = int(op[-1])
        return Prepared(lambda: onp.sum(m, axis=axis), dec, info)
    if op in ("matvec_plain", "matvec_enc"):
        m = enc(data["A"], kind="P" if op == "matvec_plain" else "C")
        m.extra["colkey"] = onp.sum_col_keys(sk)
        v = enc(data["v"], onp.COL_MAJOR)
        return Prepared(lambda: m @ v, dec, info)
    if op == "matmul_enc":
        a, b = enc(data["A"]), enc(data["B"])
        onp.EvalSquareMatMultRotateKeyGen(sk, a.ncols)
        return Prepared(lambda: a @ b, dec, info)
    raise Unsupported(op)


if __name__ == "__main__":
    sys.exit(main("openfhe-numpy", "1.5.1", prepare))
