"""Encrypted sufficient statistics of a regression problem: a monoid (identity + merge).

``X^T X`` and ``X^T y`` are sums over samples, so the statistics of a table are the sum of the
statistics of any partition of its rows. :class:`GramStatistics` holds them encrypted (the
Gram matrix as its upper generalized diagonals ``T_r``, ``X^T y`` and the public row count),
and :meth:`GramStatistics.merge` adds two of them: associative and commutative up to CKKS
rounding, with :meth:`GramStatistics.identity` as the neutral element. This is what
distributed training reduces; the solver then iterates on the merged statistics
(:func:`hetensor.he.linear.fit_gram`, behind
:meth:`hetensor.linear_model.EncryptedLinearRegression.fit_statistics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .array import EncryptedArray


@dataclass(frozen=True, init=False)
class GramStatistics:
    """Encrypted ``X^T X``, ``X^T y`` and ``n`` of one partition (or several, merged).

    Made by :meth:`EncryptedDataset.gram` (behind
    :meth:`hetensor.linear_model.EncryptedLinearRegression.statistics`); combine partitions
    with ``a + b`` or :meth:`merge`, starting from :meth:`identity` if convenient. Everything
    but the ciphertexts is public (shapes and counts), as in any encrypted computation here.

    Attributes
    ----------
    n_samples, n_features : int
        Rows summed so far and features (without the intercept column).
    fit_intercept : bool
        Whether a ones column was appended (then ``d_eff = n_features + 1``).
    diagonals : tuple of EncryptedArray, shape (P,) each
        ``diagonals[r][j] = G[j, j + r]`` for ``j + r < d_eff``, with ``G = [X, 1]^T [X, 1]``
        and ``P = next_pow2(d_eff)`` (other slots hold unrelated sums; the solver masks them).
    xty : EncryptedArray, shape (P,)
        ``[X, 1]^T y`` padded with zeros.
    weight_sum : float
        Sum of the sample weights (``n_samples`` when unweighted); with weights ``S`` the
        statistics are ``[X, 1]^T S [X, 1]`` and ``[X, 1]^T S y``.
    y_sq_bound : float or None
        Public bound of ``y^T S y`` (``sum(s) * bound(y)**2`` per partition, summed by
        :meth:`merge`), which bounds the solver's weights (``None``: unknown).

    Examples
    --------
    >>> stats = model.statistics(X1e, y1e) + model.statistics(X2e, y2e)   # doctest: +SKIP
    >>> model.fit_statistics(stats)                                        # doctest: +SKIP
    """

    n_samples: int
    n_features: int
    fit_intercept: bool
    diagonals: tuple[EncryptedArray, ...] = field(repr=False)
    xty: EncryptedArray | None = field(repr=False)
    weight_sum: float
    y_sq_bound: float | None = field(repr=False)

    # Written out (not generated) because ``weight_sum=None`` means ``n_samples``: the stored
    # field is always a float.
    def __init__(
        self,
        n_samples: int,
        n_features: int,
        fit_intercept: bool,
        diagonals: tuple[EncryptedArray, ...],
        xty: EncryptedArray | None,
        weight_sum: float | None = None,
        y_sq_bound: float | None = None,
    ) -> None:
        total = float(n_samples) if weight_sum is None else weight_sum
        values = (n_samples, n_features, fit_intercept, diagonals, xty, total, y_sq_bound)
        for f, value in zip(fields(self), values, strict=True):
            object.__setattr__(self, f.name, value)

    @classmethod
    def identity(cls) -> GramStatistics:
        """The neutral element: no rows, no ciphertexts (``identity + s == s``)."""
        return cls(0, 0, False, (), None)

    @property
    def is_identity(self) -> bool:
        return self.xty is None

    @property
    def d_eff(self) -> int:
        return self.n_features + int(self.fit_intercept)

    @property
    def context(self) -> Any:
        """The context the ciphertexts are bound to (None for the identity)."""
        return None if self.xty is None else self.xty.context

    def _check_compatible(self, other: GramStatistics) -> None:
        if (self.n_features, self.fit_intercept) != (other.n_features, other.fit_intercept):
            raise ValueError(
                "cannot merge statistics of different problems: "
                f"{self.n_features} features (intercept {self.fit_intercept}) vs "
                f"{other.n_features} (intercept {other.fit_intercept})"
            )
        assert self.xty is not None and other.xty is not None
        self.xty._check_same_context(other.xty)
        if self.xty.layout != other.xty.layout:
            raise ValueError(
                "cannot merge statistics packed for different slot counts or row widths"
            )

    def merge(self, other: GramStatistics) -> GramStatistics:
        """Statistics of the union of both partitions' rows (ciphertext additions)."""
        if not isinstance(other, GramStatistics):
            raise TypeError(f"can only merge GramStatistics, got {type(other).__name__}")
        if other.is_identity:
            return self
        if self.is_identity:
            return other
        self._check_compatible(other)
        assert self.xty is not None and other.xty is not None  # neither is the identity
        return GramStatistics(
            self.n_samples + other.n_samples,
            self.n_features,
            self.fit_intercept,
            tuple(a + b for a, b in zip(self.diagonals, other.diagonals, strict=True)),
            self.xty + other.xty,
            float(self.weight_sum) + float(other.weight_sum),
            None
            if self.y_sq_bound is None or other.y_sq_bound is None
            else self.y_sq_bound + other.y_sq_bound,
        )

    __add__ = merge

    def __radd__(self, other: Any) -> GramStatistics:
        if isinstance(other, int) and other == 0:  # sum([...]) starts from 0
            return self
        return NotImplemented


__all__ = ["GramStatistics"]
