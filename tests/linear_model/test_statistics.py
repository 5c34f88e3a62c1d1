"""GramStatistics: statistics of row partitions merged (in any order, any grouping) give the
same fit as the whole table, to CKKS precision; identity and mismatch errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("hetensor.he", exc_type=ImportError)
pytest.importorskip("sklearn")

import hetensor as ht
from hetensor.linear_model import (
    EncryptedLinearRegression,
    GramDescentRegression,
    GramStatistics,
    encrypt_dataset,
)

N, D = 40, 3


@pytest.fixture(scope="module")
def setup():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        owner = ht.Context.ckks(depth=10, insecure=True)
    owner.generate_keys(EncryptedLinearRegression().key_plan(N, D))
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ np.array([0.4, -0.3, 0.2]) + 0.1 + 0.05 * rng.standard_normal(N)
    return owner, owner.public(), X, y


def _stats(setup, model, rows):
    owner, server, X, y = setup
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X[rows], y[rows]))
    return model.statistics(Xe, ye)


def test_partitions_merge_to_the_whole_table(setup):
    owner, _, X, y = setup
    model = EncryptedLinearRegression(max_iter=6)
    parts = [_stats(setup, model, idx) for idx in np.array_split(np.arange(N), 3)]
    ref = GramDescentRegression(max_iter=6).fit(X, y)
    # two groupings and orders of the same parts: ((a + b) + c) and (c + (identity + a)) + b
    merged_1 = (parts[0] + parts[1]) + parts[2]
    merged_2 = (parts[2] + (GramStatistics.identity() + parts[0])) + parts[1]
    assert merged_1.n_samples == merged_2.n_samples == N
    for merged in (merged_1, merged_2, sum(parts)):
        fitted = EncryptedLinearRegression(max_iter=6).fit_statistics(merged)
        np.testing.assert_allclose(owner.decrypt(fitted.coef_), ref.coef_, atol=1e-3, rtol=0)
        assert abs(float(owner.decrypt(fitted.intercept_)) - ref.intercept_) <= 1e-3


def test_statistics_decrypt_to_the_gram_matrix(setup):
    owner, _, X, y = setup
    stats = _stats(setup, EncryptedLinearRegression(), np.arange(N))
    xa = np.hstack([X, np.ones((N, 1))])
    gram = xa.T @ xa
    d_eff = D + 1
    for r, diag in enumerate(stats.diagonals):
        got = owner.decrypt(diag)[: d_eff - r]
        np.testing.assert_allclose(got, np.diagonal(gram, r), atol=1e-4, rtol=0)
    np.testing.assert_allclose(owner.decrypt(stats.xty)[:d_eff], xa.T @ y, atol=1e-4, rtol=0)


def test_identity_and_mismatches(setup):
    model = EncryptedLinearRegression(max_iter=3)
    s = _stats(setup, model, np.arange(10))
    ident = GramStatistics.identity()
    assert ident.is_identity and (ident + s) is s and (s + ident) is s
    with pytest.raises(ValueError, match="no rows"):
        model.fit_statistics(ident)
    other = _stats(setup, EncryptedLinearRegression(fit_intercept=False), np.arange(10))
    with pytest.raises(ValueError, match="different problems"):
        s.merge(other)
    with pytest.raises(ValueError, match="fit_intercept"):
        EncryptedLinearRegression(fit_intercept=False, max_iter=3).fit_statistics(s)
    with pytest.raises(TypeError, match="GramStatistics"):
        model.fit_statistics("stats")
    with pytest.raises(TypeError, match="merge"):
        s.merge(3)
