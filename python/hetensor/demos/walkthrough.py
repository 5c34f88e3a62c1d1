"""Encrypt -> compute -> decrypt, narrated: the data owner plans the server's keys with a dry
run, encrypts a matrix and a vector, a server holding only public keys computes on them with
NumPy syntax, and the owner decrypts and compares with NumPy."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..errors import KeyRoleError
from ..he import Context


def _say(step: str, text: str) -> None:
    print(f"[{step}] {text}")


def _server_work(a: Any, x: Any) -> dict[str, Any]:  # runs symbolically (dry run) and encrypted
    return {
        "a * x + 0.5 a - 1  (broadcast)": a * x + 0.5 * a - 1.0,
        "a ** 3             (2 levels)": a**3,
        "a @ x              (row sums)": a @ x,
        "mean(a, axis=0)": np.mean(a, axis=0),
        "a.T @ a            (Gram)": a.T @ a,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hetensor demo walkthrough", description=__doc__)
    parser.add_argument("--rows", type=int, default=16, help="rows of the matrix (16)")
    parser.add_argument("--cols", type=int, default=8, help="columns of the matrix (8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    A = rng.uniform(-1, 1, (args.rows, args.cols))
    x = rng.uniform(-1, 1, args.cols)
    reference = _server_work(A, x)

    t0 = time.perf_counter()
    owner = Context.ckks(depth=4)
    _say(
        "owner",
        f"made a 128-bit CKKS context in {time.perf_counter() - t0:.2f} s: "
        f"ring {owner.ring_dim}, {owner.slots} slots, depth {owner.depth}, "
        f"log2 Q = {owner.params.log_q}",
    )

    with owner.recording() as rec:  # symbolic dry run: no cryptography
        _server_work(owner.placeholder(A.shape), owner.placeholder(x.shape))
    t0 = time.perf_counter()
    owner.generate_keys(rec.plan)
    _say(
        "owner",
        f"a dry run of the server's code named {len(rec.plan.rotations)} rotation "
        f"keys; generated them in {time.perf_counter() - t0:.2f} s",
    )
    blob = owner.public().serialize()
    _say(
        "owner",
        f"sent the server its context: {len(blob) / 2**20:.1f} MiB of public and "
        "evaluation keys, no secret key",
    )

    t0 = time.perf_counter()
    wire = [owner.encrypt(A).to_bytes(), owner.encrypt(x).to_bytes()]
    _say(
        "owner",
        f"encrypted A {A.shape} and x {x.shape} in {time.perf_counter() - t0:.3f} s; "
        f"{sum(map(len, wire)) / 2**20:.1f} MiB on the wire",
    )

    server = Context.deserialize(blob)
    ea, ex = (server.from_bytes(b) for b in wire)
    t0 = time.perf_counter()
    with server.count_ops() as ops:
        results = _server_work(ea, ex)
    _say(
        "server",
        f"computed {len(results)} results in {time.perf_counter() - t0:.2f} s with "
        f"public keys only ({ops.get('rotation', 0)} rotations, "
        f"{ops.get('ct_mult', 0) + ops.get('pt_mult', 0)} products)",
    )
    try:
        server.decrypt(ea)
    except KeyRoleError as err:
        _say("server", f"tried to decrypt and was refused: {err}")

    replies = {name: out.to_bytes() for name, out in results.items()}
    print()
    print(f"{'result':34s} {'shape':>9s} {'levels left':>11s} {'max |error| vs NumPy':>21s}")
    worst = 0.0
    for name, data in replies.items():
        back = owner.from_bytes(data)
        error = float(np.max(np.abs(owner.decrypt(back) - reference[name])))
        worst = max(worst, error)
        print(f"{name:34s} {back.shape!s:>9s} {back.levels_left:11d} {error:21.3e}")
    print()
    ok = worst < 1e-4
    _say(
        "owner",
        f"decrypted everything; worst error {worst:.2e} ({'OK' if ok else 'UNEXPECTEDLY LARGE'})",
    )
    return 0 if ok else 1
