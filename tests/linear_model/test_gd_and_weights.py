"""solver="gd" (full and mini-batch, with and without Nesterov) and sample weights (both
solvers) against the same algorithms in float64 (max abs 1e-3) and against scikit-learn's
Ridge(sample_weight=...) at convergence; their parameter errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("hetensor.he", exc_type=ImportError)
pytest.importorskip("sklearn")

from sklearn.linear_model import Ridge

import hetensor as ht
from hetensor.errors import NonFiniteError
from hetensor.linear_model import (
    EncryptedLinearRegression,
    GramDescentRegression,
    OwnerRefresh,
    encrypt_dataset,
    gradient_descent,
    gram_descent,
)

N, D = 40, 3


def _data(seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ np.array([0.5, -0.4, 0.3]) + 0.2 + 0.1 * rng.standard_normal(N)
    return X, y, rng.uniform(0.2, 2.0, N)


@pytest.fixture(scope="module")
def setup():
    """64 slots: 16 rows of P = 4 slots per ciphertext, so batches span ciphertexts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=9, insecure=True, slots=64)
    owner.generate_keys(EncryptedLinearRegression().key_plan(N, D))
    X, y, s = _data()
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    return owner, Xe, ye, X, y, s


def test_full_batch_gd_is_the_gram_iteration():
    X, y, s = _data()
    for beta in (0.0, 0.8):
        for sw in (None, s):
            ref = gram_descent(X, y, max_iter=7, beta=beta, learning_rate=0.2, sample_weight=sw)
            total = N if sw is None else float(sw.sum())
            got = gradient_descent(
                X,
                y,
                alpha=0.0,
                learning_rate=0.2,
                max_iter=7,
                fit_intercept=True,
                beta=beta,
                batch_size=None,
                sample_weight=sw,
            )
            np.testing.assert_allclose(got, ref, atol=1e-12)
            assert total > 0


@pytest.mark.parametrize(
    "params",
    [
        {"max_iter": 3, "momentum": None},
        {"max_iter": 2, "batch_size": 13, "alpha": 2.0},
        {"max_iter": 2, "batch_size": 20, "momentum": "nesterov", "fit_intercept": False},
    ],
)
def test_encrypted_gd_matches_plaintext(setup, params):
    owner, Xe, ye, X, y, _ = setup
    model = EncryptedLinearRegression(solver="gd", refresh="client", **params)
    model.fit(Xe, ye, refresh_client=OwnerRefresh(owner))
    assert model.batch_size_ % Xe.layout.chunk_rows == 0 or model.batch_size_ == N
    twin = GramDescentRegression(solver="gd", **{**params, "batch_size": model.batch_size_})
    twin.fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), twin.coef_, atol=1e-3, rtol=0)
    plain = model.to_plaintext(owner)
    np.testing.assert_allclose(plain.coef_, twin.coef_, atol=1e-3, rtol=0)
    assert abs(plain.intercept_ - twin.intercept_) <= 1e-3
    assert model.n_refreshes_ >= (1 if "batch_size" in params else 0)


@pytest.mark.parametrize("solver", ["gram", "gd"])
def test_sample_weights_match_plaintext(setup, solver):
    owner, Xe, ye, X, y, s = setup
    params = {"solver": solver, "max_iter": 6 if solver == "gram" else 2, "alpha": 1.0}
    model = EncryptedLinearRegression(refresh="client", **params)
    model.fit(Xe, ye, sample_weight=s, refresh_client=OwnerRefresh(owner))
    twin = GramDescentRegression(**params).fit(X, y, sample_weight=s)
    unweighted = GramDescentRegression(**params).fit(X, y)
    got = owner.decrypt(model.coef_)
    np.testing.assert_allclose(got, twin.coef_, atol=1e-3, rtol=0)
    assert np.max(np.abs(twin.coef_ - unweighted.coef_)) > 1e-2  # the weights matter


def test_weighted_twin_converges_to_ridge():
    X, y, s = _data()
    twin = GramDescentRegression(max_iter=400, alpha=3.0).fit(X, y, sample_weight=s)
    ridge = Ridge(alpha=3.0).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(twin.coef_, ridge.coef_, atol=1e-6)
    assert abs(twin.intercept_ - ridge.intercept_) < 1e-6
    mb = GramDescentRegression(
        solver="gd", batch_size=10, max_iter=300, alpha=3.0, learning_rate=0.05, momentum=None
    )
    mb.fit(X, y, sample_weight=s)  # mini-batch GD with a constant step: near Ridge
    np.testing.assert_allclose(mb.coef_, ridge.coef_, atol=5e-2)


