"""A worker process killed mid-run: the fit completes with the same result (its tasks are
rerun elsewhere, the replacement worker gets the keys from the plugin) or fails clearly;
nothing hangs (every wait has a timeout)."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time

import numpy as np
import pytest

dist = pytest.importorskip("hetensor.distributed")
distributed = pytest.importorskip("distributed")

from hetensor.linear_model import (  # noqa: E402
    EncryptedLinearRegression,
    GramDescentRegression,
    encrypt_dataset,
)

N, MAX_ITER = 48, 6  # as in conftest.py


def test_killed_worker_same_result_or_clear_error(owner, data):
    X, y = data
    # many small partitions so that work is still queued when the worker dies
    parts = [encrypt_dataset(owner, X[i::12], y[i::12]) for i in range(12)]
    ref = GramDescentRegression(max_iter=MAX_ITER).fit(X, y)
    with dist.local_client(2) as client:
        client.wait_for_workers(2, timeout=60)
        dist.install_context(client, owner)
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            job = pool.submit(
                dist.fit,
                EncryptedLinearRegression(max_iter=MAX_ITER),
                parts,
                client,
                seed=0,
                timeout=240,
            )
            deadline = time.monotonic() + 60
            while not any(client.processing().values()):  # wait until tasks are running
                assert time.monotonic() < deadline, "tasks never started"
                time.sleep(0.05)
            os.kill(victim, signal.SIGKILL)
            try:
                model = job.result(timeout=300)
            except distributed.KilledWorker as err:  # the clear-error outcome
                assert "hetensor-stats" in str(err) or "hetensor-merge" in str(err)
                return
        np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3, rtol=0)
        assert victim not in client.run(os.getpid).values()  # it really died


def test_timeout_is_a_clear_error(owner, data, client):
    X, y = data
    parts = [encrypt_dataset(owner, X, y)]
    with pytest.raises(TimeoutError, match="did not finish within"):
        dist.statistics(EncryptedLinearRegression(), parts, client, timeout=1e-3)
