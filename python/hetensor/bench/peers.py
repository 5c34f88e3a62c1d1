"""Benchmark cases: hetensor beside TenSEAL, openfhe-numpy and raw OpenFHE, in one run.

Every library runs in its own interpreter (a subprocess per round: TenSEAL 0.3.16 in
``.venv-tenseal``, openfhe-numpy 1.5.1 and OpenFHE 1.5.1 in ``.venv-ofnumpy``, hetensor and
OpenFHE 1.6.1 in hetensor's venv; ``make bench-peers`` makes them), one thread each
(``OMP_NUM_THREADS=1``, TenSEAL ``n_threads=1``), 128-bit on every side, the rounds
alternating between libraries so they share the machine's noise. Each library gets the
cheapest context it would pick for the case and writes the operation as its documentation
does (the workers in :mod:`hetensor.bench._peers`). A row reports hetensor's median against
the best peer's, every library's median and range, its maximum absolute error against
NumPy, its peak RSS and its parameters; a library whose venv is missing is skipped with the
reason. Raw OpenFHE runs on hetensor's own parameters, in both versions, so hetensor's
overhead and OpenFHE's version drift are told apart.

Ridge ("time to model"): full-batch gradient descent on standardized synthetic data, the
owner refreshing the weights (the peers decrypt the gradient and re-encrypt the weights each
epoch, pTensor's protocol; hetensor's Gram solver and its ``solver="gd"``, ``refresh="client"``).
Every side reaches the float64 iterates of :func:`~hetensor.linear_model.gram_descent`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import BenchConfig, Row, Target, case

_BENCH_DIR = Path(__file__).resolve().parent
# python/hetensor/bench -> the repository root, where `make bench-peers` puts the venvs
_ROOT = _BENCH_DIR.parents[2]
_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Worker:
    """One library's worker: its interpreter and module (see :mod:`._peers`)."""

    label: str
    python: str
    module: str
    peer: bool  # a peer to beat (not hetensor, not raw OpenFHE)
    missing: str = ""  # why it cannot run here ("" when it can)

    def command(self, op: str, inp: str, out: str, repeat: int, params: dict) -> list[str]:
        return [self.python, "-m", self.module, op, inp, out, str(repeat), json.dumps(params)]


def _venv_python(name: str, env_var: str) -> tuple[str, str]:
    """(interpreter, why missing) of a peer venv: $env_var or <repo>/<name>."""
    root = Path(os.environ.get(env_var) or _ROOT / name)
    py = root / "bin" / "python"
    if py.exists():
        return str(py), ""
    return str(py), f"{root} missing (make bench-peers)"


def workers() -> list[Worker]:
    """Every worker, the ones whose venv is missing marked with the reason."""
    tenseal, tenseal_missing = _venv_python(".venv-tenseal", "HETENSOR_TENSEAL_VENV")
    onp, onp_missing = _venv_python(".venv-ofnumpy", "HETENSOR_OFNUMPY_VENV")
    return [
        Worker("hetensor", sys.executable, "hetensor.bench._peers.hetensor_worker", False),
        Worker("openfhe 1.6.1", sys.executable, "_peers.openfhe_worker", False),
        Worker("tenseal", tenseal, "_peers.tenseal_worker", True, tenseal_missing),
        Worker("openfhe-numpy", onp, "_peers.onp_worker", True, onp_missing),
        Worker("openfhe 1.5.1", onp, "_peers.openfhe_worker", False, onp_missing),
    ]


@dataclass
class Result:
    """One library's runs of one operation."""

    label: str
    times: list[float]
    error: float
    peak_mib: float
    params: dict[str, Any]
    split: dict[str, float]
    unsupported: str = ""

    @classmethod
    def skipped(cls, label: str, why: str) -> Result:
        """A library that did not run ``op`` (missing venv, unsupported, failed)."""
        return cls(label, [], np.nan, 0.0, {}, {}, why)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def describe(self) -> str:
        if self.unsupported:
            return f"{self.label}: {self.unsupported}"
        lo, hi = min(self.times), max(self.times)
        ring = self.params.get("ring_dim", self.params.get("ring", "?"))
        return (
            f"{self.label} {_ms(self.median)} [{_ms(lo)}-{_ms(hi)}] err={self.error:.1e} "
            f"rss={self.peak_mib:.0f}MiB ring={ring}"
        )


