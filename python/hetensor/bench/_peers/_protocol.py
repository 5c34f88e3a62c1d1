"""The protocol every peer worker speaks (imported by path: no hetensor import here).

A worker module defines ``prepare(op, data, params) -> Prepared`` and calls
:func:`main` with it. The operation names and their operands:

============== ============================ =====================================
op             operands (in the IN file)    result
============== ============================ =====================================
encrypt        x (n,)                       decrypt(encrypt(x))
decrypt        x (n,)                       decrypt of a ciphertext of x
add            x, y (n,)                    x + y
multiply       x, y (n,)                    x * y (relinearized, rescaled)
total_sum      x (n,)                       sum(x)
sum_axis0      M (r, c)                     M.sum(axis=0)
sum_axis1      M (r, c)                     M.sum(axis=1)
matvec_plain   A (r, c) plain, v (c,)       A @ v, v encrypted
matvec_enc     A (r, c), v (c,) encrypted   A @ v
matmul_enc     A (n, k), B (k, m) encrypted A @ B
ridge          X (n, d), y (n,)             weights after ``epochs`` GD steps
============== ============================ =====================================

``ridge`` is timed once (time to model) and reports its split in ``Prepared.split``.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPS = (
    "encrypt",
    "decrypt",
    "add",
    "multiply",
    "total_sum",
    "sum_axis0",
    "sum_axis1",
    "matvec_plain",
    "matvec_enc",
    "matmul_enc",
    "ridge",
)


class Unsupported(Exception):
    """The library has no way to do this operation (reported, not an error)."""


@dataclass
class Prepared:
    """What a worker built for one operation.

    ``run`` is the timed call; ``result`` turns its last return value into the decrypted
    NumPy result (untimed). ``params`` describes the context (ring, depth, scale...);
    ``split`` names the phases of a one-shot run (``ridge``).
    """

    run: Callable[[], Any]
    result: Callable[[Any], np.ndarray]
    params: dict[str, Any]
    split: dict[str, float] = field(default_factory=dict)
    one_shot: bool = False


def peak_rss_mib() -> float:
    """The process's resident high-water mark, MiB (Linux: ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """One untimed warm-up, then ``repeat`` timed calls: (seconds each, last value)."""
    out = fn()
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


@dataclass(frozen=True)
class RidgeTask:
    """The ridge operands and GD settings every worker shares (the ``ridge`` op).

    Plain gradient descent from zero weights on ``Xa = [X, 1]``: ``w <- w - (lr/n) (Xa^T
    (Xa w - y) + alpha * [1..1, 0] * w)``, the iterates of hetensor's ``gram_descent``.
    ``timed_epochs`` (< ``epochs``) runs only that many encrypted epochs, finishes in float64
    and extrapolates the training time (for the slow peers at the large sizes).
    """

    Xa: np.ndarray
    y: np.ndarray
    learning_rate: float
    penalty: np.ndarray
    epochs: int
    timed_epochs: int

    @classmethod
    def from_op(cls, data: dict[str, np.ndarray], params: dict[str, Any]) -> RidgeTask:
        X, y = data["X"], data["y"]
        n, d = X.shape
        epochs = int(params["epochs"])
        return cls(
            Xa=np.hstack([X, np.ones((n, 1))]),
            y=y,
            learning_rate=float(params["learning_rate"]),
            penalty=np.r_[np.full(d, float(params["alpha"])), 0.0],
            epochs=epochs,
            timed_epochs=min(epochs, int(params.get("timed_epochs", epochs))),
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(n, d): samples and features, the ones column excluded."""
        return self.Xa.shape[0], self.Xa.shape[1] - 1

    def step(self, w: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """The owner's update from the decrypted ``Xa^T (Xa w - y)``."""
        n = self.Xa.shape[0]
        return w - (self.learning_rate / n) * (gradient + self.penalty * w)

    def fit(
        self, encrypted_gradient: Callable[[np.ndarray], np.ndarray], split: dict[str, float]
    ) -> np.ndarray:
        """Run the epochs, ``encrypted_gradient(w)`` returning the decrypted gradient the
        server computed on ``w`` encrypted; fills ``split`` with the epochs' times."""
        w = np.zeros(self.Xa.shape[1])
        times = []
        for _ in range(self.timed_epochs):
            t0 = time.perf_counter()
            w = self.step(w, encrypted_gradient(w))
            times.append(time.perf_counter() - t0)
        for _ in range(self.epochs - self.timed_epochs):
            w = self.step(w, self.Xa.T @ (self.Xa @ w - self.y))
        split["epoch_median"] = float(statistics.median(times))
        split["epochs"] = float(np.sum(times))
        if self.timed_epochs < self.epochs:
            split["epochs"] = split["epoch_median"] * self.epochs
            split["extrapolated_from_epochs"] = self.timed_epochs
        return w


def main(library: str, version: str, prepare: Callable[[str, dict, dict], Prepared]) -> int:
    """Run the worker's command line (see the module docstring); returns the exit status."""
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} OP IN.npz OUT.npz REPEAT PARAMS_JSON", file=sys.stderr)
        return 2
    op, in_path, out_path, repeat, params_json = sys.argv[1:]
    if op not in OPS:
        print(f"unknown op {op!r}; one of {', '.join(OPS)}", file=sys.stderr)
        return 2
    with np.load(in_path) as f:
        data = {k: f[k] for k in f.files}
    report: dict[str, Any] = {"library": library, "version": version, "op": op}
    t0 = time.perf_counter()
    try:
        prep = prepare(op, data, json.loads(params_json))
    except Unsupported as why:
        report["unsupported"] = str(why)
        print(json.dumps(report))
        return 0
    report["setup_s"] = time.perf_counter() - t0
    if prep.one_shot:
        t0 = time.perf_counter()
        value = prep.run()
        times = [time.perf_counter() - t0]
    else:
        times, value = timed(prep.run, int(repeat))
    np.savez(out_path, result=np.asarray(prep.result(value), dtype=np.float64))
    report.update(
        times=times,
        median_s=statistics.median(times),
        params=prep.params,
        split=prep.split,
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    print(json.dumps(report))
    return 0
