"""Summary: a monoid of scored results (count, sum, min, max, best N), mergeable anywhere.

Results of many runs on many machines combine by :meth:`Summary.merge` in any grouping and any
order to the same value, bit for bit: counts are integers, the sum is kept *exactly* as
Shewchuk's non-overlapping partials (the algorithm behind :func:`math.fsum`; :attr:`sum` is
the correctly rounded total, so float addition's non-associativity never shows), min/max
are associative, and the best ``n_best`` entries are the ``n_best`` smallest of a multiset
under a total order (score, then label). :meth:`Summary.identity` is the neutral element.
Unlike a summary that adds float sums as they come (whose result depends on the merge
order), this one is exact; ``dask.bag``'s ``fold`` and ``reduction`` use it directly.

Examples
--------
>>> a = Summary.of(0.5, ("a",)) + Summary.of(0.25, ("b",))
>>> b = Summary.of(0.75, ("c",))
>>> (a + b) == (b + a) == Summary.identity() + a + b
True
>>> (a + b).count, (a + b).min, (a + b).best[0]
(3, 0.25, (0.25, ('b',)))
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .._validate import check_int, check_real

__all__ = ["Summary"]

Label = tuple[Hashable, ...]


def _grow(partials: list[float], x: float) -> list[float]:
    """Add ``x`` to Shewchuk partials exactly (non-overlapping, increasing magnitude)."""
    out = []
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            out.append(lo)
        x = hi
    out.append(x)
    return out


def _exact_sum(partials: Iterable[float]) -> tuple[float, ...]:
    """The exact sum of ``partials`` in canonical form: ``(t1, t2, ...)`` with ``t1`` the
    correctly rounded total, ``t2`` that of the remainder, ... (unique for a value, so sums
    built in different orders compare equal)."""
    acc: list[float] = []
    for x in partials:
        acc = _grow(acc, x)
    out: list[float] = []
    while acc:
        t = math.fsum(acc)
        if t == 0.0:
            break
        out.append(t)
        if not math.isfinite(t):
            break
        acc = [r for r in _grow(acc, -t) if r]
    return tuple(out) or (0.0,)


@dataclass(frozen=True)
class Summary:
    """Scores of many runs: count, exact sum, min, max and the best ``n_best`` (lowest).

    Scores are losses (lower is better). Labels identify a run (e.g. its hyperparameters) and
    must be tuples of mutually comparable values; ties in score are broken by label, so
    :meth:`merge` is associative and commutative exactly.

    Attributes
    ----------
    count : int
    min, max : float
        ``inf`` / ``-inf`` for the identity.
    best : tuple of (score, label)
        At most ``n_best``, ascending.
    n_best : int

    Raises
    ------
    TypeError, ValueError
        Fields no set of results has, when constructed directly: a non-int or negative
        ``count`` or ``n_best``, ``min > max``, more ``best`` entries than ``count`` or
        ``n_best``, a ``count=0`` that is not the identity.

    Examples
    --------
    >>> import dask.bag as db
    >>> runs = db.from_sequence([(0.3, (1,)), (0.1, (2,)), (0.2, (3,))], npartitions=2)
    >>> total = runs.map(lambda r: Summary.of(*r)).fold(Summary.merge, initial=Summary.identity())
    >>> total.compute(scheduler="sync").best[0]
    (0.1, (2,))
    """

    count: int = 0
    _sum: tuple[float, ...] = field(default=(0.0,), repr=False)
    min: float = math.inf
    max: float = -math.inf
    best: tuple[tuple[float, Label], ...] = ()
    n_best: int = 5

    def __post_init__(self) -> None:
        """Refuse fields no set of results has (the constructor is public)."""
        count = check_int("count", self.count, 0)
        n_best = _check_n_best(self.n_best)
        if not isinstance(self.best, tuple):
            raise TypeError(f"best must be a tuple of (score, label) pairs, got {self.best!r}")
        if len(self.best) > min(count, n_best):
            raise ValueError(
                f"best must be a tuple of at most min(count, n_best) = {min(count, n_best)} "
                f"(score, label) pairs, got {self.best!r}"
            )
        if count == 0:
            if (self.min, self.max) != (math.inf, -math.inf) or self._sum != (0.0,):
                raise ValueError(
                    "a Summary with count=0 is the identity (min=inf, max=-inf, sum 0): "
                    "use Summary.identity()"
                )
            return
        lo, hi = check_real("min", self.min), check_real("max", self.max)
        if lo > hi:
            raise ValueError(f"min must be <= max, got min={lo:g}, max={hi:g}")

    @classmethod
    def identity(cls, n_best: int = 5) -> Summary:
        """The neutral element (no results)."""
        return cls(n_best=_check_n_best(n_best))

    @classmethod
    def of(cls, score: float, label: Label = (), *, n_best: int = 5) -> Summary:
        """The summary of one result.

        Raises
        ------
        ValueError
            ``score`` is NaN or infinite (a diverged run: record it as a large finite loss
            or leave it out).
        """
        score = check_real("score", score)
        if not isinstance(label, tuple):
            raise TypeError(f"label must be a tuple, got {type(label).__name__}")
        n_best = _check_n_best(n_best)
        best = ((score, label),) if n_best else ()
        return cls(1, (score,), score, score, best, n_best)

    @classmethod
    def of_many(cls, results: Iterable[tuple[float, Label]], *, n_best: int = 5) -> Summary:
        """The summary of ``(score, label)`` pairs."""
        out = cls.identity(n_best)
        for score, label in results:
            out = out.merge(cls.of(score, label, n_best=n_best))
        return out

    @property
    def sum(self) -> float:
        """Sum of the scores, correctly rounded (independent of merge order)."""
        return self._sum[0]

    @property
    def mean(self) -> float:
        """Mean score (NaN for the identity)."""
        return self.sum / self.count if self.count else math.nan

    @property
    def is_identity(self) -> bool:
        return self.count == 0

    def merge(self, other: Summary) -> Summary:
        """The summary of both sets of results (associative, commutative, exact)."""
        if not isinstance(other, Summary):
            raise TypeError(f"can only merge Summary, got {type(other).__name__}")
        if other.n_best != self.n_best:
            raise ValueError(
                f"cannot merge summaries keeping {self.n_best} and {other.n_best} best"
            )
        if other.is_identity:
            return self
        if self.is_identity:
            return other
        try:
            best = tuple(sorted(self.best + other.best)[: self.n_best])
        except TypeError as err:
            raise TypeError(f"labels of tied scores are not comparable: {err}") from err
        return Summary(
            self.count + other.count,
            _exact_sum(self._sum + other._sum),
            min(self.min, other.min),
            max(self.max, other.max),
            best,
            self.n_best,
        )

    __add__ = merge

    def __radd__(self, other: Any) -> Summary:
        if isinstance(other, int) and other == 0:  # sum([...]) starts from 0
            return self
        return NotImplemented

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (for printing or JSON)."""
        return {
            "count": self.count,
            "sum": self.sum,
            "mean": self.mean,
            "min": self.min,
            "max": self.max,
            "best": [[s, list(label)] for s, label in self.best],
        }


def _check_n_best(n_best: int) -> int:
    return check_int("n_best", n_best, 0)