def _ms(seconds: float) -> str:
    return f"{seconds:.3g}s" if seconds >= 1 else f"{seconds * 1e3:.3g}ms"


def _run_worker(
    w: Worker, op: str, inp: str, repeat: int, params: dict, workdir: str
) -> dict[str, Any]:
    """One round of ``w`` on ``op``: its JSON report plus its decrypted ``result``."""
    out = os.path.join(workdir, f"out-{abs(hash((w.label, op)))}.npz")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(_BENCH_DIR))
    if w.label == "hetensor":
        env.pop("PYTHONPATH")
    proc = subprocess.run(
        w.command(op, inp, out, repeat, params),
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"unsupported": f"failed (exit {proc.returncode}): {tail[0][:200]}"}
    report = json.loads(lines[-1])
    if "unsupported" not in report:
        with np.load(out) as f:
            report["result"] = f["result"]
    return report


def measure(
    op: str,
    operands: dict[str, np.ndarray],
    expected: np.ndarray,
    *,
    rounds: int,
    repeat: int,
    params: dict[str, dict[str, Any]] | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Result]:
    """Run ``op`` in every available worker, ``rounds`` alternating rounds of ``repeat``.

    hetensor runs first in the first round: raw OpenFHE then gets its parameters. Returns
    {label: Result}; a missing or failing library is a Result with ``unsupported`` set.
    """
    params = dict(params or {})
    results: dict[str, Result] = {}
    chosen = [w for w in workers() if labels is None or w.label in labels]
    with tempfile.TemporaryDirectory(prefix="hetensor-peers-") as tmp:
        inp = os.path.join(tmp, "in.npz")
        np.savez(inp, **operands)  # type: ignore[arg-type]
        for k in range(rounds):
            for w in chosen[k % len(chosen) :] + chosen[: k % len(chosen)]:
                prev = results.get(w.label)
                if prev is not None and prev.unsupported:
                    continue
                if w.missing:
                    results[w.label] = Result.skipped(w.label, w.missing)
                    continue
                wp = params.get(w.label, {})
                if w.module.endswith("openfhe_worker"):
                    het = results.get("hetensor")
                    if het is None or het.unsupported:
                        results[w.label] = Result.skipped(w.label, "needs hetensor's parameters")
                        continue
                    wp = het.params
                rep = _run_worker(w, op, inp, repeat, wp, tmp)
                if "unsupported" in rep:
                    results[w.label] = Result.skipped(w.label, rep["unsupported"])
                    continue
                err = float(np.max(np.abs(np.reshape(rep["result"], expected.shape) - expected)))
                if prev is None:
                    prev = results[w.label] = Result(
                        w.label, [], err, 0.0, rep["params"], rep.get("split", {})
                    )
                times = rep["times"]
                if op == "ridge":  # time to model: everything from the context to the weights
                    split = rep.get("split", {})
                    if "extrapolated_from_epochs" in split:
                        times = [split["epochs"]]
                    times = [rep["setup_s"] + t for t in times]
                prev.times += times
                prev.error = max(prev.error, err)
                prev.peak_mib = max(prev.peak_mib, rep["peak_rss_mib"])
    return results


