"""Distributed encrypted statistics on Dask: 1 vs 2 workers on a LocalCluster.

- ``dask_scaling``: :func:`hetensor.distributed.statistics` on n = 100,000 rows, d = 7
  (20,000 with ``--quick``), 8 plaintext partitions that the workers encrypt with the public
  key and reduce (128-bit, ring 2^14, leveled depth 3, 40-bit scale); each worker one thread
  and ``OMP_NUM_THREADS=1``. The 2-worker time is compared with the 1-worker time in the
  same run (speed-up = t1 / t2), and the same work in one process without Dask is timed
  too (``in_process_s``: Dask's overhead). Also reported: bytes per ciphertext and per public
  key set (what :func:`install_context` sends each worker once), serialization time per ciphertext
  (envelope out and in), and the bytes of one partial :class:`GramStatistics` (what each
  merge moves between workers, independent of n).
"""

from __future__ import annotations

import pickle
import statistics as stats_
import time
from typing import TYPE_CHECKING

import numpy as np

from . import BenchConfig, Row, case

if TYPE_CHECKING:
    from ..he import Context
    from ..linear_model import EncryptedLinearRegression


def _timed_statistics(
    n_workers: int,
    model: EncryptedLinearRegression,
    parts: list[tuple[np.ndarray, np.ndarray]],
    server: Context,
) -> float:
    from ..distributed import local_client, statistics

    with local_client(n_workers) as client:
        client.wait_for_workers(n_workers)
        statistics(model, parts[:1], client, context=server)  # keys installed, warm workers
        t0 = time.perf_counter()
        out = statistics(model, parts, client, context=server, seed=0)
        elapsed = time.perf_counter() - t0
    assert out.n_samples == sum(len(p[1]) for p in parts)
    return elapsed


@case(
    "dask_scaling", group="distributed", reference="1 Dask worker", requires=("dask", "distributed")
)
def bench_dask_scaling(cfg: BenchConfig) -> list[Row]:
    """Encrypted statistics, 2 Dask workers vs 1, n = 100k, d = 7, 128-bit ring 2^14."""
    from ..distributed import register_context  # also registers the pickling of arrays
    from ..he import Context
    from ..linear_model import EncryptedLinearRegression, encrypt_dataset

    # d = 7: d + 1 (with the intercept) fills a power-of-two row, no relayout rotations
    n, d, n_parts = (20_000 if cfg.quick else 100_000), 7, 8
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) * 0.1 + 0.05 * rng.standard_normal(n)
    owner = Context.ckks(depth=3)
    model = EncryptedLinearRegression(max_iter=1)
    owner.generate_keys(model.key_plan(n, d))
    server = owner.public()
    parts = [(X[i::n_parts], y[i::n_parts]) for i in range(n_parts)]

    key_bytes = len(server.serialize())
    xe, _ = encrypt_dataset(owner, X[:8], y[:8])
    ct_bytes = len(owner.to_bytes(xe))
    ser, deser = [], []
    for _ in range(max(3, min(cfg.repeat, 10))):
        t0 = time.perf_counter()
        blob = pickle.dumps(xe)
        t1 = time.perf_counter()
        register_context(owner)
        pickle.loads(blob)
        t2 = time.perf_counter()
        ser.append(t1 - t0)
        deser.append(t2 - t1)
    partial = EncryptedLinearRegression().statistics(*encrypt_dataset(owner, X[:64], y[:64]))
    stats_bytes = len(pickle.dumps(partial))

    repeat = 1 if cfg.quick else 2

    def in_process() -> float:  # the same work without Dask: encrypt + statistics + merge
        t0 = time.perf_counter()
        total = sum(model.statistics(*encrypt_dataset(server, X_, y_)) for X_, y_ in parts)
        assert not isinstance(total, int) and total.n_samples == n  # sum() starts from 0
        return time.perf_counter() - t0

    t0_ = stats_.median(in_process() for _ in range(repeat))
    t1 = stats_.median(_timed_statistics(1, model, parts, server) for _ in range(repeat))
    t2 = stats_.median(_timed_statistics(2, model, parts, server) for _ in range(repeat))
    extras = {
        "n": n,
        "d": d,
        "partitions": n_parts,
        "in_process_s": round(t0_, 2),
        "bytes_per_ciphertext": ct_bytes,
        "bytes_per_key_set": key_bytes,
        "bytes_per_partial_statistics": stats_bytes,
        "serialize_ms": round(1e3 * stats_.median(ser), 2),
        "deserialize_ms": round(1e3 * stats_.median(deser), 2),
    }
    return [
        Row(
            f"statistics n={n} d={d}, 2 workers",
            t2,
            "1 worker",
            t1,
            note="workers encrypt their partitions, then merge tree; OMP_NUM_THREADS=1",
            extras=extras,
        )
    ]
