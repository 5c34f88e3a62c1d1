"""Encrypted linear regression, side by side in one run.

- ``linreg``: (a) a pTensor-style trainer written on raw OpenFHE (one ciphertext per feature,
  full-batch gradient descent, the weights decrypted and re-encrypted every epoch) against
  (c) :class:`~hetensor.linear_model.EncryptedLinearRegression` with ``refresh="client"``
  (the same trust model), both at 128-bit on Ames, 30 epochs/iterations of plain gradient
  descent with the same step, so their iterates and test MSE agree. (a) uses ring 2^14,
  depth 3, 40-bit scale (the pTensor setting); (c) the context the model's planner picks
  (``plan_context``: depth 3, 35-bit scale, 45-bit first modulus, ring 2^13; the weights then
  refresh every iteration, like the baseline's every epoch). (c)'s time is broken into
  statistics (``X^T X``, ``X^T y``), iterations and refresh rounds.
- ``linreg_bootstrap``: server-bootstrapped ridge (Nesterov, 30 iterations, nothing
  decrypted on the server) of a standardized synthetic 500 x 10 set: (d0) today's hand-set
  parameters (depth 5, level budget (1, 1), 16 bootstrap slots) against (d) the planner's
  context, each fit in a fresh process (its own peak memory), with the breakdown (setup,
  keys, encryption, statistics, iterations, bootstraps). Heavy: run it explicitly.
- ``ptensor_bootstrap``: (b) the pTensor baseline with sparse (8-slot) bootstrapping of every
  weight ciphertext instead of decryption, ring 2^16, level budget (3, 3), 2 epochs timed
  and extrapolated to 30 (labelled), against (d) hetensor with server-side bootstrapping in
  the planner's context, Ames. Heavy (tens of GiB-seconds): run it explicitly.
- ``linreg_scaling``: fit time against n (1k, 10k, 100k rows, d = 8) and d (8, 32, 64 at
  n = 10k), 3 iterations, leveled 128-bit ring 2^14, no intercept.

Peak memory is the process's resident high-water mark (``resource.getrusage``
``ru_maxrss``), which only grows: a row's figure is the peak up to the end of that row.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np

from . import BenchConfig, Row, Target, case

_EPOCHS = 30
_B_BUDGET = [3, 3]
# today's hand-set parameters of a server-bootstrapped fit: the baseline the planner beats
_TODAY_SERVER: dict[str, Any] = {
    "depth": 5,
    "bootstrapping": True,
    "level_budget": (1, 1),
    "bootstrap_slots": 16,
}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ames() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    from ..demos.ames import _load

    X, y, _ = _load()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    ym, ys = ytr.mean(), ytr.std()
    return (Xtr - mu) / sd, (Xte - mu) / sd, (ytr - ym) / ys, (yte - ym) / ys


def _mse(Xte: np.ndarray, yte: np.ndarray, w: np.ndarray) -> float:
    d = Xte.shape[1]
    return float(np.mean((Xte @ w[:d] + w[d] - yte) ** 2))


# ---------------------------------------------------------------------- (a) / (b): pTensor style
def _ptensor_context(*, ring_bootstrap: bool) -> tuple[Any, Any]:
    import openfhe as ofhe  # the baseline is written on raw OpenFHE

    p = ofhe.CCParamsCKKSRNS()
    p.SetSecurityLevel(ofhe.SecurityLevel.HEStd_128_classic)
    p.SetScalingTechnique(ofhe.ScalingTechnique.FLEXIBLEAUTO)
    if ring_bootstrap:
        # the baseline's setting: level budget [3, 3], the baseline's 3 levels per epoch; 54-bit
        # scaling (59 bits leave room for depth 2 only in ring 2^16) and 5 digits keep ring 2^16
        dist = ofhe.SecretKeyDist.UNIFORM_TERNARY
        p.SetSecretKeyDist(dist)
        p.SetMultiplicativeDepth(3 + 1 + ofhe.CryptoContext.GetBootstrapDepth(_B_BUDGET, dist))
        p.SetScalingModSize(54)
        p.SetFirstModSize(60)
        p.SetNumLargeDigits(5)
    else:
        p.SetMultiplicativeDepth(3)
        p.SetScalingModSize(40)
        p.SetFirstModSize(60)
    cc = ofhe.GenCryptoContext(p)
    feat = ofhe.PKESchemeFeature
    for f in (feat.PKE, feat.KEYSWITCH, feat.LEVELEDSHE, feat.ADVANCEDSHE, feat.FHE):
        cc.Enable(f)
    keys = cc.KeyGen()
    cc.EvalMultKeyGen(keys.secretKey)
    cc.EvalSumKeyGen(keys.secretKey)
    if ring_bootstrap:
        cc.EvalBootstrapSetup(_B_BUDGET, [0, 0], 8)
        cc.EvalBootstrapKeyGen(keys.secretKey, 8)
    return cc, keys


def _ptensor_train(
    cc: Any, keys: Any, Xa: np.ndarray, y: np.ndarray, lr: float, epochs: int, refresh: str
) -> tuple[np.ndarray, dict[str, float]]:
    """Full-batch GD, X transposed (one ciphertext per feature column, ones column last)."""
    n, d = Xa.shape
    slots = cc.GetRingDimension() // 2

    def enc(v: np.ndarray | float, k: int = slots) -> Any:
        vec: np.ndarray
        if np.isscalar(v):
            vec = np.full(k, v)
        else:
            arr = np.asarray(v)
            vec = np.pad(arr, (0, k - len(arr)))
        return cc.Encrypt(keys.publicKey, cc.MakeCKKSPackedPlaintext(vec.tolist(), 1, 0, None, k))

    t0 = time.perf_counter()
    cols = [enc(Xa[:, j]) for j in range(d)]
    yc = enc(y)
    times = {"encrypt": time.perf_counter() - t0, "arith": 0.0, "refresh": 0.0}
    w = [enc(0.0, 8 if refresh == "bootstrap" else slots) for _ in range(d)]
    step = -lr / n
    for _ in range(epochs):
        t0 = time.perf_counter()
        pred = cc.EvalAddMany([cc.EvalMult(cols[j], w[j]) for j in range(d)])
        err = cc.EvalSub(pred, yc)
        grads = [cc.EvalSum(cc.EvalMult(cols[j], err), slots) for j in range(d)]
        w = [cc.EvalAdd(w[j], cc.EvalMult(grads[j], step)) for j in range(d)]
        t1 = time.perf_counter()
        times["arith"] += t1 - t0
        if refresh == "client":
            new = []
            for ct in w:
                pt = cc.Decrypt(ct, keys.secretKey)
                pt.SetLength(1)
                new.append(enc(float(pt.GetRealPackedValue()[0])))
            w = new
        else:
            w = [cc.EvalBootstrap(ct) for ct in w]
        times["refresh"] += time.perf_counter() - t1
    out = []
    for ct in w:
        pt = cc.Decrypt(ct, keys.secretKey)
        pt.SetLength(1)
        out.append(float(pt.GetRealPackedValue()[0]))
    return np.array(out), times


# ---------------------------------------------------------------------- (c) / (d): hetensor
def _hetensor_fit(
    owner: Any,
    Xtr: np.ndarray,
    ytr: np.ndarray,
    lr: float,
    iters: int,
    refresh: str,
    momentum: str | None = None,
) -> tuple[np.ndarray, dict[str, float], Any]:
    from ..linear_model import EncryptedLinearRegression, OwnerRefresh, encrypt_dataset

    model = EncryptedLinearRegression(
        learning_rate=lr, max_iter=iters, momentum=momentum, refresh=refresh
    )
    t0 = time.perf_counter()
    owner.generate_keys(model.key_plan(*Xtr.shape))
    server = owner.public()
    t1 = time.perf_counter()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, Xtr, ytr))
    t2 = time.perf_counter()
    marks: dict[int, float] = {}
    rounds = OwnerRefresh(owner)
    timed_rounds = [0.0]

    def client(arrays: Any) -> Any:
        s = time.perf_counter()
        out = rounds(arrays)
        timed_rounds[0] += time.perf_counter() - s
        return out

    def cb(k: int, w: Any) -> None:
        marks.setdefault(k, time.perf_counter())

    if refresh == "server":  # time the server's bootstraps (an instance-level wrapper)
        boot = server.bootstrap

        def timed_boot(arr: Any) -> Any:
            s = time.perf_counter()
            out = boot(arr)
            timed_rounds[0] += time.perf_counter() - s
            return out

        server.bootstrap = timed_boot

    with server.count_ops() as ops:
        model.fit(Xe, ye, refresh_client=client if refresh == "client" else None, callback=cb)
    t3 = time.perf_counter()
    w = np.r_[owner.decrypt(model.coef_), owner.decrypt(model.intercept_)]
    times = {
        "keygen": t1 - t0,
        "encrypt": t2 - t1,
        "stats": marks[1] - t2,
        "iterations": t3 - marks[1] - timed_rounds[0],
        "refresh": timed_rounds[0],
        "fit": t3 - t2,
    }
    return w, times, dict(ops, refreshes=model.n_refreshes_)


def _fmt(times: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}s" for k, v in times.items())


@case("linreg", group="linear_model", reference="pTensor-style GD on raw openfhe")
def bench_linreg(cfg: BenchConfig) -> list[Row]:
    """(a) pTensor-style raw OpenFHE GD vs (c) hetensor Gram, refresh='client', Ames 128-bit."""
    from ..linear_model import EncryptedLinearRegression, gram_descent, suggest_learning_rate

    Xtr, Xte, ytr, yte = _ames()
    epochs = 5 if cfg.quick else _EPOCHS
    lr = suggest_learning_rate(Xtr)
    ref_w = gram_descent(Xtr, ytr, learning_rate=lr, max_iter=epochs)
    Xa = np.hstack([Xtr, np.ones((len(Xtr), 1))])

    t0 = time.perf_counter()
    cc, keys = _ptensor_context(ring_bootstrap=False)
    t_keys = time.perf_counter() - t0
    w_a, times_a = _ptensor_train(cc, keys, Xa, ytr, lr, epochs, "client")
    total_a = t_keys + times_a["encrypt"] + times_a["arith"] + times_a["refresh"]
    mem_a = _peak_mib()

    # the planner's cheapest 128-bit context for the client-refreshed fit
    plan = EncryptedLinearRegression(
        learning_rate=lr, max_iter=epochs, momentum=None, refresh="client"
    ).plan_context(*Xtr.shape)
    owner = plan.make()
    t0 = time.perf_counter()
    w_c, times_c, ops = _hetensor_fit(owner, Xtr, ytr, lr, epochs, "client")
    # everything from context creation to decrypted weights, rotation keys included (as (a)'s
    # EvalSumKeyGen is)
    total_c = time.perf_counter() - t0 + owner.keygen_seconds
    mse_a, mse_c = _mse(Xte, yte, w_a), _mse(Xte, yte, w_c)
    note = (
        f"{owner}; {epochs} epochs, lr={lr:.4f}, "
        f"test MSE (standardized) a={mse_a:.6f} c={mse_c:.6f}"
    )
    return [
        Row(
            "(a) pTensor-style, raw openfhe",
            total_a,
            note=f"{_fmt(times_a)} keygen={t_keys:.2f}s",
            extras={"peak_MiB": round(mem_a), "max|w-ref|": _err(w_a, ref_w)},
        ),
        Row(
            "(c) hetensor refresh=client",
            total_c,
            reference="(a) pTensor-style",
            reference_seconds=total_a,
            target=Target(min_speedup=10),
            note=f"{note}; {_fmt(times_c)}",
            extras={
                "peak_MiB": round(_peak_mib()),
                "max|w-ref|": _err(w_c, ref_w),
                "|dMSE|": f"{abs(mse_a - mse_c):.1e}",
                **{k: v for k, v in ops.items() if k in ("ct_mult", "rotation", "refreshes")},
            },
        ),
    ]


@case("ptensor_bootstrap", group="linear_model", reference="pTensor GD + 8-slot bootstrapping")
def bench_ptensor_bootstrap(cfg: BenchConfig) -> list[Row]:
    """(b) baseline with sparse bootstrapping (2 epochs timed, extrapolated to 30) vs (d)
    hetensor with server-side sparse bootstrapping (30 iterations, measured) in the context
    the planner picks, Ames."""
    from ..linear_model import EncryptedLinearRegression, gram_descent, suggest_learning_rate

    Xtr, Xte, ytr, yte = _ames()
    lr = suggest_learning_rate(Xtr)
    iters = 5 if cfg.quick else _EPOCHS
    ref_w = gram_descent(Xtr, ytr, learning_rate=lr, max_iter=iters)
    Xa = np.hstack([Xtr, np.ones((len(Xtr), 1))])
    t0 = time.perf_counter()
    cc, keys = _ptensor_context(ring_bootstrap=True)
    setup_b = time.perf_counter() - t0
    ring_b = cc.GetRingDimension()
    w_b, times_b = _ptensor_train(cc, keys, Xa, ytr, lr, 2, "bootstrap")
    per_epoch_b = (times_b["arith"] + times_b["refresh"]) / 2
    total_b = setup_b + times_b["encrypt"] + _EPOCHS * per_epoch_b
    mem_b = _peak_mib()
    ref_b = gram_descent(Xtr, ytr, learning_rate=lr, max_iter=2)
    del cc, keys

    t0 = time.perf_counter()
    plan = EncryptedLinearRegression(
        learning_rate=lr, max_iter=iters, momentum=None, refresh="server"
    ).plan_context(*Xtr.shape)
    owner = plan.make()
    setup_d = time.perf_counter() - t0
    w_d, t_d, ops = _hetensor_fit(owner, Xtr, ytr, lr, iters, "server")
    total_d = setup_d + t_d["keygen"] + t_d["encrypt"] + t_d["fit"]
    return [
        Row(
            f"(b) pTensor + 8-slot bootstrap, {_EPOCHS} epochs (extrapolated from 2)",
            total_b,
            note=(
                f"ring {ring_b}, level budget {_B_BUDGET}, 54-bit scale; setup={setup_b:.1f}s "
                f"encrypt={times_b['encrypt']:.1f}s per-epoch={per_epoch_b:.1f}s "
                f"(bootstraps {times_b['refresh'] / 2:.1f}s) x {_EPOCHS}"
            ),
            extras={"peak_MiB": round(mem_b), "max|w-ref| (2 epochs)": _err(w_b, ref_b)},
        ),
        Row(
            f"(d) hetensor refresh=server, {iters} iterations (measured)",
            total_d,
            reference="(b)",
            reference_seconds=total_b,
            target=Target(min_speedup=30),
            note=(
                f"{plan.describe()}; setup={setup_d:.1f}s; "
                f"{_fmt(t_d)}; time-to-model {total_d:.0f}s (target < 300s); test MSE "
                f"{_mse(Xte, yte, w_d):.6f} (float64 same algorithm {_mse(Xte, yte, ref_w):.6f})"
            ),
            extras={
                "peak_MiB": round(_peak_mib()),
                "max|w-ref|": _err(w_d, ref_w),
                **{k: v for k, v in ops.items() if k in ("bootstrap", "rotation", "refreshes")},
            },
        ),
    ]


def _synthetic(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A standardized synthetic regression set (train n x d, test n // 4 rows), seed 0."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n + n // 4, d))
    y = X @ rng.uniform(-0.5, 0.5, d) + 0.3 * rng.standard_normal(len(X))
    X = (X - X[:n].mean(0)) / X[:n].std(0)
    y = (y - y[:n].mean()) / y[:n].std()
    return X[:n], X[n:], y[:n], y[n:]


def _server_fit(context: dict[str, Any], data: str, iters: int) -> dict[str, Any]:
    """One server-bootstrapped ridge fit (Nesterov, the estimator's default) from context
    creation to decrypted weights, with its breakdown; run in a fresh process, so its peak
    resident memory is its own."""
    from ..he import Context
    from ..linear_model import gram_descent, suggest_learning_rate

    Xtr, Xte, ytr, yte = _ames() if data == "ames" else _synthetic(500, 10)
    lr = suggest_learning_rate(Xtr)
    ref_w = gram_descent(Xtr, ytr, learning_rate=lr, max_iter=iters, beta=0.8)
    t0, c0 = time.perf_counter(), time.process_time()
    owner = Context.ckks(**context)
    setup = time.perf_counter() - t0
    w, t, ops = _hetensor_fit(owner, Xtr, ytr, lr, iters, "server", momentum="nesterov")
    return {
        "total": setup + t["keygen"] + t["encrypt"] + t["fit"],
        "cpu": time.process_time() - c0,
        "breakdown": {"setup": setup, **t},
        "peak_MiB": round(_peak_mib()),
        "context": repr(owner),
        "mse": _mse(Xte, yte, w),
        "ref_mse": _mse(Xte, yte, ref_w),
        "max|w-ref|": _err(w, ref_w),
        "bootstraps": ops.get("bootstrap", 0),
        "estimate_MiB": round(owner.resources().peak_bytes / 2**20),
    }


@case(
    "linreg_bootstrap",
    group="linear_model",
    reference="today's parameters: depth 5, level budget (1, 1), 16 bootstrap slots",
)
def bench_linreg_bootstrap(cfg: BenchConfig) -> list[Row]:
    """Server-bootstrapped ridge (Nesterov, 30 iterations, nothing decrypted on the server)
    of a standardized synthetic 500 x 10 set, 128-bit: today's hand-set parameters against
    the planner's, each fit in a fresh process (its own peak memory), one after the other."""
    from ..linear_model import EncryptedLinearRegression

    iters = 5 if cfg.quick else _EPOCHS
    plan = EncryptedLinearRegression(max_iter=iters).plan_context(500, 10, refresh="server")
    base = _in_child(_server_fit, _TODAY_SERVER, "synthetic", iters)
    planned = _in_child(_server_fit, plan.parameters, "synthetic", iters)

    def row(name: str, r: dict[str, Any], **kw: Any) -> Row:
        return Row(
            name,
            r["total"],
            note=f"{r['context']}; {_fmt(r['breakdown'])}; cpu={r['cpu']:.0f}s",
            extras={
                "peak_MiB": r["peak_MiB"],
                "bootstraps": r["bootstraps"],
                "test MSE": f"{r['mse']:.4f} (float64 {r['ref_mse']:.4f})",
                "max|w-ref|": r["max|w-ref|"],
            },
            **kw,
        )

    out = row(f"(d) planned: {plan.describe()}", planned)
    out.extras["predicted"] = (
        f"{plan.estimate.peak_bytes / 2**20:.0f} MiB (context+keys), {plan.seconds:.0f} s"
    )
    out.extras["peak target"] = "< 4096 MiB"
    return [
        row("(d0) today's parameters, 500x10", base),
        Row(
            out.name,
            out.seconds,
            reference="(d0)",
            reference_seconds=base["total"],
            target=Target(min_speedup=2.5),
            note=out.note,
            extras=out.extras,
        ),
    ]


def _in_child(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a fresh (spawned) process."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def _err(w: np.ndarray, ref: np.ndarray) -> str:
    return f"{np.abs(w - ref).max():.1e}"


@case("linreg_scaling", group="linear_model", reference="")
def bench_linreg_scaling(cfg: BenchConfig) -> list[Row]:
    """hetensor fit time vs n and d (3 iterations, leveled, 128-bit ring 2^14, no intercept)."""
    from ..he import Context
    from ..linear_model import EncryptedLinearRegression, encrypt_dataset

    grid = [(1000, 8), (10000, 8), (100000, 8), (10000, 32), (10000, 64)]
    if cfg.quick:
        grid = grid[:2]
    rng = np.random.default_rng(0)
    owner = Context.ckks(depth=5)
    rows = []
    for n, d in grid:
        X = rng.standard_normal((n, d))
        y = X @ rng.uniform(-0.3, 0.3, d) + 0.1 * rng.standard_normal(n)
        model = EncryptedLinearRegression(max_iter=3, fit_intercept=False, momentum=None)
        owner.generate_keys(model.key_plan(n, d))
        server = owner.public()
        Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
        t0 = time.perf_counter()
        model.fit(Xe, ye)
        rows.append(
            Row(
                f"fit n={n} d={d}",
                time.perf_counter() - t0,
                note=f"{Xe.n_ciphertexts} ciphertexts, 3 iterations",
                extras={"peak_MiB": round(_peak_mib())},
            )
        )
    return rows
