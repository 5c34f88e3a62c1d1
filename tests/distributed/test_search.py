"""ht.distributed.search: a grid evaluated on workers, scored by the owner, into a Summary
that equals the one built from plaintext fits of the same algorithm; seeds reproduce."""

from __future__ import annotations

import numpy as np
import pytest

dist = pytest.importorskip("hetensor.distributed")

from hetensor.linear_model import (  # noqa: E402
    EncryptedLinearRegression,
    GramDescentRegression,
    encrypt_dataset,
)

N_TRAIN = 36


@pytest.fixture(scope="module")
def split(owner, data):
    X, y = data
    parts = [
        encrypt_dataset(owner, X[idx], y[idx]) for idx in np.array_split(np.arange(N_TRAIN), 2)
    ]
    return parts, X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def test_grid_search_matches_plaintext_scores(client, owner, split):
    parts, Xtr, ytr, Xva, yva = split
    stats = dist.statistics(EncryptedLinearRegression(), parts, client)
    grid = {"alpha": [0.0, 5.0], "learning_rate": [None, 0.1], "max_iter": [3, 6]}
    scorer = dist.ValidationMSE(owner, Xva, yva)
    summary = dist.search(
        EncryptedLinearRegression(), stats, grid, scorer=scorer, client=client, n_best=3
    )
    expected = []
    for alpha, lr, it in dist.grid(**grid):
        ref = GramDescentRegression(alpha=alpha, learning_rate=lr, max_iter=it).fit(Xtr, ytr)
        mse = float(np.mean((ref.predict(Xva) - yva) ** 2))
        expected.append((mse, (alpha, -1.0 if lr is None else lr, it)))
    assert summary.count == len(expected) == 8
    assert summary.min == pytest.approx(min(m for m, _ in expected), abs=1e-4)
    assert summary.max == pytest.approx(max(m for m, _ in expected), abs=1e-4)
    assert summary.mean == pytest.approx(np.mean([m for m, _ in expected]), abs=1e-4)
    best_labels = [label for _, label in sorted(expected)[:3]]
    assert [label for _, label in summary.best] == best_labels


def test_random_search_is_reproducible_and_merges(client, owner, split):
    parts, _, _, Xva, yva = split
    scorer = dist.ValidationMSE(owner, Xva, yva)
    grid = {"alpha": [0.0, 1.0, 10.0], "max_iter": [2, 4]}
    a = dist.search(
        EncryptedLinearRegression(), parts, grid, scorer=scorer, client=client, n_iter=3, seed=7
    )
    b = dist.search(
        EncryptedLinearRegression(), parts, grid, scorer=scorer, client=client, n_iter=3, seed=7
    )
    assert a.count == 3 and [lab for _, lab in a.best] == [lab for _, lab in b.best]
    assert (a + b).count == 6 and (a + b).min == min(a.min, b.min)


def test_search_errors(client, owner, split):
    parts, _, _, Xva, yva = split
    scorer = dist.ValidationMSE(owner, Xva, yva)
    model = EncryptedLinearRegression()
    with pytest.raises(ValueError, match="unknown grid keys"):
        dist.search(model, parts, {"beta": [1]}, scorer=scorer, client=client)
    with pytest.raises(ValueError, match="empty"):
        dist.search(model, parts, [], scorer=scorer, client=client)
    with pytest.raises(TypeError, match="callable"):
        dist.search(model, parts, [(0.0, None, 2)], scorer=None, client=client)
    with pytest.raises(ValueError, match="owner"):
        dist.ValidationMSE(owner.public(), Xva, yva)
