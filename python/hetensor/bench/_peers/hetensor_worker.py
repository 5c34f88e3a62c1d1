"""hetensor's side of the peer benchmark, in hetensor's venv (see :mod:`._protocol`).

Each operation on the context hetensor would give a user for it: ``Context.ckks(depth=d)``
for the operation's depth (PARAMS ``context`` overrides it), keys from a dry run
(:meth:`~hetensor.Context.recording`), the public API only.
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from typing import Any

import numpy as np

from ...he import Context, EncryptedArray
from ._protocol import Prepared, Unsupported, main

# multiplicative depth each operation needs
DEPTH = {"multiply": 1, "matvec_plain": 1, "matvec_enc": 1, "matmul_enc": 2}
OPERANDS = ("x", "y", "M", "A", "B", "v")


def _ridge(data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    """EncryptedLinearRegression with the owner's refresh (the peers' trust model)."""
    from ...linear_model import EncryptedLinearRegression, OwnerRefresh, encrypt_dataset

    X, y = data["X"], data["y"]
    n, d = X.shape
    split: dict[str, float] = {}
    model = EncryptedLinearRegression(
        solver=params.get("solver", "gram"),
        alpha=params["alpha"],
        learning_rate=params["learning_rate"],
        max_iter=params["epochs"],
        momentum=None,
        refresh="client",
    )
    t0 = time.perf_counter()
    owner = Context.ckks(**params.get("context", {"depth": 5}))
    owner.generate_keys(model.key_plan(n, d))
    server = owner.public()
    split["keygen"] = time.perf_counter() - t0

    def fit() -> np.ndarray:
        t0 = time.perf_counter()
        Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
        split["encrypt"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.fit(Xe, ye, refresh_client=OwnerRefresh(owner))
        split["fit"] = time.perf_counter() - t0
        return np.r_[owner.decrypt(model.coef_), owner.decrypt(model.intercept_)]

    info = {**_params(owner), "n": n, "d": d, "solver": model.solver}
    return Prepared(fit, lambda w: w, info, split, one_shot=True)


def _params(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    return {
        "ring_dim": p.ring_dim,
        "total_depth": p.total_depth,
        "scale_bits": p.scale_bits,
        "first_mod_bits": p.first_mod_bits,
        "slots": p.slots,
        "security": p.security,
    }


def prepare(op: str, data: dict[str, np.ndarray], params: dict[str, Any]) -> Prepared:
    if op == "ridge":
        return _ridge(data, params)
    ctx = Context.ckks(**params.get("context", {"depth": DEPTH.get(op, 1)}))
    values = {k: v for k, v in data.items() if k in OPERANDS}

    def compute(arrays: dict[str, EncryptedArray]) -> Any:
        if op == "add":
            return arrays["x"] + arrays["y"]
        if op == "multiply":
            return arrays["x"] * arrays["y"]
        if op == "total_sum":
            return arrays["x"].sum()
        if op in ("sum_axis0", "sum_axis1"):
            return arrays["M"].sum(axis=int(op[-1]))
        if op == "matvec_plain":
            return values["A"] @ arrays["v"]
        if op == "matvec_enc":
            return arrays["A"] @ arrays["v"]
        if op == "matmul_enc":
            return arrays["A"] @ arrays["B"]
        raise Unsupported(op)

    encrypted = [k for k in values if not (op == "matvec_plain" and k == "A")]
    if op not in ("encrypt", "decrypt"):  # keys for exactly what the operation rotates
        with ctx.recording() as rec:
            compute({k: ctx.placeholder(values[k].shape) for k in encrypted})
        ctx.generate_keys(rec.plan)
    arrays = {k: ctx.encrypt(values[k]) for k in encrypted}
    info = _params(ctx)
    if op == "encrypt":
        return Prepared(lambda: ctx.encrypt(values["x"]), ctx.decrypt, info)
    if op == "decrypt":
        return Prepared(lambda: ctx.decrypt(arrays["x"]), np.asarray, info)
    return Prepared(lambda: compute(arrays), ctx.decrypt, info)


if __name__ == "__main__":
    sys.exit(main("hetensor", version("hetensor"), prepare))
