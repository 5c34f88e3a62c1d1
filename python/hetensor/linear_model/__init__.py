"""Linear models trained on encrypted data: scikit-learn estimators over :mod:`hetensor.he`.

- :class:`EncryptedLinearRegression`: a server without the secret key fits ridge regression
  on an encrypted table (Gram solver: encrypted ``X^T X`` and ``X^T y`` once, then one level
  per iteration; or gradient descent over the encrypted rows).
- :class:`GramDescentRegression`: the same algorithms in plaintext float64
  (:func:`gram_descent`, :func:`gradient_descent`): the reference the encrypted coefficients
  are checked against, and what ``to_plaintext`` returns.
- :class:`GramStatistics`: the encrypted sufficient statistics, a monoid (partitions of the
  rows merge by addition; :meth:`EncryptedLinearRegression.fit_statistics` solves on them).
- :func:`encrypt_dataset`, :class:`OwnerRefresh`, :func:`suggest_learning_rate`: owner-side
  helpers.

The encrypted work itself (the packed dataset, the statistics and the solvers) is the
encrypted layer's: :mod:`hetensor.he.dataset` and :mod:`hetensor.he.linear`.
"""

from __future__ import annotations

from ..he.statistics import GramStatistics
from ._estimator import (
    EncryptedLinearRegression,
    OwnerRefresh,
    ScaleWarning,
    encrypt_dataset,
)
from ._plain import GramDescentRegression, gradient_descent, gram_descent, suggest_learning_rate

__all__ = [
    "EncryptedLinearRegression",
    "GramDescentRegression",
    "GramStatistics",
    "OwnerRefresh",
    "ScaleWarning",
    "encrypt_dataset",
    "gradient_descent",
    "gram_descent",
    "suggest_learning_rate",
]
