"""Encrypt -> compute -> decrypt, narrated: the data owner encrypts two vectors, a server
holding only public keys computes on them, the owner decrypts and compares with NumPy."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..errors import KeyRoleError
from ..he import Context
from ..he.keys import KeyPlan


def _say(step: str, text: str) -> None:
    print(f"[{step}] {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hetensor demo walkthrough", description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="vector length (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-1, 1, args.n)
    y = rng.uniform(-1, 1, args.n)

    t0 = time.perf_counter()
    owner = Context.ckks(depth=3)
    _say(
        "owner",
        f"made a 128-bit CKKS context in {time.perf_counter() - t0:.2f} s: "
        f"ring {owner.ring_dim}, {owner.slots} slots, depth {owner.depth}, "
        f"log2 Q = {owner.params.log_q}",
    )

    plan = KeyPlan.for_sum(args.n) | KeyPlan.rotations_of(1)
    t0 = time.perf_counter()
    owner.generate_keys(plan)
    _say(
        "owner",
        f"generated rotation keys {sorted(owner.rotation_keys)} for the server's "
        f"work in {time.perf_counter() - t0:.2f} s",
    )
    server = owner.public()
    blob = server.serialize()
    _say(
        "owner",
        f"sent the server its context: {len(blob) / 2**20:.1f} MiB of public and "
        "evaluation keys, no secret key",
    )

    t0 = time.perf_counter()
    cx, cy = owner.encrypt_vector(x), owner.encrypt_vector(y)
    wire = [cx.to_bytes(), cy.to_bytes()]
    _say(
        "owner",
        f"encrypted x and y ({args.n} values each) in {time.perf_counter() - t0:.3f} s; "
        f"{sum(map(len, wire)) / 2**20:.1f} MiB on the wire",
    )

    ex, ey = (server.from_bytes(b) for b in wire)
    t0 = time.perf_counter()
    results = {
        "x * y + 0.5 x - y": (ex * ey + 0.5 * ex - ey, x * y + 0.5 * x - y),
        "x**3 (2 levels)": (ex * ex * ex, x**3),
        "dot(x, y) (sum by log2 rotations)": ((ex * ey).sum(), np.array([x @ y])),
        "roll(x, -1)": (
            ex.rotate(1),
            np.roll(np.pad(x, (0, cx.layout.period - args.n)), -1)[: args.n],
        ),
    }
    _say(
        "server",
        f"computed {len(results)} results in {time.perf_counter() - t0:.3f} s "
        "with public keys only",
    )
    try:
        server.decrypt(ex)
    except KeyRoleError as err:
        _say("server", f"tried to decrypt and was refused: {err}")

    back = {name: owner.from_bytes(ct.to_bytes()) for name, (ct, _) in results.items()}
    print()
    print(f"{'result':38s} {'levels left':>11s} {'max |error| vs NumPy':>22s}")
    worst = 0.0
    for name, (_, ref) in results.items():
        value = owner.decrypt(back[name])
        err = float(np.max(np.abs(value - ref)))
        worst = max(worst, err)
        print(f"{name:38s} {back[name].levels_left:11d} {err:22.3e}")
    print()
    _say(
        "owner",
        f"decrypted everything; worst error {worst:.2e} "
        f"({'OK' if worst < 1e-4 else 'UNEXPECTEDLY LARGE'})",
    )
    return 0 if worst < 1e-4 else 1
