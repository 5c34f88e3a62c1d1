"""Client/server walk-through in two roles: the owner encrypts, a server process computes.

Run: python examples/client_server.py
The "server" here gets only bytes (its context and the ciphertexts), as over a network.
"""

from __future__ import annotations

import numpy as np

import hetensor as ht
from hetensor.he.keys import KeyPlan


def server_job(context_bytes: bytes, x_bytes: bytes, w: np.ndarray) -> bytes:
    """What the server runs: a weighted sum and a shift, with public keys only."""
    server = ht.Context.deserialize(context_bytes)
    x = server.from_bytes(x_bytes)
    score = (x * w).sum()  # encrypted dot product with the server's plaintext weights
    return (x.rotate(1) - score).to_bytes()


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 100)
    w = rng.uniform(-1, 1, 100)

    owner = ht.Context.ckks(depth=2)
    owner.generate_keys(KeyPlan.for_sum(len(x)) | KeyPlan.rotations_of(1))
    reply = server_job(owner.public().serialize(), owner.encrypt_vector(x).to_bytes(), w)

    result = owner.decrypt(owner.from_bytes(reply))
    expected = np.roll(np.pad(x, (0, 28)), -1)[:100] - x @ w
    print(f"max |error| vs NumPy: {np.abs(result - expected).max():.2e}")


if __name__ == "__main__":
    main()
