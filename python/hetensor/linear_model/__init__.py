"""Linear models trained on encrypted data (ARCHITECTURE decision 3).

- :class:`EncryptedLinearRegression`: a server without the secret key fits ridge regression
  on an encrypted table (Gram solver: encrypted ``X^T X`` and ``X^T y`` once, then one level
  per iteration).
- :class:`GramDescentRegression`: the same algorithm in plaintext float64 (the reference the
  encrypted coefficients are checked against, and what ``to_plaintext`` returns).
- :class:`GramStatistics`: the encrypted sufficient statistics, a monoid (partitions of the
  rows merge by addition; :meth:`EncryptedLinearRegression.fit_statistics` solves on them).
- :func:`encrypt_dataset`, :class:`OwnerRefresh`, :func:`suggest_learning_rate`: owner-side
  helpers.
"""

from __future__ import annotations

from ._estimator import (
    EncryptedLinearRegression,
    GramDescentRegression,
    OwnerRefresh,
    ScaleWarning,
    encrypt_dataset,
    gram_descent,
    suggest_learning_rate,
)
from ._statistics import GramStatistics

__all__ = [
    "EncryptedLinearRegression",
    "GramDescentRegression",
    "GramStatistics",
    "OwnerRefresh",
    "ScaleWarning",
    "encrypt_dataset",
    "gram_descent",
    "suggest_learning_rate",
]