def rows_for(
    name: str,
    results: dict[str, Result],
    *,
    target: Target | None,
    expected: np.ndarray,
    openfhe_target: Target | None = None,
) -> list[Row]:
    """hetensor against the best peer (and against raw OpenFHE 1.6.1 where it ran)."""
    het = results.get("hetensor")
    detail = "; ".join(r.describe() for r in results.values())
    if het is None or het.unsupported:
        return [Row(name, float("nan"), note=f"hetensor did not run: {detail}")]
    peers = [
        r
        for w in workers()
        if w.peer and (r := results.get(w.label)) is not None and not r.unsupported
    ]
    best = min(peers, key=lambda r: r.median, default=None)
    tol = max(max((p.error for p in peers), default=0.0), 1e-5 * float(np.max(np.abs(expected))))
    extras = {
        "err": f"{het.error:.1e}",
        "accuracy": "ok" if het.error <= tol else f"MISSED (tol {tol:.1e})",
        "peak_MiB": round(het.peak_mib),
    }
    if best is not None:
        extras["peer_MiB"] = round(best.peak_mib)
    rows = [
        Row(
            name,
            het.median,
            reference=best.label if best else "no peer ran",
            reference_seconds=best.median if best else None,
            target=target,
            note=detail,
            extras=extras,
        )
    ]
    raw = results.get("openfhe 1.6.1")
    if openfhe_target is not None and raw is not None and not raw.unsupported:
        rows.append(
            Row(
                f"{name} vs raw openfhe",
                het.median,
                reference="openfhe 1.6.1 (same parameters)",
                reference_seconds=raw.median,
                target=openfhe_target,
                extras={"ring": raw.params.get("ring_dim")},
            )
        )
    return rows


def _rng() -> np.random.Generator:
    return np.random.default_rng(19)


