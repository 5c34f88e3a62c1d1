"""hetensor.he.linear: the encrypted solvers against their float64 algorithms written here in
NumPy (atol 1e-3), their key plan on a public context, refresh and prediction, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hetensor import errors

N, D = 40, 3
ATOL = 1e-3


def gram_iterates(X, y, *, lr, penalty, beta, n_iter):
    """w_1 = c, w_{k+1} = (1 + beta) M w_k - beta M w_{k-1} + c, M = I - eta (X^T X + P)."""
    eta = lr / X.shape[0]
    M = np.eye(X.shape[1]) - eta * (X.T @ X + np.diag(penalty))
    c = eta * X.T @ y
    w, prev = c, np.zeros_like(c)
    for _ in range(n_iter - 1):
        w, prev = (1 + beta) * M @ w - beta * M @ prev + c, w
    return w


def minibatch_gd(X, y, s, *, lr, penalty, epochs, rows):
    """Plain (beta = 0) gradient descent over consecutive batches of `rows` rows."""
    w = np.zeros(X.shape[1])
    for _ in range(epochs):
        for start in range(0, len(y), rows):
            xb, yb, sb = X[start : start + rows], y[start : start + rows], s[start : start + rows]
            grad = xb.T @ (sb * (xb @ w - yb)) + penalty * (sb.sum() / s.sum()) * w
            w = w - lr / sb.sum() * grad
    return w


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0) / 2
    y = X @ np.array([0.4, -0.3, 0.2]) + 0.1 + 0.05 * rng.standard_normal(N)
    return X, y


@pytest.fixture(scope="module")
def roles(he):
    """Owner (depth 10, 64 slots: 16 rows of 4 slots per ciphertext, 3 ciphertexts for 40
    rows) with the solvers' key plan; the server is its public view."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        owner = he.Context.ckks(depth=10, insecure=True, slots=64)
    owner.generate_keys(he.linear.key_plan(D, fit_intercept=True))
    return owner, owner.public()


def _dataset(he, roles, X, y):
    owner, server = roles
    ds = he.EncryptedDataset.encrypt(owner, X, y)
    return he.EncryptedDataset.from_arrays(server.receive(ds.X), server.receive(ds.y)).with_ones()


@pytest.mark.parametrize("beta", [0.0, 0.6])
def test_fit_gram_matches_numpy(he, roles, data, beta):
    owner, server = roles
    X, y = data
    penalty = np.array([2.0, 2.0, 2.0, 0.0])
    stats = _dataset(he, roles, X, y).gram()
    seen = []
    fit = he.linear.fit_gram(
        stats,
        learning_rate=0.25,
        penalty=penalty,
        beta=beta,
        n_iter=6,
        callback=lambda k, w: seen.append(k),
    )
    ref = gram_iterates(np.c_[X, np.ones(N)], y, lr=0.25, penalty=penalty, beta=beta, n_iter=6)
    np.testing.assert_allclose(owner.decrypt(fit.weights), ref, atol=ATOL)
    np.testing.assert_allclose(owner.decrypt(fit.coef), ref[:D], atol=ATOL)
    assert abs(float(owner.decrypt(fit.intercept)) - ref[D]) < ATOL
    assert seen == [1, 2, 3, 4, 5, 6] and fit.n_refreshes == 0 and fit.batch_size == N
    assert fit.weights.levels_left >= 1 and fit.weights.context is server


def test_fit_gd_matches_numpy_and_refreshes_through_the_callable(he, roles, data):
    owner, server = roles
    X, y = data
    s = np.linspace(0.5, 1.5, N)
    penalty = np.array([1.0, 1.0, 1.0, 0.0])
    rounds = []

    def refresh(arrays):  # the owner's round: decrypt, re-encrypt
        rounds.append(len(arrays))
        return [server.receive(owner.encrypt(owner.decrypt(a))) for a in arrays]

    fit = he.linear.fit_gd(
        _dataset(he, roles, X, y),
        learning_rate=0.5,
        penalty=penalty,
        epochs=4,
        batch_size=20,
        sample_weight=s,
        refresh=refresh,
    )
    assert fit.batch_size == 32  # rounded up to whole ciphertexts of 16 rows
    ref = minibatch_gd(np.c_[X, np.ones(N)], y, s, lr=0.5, penalty=penalty, epochs=4, rows=32)
    np.testing.assert_allclose(owner.decrypt(fit.weights), ref, atol=ATOL)
    # 8 steps of 3 levels on a depth-10 context: refreshed between, by the callable only
    assert fit.n_refreshes == len(rounds) >= 2


def test_predict_fast_and_generic_paths(he, roles, data):
    owner, server = roles
    X, y = data
    fit = he.linear.fit_gram(
        _dataset(he, roles, X, y).gram(), learning_rate=0.25, penalty=np.zeros(D + 1), n_iter=4
    )
    w = owner.decrypt(fit.weights)
    want = X @ w[:D] + w[D]
    packed = server.receive(he.EncryptedDataset.encrypt(owner, X).X)
    with server.count_ops() as fast:
        got = he.linear.predict(packed, fit.coef, fit.intercept, weights=fit.weights)
    np.testing.assert_allclose(owner.decrypt(got), want, atol=ATOL)
    assert fast["ct_mult"] == packed.n_ciphertexts and "pt_mult" not in fast
    plain = he.linear.predict(X, fit.coef, fit.intercept, weights=fit.weights)
    np.testing.assert_allclose(owner.decrypt(plain), want, atol=ATOL)
    generic = he.linear.predict(owner.encrypt(X), fit.coef, fit.intercept)  # no weights
    np.testing.assert_allclose(owner.decrypt(generic), want, atol=ATOL)


def test_errors(he, roles, data):
    X, y = data
    stats = _dataset(he, roles, X, y).gram()
    with pytest.raises(ValueError, match="identity"):
        he.linear.fit_gram(he.GramStatistics.identity(), learning_rate=0.1, penalty=np.zeros(4))
    with pytest.raises(TypeError, match="GramStatistics"):
        he.linear.fit_gram("stats", learning_rate=0.1, penalty=np.zeros(4))
    with pytest.raises(ValueError, match="penalty"):
        he.linear.fit_gram(stats, learning_rate=0.1, penalty=np.zeros(3))
    with pytest.raises(ValueError, match="target"):
        he.linear.fit_gd(
            he.EncryptedDataset.encrypt(roles[0], X), learning_rate=0.1, penalty=np.zeros(3)
        )
    with pytest.raises(errors.DepthError, match="depth >= 4"):  # no refresh, no bootstrapping
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.InsecureParametersWarning)
            shallow = he.Context.ckks(depth=3, insecure=True, slots=64)
        ds = he.EncryptedDataset.encrypt(shallow, X, y).with_ones()
        he.linear.fit_gd(ds, learning_rate=0.1, penalty=np.zeros(4))
