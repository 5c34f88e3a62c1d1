"""Fixtures for the Dask tests: one small LocalCluster, a small owner context."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("hetensor.he", exc_type=ImportError)
pytest.importorskip("sklearn")

N, D = 48, 3
MAX_ITER = 6


@pytest.fixture(scope="session")
def owner():
    """Insecure ring 2^12 owner context, depth 10, with the regression's rotation keys."""
    import hetensor as ht
    from hetensor.linear_model import EncryptedLinearRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = ht.Context.ckks(depth=10, insecure=True)
    ctx.generate_keys(EncryptedLinearRegression().key_plan(N, D))
    return ctx


@pytest.fixture(scope="session")
def data():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ np.array([0.4, -0.3, 0.2]) + 0.1 + 0.05 * rng.standard_normal(N)
    return X, y


@pytest.fixture(scope="session")
def client():
    """Two worker processes, one thread each (OMP_NUM_THREADS=1), closed at the end."""
    from hetensor.distributed import local_client

    with local_client(2) as c:
        yield c
