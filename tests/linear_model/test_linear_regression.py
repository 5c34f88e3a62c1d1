"""EncryptedLinearRegression: against the same algorithm in float64 (max abs 1e-3), against
scikit-learn's Ridge (test R^2 within 0.01), key roles (no decryption on the server),
scikit-learn conventions and errors. Small insecure rings (2^12) keep this fast."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("hetensor.he", exc_type=ImportError)
sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402

import hetensor as ht  # noqa: E402
from hetensor.errors import DepthError, KeyRoleError, NonFiniteError  # noqa: E402
from hetensor.linear_model import (  # noqa: E402
    EncryptedLinearRegression,
    GramDescentRegression,
    OwnerRefresh,
    ScaleWarning,
    encrypt_dataset,
    gram_descent,
    suggest_learning_rate,
)

N, D = 48, 5


def _data(n=N, d=D, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ rng.uniform(-0.5, 0.5, d) + 0.2 + 0.1 * rng.standard_normal(n)
    return X, y


def _owner(depth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ht.Context.ckks(depth=depth, insecure=True)


@pytest.fixture(scope="module")
def setup():
    """Owner (depth 12) with the keys for (N, D) and (N, D) without intercept; its server."""
    owner = _owner(12)
    owner.generate_keys(EncryptedLinearRegression().key_plan(N, D))
    owner.generate_keys(EncryptedLinearRegression(fit_intercept=False).key_plan(N, D))
    return owner, owner.public()


def _fit(setup, X, y, **params):
    owner, server = setup
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    return EncryptedLinearRegression(**params).fit(Xe, ye)


@pytest.mark.parametrize(
    "params",
    [
        {"max_iter": 8, "alpha": 0.0},
        {"max_iter": 8, "alpha": 3.0, "momentum": None},
        {"max_iter": 6, "fit_intercept": False, "learning_rate": 0.3},
    ],
)
def test_matches_plaintext_algorithm(setup, params):
    owner, _ = setup
    X, y = _data()
    model = _fit(setup, X, y, **params)
    ref = GramDescentRegression(**params).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3, rtol=0)
    plain = model.to_plaintext(owner)
    assert abs(plain.intercept_ - ref.intercept_) <= 1e-3
    assert model.n_iter_ == params["max_iter"] and model.n_features_in_ == D


def test_server_never_decrypts(setup, monkeypatch):
    owner, server = setup
    X, y = _data()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))

    def refuse(*args, **kwargs):
        raise AssertionError("decrypt called during fit")

    monkeypatch.setattr(ht.Context, "decrypt", refuse)
    monkeypatch.setattr(type(server._engine), "decrypt", refuse)
    model = EncryptedLinearRegression(max_iter=4).fit(Xe, ye)
    monkeypatch.undo()
    assert not server.has_secret_key
    with pytest.raises(KeyRoleError):
        server.decrypt(model.coef_)
    assert owner.decrypt(model.coef_).shape == (D,)


def test_r2_close_to_ridge(setup):
    owner, server = setup
    X, y = _data(seed=1)
    Xtr, Xte, ytr, yte = X[:36], X[36:], y[:36], y[36:]
    owner2 = owner  # same keys: the key plan of (N, D) covers 36 rows
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner2, Xtr, ytr))
    lr = suggest_learning_rate(Xtr, alpha=1.0)  # the owner's Gershgorin step
    model = EncryptedLinearRegression(alpha=1.0, max_iter=9, learning_rate=lr).fit(Xe, ye)
    pred = owner.decrypt(model.predict(server.receive(owner.encrypt(Xte))))
    ridge = Ridge(alpha=1.0).fit(Xtr, ytr)
    assert abs(r2_score(yte, pred) - ridge.score(Xte, yte)) < 0.01
    plain_pred = owner.decrypt(model.predict(Xte))  # plaintext X, encrypted model
    np.testing.assert_allclose(plain_pred, pred, atol=1e-4)


def test_plain_y_layout_and_plain_input(setup):
    owner, server = setup
    X, y = _data(n=16)
    ref = gram_descent(X, y, max_iter=4, beta=0.8)
    # y in the canonical layout: fit moves it (extra rotation keys, made here by the owner)
    m1 = EncryptedLinearRegression(max_iter=4).fit(owner.encrypt(X), owner.encrypt(y))
    m2 = EncryptedLinearRegression(max_iter=4).fit(X, y, context=server)
    for m in (m1, m2):
        np.testing.assert_allclose(owner.decrypt(m.coef_), ref[:D], atol=1e-3)


def test_client_refresh_round(setup):
    owner = _owner(4)  # 2 levels for the statistics, so 2 iterations per refresh
    X, y = _data(n=20, d=3)
    model = EncryptedLinearRegression(max_iter=7, refresh="client")
    owner.generate_keys(model.key_plan(20, 3))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    refresh = OwnerRefresh(owner)
    model.fit(Xe, ye, refresh_client=refresh)
    assert refresh.rounds == model.n_refreshes_ >= 2
    ref = GramDescentRegression(max_iter=7).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3)


def test_sklearn_conventions():
    model = EncryptedLinearRegression(alpha=0.5, max_iter=7)
    params = model.get_params()
    assert params["alpha"] == 0.5 and params["solver"] == "gram"
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    assert model.set_params(alpha=2.0) is model and model.alpha == 2.0
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        model.to_plaintext(None)


def test_errors(setup):
    owner, server = setup
    X, y = _data(n=16)
    model = EncryptedLinearRegression(max_iter=4)
    with pytest.raises(ValueError, match="inconsistent"):
        model.fit(X, y[:-1], context=server)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(NonFiniteError):
        model.fit(Xn, y, context=server)
    with pytest.warns(ScaleWarning, match="standardize"):
        encrypt_dataset(owner, X * 1000.0, y)
    Xe = server.receive(owner.encrypt(X))
    with pytest.raises(ValueError, match="inconsistent"):
        model.fit(Xe, server.receive(owner.encrypt(y[:-2])))
    with pytest.raises(TypeError):
        model.fit(Xe, y)
    with pytest.raises(ValueError, match="solver"):
        EncryptedLinearRegression(solver="newton").fit(X, y, context=server)
    with pytest.raises(ValueError, match="refresh_client"):
        EncryptedLinearRegression(refresh="client").fit(X, y, context=server)
    with pytest.raises(DepthError, match="depth"):
        EncryptedLinearRegression(max_iter=30).fit(X, y, context=server)
    shallow = _owner(2)
    with pytest.raises(DepthError, match="depth >= 3"):
        model.fit(X, y, context=shallow.public())


def test_key_plan_and_plaintext_reference():
    plan = EncryptedLinearRegression().key_plan(100, 5)
    assert {1, 2, 3, 4, 8, -1, -2, -4}.issubset(plan.rotations)
    with pytest.raises(ValueError):
        EncryptedLinearRegression().key_plan(0, 5)
    X, y = _data(n=200, d=3)
    model = GramDescentRegression(max_iter=400, learning_rate=0.5).fit(X, y)
    ridge = Ridge(alpha=0.0).fit(X, y)
    np.testing.assert_allclose(model.coef_, ridge.coef_, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("iters", [24, 200])
def test_server_bootstrapping_refresh(iters):
    """Server-side bootstrapping keeps a long run (200 iterations: the drift check)
    within 1e-3 of the same algorithm in float64."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=4, bootstrapping=True, insecure=True, level_budget=(2, 2))
    X, y = _data(n=16, d=3)
    X, y = X / 4, y / 4  # keeps the bootstrapped weights well inside [-1, 1]
    model = EncryptedLinearRegression(max_iter=iters, alpha=1.0)
    owner.generate_keys(model.key_plan(16, 3))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    model.fit(Xe, ye)
    # data encrypted at the chain's top use levels a bootstrap never restores; then each
    # bootstrap (of w and w_prev) buys `depth` = 4 iterations
    assert model.n_refreshes_ >= 1
    ref = GramDescentRegression(max_iter=iters, alpha=1.0).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3)


