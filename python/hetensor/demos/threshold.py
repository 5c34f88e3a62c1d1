"""Three data owners train one ridge regression that none of them can decrypt alone.

Threshold CKKS (OpenFHE multiparty): the owners run the key-generation rounds once, each
encrypts its own rows under the joint public key, a Dask cluster (LocalCluster here) computes
the encrypted statistics per owner and merges them, the server solves, and the coefficients
are decrypted only when all three owners send a partial decryption. The joint context has
enough depth for the solver, so no owner is online during training."""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from ..errors import InsecureParametersWarning, KeyRoleError, OpenFHEError


def _say(step: str, text: str) -> None:
    print(f"[{step}] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from ..distributed import fit, local_client, threshold
    from ..he import EncryptedArray
    from ..linear_model import EncryptedLinearRegression, GramDescentRegression, encrypt_dataset

    parser = argparse.ArgumentParser(prog="hetensor demo threshold", description=__doc__)
    parser.add_argument("--rows", type=int, default=200, help="rows per owner (200)")
    parser.add_argument(
        "--features",
        type=int,
        default=7,
        choices=[1, 3, 7, 15],
        help="features (7); d + 1 a power of two, so no relayout keys are needed",
    )
    parser.add_argument("--iterations", type=int, default=6, help="solver iterations (6)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--insecure", action="store_true", help="toy ring 2^12 without security (fast; tests)"
    )
    args = parser.parse_args(argv)

    n_owners, d, it = 3, args.features, args.iterations
    rng = np.random.default_rng(args.seed)
    true_w = rng.uniform(-0.5, 0.5, d)
    owners_data = []
    for i in range(n_owners):  # each owner's rows come from a slightly shifted population
        X = rng.standard_normal((args.rows, d)) * 0.8 + 0.1 * i
        y = X @ true_w + 0.2 + 0.05 * rng.standard_normal(args.rows)
        owners_data.append((X, y))
    X_all = np.vstack([x for x, _ in owners_data])
    y_all = np.concatenate([y for _, y in owners_data])

    model = EncryptedLinearRegression(max_iter=it)
    plan = model.key_plan(len(y_all), d)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureParametersWarning)
        joint, parties = threshold.setup(
            n_owners, depth=2 + it, rotations=plan, insecure=args.insecure
        )
    sec = "INSECURE toy ring" if args.insecure else f"{joint.security}-bit"
    _say(
        "keys",
        f"{n_owners} owners ran the joint key generation in {time.perf_counter() - t0:.1f} s "
        f"({sec}, ring {joint.ring_dim}, depth {joint.depth}, {len(joint.rotation_keys)} "
        "joint rotation keys); the joint context holds no secret key",
    )
    try:
        joint.decrypt(joint.encrypt(np.zeros(1)))
    except KeyRoleError:
        _say("keys", "decrypting with the joint context is refused (no one holds s)")

    parts = [encrypt_dataset(joint, X, y) for X, y in owners_data]
    _say("encrypt", f"each owner encrypted its {args.rows} rows under the joint public key")

    t0 = time.perf_counter()
    with local_client(args.workers) as client:
        fit(model, parts, client, seed=args.seed)
    _say(
        "train",
        f"Dask ({args.workers} workers) statistics + solve: {time.perf_counter() - t0:.1f} s",
    )

    for p in parties:
        try:
            alone = p.decrypt_alone(model.coef_)
            seen = f"noise (|value| up to {np.max(np.abs(alone)):.3g})"
        except OpenFHEError:
            seen = "noise that OpenFHE refuses to decode"
        _say("decrypt", f"owner {p.index} decrypting alone gets {seen}")
    partials = [p.partial_decrypt(model.coef_) for p in parties]
    try:
        threshold.fuse(joint, model.coef_, partials[:2])
    except ValueError as err:
        _say("decrypt", f"two owners are not enough: {err}")
    coef = threshold.fuse(joint, model.coef_, partials)
    assert isinstance(model.intercept_, EncryptedArray)  # fit_intercept (the default)
    intercept = float(threshold.joint_decrypt(joint, model.intercept_, parties))

    ref = GramDescentRegression(max_iter=it).fit(X_all, y_all)
    error = max(np.max(np.abs(coef - ref.coef_)), abs(intercept - ref.intercept_))
    print()
    print(f"{'':>12} {'joint (encrypted)':>18} {'plaintext pooled':>18}")
    for j in range(d):
        print(f"{'coef[' + str(j) + ']':>12} {coef[j]:>18.6f} {ref.coef_[j]:>18.6f}")
    print(f"{'intercept':>12} {intercept:>18.6f} {ref.intercept_:>18.6f}")
    print(f"\nworst error vs the plaintext fit of the pooled rows: {error:.2e}")
    return 0 if error < 1e-2 else 1
