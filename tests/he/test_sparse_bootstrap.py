"""Sparse bootstrapping (``bootstrap_slots``): a full-slot context whose bootstrapping is set
up for few slots refreshes small replicated vectors (a model's weights) cheaply, and refuses
anything else with a clear error. Context creation is cheap to validate; the bootstrapping
cases (insecure ring 2^12) are slow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hetensor import errors


def test_bootstrap_slots_validation(he):
    with pytest.raises(ValueError, match="bootstrapping=True"):
        he.Context.ckks(depth=2, bootstrap_slots=8, insecure=True)
    with pytest.raises(ValueError, match="power of two"):
        he.Context.ckks(depth=2, bootstrapping=True, bootstrap_slots=12, insecure=True)


@pytest.fixture(scope="module")
def sparse_ctx(he):
    """Insecure ring 2^12 with all 2048 slots for data, bootstrapping set up for 8."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        return he.Context.ckks(
            depth=2, bootstrapping=True, bootstrap_slots=8, level_budget=(1, 1), insecure=True
        )


@pytest.mark.slow
def test_sparse_bootstrap_refreshes_small_vectors(sparse_ctx):
    ctx = sparse_ctx
    assert (ctx.slots, ctx.bootstrap_slots, ctx.params.bootstrap_slots) == (2048, 8, 8)
    rng = np.random.default_rng(0)
    for n in (1, 5, 8):  # layouts with period 1, 8, 8: all repeat within 8 slots
        v = rng.uniform(-0.9, 0.9, n)
        a = ctx.encrypt(v)
        used = a * a
        b = ctx.bootstrap(used)
        assert b.levels_left == ctx.depth
        np.testing.assert_allclose(ctx.decrypt(b), v * v, atol=1e-4)
    m = rng.uniform(-0.9, 0.9, (2, 4))  # a (2, 4) array has period 8 too
    np.testing.assert_allclose(ctx.decrypt(ctx.bootstrap(ctx.encrypt(m))), m, atol=1e-4)


@pytest.mark.slow
def test_sparse_bootstrap_refuses_wide_arrays_and_auto_refresh(sparse_ctx):
    ctx = sparse_ctx
    wide = ctx.encrypt(np.linspace(-0.5, 0.5, 16))  # period 16 > 8
    with pytest.raises(errors.CapacityError, match="bootstrap_slots=8"):
        ctx.bootstrap(wide)
    a = ctx.encrypt(np.full(4, 0.5))
    b = a * a * a  # depth 2: the third product has no level left ...
    with pytest.raises(errors.DepthError, match="sparse"):  # ... and is not auto-bootstrapped
        b * a


@pytest.mark.slow
def test_sparse_setup_survives_serialization(sparse_ctx, he):
    ctx = sparse_ctx
    server = he.Context.deserialize(ctx.public().serialize())
    assert server.bootstrap_slots == 8 and not server.has_secret_key
    v = np.array([0.25, -0.5, 0.75])
    out = server.bootstrap(server.receive(ctx.encrypt(v) * 1.0))
    np.testing.assert_allclose(ctx.decrypt(out), v, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["gram", "gd"])
def test_regression_refreshed_by_sparse_bootstrapping(solver, he):
    """Weights of d + 1 = 4 entries bootstrapped as 8-slot sparse ciphertexts of a 2048-slot
    context: within 1e-3 of the same algorithm in float64."""
    from hetensor.linear_model import (
        EncryptedLinearRegression,
        GramDescentRegression,
        encrypt_dataset,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        owner = he.Context.ckks(
            depth=4, bootstrapping=True, bootstrap_slots=8, level_budget=(1, 1), insecure=True
        )
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    X = (X - X.mean(0)) / X.std(0) / 4  # keeps the bootstrapped weights well inside [-1, 1]
    y = X @ np.array([0.5, -0.3, 0.2]) + 0.05 + 0.02 * rng.standard_normal(40)
    # enough iterations to need refreshes (the statistics use levels above the bootstrapped ones)
    iters = {"gram": 30, "gd": 12}[solver]
    params = {"solver": solver, "max_iter": iters, "momentum": None, "alpha": 0.5}
    model = EncryptedLinearRegression(**params)
    owner.generate_keys(model.key_plan(*X.shape))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    with server.count_ops() as ops:
        model.fit(Xe, ye)
    assert model.n_refreshes_ >= 2 and ops["bootstrap"] >= 2
    ref = GramDescentRegression(**params).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3)
    np.testing.assert_allclose(owner.decrypt(model.intercept_), ref.intercept_, atol=1e-3)
    wide = EncryptedLinearRegression(**params)  # 9 features + intercept: 16 > 8 slots
    with pytest.raises(errors.CapacityError, match="bootstrap_slots"):
        wide.fit(*(server.receive(a) for a in encrypt_dataset(owner, np.zeros((4, 9)), y[:4])))
