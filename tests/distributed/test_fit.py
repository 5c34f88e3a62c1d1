"""ht.distributed.fit on a LocalCluster equals the single-machine fit to CKKS precision,
for several partitionings, partition kinds and shuffled merge orders; keys travel once."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

dist = pytest.importorskip("hetensor.distributed")

import hetensor as ht  # noqa: E402
from hetensor.errors import ContextMismatchError  # noqa: E402
from hetensor.linear_model import (  # noqa: E402
    EncryptedLinearRegression,
    GramDescentRegression,
    encrypt_dataset,
)

N, MAX_ITER = 48, 6  # as in conftest.py

ATOL = 1e-3  # CKKS at 40-bit scale through 2 + 6 levels, coefficients of order 0.1-1


def _split(n: int, sizes: list[int]) -> list[np.ndarray]:
    return np.split(np.arange(n), np.cumsum(sizes)[:-1])


@pytest.fixture(scope="module")
def reference(owner, data):
    """Single-machine encrypted fit and the plaintext twin of the same algorithm."""
    X, y = data
    server = owner.public()
    Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))
    model = EncryptedLinearRegression(max_iter=MAX_ITER).fit(Xe, ye)
    w_enc = np.r_[owner.decrypt(model.coef_), owner.decrypt(model.intercept_)]
    ref = GramDescentRegression(max_iter=MAX_ITER).fit(X, y)
    w_ref = np.r_[ref.coef_, ref.intercept_]
    np.testing.assert_allclose(w_enc, w_ref, atol=ATOL, rtol=0)
    return w_enc


def _weights(owner, model) -> np.ndarray:
    return np.r_[owner.decrypt(model.coef_), owner.decrypt(model.intercept_)]


@pytest.mark.parametrize(
    ("sizes", "seed", "split_every"),
    [([N], None, 2), ([5, 20, 3, 12, 8], 1, 2), ([16, 16, 16], 2, 3)],
)
def test_encrypted_partitions_match_single_machine(
    client, owner, data, reference, sizes, seed, split_every
):
    X, y = data
    parts = [encrypt_dataset(owner, X[idx], y[idx]) for idx in _split(N, sizes)]
    model = dist.fit(
        EncryptedLinearRegression(max_iter=MAX_ITER),
        parts,
        client,
        seed=seed,
        split_every=split_every,
    )
    np.testing.assert_allclose(_weights(owner, model), reference, atol=ATOL, rtol=0)


def test_file_partitions_loaded_by_workers(client, owner, data, reference, tmp_path):
    pytest.importorskip("h5py")
    X, y = data
    paths = []
    for i, idx in enumerate(_split(N, [20, 28])):
        xe, ye = encrypt_dataset(owner, X[idx], y[idx])
        px, py = tmp_path / f"x{i}.h5", tmp_path / f"y{i}.h5"
        ht.save(px, xe)
        ht.save(py, ye)
        paths.append((px, str(py)))
    model = dist.fit(
        EncryptedLinearRegression(max_iter=MAX_ITER),
        paths,
        client,
        context=owner.public(),
        solve_on="worker",
    )
    np.testing.assert_allclose(_weights(owner, model), reference, atol=ATOL, rtol=0)


def test_plaintext_and_dask_array_partitions_encrypted_on_workers(client, owner, data, reference):
    da = pytest.importorskip("dask.array")
    X, y = data
    server = owner.public()
    plain = [(X[idx], y[idx]) for idx in _split(N, [10, 30, 8])]
    stats = dist.statistics(EncryptedLinearRegression(), plain, client, context=server)
    assert stats.n_samples == N
    model = EncryptedLinearRegression(max_iter=MAX_ITER).fit_statistics(stats)
    np.testing.assert_allclose(_weights(owner, model), reference, atol=ATOL, rtol=0)

    Xd = da.from_array(X, chunks=(12, 2))
    yd = da.from_array(y, chunks=20)  # rechunked to X's row chunks
    model = dist.fit(EncryptedLinearRegression(max_iter=MAX_ITER), (Xd, yd), client, context=server)
    np.testing.assert_allclose(_weights(owner, model), reference, atol=ATOL, rtol=0)


def test_keys_travel_once_ciphertexts_as_envelopes(client, owner, data):
    X, y = data
    xe, _ = encrypt_dataset(owner, X[:8], y[:8])
    dist.install_context(client, owner)  # (again: already installed by the tests above)
    assert dist.install_context(client, owner) == 0  # nothing is sent twice
    key_bytes = len(owner.public().serialize())
    blob = pickle.dumps(xe)
    assert len(blob) < len(owner.to_bytes(xe)) + 400  # the envelope and a few names
    assert key_bytes > 5 * len(blob)  # the keys are not in it
    fp = owner.fingerprint

    def installed(fingerprint: str) -> tuple[str, bool]:
        from hetensor.distributed import get_context

        ctx = get_context(fingerprint)
        return ctx.role, ctx.has_secret_key

    assert set(client.run(installed, fp).values()) == {("public", False)}
    back = pickle.loads(blob)  # rebound to this process's registered (public) context
    assert back.context.role == "public"
    np.testing.assert_allclose(owner.decrypt(back), X[:8], atol=1e-6)
    with pytest.raises(ContextMismatchError, match="install_context"):
        dist.get_context("00" * 16)


def test_bad_partitions(client, owner, data):
    X, y = data
    model = EncryptedLinearRegression(max_iter=MAX_ITER)
    with pytest.raises(ValueError, match="context="):
        dist.statistics(model, [("x.h5", "y.h5")], client)
    with pytest.raises(ValueError, match="context="):
        dist.statistics(model, [(X, y)], client)
    with pytest.raises(TypeError, match="pairs"):
        dist.statistics(model, "parts.h5", client)
    with pytest.raises(ValueError, match="no partitions"):
        dist.statistics(model, [], client)
    xe, ye = encrypt_dataset(owner, X[:8], y[:8])
    with pytest.raises(TypeError, match="both be encrypted"):
        dist.statistics(model, [(xe, y[:8])], client)
    with pytest.raises(ValueError, match="split_every"):
        dist.statistics(model, [(xe, ye)], client, split_every=1)
    with pytest.raises(ValueError, match="solve_on"):
        dist.fit(model, [(xe, ye)], client, solve_on="gpu")


def test_timeout_is_a_clear_error(client, owner, data):
    X, y = data
    parts = [encrypt_dataset(owner, X, y)]
    with pytest.raises(TimeoutError, match="did not finish within"):
        dist.statistics(EncryptedLinearRegression(), parts, client, timeout=1e-3)