def test_data_larger_than_one_ciphertext_and_last_level_predict():
    """700 rows x 5 features = 3 ciphertexts at 2048 slots; predict on the weights' last level."""
    owner = _owner(5)
    X, y = _data(n=700, d=5, seed=3)
    model = EncryptedLinearRegression(max_iter=3)  # 2 + 2 levels: one left for predict
    owner.generate_keys(model.key_plan(700, 5))
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    assert Xe.n_ciphertexts == 3
    model.fit(Xe, ye)
    ref = GramDescentRegression(max_iter=3).fit(X, y)
    np.testing.assert_allclose(owner.decrypt(model.coef_), ref.coef_, atol=1e-3)
    pred = owner.decrypt(model.predict(server.receive(owner.encrypt(X))))
    np.testing.assert_allclose(pred, ref.predict(X), atol=1e-3)


def test_save_and_load_fitted_models(setup, tmp_path):
    pytest.importorskip("h5py")
    owner, server = setup
    X, y = _data()
    model = _fit(setup, X, y, max_iter=4, alpha=1.0)
    ht.save(tmp_path / "enc.h5", model)
    with pytest.raises(TypeError, match="context="):
        ht.load(tmp_path / "enc.h5")
    back = ht.load(tmp_path / "enc.h5", context=server)
    assert back.get_params() == model.get_params() and back.n_iter_ == model.n_iter_
    np.testing.assert_allclose(owner.decrypt(back.coef_), owner.decrypt(model.coef_), atol=1e-12)
    np.testing.assert_allclose(
        owner.decrypt(back.intercept_), owner.decrypt(model.intercept_), atol=1e-12
    )
    with pytest.raises(ht.errors.ContextMismatchError):
        ht.load(tmp_path / "enc.h5", context=_owner(1))
    plain = model.to_plaintext(owner)
    ht.save(tmp_path / "plain.h5", plain)
    twin = ht.load(tmp_path / "plain.h5")
    np.testing.assert_array_equal(twin.predict(X), plain.predict(X))


def test_loaded_encrypted_model_predicts(setup, tmp_path):
    """A model loaded from a file has coef_ and intercept_ only (no packed weights): predict
    takes the generic product and gives the fitted model's predictions."""
    pytest.importorskip("h5py")
    owner, server = setup
    X, y = _data()
    model = _fit(setup, X, y, max_iter=4)
    ht.save(tmp_path / "enc.h5", model)
    back = ht.load(tmp_path / "enc.h5", context=server)
    Xe = server.receive(owner.encrypt(X[:8]))
    want = owner.decrypt(model.predict(Xe))
    np.testing.assert_allclose(owner.decrypt(back.predict(Xe)), want, atol=1e-4)
    np.testing.assert_allclose(owner.decrypt(back.predict(X[:8])), want, atol=1e-4)
