"""Benchmark cases: hetensor's ciphertext operations against the same raw OpenFHE calls.

Both sides use the same 128-bit context (ring 2^14, depth 3, 40-bit scaling) and the same
ciphertexts, so the ratio is hetensor's Python-side overhead (checks, wrapping, packing).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..he import Context
from . import BenchConfig, Row, Target, case, compare


@functools.lru_cache(maxsize=1)
def _setup() -> dict[str, Any]:
    ctx = Context.ckks(depth=3)  # 128-bit: OpenFHE picks ring 2^14 for this depth
    ctx.generate_keys(rotations=[1])
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, ctx.slots)
    y = rng.uniform(-1, 1, ctx.slots)
    a, b = ctx.encrypt_vector(x), ctx.encrypt_vector(y)
    cc, pk, sk = ctx.openfhe
    return {"ctx": ctx, "x": x, "a": a, "b": b, "cc": cc, "pk": pk, "sk": sk}


def _label(ctx: Context) -> dict[str, Any]:
    return {"ring": ctx.ring_dim, "slots": ctx.slots}


@case("he.encrypt", group="he", reference="openfhe Encrypt")
def bench_encrypt(cfg: BenchConfig) -> list[Row]:
    """Encode + encrypt a full-slot vector."""
    s = _setup()
    cc, pk, x, ctx = s["cc"], s["pk"], s["x"], s["ctx"]
    xs = x.tolist()
    return [
        compare(
            "encrypt (full slots)",
            lambda: ctx.encrypt_vector(x),
            lambda: cc.Encrypt(pk, cc.MakeCKKSPackedPlaintext(xs)),
            reference="openfhe MakeCKKSPackedPlaintext+Encrypt",
            repeat=max(3, cfg.repeat // 4),
            **_label(ctx),
        )
    ]


@case("he.add", group="he", reference="openfhe EvalAdd")
def bench_add(cfg: BenchConfig) -> list[Row]:
    """Ciphertext + ciphertext: absolute Python overhead per call."""
    s = _setup()
    cc, a, b = s["cc"], s["a"], s["b"]
    (ca,), (cb,) = a.openfhe, b.openfhe
    return [
        compare(
            "add ct+ct",
            lambda: a + b,
            lambda: cc.EvalAdd(ca, cb),
            reference="openfhe EvalAdd",
            repeat=cfg.repeat * 10,
            target=Target(max_overhead_us=30),
            **_label(s["ctx"]),
        )
    ]


@case("he.multiply", group="he", reference="openfhe EvalMult")
def bench_multiply(cfg: BenchConfig) -> list[Row]:
    """Ciphertext x ciphertext (relinearized; rescaling is automatic in both)."""
    s = _setup()
    cc, a, b = s["cc"], s["a"], s["b"]
    (ca,), (cb,) = a.openfhe, b.openfhe
    return [
        compare(
            "multiply ct*ct",
            lambda: a * b,
            lambda: cc.EvalMult(ca, cb),
            reference="openfhe EvalMult",
            repeat=cfg.repeat,
            target=Target(max_ratio=1.05),
            **_label(s["ctx"]),
        )
    ]


@case("he.rotate", group="he", reference="openfhe EvalRotate")
def bench_rotate(cfg: BenchConfig) -> list[Row]:
    """Rotation by one slot."""
    s = _setup()
    cc, a = s["cc"], s["a"]
    (ca,) = a.openfhe
    return [
        compare(
            "rotate by 1",
            lambda: a.rotate(1),
            lambda: cc.EvalRotate(ca, 1),
            reference="openfhe EvalRotate",
            repeat=cfg.repeat,
            target=Target(max_ratio=1.05),
            **_label(s["ctx"]),
        )
    ]


@case("he.decrypt", group="he", reference="openfhe Decrypt")
def bench_decrypt(cfg: BenchConfig) -> list[Row]:
    """Decrypt + decode a full-slot ciphertext to float64 values."""
    s = _setup()
    cc, sk, a, ctx = s["cc"], s["sk"], s["a"], s["ctx"]
    (ca,) = a.openfhe

    def raw() -> Any:
        pt = cc.Decrypt(ca, sk)
        pt.SetLength(ctx.slots)
        return np.asarray(pt.GetRealPackedValue())

    return [
        compare(
            "decrypt (full slots)",
            lambda: ctx.decrypt(a),
            raw,
            reference="openfhe Decrypt",
            repeat=max(3, cfg.repeat // 4),
            **_label(ctx),
        )
    ]
