"""A worker process killed mid-run: the fit completes with the same result (its tasks are
rerun elsewhere, the replacement worker gets the keys from the plugin) or fails clearly;
nothing hangs (every wait has a timeout)."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
import warnings

import numpy as np
import pytest

dist = pytest.importorskip("hetensor.distributed")
distributed = pytest.importorskip("distributed")

import hetensor as ht  # noqa: E402
from hetensor.linear_model import EncryptedLinearRegression, encrypt_dataset  # noqa: E402


def test_killed_worker_same_result_or_clear_error(data):
    X, y = data
    n, d = X.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=3, insecure=True)  # statistics only: smaller keys
    owner.generate_keys(EncryptedLinearRegression().key_plan(n, d))
    # many small partitions so that work is still queued when the worker dies
    parts = [encrypt_dataset(owner, X[i::10], y[i::10]) for i in range(10)]
    xa = np.hstack([X, np.ones((n, 1))])
    with dist.local_client(2) as client:
        client.wait_for_workers(2, timeout=60)
        dist.install_context(client, owner)
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            job = pool.submit(
                dist.statistics, EncryptedLinearRegression(), parts, client, seed=0, timeout=240
            )
            deadline = time.monotonic() + 60
            while not any(client.processing().values()):  # wait until tasks are running
                assert time.monotonic() < deadline, "tasks never started"
                time.sleep(0.05)
            os.kill(victim, signal.SIGKILL)
            try:
                stats = job.result(timeout=300)
            except distributed.KilledWorker as err:  # the clear-error outcome
                assert "hetensor-stats" in str(err) or "hetensor-merge" in str(err)
                return
        assert victim not in client.run(os.getpid).values()  # it really died
    assert stats.n_samples == n
    np.testing.assert_allclose(owner.decrypt(stats.xty)[: d + 1], xa.T @ y, atol=1e-4, rtol=0)
    gram = xa.T @ xa
    for r, diag in enumerate(stats.diagonals):
        np.testing.assert_allclose(
            owner.decrypt(diag)[: d + 1 - r], np.diagonal(gram, r), atol=1e-4
        )
