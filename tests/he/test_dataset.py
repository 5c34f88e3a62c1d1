"""EncryptedDataset: the packed table models build on, against NumPy (atol 1e-4 on data in
[-1, 1], depth-3 toy ring), its key plans on a public context, and its errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hetensor import errors

ATOL = 1e-4
N, D = 21, 5  # rows of 8 slots, 8 rows per 64-slot ciphertext: 3 ciphertexts, the last partial


@pytest.fixture(scope="module")
def owner(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        ctx = he.Context.ckks(depth=3, insecure=True, slots=64)  # 8 rows per ciphertext
    return ctx


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (N, D))
    y = rng.uniform(-1, 1, N)
    return X, y


@pytest.fixture(scope="module")
def server(he, owner):
    """A public context holding exactly the keys of EncryptedDataset.key_plan."""
    owner.generate_keys(he.EncryptedDataset.key_plan(D, ones=True))
    owner.generate_keys(he.EncryptedDataset.key_plan(D, ones=False))
    return owner.public()


def test_encrypt_packs_rows_with_room_for_ones(he, owner, data):
    X, y = data
    ds = he.EncryptedDataset.encrypt(owner, X, y)
    assert ds.width == 8 and ds.n_features == D and ds.n_columns == D and not ds.ones
    assert ds.rows_per_ciphertext == 8 and ds.X.n_ciphertexts == 3 and ds.n_samples == N
    np.testing.assert_allclose(owner.decrypt(ds.X), X, atol=ATOL)
    np.testing.assert_allclose(owner.decrypt(ds.y), y, atol=ATOL)
    ones = ds.with_ones()
    assert ones.ones and ones.n_columns == D + 1 and ones.n_features == D
    assert ones.X.level == ds.X.level  # a plaintext addition: no level
    np.testing.assert_allclose(owner.decrypt(ones.X), np.c_[X, np.ones(N)], atol=ATOL)
    assert "21 x 5 + ones with target, rows of 8 slots, 3 ciphertexts" in repr(ones)
    assert he.EncryptedDataset.encrypt(owner, X).y is None


@pytest.mark.parametrize("ones", [False, True])
def test_matvec_and_rmatvec_match_numpy_with_the_planned_keys(he, owner, server, data, ones):
    X, y = data
    ds = server_dataset(he, owner, server, X, y)
    if ones:
        ds = ds.with_ones()
        X = np.c_[X, np.ones(N)]
    w = np.linspace(-0.5, 0.5, X.shape[1])
    pred = ds.matvec(w)  # plain weights
    np.testing.assert_allclose(owner.decrypt(pred), X @ w, atol=ATOL)
    r = pred - ds.y  # a per-row value, aligned like y
    grad = ds.rmatvec(r)
    assert grad.shape == (X.shape[1],) and grad.level == r.level + 2  # mask, then product
    np.testing.assert_allclose(owner.decrypt(grad), X.T @ (X @ w - y), atol=ATOL)
    # encrypted weights as the solvers leave them (repeated every `width` slots): one level
    we = ds.rmatvec(ds.y)
    np.testing.assert_allclose(owner.decrypt(ds.matvec(we)), X @ (X.T @ y), atol=1e-3)


def server_dataset(he, owner, server, X, y):
    """Encrypted by the owner, received by the server (which has the planned keys only)."""
    ds = he.EncryptedDataset.encrypt(owner, X, y)
    return he.EncryptedDataset.from_arrays(server.receive(ds.X), server.receive(ds.y))


def test_spread_scales_rows(he, owner, server, data):
    X, y = data
    ds = server_dataset(he, owner, server, X, y).with_ones()
    spread_y = ds.spread(ds.y)  # y is row-aligned with zeros elsewhere: no mask, no level
    assert spread_y.shape == (N, D + 1) and spread_y.level == ds.y.level
    np.testing.assert_allclose(owner.decrypt(spread_y), np.repeat(y[:, None], D + 1, 1), atol=ATOL)
    r = ds.matvec(np.ones(D + 1))  # not masked yet: one level for the mask
    scaled = ds.X * ds.spread(r)
    want = np.c_[X, np.ones(N)] * (np.c_[X, np.ones(N)] @ np.ones(D + 1))[:, None]
    np.testing.assert_allclose(owner.decrypt(scaled), want, atol=1e-3)
    with pytest.raises(ValueError, match="spread needs"):
        ds.spread(ds.X)


@pytest.mark.parametrize("weighted", [False, True])
def test_gram_statistics_match_numpy(he, owner, server, data, weighted):
    X, y = data
    s = np.linspace(0.5, 2.0, N) if weighted else None
    ds = server_dataset(he, owner, server, X, y).with_ones()
    stats = ds.gram(s)
    Xa = np.c_[X, np.ones(N)]
    sw = np.ones(N) if s is None else s
    gram, xty = Xa.T @ (sw[:, None] * Xa), Xa.T @ (sw * y)
    assert (stats.n_samples, stats.n_features, stats.fit_intercept) == (N, D, True)
    assert stats.weight_sum == pytest.approx(sw.sum())
    np.testing.assert_allclose(owner.decrypt(stats.xty)[: D + 1], xty, atol=1e-3)
    for r, diag in enumerate(stats.diagonals):
        got = owner.decrypt(diag)
        for j in range(D + 1 - r):
            assert abs(got[j] - gram[j, j + r]) < 1e-3, (r, j)


def test_from_arrays_moves_other_layouts(he, owner, data):
    """Canonical X (rows of next_pow2(d) = 8 slots, no room for more than 8 columns at d = 8)
    and canonical y move into the packed layout; the owner makes the relayout keys."""
    rng = np.random.default_rng(3)
    X, y = rng.uniform(-1, 1, (6, 8)), rng.uniform(-1, 1, 6)
    ds = he.EncryptedDataset.from_arrays(owner.encrypt(X), owner.encrypt(y), width=9)
    assert ds.width == 16
    np.testing.assert_allclose(owner.decrypt(ds.X), X, atol=ATOL)
    np.testing.assert_allclose(owner.decrypt(ds.y), y, atol=ATOL)
    w = rng.uniform(-1, 1, 9)
    got = owner.decrypt(ds.with_ones().matvec(w))
    np.testing.assert_allclose(got, np.c_[X, np.ones(6)] @ w, atol=ATOL)
    packed = he.EncryptedDataset.encrypt(owner, X[:, :4], y)  # already packed: free
    again = he.EncryptedDataset.from_arrays(packed.X, packed.y)
    assert again.X.layout == packed.X.layout and again.y.layout == packed.y.layout
    assert he.EncryptedDataset.row_width(X, ones=True) == 16
    assert he.EncryptedDataset.row_width(packed.X, ones=False) == 8


def test_errors(he, owner, data):
    X, y = data
    ds = he.EncryptedDataset.encrypt(owner, X, y, width=D)  # rows of 8 slots
    full = he.EncryptedDataset.encrypt(owner, np.zeros((3, 8)), np.zeros(3), width=8)
    with pytest.raises(ValueError, match="no room for the ones column"):
        full.with_ones()
    with pytest.raises(ValueError, match="not aligned"):
        ds.matvec(np.ones(D + 1))
    with pytest.raises(ValueError, match="shape"):
        ds.rmatvec(ds.X)
    with pytest.raises(ValueError, match="target y"):
        he.EncryptedDataset.encrypt(owner, X).gram()
    with pytest.raises(ValueError, match="row-major"):
        he.EncryptedDataset(owner.encrypt(X[:3, :4].T).T, None)  # column-major strides
    with pytest.raises(ValueError, match="aligned"):
        he.EncryptedDataset(ds.X, owner.encrypt(y))
    with pytest.raises(ValueError, match="width=3 is below"):
        he.EncryptedDataset.encrypt(owner, X, y, width=3)
    with pytest.raises(ValueError, match="shape"):
        he.EncryptedDataset.encrypt(owner, X, y[:-1])
    with pytest.raises(errors.NonFiniteError):
        ds.gram(np.full(N, np.nan))
    with pytest.raises(ValueError, match=">= 0"):
        ds.gram(-np.ones(N))
    with pytest.raises(ValueError, match="unknown operations"):
        he.EncryptedDataset.key_plan(D, ops=("matvec", "solve"))
    with pytest.raises(errors.CapacityError, match="overflow"):
        he.EncryptedDataset.encrypt(owner, X * 1e9, y)
    low = he.EncryptedDataset(ds.X * 0.5 * 0.5 * 0.5, None)  # no level left
    with pytest.raises(errors.DepthError, match="X @ w"):
        low.matvec(np.ones(D))


def test_key_plan_is_slot_count_independent_and_minimal(he):
    plan = he.EncryptedDataset.key_plan(5, ops=("matvec",))
    assert plan.rotations == {1, 2, 4}  # a row sum over 8 slots
    spread = he.EncryptedDataset.key_plan(5, ops=("rmatvec",))
    assert {-1, -2, -4} <= spread.rotations and 8 in spread.rotations and 2**16 in spread.rotations
    assert he.EncryptedDataset.key_plan(5, ops=("spread",)).rotations == {-1, -2, -4}


def test_public_context_needs_the_plan(he, owner, server):
    """Rows of 32 slots (17 features) need keys the 5-feature plan lacks (a spread by 16)."""
    rng = np.random.default_rng(5)
    X, y = rng.uniform(-1, 1, (4, 17)), rng.uniform(-1, 1, 4)
    ds = server_dataset(he, owner, server, X, y)
    assert ds.width == 32
    with pytest.raises(errors.MissingKeyError, match="no rotation key"):
        ds.rmatvec(ds.y)
    owner.generate_keys(he.EncryptedDataset.key_plan(17, ops=("rmatvec",)))
    planned = server_dataset(he, owner, owner.public(), X, y)
    np.testing.assert_allclose(owner.decrypt(planned.rmatvec(planned.y)), X.T @ y, atol=ATOL)
