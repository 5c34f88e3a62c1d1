"""EncryptedDataset: a table packed row-major for linear models, with its target row-aligned.

The packing every linear model here uses: row ``i`` of ``X`` (n, d) fills ``P`` consecutive
slots (``P`` a power of two, at least the number of columns, padding slots zero), ``R =
slots / P`` rows per ciphertext (more rows: more ciphertexts), and the target ``y_i`` sits in
the first slot of row ``i`` (slot ``i P``). On it:

- ``X @ w`` (:meth:`EncryptedDataset.matvec`): one product per ciphertext and ``log2 P``
  rotations; the result is a per-row value, aligned like ``y``;
- ``X^T r`` (:meth:`EncryptedDataset.rmatvec`) for a per-row value ``r``: ``r`` spread over
  its row (``log2 P`` rotations, :meth:`EncryptedDataset.spread`), one product per
  ciphertext, one relinearization, then the rows summed (``log2 R`` rotations); the result
  is a vector repeated every ``P`` slots, the layout weight vectors have, so gradient steps
  need no data movement;
- the Gram statistics ``X^T X`` and ``X^T y`` (:meth:`EncryptedDataset.gram`), which merge
  over row partitions (:class:`~hetensor.he.statistics.GramStatistics`).

Each operation's rotation keys come from :meth:`EncryptedDataset.key_plan`. A ones column for
an intercept is a plaintext addition into the padding (:meth:`with_ones`, no level).

Examples
--------
>>> import numpy as np, hetensor as ht                                      # doctest: +SKIP
>>> from hetensor.he.dataset import EncryptedDataset
>>> owner = ht.Context.ckks(depth=4, insecure=True)                         # doctest: +SKIP
>>> owner.generate_keys(EncryptedDataset.key_plan(3, ops=("matvec", "rmatvec")))  # doctest: +SKIP
>>> X, y = np.arange(12.0).reshape(4, 3) / 10, np.array([1.0, 0.0, -1.0, 0.5])
>>> ds = EncryptedDataset.encrypt(owner, X, y)                              # doctest: +SKIP
>>> r = ds.matvec(np.array([0.5, -1.0, 0.25])) - ds.y                       # doctest: +SKIP
>>> np.round(owner.decrypt(ds.rmatvec(r)), 6)     # X^T (X w - y)           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from ..errors import NonFiniteError
from . import _bounds, _gram
from .array import EncryptedArray, as_plain
from .keys import KeyPlan
from .statistics import GramStatistics

if TYPE_CHECKING:
    from .context import Context

__all__ = ["EncryptedDataset"]

_pk = _core.packing
_OPS = ("matvec", "rmatvec", "spread", "gram", "gram_iterations", "column_sums")


def _packed_width(x: EncryptedArray) -> int | None:
    """Slots per row of a 2-D ``x`` laid out row-major (row ``i`` in slots ``i P .. i P + P -
    1``), None for any other layout. Padding need not be zero."""
    lay = x._layout
    p = int(lay.pads[1])
    return p if tuple(lay.strides) == (p, 1) else None


def _row_aligned(v: EncryptedArray, x_layout: Any) -> EncryptedArray:
    """A per-row value ``v`` (n,) with ``v_i`` in the first slot of row ``i`` of ``x_layout``
    and zeros elsewhere: moved there (masked rotations) or, already there, masked."""
    target = _gram.target_layout(x_layout)
    return v._relayout(target, np.arange(v.size)) if v._layout != target else v._cleaned()


class EncryptedDataset:
    """An encrypted table ``X`` (n, d) packed row-major, with a row-aligned target ``y``.

    Make one on the owner's side with :meth:`encrypt`, or on the server from encrypted arrays
    of any layout with :meth:`from_arrays`. Everything but the ciphertexts (shapes, row
    width, whether a ones column was added) is public, as for any encrypted array.

    Attributes
    ----------
    X : EncryptedArray, shape (n, n_columns)
        The rows, ``width`` slots each, padding slots zero.
    y : EncryptedArray of shape (n,) or None
        The target, ``y_i`` in the first slot of row ``i``.
    ones : bool
        Whether the last column of ``X`` is the ones column of :meth:`with_ones`.
    """

    __slots__ = ("X", "ones", "y")

    def __init__(self, X: EncryptedArray, y: EncryptedArray | None, ones: bool = False) -> None:
        if not isinstance(X, EncryptedArray) or X.ndim != 2:
            raise TypeError("EncryptedDataset needs a 2-D EncryptedArray X; use from_arrays")
        lay = X._layout
        if not X._clean or _packed_width(X) is None:
            raise ValueError(
                "X is not packed row-major with zero padding: use EncryptedDataset.from_arrays"
            )
        if y is not None and (y._layout != _gram.target_layout(lay) or not y._clean):
            raise ValueError(
                "y is not aligned with the rows of X: use EncryptedDataset.from_arrays"
            )
        self.X, self.y, self.ones = X, y, bool(ones)

    # ------------------------------------------------------------------ metadata
    @property
    def context(self) -> Context:
        return self.X.context

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_columns(self) -> int:
        """Columns of ``X``, the ones column included."""
        return int(self.X.shape[1])

    @property
    def n_features(self) -> int:
        """Columns of ``X`` without the ones column."""
        return self.n_columns - int(self.ones)

    @property
    def width(self) -> int:
        """Slots per row (a power of two): the period of the vectors ``rmatvec`` returns."""
        return int(self.X._layout.pads[1])

    @property
    def rows_per_ciphertext(self) -> int:
        return int(self.X._layout.chunk_rows)

    def __repr__(self) -> str:
        target = "" if self.y is None else " with target"
        return (
            f"<hetensor.EncryptedDataset {self.n_samples} x {self.n_features}"
            f"{' + ones' if self.ones else ''}{target}, rows of {self.width} slots, "
            f"{self.X.n_ciphertexts} ciphertexts>"
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def encrypt(
        cls,
        ctx: Context,
        X: Any,
        y: Any = None,
        *,
        width: int | None = None,
        bound: float | None = None,
        y_bound: float | None = None,
    ) -> EncryptedDataset:
        """Encrypt a table (and target) in the packed layout, on the data owner's side.

        Parameters
        ----------
        ctx : Context
            Any context with the public key (owner or public).
        X : array_like, shape (n, d)
        y : array_like, shape (n,), optional
        width : int, optional
            Columns each row must have room for (default ``d + 1``: room for the ones column
            of an intercept, so the server never moves the rows); rounded up to a power of two.
        bound, y_bound : float, optional
            Public bounds of ``|X|`` and ``|y|`` (as in :meth:`Context.encrypt`); default the
            largest magnitudes rounded up to a power of two.

        Notes
        -----
        On a bootstrapping context the data is encrypted 3 levels above where fresh
        ciphertexts start: the statistics' two levels (three with sample weights) then come
        from levels a bootstrap never restores, so every bootstrap of the weights buys
        ``depth`` iterations. Higher would only cost: every tower of the modulus chain makes
        the operations and ciphertexts larger.
        """
        X = ctx._checked_values(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        n, d = X.shape
        width = d + 1 if width is None else int(width)
        if width < d:
            raise ValueError(f"width={width} is below the {d} columns of X")
        p = ctx._params
        level = max(0, p.fresh_level - 3) if p.bootstrapping else None
        wide = _pk.plan_array((n, _gram.padded(width)), ctx.slots)
        x_lay = _gram.row_layout(wide, d)
        Xe = ctx._encrypt_in(X, x_lay, level=level, bound=bound)
        if y is None:
            return cls(Xe, None)
        y = ctx._checked_values(y)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        return cls(Xe, ctx._encrypt_in(y, _gram.target_layout(x_lay), level=level, bound=y_bound))

    @classmethod
    def from_arrays(
        cls, X: EncryptedArray, y: EncryptedArray | None = None, *, width: int | None = None
    ) -> EncryptedDataset:
        """The packed dataset of encrypted ``X`` (n, d) and ``y`` (n,) in any layout.

        Free for arrays from :meth:`encrypt` (``X.layout`` already packed with room for
        ``width`` columns, default ``d``); otherwise ``X`` moves to rows of
        ``next_pow2(width)`` slots and ``y`` to the row-aligned layout (about one rotation
        per row: the keys are not in :meth:`key_plan`), or a masking product (one level)
        zeroes the padding.
        """
        if not isinstance(X, EncryptedArray) or X.ndim != 2:
            raise TypeError("X must be a 2-D EncryptedArray")
        if y is not None:
            if not isinstance(y, EncryptedArray) or y.ndim != 1:
                raise TypeError("y must be a 1-D EncryptedArray")
            X._check_same_context(y)
        n, d = X.shape
        width = d if width is None else int(width)
        if (_packed_width(X) or 0) >= width:
            x = X._cleaned()
        else:
            wide = _pk.plan_array((n, _gram.padded(width)), X.context.slots)
            x = X._relayout(_gram.row_layout(wide, d), np.arange(n * d))
        if y is None:
            return cls(x, None)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        return cls(x, _row_aligned(y, x._layout))

    @staticmethod
    def row_width(X: Any, *, ones: bool = False) -> int:
        """Slots per row of ``from_arrays(X, width=d + ones)`` for encrypted or plain ``X``."""
        d = int(np.shape(X)[1])
        p = _gram.padded(d + int(ones))
        if isinstance(X, EncryptedArray):
            p = max(p, int(X._layout.pads[1]))
        return p

    def with_ones(self) -> EncryptedDataset:
        """``[X, 1]``: the ones column of an intercept in the padding (plaintext, no level).

        Needs a free slot in each row (``width > n_columns``): make the dataset with room
        (:meth:`encrypt` leaves it by default; ``from_arrays(..., width=d + 1)``).
        """
        if self.ones:
            return self
        n, d = self.X.shape
        if d >= self.width:
            raise ValueError(
                f"rows of {self.width} slots hold {d} columns: no room for the ones column "
                f"(make the dataset with width={d + 1})"
            )
        aug = _gram.row_layout(self.X._layout, d + 1)
        ones = np.zeros((n, d + 1))
        ones[:, d] = 1.0
        slot_ones = _pk.encode_array(ones, aug)
        eng = self.X._eng
        bound = max(self.X._bound, 1.0)  # the ones sit in zero padding: no sum
        cts = [eng.add_plain(ct, slot_ones[i]) for i, ct in enumerate(self.X._cts)]
        return EncryptedDataset(self.X._new(cts, aug, bound=bound), self.y, ones=True)

    # ------------------------------------------------------------------ operations
    def _vector(self, w: Any, op: str) -> tuple[Any, float]:
        """A weight vector as one ciphertext or slot vector repeated every ``width`` slots,
        and what a row's dot product with it can multiply the bound of ``X`` by."""
        p, d_eff = self.width, self.n_columns
        if isinstance(w, EncryptedArray):
            self.X._check_same_context(w)
            if w.shape != (d_eff,):
                raise ValueError(f"{op}: shapes {self.X.shape} and {w.shape} not aligned")
            lay = w._layout
            if not (int(lay.pads[0]) == p and int(lay.period) == p):
                w = w._relayout(
                    _gram.vector_layout(d_eff, p, self.X.context.slots), np.arange(d_eff)
                )
            return w._cts[0], d_eff * w._bound
        plain = as_plain(w)
        if not isinstance(plain, np.ndarray) or plain.shape != (d_eff,):
            raise ValueError(f"{op}: shapes {self.X.shape} and {np.shape(w)} not aligned")
        slots = _pk.encode_array(plain, _gram.vector_layout(d_eff, p, self.X.context.slots))[0]
        return slots, float(np.abs(plain).sum())

    def matvec(self, w: Any) -> EncryptedArray:
        """``X @ w`` as a per-row value (shape (n,), aligned like ``y``; one level).

        ``w`` (n_columns,) is an EncryptedArray (fastest repeated every ``width`` slots, as
        :meth:`rmatvec` and the solvers leave it; other layouts are moved first) or plain.
        """
        x, eng, p = self.X, self.X._eng, self.width
        v, factor = self._vector(w, "matvec")
        bound = x._checked_bound(x._bound * factor, 1, "X @ w")
        if isinstance(v, np.ndarray):
            eng.check_levels(x._cts, 1, "X @ w")
            cts = [
                eng.rotate_sum(eng.mul_plain(ct, v, "X @ w"), _gram.dot_steps(p)) for ct in x._cts
            ]
        else:
            eng.check_levels([*x._cts, v], 1, "X @ w")
            cts = [_gram.row_dots(eng, ct, v, p, "X @ w") for ct in x._cts]
        layout = _gram.target_layout(x._layout)
        return EncryptedArray._make(x.context, cts, layout, False, eng, bound=bound)

    def _per_row(self, r: Any, op: str) -> EncryptedArray:
        """``r`` (n,) in the row-aligned layout with zeros elsewhere (moved or masked)."""
        x = self.X
        if not isinstance(r, EncryptedArray) or r.shape != (self.n_samples,):
            raise ValueError(f"{op} needs an EncryptedArray of shape ({self.n_samples},)")
        x._check_same_context(r)
        return _row_aligned(r, x._layout)

    def _spread_cts(self, r: EncryptedArray) -> list[Any]:
        steps = _gram.spread_steps(self.width)
        return [self.X._eng.rotate_sum(ct, steps) for ct in r._cts]

    def spread(self, r: EncryptedArray) -> EncryptedArray:
        """A per-row value ``r`` (shape (n,)) copied over its row: shape (n, n_columns), in
        ``X``'s layout, so ``X * spread(r)`` scales row ``i`` by ``r_i`` (``log2 width``
        rotations, no level; one if ``r`` must be masked first)."""
        r = self._per_row(r, "spread")
        return self.X._new(self._spread_cts(r), clean=False)

    def rmatvec(self, r: EncryptedArray) -> EncryptedArray:
        """``X^T r`` for a per-row value ``r`` (shape (n,)): a vector of n_columns entries
        repeated every ``width`` slots (one level; one more if ``r`` must be masked first)."""
        x, eng = self.X, self.X._eng
        r = self._per_row(r, "rmatvec")
        eng.check_levels([*x._cts, *r._cts], 1, "X^T r")
        bound = x._checked_bound(self.n_samples * x._bound * r._bound, 1, "X^T r", r)
        ct = _gram.column_sums(eng, list(x._cts), self._spread_cts(r), x._layout, "X^T r")
        vec = _gram.vector_layout(self.n_columns, self.width, int(x._layout.slots))
        return EncryptedArray._make(x.context, [ct], vec, False, eng, bound=bound)

    def gram(self, sample_weight: np.ndarray | None = None) -> GramStatistics:
        """Encrypted ``X^T S X`` and ``X^T S y`` (two levels; three with ``sample_weight``).

        Parameters
        ----------
        sample_weight : ndarray of shape (n,), optional
            Plaintext weights ``s_i >= 0`` (public to the server, like the shapes); the rows
            of ``X`` and ``y`` are scaled by ``sqrt(s_i)`` first (one level).
        """
        if self.y is None:
            raise ValueError("the Gram statistics need the target y")
        x, y, eng = self.X, self.y, self.X._eng
        if sample_weight is not None:  # sqrt(s_i) on row i of X and on y_i
            s = np.asarray(sample_weight, dtype=np.float64)
            if s.shape != (self.n_samples,):
                raise ValueError(
                    f"sample_weight must have shape ({self.n_samples},), got {s.shape}"
                )
            if not np.all(np.isfinite(s)):
                raise NonFiniteError("sample_weight holds NaN or infinity")
            if np.any(s < 0):
                raise ValueError("sample_weight must be >= 0")
            root = np.sqrt(s)
            x = _scaled(x, np.repeat(root[:, None], x.shape[1], 1))
            y = _scaled(y, root)
        p, slots = self.width, int(x._layout.slots)
        weight_sum = float(self.n_samples if sample_weight is None else np.sum(sample_weight))
        # sum_i s_i x_ij x_ik and sum_i s_i x_ij y_i: the weights are known, so the sums over
        # the rows are bounded by sum(s) (not n * max(s)) times the bounds of the factors
        bx, by = self.X._bound, self.y._bound
        t_bound = x._checked_bound(weight_sum * bx * bx, 1, "the Gram statistics X^T X")
        b_bound = x._checked_bound(weight_sum * bx * by, 1, "the Gram statistics X^T y", y)
        t, b = _gram.gram_statistics(x, y, self.n_columns, progress=None)
        vec = _gram.vector_layout(p, p, slots)

        def wrap(ct: Any, bound: float) -> EncryptedArray:
            return EncryptedArray._make(x.context, [ct], vec, True, eng, bound=bound)

        return GramStatistics(
            self.n_samples,
            self.n_features,
            self.ones,
            tuple(wrap(t[r], t_bound) for r in range(self.n_columns)),
            wrap(b, b_bound),
            weight_sum,
            weight_sum * by * by,  # bounds y^T S y
        )

    # ------------------------------------------------------------------ keys
    @staticmethod
    def key_plan(
        n_features: int,
        *,
        ones: bool = False,
        widths: Iterable[int] | None = None,
        ops: Iterable[str] = _OPS,
    ) -> KeyPlan:
        """Rotation keys of the operations ``ops`` on a dataset of ``n_features`` columns
        (plus the ones column if ``ones``), for any slot count.

        Parameters
        ----------
        n_features : int
        ones : bool, default False
            Whether the ones column is added (:meth:`with_ones`).
        widths : iterable of int, optional
            Row widths (slots) to plan for; default the widths :meth:`encrypt`
            (``next_pow2(n_features + 1)``) and :meth:`from_arrays` (``next_pow2(n_features
            + ones)``) give.
        ops : iterable of {"matvec", "rmatvec", "spread", "gram", "gram_iterations",
            "column_sums"}
            ``"gram"``: :meth:`gram`; ``"gram_iterations"``: the iterations of
            :func:`hetensor.he.linear.fit_gram`; ``"column_sums"``: the row sums that end
            ``rmatvec`` and ``gram`` (planned for any slot count). Default: all.
        """
        d = int(n_features)
        if d < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")
        ops = set(ops)
        if ops - set(_OPS):
            raise ValueError(f"unknown operations {sorted(ops - set(_OPS))}; use {list(_OPS)}")
        d_eff = d + int(ones)
        if widths is None:
            widths = {_gram.padded(d + 1), _gram.padded(d_eff)}
        widths = sorted({_gram.padded(int(w)) for w in widths})
        steps: set[int] = set()
        for p in widths:
            if "gram" in ops or "gram_iterations" in ops:  # plan_steps covers both
                steps |= _gram.plan_steps(d_eff, p)
            if "matvec" in ops:
                steps |= set(_gram.dot_steps(p))
            if ops & {"rmatvec", "spread"}:
                steps |= set(_gram.spread_steps(p))
        if ops & {"rmatvec", "gram", "column_sums"}:
            s = min(widths)
            while s <= 2**16:  # row sums for any slot count
                steps.add(s)
                s *= 2
        steps.discard(0)
        return KeyPlan(frozenset(steps))


def _scaled(arr: EncryptedArray, factors: np.ndarray) -> EncryptedArray:
    """``arr * factors`` elementwise in ``arr``'s layout (one plaintext product per chunk)."""
    eng = arr._eng
    bound = arr._checked_bound(arr._bound * _bounds.plain_max(factors), 1, "sample weights")
    slots = _pk.encode_array(np.ascontiguousarray(factors), arr._layout)
    return arr._new(
        [eng.mul_plain(ct, m, "sample weights") for ct, m in zip(arr._cts, slots, strict=True)],
        bound=bound,
    )
