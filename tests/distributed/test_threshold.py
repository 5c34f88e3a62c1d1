"""Threshold CKKS with 3 data owners: joint keys, EncryptedArray ops on the joint key, no
single party can decrypt, and a 3-owner regression through Dask equals the plaintext fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

dist = pytest.importorskip("hetensor.distributed")

from hetensor.errors import KeyRoleError, OpenFHEError  # noqa: E402
from hetensor.linear_model import (  # noqa: E402
    EncryptedLinearRegression,
    GramDescentRegression,
    encrypt_dataset,
)

threshold = dist.threshold
N, D, MAX_ITER = 48, 3, 6


@pytest.fixture(scope="module")
def joint():
    plan = sorted(EncryptedLinearRegression().key_plan(N, D).rotations | {1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return threshold.setup(3, depth=2 + MAX_ITER, rotations=plan, insecure=True)


def test_joint_key_arithmetic_and_decryption(joint):
    ctx, parties = joint
    assert ctx.role == "public" and len(parties) == 3
    x = np.linspace(-1, 1, 10)
    xe = ctx.encrypt(x)
    out = (xe * xe + 0.5 * xe).sum()
    got = threshold.joint_decrypt(ctx, out, parties)
    np.testing.assert_allclose(got, np.sum(x * x + 0.5 * x), atol=1e-4)
    rolled = ctx.encrypt_vector(x).rotate(1)
    assert rolled is not None  # rotations use the joint rotation keys
    with pytest.raises(KeyRoleError):
        ctx.decrypt(xe)


def test_no_single_party_and_no_partial_subset_decrypts(joint):
    ctx, parties = joint
    x = np.linspace(-1, 1, 16)
    xe = ctx.encrypt(x)
    for p in parties:
        try:
            alone = p.decrypt_alone(xe)
        except OpenFHEError as err:  # the usual outcome: noise OpenFHE refuses to decode
            assert "share alone" in str(err)
        else:
            assert np.max(np.abs(alone - x)) > 1.0  # noise, not the data
    partials = [p.partial_decrypt(xe) for p in parties]
    with pytest.raises(ValueError, match="all 3 parties"):
        threshold.fuse(ctx, xe, partials[:2])
    with pytest.raises(ValueError, match="all 3 parties"):
        threshold.fuse(ctx, xe, [partials[0], partials[0], partials[2]])
    # partial decryptions add smudging noise: ~1e-5 at a 40-bit scale
    np.testing.assert_allclose(threshold.fuse(ctx, xe, partials[::-1]), x, atol=1e-4)


def test_three_owners_regression_through_dask(client, joint):
    ctx, parties = joint
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ np.array([0.3, 0.2, -0.4]) - 0.1 + 0.05 * rng.standard_normal(N)
    # each owner encrypts its own rows under the joint public key
    parts = [encrypt_dataset(ctx, X[idx], y[idx]) for idx in np.array_split(np.arange(N), 3)]
    model = dist.fit(EncryptedLinearRegression(max_iter=MAX_ITER), parts, client, seed=5)
    coef = threshold.joint_decrypt(ctx, model.coef_, parties)
    ref = GramDescentRegression(max_iter=MAX_ITER).fit(X, y)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-3, rtol=0)
    icpt = threshold.joint_decrypt(ctx, model.intercept_, parties)
    assert abs(float(icpt) - ref.intercept_) <= 1e-3


def test_setup_validation():
    with pytest.raises(ValueError, match="n_parties"):
        threshold.setup(1, depth=2, insecure=True)
    with pytest.raises(ValueError, match="bootstrapping"):
        threshold.setup(2, depth=2, bootstrapping=True, insecure=True)


def test_interactive_refresh_lifts_the_depth_bound():
    """12 iterations on a joint context of visible depth 7: ThresholdRefresh (IntMPBoot)."""
    it = 12
    plan = sorted(EncryptedLinearRegression().key_plan(N, D).rotations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx, parties = threshold.setup(
            3, depth=7, rotations=plan, insecure=True, interactive_refresh=True
        )
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, D))
    X = (X - X.mean(0)) / X.std(0)
    y = X @ np.array([0.3, 0.2, -0.4]) - 0.1 + 0.05 * rng.standard_normal(N)
    refresh = threshold.ThresholdRefresh(ctx, parties)
    model = EncryptedLinearRegression(max_iter=it, refresh="client")
    model.fit(*encrypt_dataset(ctx, X, y), refresh_client=refresh)
    assert refresh.rounds >= 1
    ref = GramDescentRegression(max_iter=it).fit(X, y)
    coef = threshold.joint_decrypt(ctx, model.coef_, parties)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="interactive_refresh=True"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain_ctx, plain_parties = threshold.setup(2, depth=3, insecure=True)
        threshold.ThresholdRefresh(plain_ctx, plain_parties)