def _rounds(cfg: BenchConfig) -> tuple[int, int]:
    """(rounds, timed calls per round): at least 20 alternating samples per library."""
    return (2, 3) if cfg.quick else (4, max(5, cfg.repeat // 4))


PRIMITIVE_TARGET = Target(min_speedup=1.0)  # at least as fast as the best peer
OPENFHE_TARGET = Target(min_speedup=0.9)  # within 10% of raw OpenFHE at the same ring


@case("peers.primitives", group="peers", reference="TenSEAL / openfhe-numpy / raw OpenFHE")
def bench_primitives(cfg: BenchConfig) -> list[Row]:
    """Encrypt, decrypt, add, multiply and total sum of 4,096 values in every library."""
    rng = _rng()
    x, y = rng.uniform(-1, 1, 4096), rng.uniform(-1, 1, 4096)
    rounds, repeat = _rounds(cfg)
    cases = {
        "encrypt": x,
        "decrypt": x,
        "add": x + y,
        "multiply": x * y,
        "total_sum": np.array([x.sum()]),
    }
    rows: list[Row] = []
    for op, expected in cases.items():
        operands = {"x": x} if op in ("encrypt", "decrypt", "total_sum") else {"x": x, "y": y}
        res = measure(op, operands, expected, rounds=rounds, repeat=repeat * 2)
        rows += rows_for(
            f"{op} 4096",
            res,
            target=PRIMITIVE_TARGET,
            expected=expected,
            openfhe_target=OPENFHE_TARGET,
        )
    return rows


@case("peers.axis_sums", group="peers", reference="TenSEAL / openfhe-numpy")
def bench_axis_sums(cfg: BenchConfig) -> list[Row]:
    """sum(axis=0) and sum(axis=1) of an encrypted 64 x 128 matrix."""
    m = _rng().uniform(-1, 1, (64, 128))
    rounds, repeat = _rounds(cfg)
    rows: list[Row] = []
    for axis in (0, 1):
        expected = m.sum(axis=axis)
        res = measure(f"sum_axis{axis}", {"M": m}, expected, rounds=rounds, repeat=repeat)
        rows += rows_for(
            f"sum(axis={axis}) 64x128", res, target=PRIMITIVE_TARGET, expected=expected
        )
    return rows


@case("peers.matvec", group="peers", reference="TenSEAL / openfhe-numpy")
def bench_matvec(cfg: BenchConfig) -> list[Row]:
    """64 x 64 matrix @ encrypted 64-vector, the matrix plain and encrypted."""
    rng = _rng()
    a, v = rng.uniform(-1, 1, (64, 64)), rng.uniform(-1, 1, 64)
    rounds, repeat = _rounds(cfg)
    rows: list[Row] = []
    for op, label in (("matvec_plain", "plain"), ("matvec_enc", "encrypted")):
        res = measure(op, {"A": a, "v": v}, a @ v, rounds=rounds, repeat=repeat)
        rows += rows_for(
            f"{label} 64x64 @ enc 64", res, target=Target(min_speedup=3), expected=a @ v
        )
    return rows


@case("peers.matmul", group="peers", reference="TenSEAL / openfhe-numpy")
def bench_matmul(cfg: BenchConfig) -> list[Row]:
    """Encrypted 32 x 32 @ encrypted 32 x 32."""
    rng = _rng()
    a, b = rng.uniform(-1, 1, (32, 32)), rng.uniform(-1, 1, (32, 32))
    res = measure("matmul_enc", {"A": a, "B": b}, a @ b, rounds=2, repeat=1 if cfg.quick else 2)
    return rows_for("enc 32x32 @ enc 32x32", res, target=Target(min_speedup=3), expected=a @ b)


RIDGE_SIZES = ((500, 10), (4096, 16), (100_000, 32))


def ridge_data(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardized synthetic regression data: correlated features, a noisy linear target."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * mix)
    y = X @ rng.uniform(-1, 1, d) + 0.5 * rng.standard_normal(n)
    X = (X - X.mean(0)) / X.std(0)
    return X, (y - y.mean()) / y.std()


def _ridge_once(
    X: np.ndarray,
    y: np.ndarray,
    expected: np.ndarray,
    params: dict[str, dict[str, Any]],
    labels: Sequence[str],
) -> dict[str, Result]:
    """One time-to-model run of ``labels`` on (X, y): a fit is too long to repeat."""
    return measure(
        "ridge", {"X": X, "y": y}, expected, rounds=1, repeat=1, params=params, labels=labels
    )


@case("peers.ridge", group="peers", reference="TenSEAL columns / openfhe-numpy")
def bench_ridge(cfg: BenchConfig) -> list[Row]:
    """Ridge by 30 full-batch GD epochs, owner refresh: time to model at three sizes."""
    from ..linear_model import gram_descent, suggest_learning_rate

    sizes = RIDGE_SIZES[:1] if cfg.quick else RIDGE_SIZES
    rows: list[Row] = []
    for n, d in sizes:
        X, y = ridge_data(n, d)
        lr = float(suggest_learning_rate(X))
        common: dict[str, Any] = {"learning_rate": lr, "alpha": 1.0, "epochs": 30}
        expected = gram_descent(X, y, alpha=1.0, learning_rate=lr, max_iter=30)
        # gd over 100k rows takes about an hour alone: measured at the two smaller sizes
        for solver in ("gram", "gd") if n <= 10_000 else ("gram",):
            params = {"hetensor": {**common, "solver": solver}}
            # the peers' 30 epochs over 100k rows take an hour: 2 timed, extrapolated
            peer = {**common, "timed_epochs": 2} if n > 10_000 else common
            params.update({lab: peer for lab in ("tenseal", "openfhe-numpy")})
            labels = ("hetensor", "tenseal", "openfhe-numpy") if solver == "gram" else ("hetensor",)
            res = _ridge_once(X, y, expected, params, labels)
            if solver == "gram":
                peers = res
            else:
                res = {**peers, "hetensor": res["hetensor"]}
            rows += rows_for(
                f"ridge {n}x{d} {solver}, time to model",
                res,
                target=Target(min_speedup=5 if solver == "gram" else 2),
                expected=expected,
            )
            if solver == "gram" and n == RIDGE_SIZES[0][0]:
                rows.append(_per_sample_row(n, d, X, y, common, expected, res["hetensor"]))
    return rows


def _per_sample_row(
    n: int,
    d: int,
    X: np.ndarray,
    y: np.ndarray,
    common: dict[str, Any],
    expected: np.ndarray,
    het: Result,
) -> Row:
    """TenSEAL's Tutorial 1 packing (one ciphertext per sample), one epoch extrapolated."""
    params = {"tenseal": {**common, "packing": "samples", "timed_epochs": 1}}
    res = _ridge_once(X, y, expected, params, ("tenseal",))
    ref = res["tenseal"]
    name = f"ridge {n}x{d} gram vs TenSEAL per-sample"
    if ref.unsupported or het.unsupported:
        return Row(name, het.median, note=ref.describe())
    return Row(
        name,
        het.median,
        reference="tenseal one CKKSVector per sample (Tutorial 1)",
        reference_seconds=ref.median,
        note=f"{ref.describe()}; 1 of 30 epochs timed, extrapolated",
    )