def test_gd_on_replicated_rows(setup):
    """6 rows fill a quarter of the 64 slots: the layout replicates them (the masks must too)."""
    owner, _, _, X, y, _ = setup
    Xe, ye = (owner.public().receive(a) for a in encrypt_dataset(owner, X[:6], y[:6]))
    assert Xe.layout.period < Xe.layout.slots
    params = {"solver": "gd", "max_iter": 2, "momentum": None}
    model = EncryptedLinearRegression(refresh="client", **params)
    model.fit(Xe, ye, refresh_client=OwnerRefresh(owner))
    twin = GramDescentRegression(**params).fit(X[:6], y[:6])
    np.testing.assert_allclose(owner.decrypt(model.coef_), twin.coef_, atol=1e-3, rtol=0)


def test_parameter_errors(setup):
    owner, Xe, ye, X, y, s = setup
    with pytest.raises(ValueError, match="solver must be"):
        GramDescentRegression(solver="sgd").fit(X, y)
    with pytest.raises(ValueError, match="batch_size applies"):
        GramDescentRegression(batch_size=4).fit(X, y)
    with pytest.raises(ValueError, match="batch_size must be"):
        GramDescentRegression(solver="gd", batch_size=0).fit(X, y)
    with pytest.raises(TypeError, match="batch_size"):
        GramDescentRegression(solver="gd", batch_size=2.5).fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        GramDescentRegression().fit(X, y, sample_weight=s[:-1])
    with pytest.raises(ValueError, match=">= 0"):
        GramDescentRegression().fit(X, y, sample_weight=-s)
    bad = s.copy()
    bad[0] = np.nan
    with pytest.raises(NonFiniteError):
        GramDescentRegression().fit(X, y, sample_weight=bad)
    with pytest.raises(ValueError, match="sample_weight"):
        EncryptedLinearRegression(refresh="client").fit(
            Xe, ye, sample_weight=s[:3], refresh_client=OwnerRefresh(owner)
        )
    stats_model = EncryptedLinearRegression(solver="gd", refresh="client")
    with pytest.raises(ValueError, match="solver='gram'"):
        stats_model.fit_statistics(
            EncryptedLinearRegression().statistics(Xe, ye), refresh_client=OwnerRefresh(owner)
        )


@pytest.mark.slow
def test_gd_with_server_bootstrapping():
    """solver='gd' refreshed by server-side bootstrapping (3 levels a step, depth 4: one
    bootstrap per step) stays within 1e-3 of float64."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=4, bootstrapping=True, insecure=True, level_budget=(2, 2))
    X, y, s = _data()
    X, y = X[:16] / 4, y[:16] / 4  # keeps the bootstrapped weights well inside [-1, 1]
    params = {"solver": "gd", "max_iter": 9, "momentum": None, "alpha": 0.5}
    model = EncryptedLinearRegression(**params)
    owner.generate_keys(model.key_plan(16, D))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    model.fit(Xe, ye, sample_weight=s[:16])
    # the data sit 3 levels above the bootstrapped level, then one step per bootstrap
    assert model.n_refreshes_ >= 2
    ref = GramDescentRegression(**params).fit(X, y, sample_weight=s[:16])
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_power_of_two_feature_counts_need_no_relayout_keys(fit_intercept):
    """d = 4 with an intercept needs rows of 8 slots: encrypt_dataset lays them out so, and
    key_plan covers both row widths (no missing rotation key)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=8, insecure=True, slots=256)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 4))
    y = X @ np.array([0.3, -0.2, 0.1, 0.4]) + 0.1
    params = {"max_iter": 4, "fit_intercept": fit_intercept}
    model = EncryptedLinearRegression(**params)
    owner.generate_keys(model.key_plan(30, 4))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    model.fit(Xe, ye)
    ref = GramDescentRegression(**params).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3, rtol=0)
    pred = owner.decrypt(model.predict(Xe))
    np.testing.assert_allclose(pred, ref.predict(X), atol=1e-3, rtol=0)
