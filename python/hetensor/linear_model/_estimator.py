"""EncryptedLinearRegression: a scikit-learn estimator over the encrypted solvers.

The estimator validates, plans keys and sets scikit-learn's fitted attributes; the encrypted
work is :mod:`hetensor.he`'s: the packed dataset (:class:`~hetensor.he.dataset.EncryptedDataset`),
its statistics and the solvers (:mod:`hetensor.he.linear`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .._validate import check_int
from ..errors import DepthError, NonFiniteError
from ..he import ContextPlan, EncryptedArray, KeyPlan, Workload, linear, plan_context
from ..he.dataset import EncryptedDataset
from ..he.statistics import GramStatistics
from ._base import Params, check_plain_xy, check_sample_weight, penalty, step
from ._plain import GramDescentRegression

_SCALE_LIMIT = 10.0  # |mean| or std of a feature above this: CKKS precision suffers


class ScaleWarning(UserWarning):
    """Features far from unit scale: standardize them before encrypting."""


def _warn_scale(X: np.ndarray, y: np.ndarray) -> None:
    scale = max(float(np.max(np.abs(X.mean(0)))), float(np.max(X.std(0))))
    scale = max(scale, abs(float(y.mean())), float(y.std()))
    if scale > _SCALE_LIMIT:
        warnings.warn(
            f"features or target have means/standard deviations up to {scale:.3g}: CKKS "
            "keeps about 1e-7 relative precision and bootstrapping needs |weights| <= 1, so "
            "standardize X and y first (e.g. sklearn.preprocessing.StandardScaler)",
            ScaleWarning,
            stacklevel=3,
        )


def encrypt_dataset(ctx: Any, X: Any, y: Any) -> tuple[EncryptedArray, EncryptedArray]:
    """Validate and encrypt a training set for :meth:`EncryptedLinearRegression.fit`.

    ``X`` gets the canonical row-major layout; ``y`` the layout aligned with the rows of
    ``X`` (``y_i`` at the first slot of row ``i``), which makes ``X^T y`` cost ``log2 P``
    rotations per ciphertext. ``ctx.encrypt(y)`` works too, but ``fit`` must then move every
    element of ``y`` (about one rotation per sample).

    Raises
    ------
    ValueError, NonFiniteError
        Mismatched lengths or NaN/infinity; warns :class:`ScaleWarning` on unscaled data.
    """
    X, y = check_plain_xy(X, y)
    _warn_scale(X, y)
    data = EncryptedDataset.encrypt(ctx, X, y)
    assert data.y is not None  # encrypted with its target
    return data.X, data.y


class OwnerRefresh:
    """The client-side refresh round (``refresh="client"``), performed by the data owner.

    The server sends the weight ciphertexts; the owner decrypts and re-encrypts them. This is
    the pTensor protocol: **the owner sees the intermediate weights and must be online**; the
    server still learns nothing. Pass an instance as ``fit(..., refresh_client=...)``. In a
    real deployment the arrays travel as bytes (``to_bytes``/``from_bytes``).

    Attributes
    ----------
    rounds : int
        Refresh rounds performed. ``history`` keeps the decrypted weights when
        ``keep=True`` (the owner may use them, e.g. for a training curve).
    """

    def __init__(self, owner: Any, *, keep: bool = False) -> None:
        if not owner.has_secret_key:
            raise ValueError("OwnerRefresh needs the data owner's context (with secret key)")
        self.owner = owner
        self.keep = keep
        self.rounds = 0
        self.history: list[np.ndarray] = []

    def __call__(self, arrays: Sequence[EncryptedArray]) -> list[EncryptedArray]:
        self.rounds += 1
        out = []
        for arr in arrays:
            plain = self.owner.decrypt(arr)
            if self.keep:
                self.history.append(plain)
            out.append(arr.context.receive(self.owner.encrypt(plain)))
        return out


# ---------------------------------------------------------------------- encrypted estimator
class EncryptedLinearRegression(Params, RegressorMixin, BaseEstimator):
    """Ridge regression trained by a server on encrypted data, without the secret key.

    Minimizes ``||y - X w - b||^2 + alpha ||w||^2`` (scikit-learn Ridge's objective, intercept
    unpenalized) by gradient descent on encrypted sufficient statistics: ``X^T X`` and
    ``X^T y`` are computed once (O(n d) products, two levels), then every iteration is
    ``w <- (1 + beta) M w - beta M w_prev + c`` with ``M = I - (lr/n)(X^T X + alpha I)`` and
    ``c = (lr/n) X^T y`` folded in once: one multiplicative level per iteration, ``P``
    ciphertext products and ``P - 1`` hoisted rotations for ``P = next_pow2(d + 1)``.
    The intercept is an appended ones column (a plaintext addition; no extra level and the
    same minimizer as centring); for ``d + 1`` beyond a power of two ``X`` is first moved to
    wider rows (about one rotation per row).

    Parameters
    ----------
    solver : {"gram", "gd"}, default "gram"
        ``"gram"``: the statistics once, then one level per iteration on the ``P x P`` system
        (fast; ``max_iter`` iterations). ``"gd"``: gradient descent over the encrypted samples
        every step (``max_iter`` epochs of ``ceil(n / batch_size)`` steps, three levels per
        step, four with Nesterov); the pTensor baseline done well, for comparison or when
        mini-batches are wanted. A full batch gives the Gram solver's iterates.
    alpha : float, default 0.0
        Ridge penalty, exactly as scikit-learn's ``Ridge(alpha=...)``.
    learning_rate : float, optional
        Step ``lr`` of the update ``w -= (lr/n) * gradient``. Default: ``1 / (d + 1 +
        alpha/n)``, safe for standardized features (the trace of ``X^T X / n`` is then ``d``
        and bounds its largest eigenvalue). :func:`suggest_learning_rate` gives the owner a
        tighter (Gershgorin) bound from the plaintext.
    max_iter : int, default 30
        Iterations (the server cannot read convergence, so it always runs them all).
    fit_intercept : bool, default True
    momentum : {"nesterov", None}, default "nesterov"
        Nesterov acceleration with constant ``momentum_beta`` (same level cost; two products
        per diagonal).
    momentum_beta : float, default 0.8
    batch_size : int, optional
        ``solver="gd"`` only: rows per step, rounded up to whole ciphertexts (the effective
        value is ``batch_size_``); None is full batch. Batches are consecutive rows, so
        shuffle before encrypting.
    refresh : {"server", "client"}, default "server"
        How the weights get fresh levels: ``"server"`` bootstraps them (the context must have
        ``bootstrapping=True``, best with ``bootstrap_slots`` = the padded weight length
        (sparse: far cheaper), or enough depth for ``max_iter`` iterations; a bootstrapping
        context's default 54-bit scale takes standardized data, ``|X|, |y| < 32``, and the
        weights must stay within ``[-1, 1]``); ``"client"`` is
        the pTensor protocol round :class:`OwnerRefresh` (leaks the weights to the owner,
        needs the owner online).

    Attributes
    ----------
    coef_ : EncryptedArray, shape (n_features,)
    intercept_ : EncryptedArray of shape () or 0.0
    n_features_in_, n_iter_ : int
    n_refreshes_ : int
        Bootstraps or client rounds used.
    batch_size_ : int
        Rows per step actually used (``solver="gd"``; ``n`` for the Gram solver).

    Examples
    --------
    >>> import numpy as np, hetensor as ht                                   # doctest: +SKIP
    >>> from hetensor.linear_model import EncryptedLinearRegression, encrypt_dataset
    >>> owner = ht.Context.ckks(depth=8, insecure=True)                      # doctest: +SKIP
    >>> model = EncryptedLinearRegression(max_iter=5)                        # doctest: +SKIP
    >>> owner.generate_keys(model.key_plan(100, 3))                          # doctest: +SKIP
    >>> server = owner.public()                                              # doctest: +SKIP
    >>> Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))   # doctest: +SKIP
    >>> model.fit(Xe, ye)                                                    # doctest: +SKIP
    >>> owner.decrypt(model.coef_)                                           # doctest: +SKIP
    """

    intercept_: EncryptedArray | float  # set by fit: encrypted with fit_intercept, else 0.0

    def __init__(
        self,
        *,
        solver: str = "gram",
        alpha: float = 0.0,
        learning_rate: float | None = None,
        max_iter: int = 30,
        fit_intercept: bool = True,
        momentum: str | None = "nesterov",
        momentum_beta: float = 0.8,
        batch_size: int | None = None,
        refresh: str = "server",
    ) -> None:
        super().__init__(
            solver=solver,
            alpha=alpha,
            learning_rate=learning_rate,
            max_iter=max_iter,
            fit_intercept=fit_intercept,
            momentum=momentum,
            momentum_beta=momentum_beta,
            batch_size=batch_size,
        )
        self.refresh = refresh

    # ------------------------------------------------------------------ planning
    def key_plan(self, n_samples: int, n_features: int) -> KeyPlan:
        """Rotation keys ``fit`` and ``predict`` need (any slot count; before ``public()``)."""
        check_int("n_samples", n_samples, 1)
        n_features = check_int("n_features", n_features, 1)
        return linear.key_plan(n_features, fit_intercept=bool(self.fit_intercept))

    def plan_context(
        self,
        n_samples: int,
        n_features: int,
        *,
        refresh: str | None = None,
        memory_limit: float | None = None,
    ) -> ContextPlan:
        """The fastest 128-bit context for fitting ``n_samples x n_features`` that fits the
        memory budget, with its predicted memory and time (before any key is made).

        ``refresh="server"`` (default: the model's ``refresh``) plans sparse bootstrapping of
        the weights: ``bootstrap_slots`` the padded weight length, level budget (1, 1), the
        secret distribution and the depth per bootstrap (deeper: fewer bootstraps, larger
        keys) that minimize the predicted time; ``"client"`` the smallest leveled context
        of three levels (two for the statistics, one per iteration between the owner's
        rounds). ``plan.make()`` makes the context; then ``owner.generate_keys(
        model.key_plan(n, d))``.

        Raises
        ------
        ResourceError
            No candidate fits ``memory_limit`` (default: the machine's budget).

        Examples
        --------
        >>> from hetensor.linear_model import EncryptedLinearRegression
        >>> plan = EncryptedLinearRegression().plan_context(500, 10, refresh="client")
        >>> plan.estimate.ring_dim, plan.parameters["depth"]
        (8192, 3)
        """
        refresh = self.refresh if refresh is None else refresh
        if refresh not in ("server", "client"):
            raise ValueError(f"refresh must be 'server' or 'client', got {refresh!r}")
        steps = self.key_plan(n_samples, n_features).rotations
        width = 1 << max(0, int(n_features) + int(bool(self.fit_intercept)) - 1).bit_length()
        nesterov = self.momentum == "nesterov"
        # measured: the first iteration is the statistics' c; a bootstrapped segment holds
        # depth + 1 iterations, a client-refreshed one depth - 2 (the statistics' levels)
        work = Workload(
            depth=3,
            steps=steps,
            iterations=int(self.max_iter) - 1,
            segment_offset=1 if refresh == "server" else -2,
            switches_per_iteration=(width - 1) + width * (2 if nesterov else 1),
            refreshed=2 if nesterov else 1,
            bootstrap_slots=width if refresh == "server" else None,
            setup_switches=-(-int(n_samples) * width // 4096) * 12 * width,
        )
        return plan_context(work, memory_limit=memory_limit)

    def check_params(self, refresh_client: Any = None) -> None:
        """Raise the error ``fit`` would raise for these parameters (and ``refresh_client``),
        before any encrypted work: e.g. a distributed driver's check before it starts."""
        self._validate_params()
        if self.refresh not in ("server", "client"):
            raise ValueError(f"refresh must be 'server' or 'client', got {self.refresh!r}")
        if self.refresh == "client" and refresh_client is None:
            raise ValueError("refresh='client' needs fit(..., refresh_client=OwnerRefresh(owner))")

    # ------------------------------------------------------------------ fit
    def _dataset(
        self, X: Any, y: Any, context: Any, sample_weight: Any
    ) -> tuple[EncryptedDataset, np.ndarray | None]:
        """The packed dataset (ones column added for the intercept) and the sample weights."""
        if not isinstance(X, EncryptedArray):
            if context is None:
                raise TypeError(
                    "fit needs EncryptedArrays (X, y), or plaintext arrays with context="
                )
            if isinstance(y, EncryptedArray):
                raise TypeError("X is plaintext but y is encrypted: pass both alike")
            X, y = encrypt_dataset(context, X, y)
        elif not isinstance(y, EncryptedArray):
            raise TypeError("X is encrypted but y is not: encrypt y with the same context")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {X.shape[0]} != {y.shape[0]}"
            )
        n, d = X.shape
        s = check_sample_weight(sample_weight, n)
        data = EncryptedDataset.from_arrays(X, y, width=d + int(self.fit_intercept))
        if data.X.is_symbolic:
            raise TypeError("fit needs encrypted data, not placeholders")
        return (data.with_ones() if self.fit_intercept else data), s

    def _check_depth(self, ctx: Any, *, iterations: bool = True) -> None:
        depth = ctx.depth
        if depth < 3:
            raise DepthError(
                f"EncryptedLinearRegression needs depth >= 3 (2 levels for the statistics, "
                f"1 per iteration, 1 for predict), got {depth}"
            )
        server = self.refresh == "server"
        if iterations and server and not (ctx.bootstrapping and ctx.has_bootstrap_keys):
            need = 2 + self.max_iter
            if depth < need:
                raise DepthError(
                    f"{self.max_iter} iterations need depth >= {need} without bootstrapping "
                    f"(got {depth}); use a bootstrapping context, refresh='client', a larger "
                    "depth or fewer iterations"
                )

    def statistics(
        self, X: Any, y: Any, *, sample_weight: Any = None, context: Any = None
    ) -> GramStatistics:
        """Encrypted sufficient statistics of ``(X, y)`` (two levels, no secret key).

        The first half of :meth:`fit`: partitions of the rows can be reduced with
        :meth:`GramStatistics.merge` (``a + b``) before :meth:`fit_statistics`, e.g. on
        several machines (:mod:`hetensor.distributed`). Arguments as in :meth:`fit`; sample
        weights cost one more level (rows scaled by ``sqrt(s_i)``).
        """
        data, s = self._dataset(X, y, context, sample_weight)
        self._check_depth(data.context, iterations=False)
        return data.gram(s)

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        context: Any = None,
        refresh_client: Callable[[Sequence[EncryptedArray]], list[EncryptedArray]] | None = None,
        callback: Callable[[int, EncryptedArray], None] | None = None,
    ) -> EncryptedLinearRegression:
        """Fit on encrypted ``X`` (n, d) and ``y`` (n,); no secret key is used.

        For ``solver="gram"`` this is ``fit_statistics(statistics(X, y))``.

        Parameters
        ----------
        X, y : EncryptedArray, or ndarrays with ``context=``
            ``y`` is fastest in the row-aligned layout of :func:`encrypt_dataset`.
        sample_weight : array-like of shape (n,), optional
            Plaintext weights ``s_i >= 0`` (objective ``sum_i s_i (y_i - x_i w - b)^2 + alpha
            ||w||^2``, as scikit-learn's Ridge). They are public to the server, like the
            shapes; the Gram solver spends one more level on them, ``"gd"`` none.
        refresh_client : callable, optional
            Required for ``refresh="client"``: the owner's round (:class:`OwnerRefresh`).
        callback : callable, optional
            ``callback(k, w)`` after iteration ``k`` with the encrypted weights (intercept
            last); e.g. the owner's checkpoints for a training curve.
        """
        self.check_params(refresh_client)
        ctx = X.context if isinstance(X, EncryptedArray) else context
        if ctx is not None:  # fail before the statistics' work
            self._check_depth(ctx)
            if self.refresh == "server" and len(np.shape(X)) == 2:
                # a sparse bootstrapping setup must be able to take the weight vector, whose
                # period is the row width fit will use (X's own, or widened for the intercept)
                ctx.check_bootstrappable(
                    EncryptedDataset.row_width(X, ones=bool(self.fit_intercept))
                )
        if self.solver == "gd":
            data, s = self._dataset(X, y, context, sample_weight)
            n = data.n_samples
            total = float(n if s is None else s.sum())
            result = linear.fit_gd(
                data,
                learning_rate=step(self.learning_rate, data.n_columns, self.alpha, total),
                penalty=penalty(data.n_features, self.alpha, self.fit_intercept),
                beta=self._beta(),
                epochs=int(self.max_iter),
                batch_size=self.batch_size,
                sample_weight=s,
                refresh=self._refresh(refresh_client),
                callback=callback,
            )
            return self._set_fitted(result)
        stats = self.statistics(X, y, sample_weight=sample_weight, context=context)
        return self.fit_statistics(stats, refresh_client=refresh_client, callback=callback)

    def _refresh(self, refresh_client: Any) -> linear.Refresh | None:
        """The weights' refresh: the owner's round, or None (bootstrapping on the server)."""
        return refresh_client if self.refresh == "client" else None

    def fit_statistics(
        self,
        stats: GramStatistics,
        *,
        refresh_client: Callable[[Sequence[EncryptedArray]], list[EncryptedArray]] | None = None,
        callback: Callable[[int, EncryptedArray], None] | None = None,
    ) -> EncryptedLinearRegression:
        """Run the solver's iterations on (merged) encrypted statistics.

        Parameters
        ----------
        stats : GramStatistics
            From :meth:`statistics` with the same ``fit_intercept``, possibly merged over
            partitions of the rows.
        refresh_client, callback
            As in :meth:`fit`.
        """
        self.check_params(refresh_client)
        if not isinstance(stats, GramStatistics):
            raise TypeError(f"stats must be GramStatistics, got {type(stats).__name__}")
        if stats.is_identity:
            raise ValueError("the statistics hold no rows (the identity): nothing to fit")
        if stats.fit_intercept != bool(self.fit_intercept):
            raise ValueError(
                f"statistics were computed with fit_intercept={stats.fit_intercept}, "
                f"the model has fit_intercept={self.fit_intercept}"
            )
        self._check_depth(stats.context)
        if self.solver != "gram":
            raise ValueError(f"fit_statistics needs solver='gram', got {self.solver!r}")
        result = linear.fit_gram(
            stats,
            learning_rate=step(self.learning_rate, stats.d_eff, self.alpha, stats.weight_sum),
            penalty=penalty(stats.n_features, self.alpha, self.fit_intercept),
            beta=self._beta(),
            n_iter=int(self.max_iter),
            refresh=self._refresh(refresh_client),
            callback=callback,
        )
        return self._set_fitted(result)

    def _set_fitted(self, result: linear.LinearFit) -> EncryptedLinearRegression:
        self._w = result.weights
        self.coef_ = result.coef
        if self.fit_intercept:
            assert result.intercept is not None  # fitted with the ones column
            self.intercept_ = result.intercept
        else:
            self.intercept_ = 0.0
        self.n_features_in_ = int(result.coef.shape[0])
        self.n_iter_ = int(self.max_iter)
        self.n_refreshes_ = result.n_refreshes
        self.batch_size_ = result.batch_size
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, X: Any) -> EncryptedArray:
        """``X @ coef_ + intercept_``: encrypted (or plaintext) X in, encrypted out."""
        check_is_fitted(self, "coef_")
        d = self.n_features_in_
        shape = X.shape if isinstance(X, EncryptedArray) else np.shape(X)
        if len(shape) != 2 or shape[1] != d:
            raise ValueError(f"X must have shape (n_samples, {d}), got {shape}")
        if not isinstance(X, EncryptedArray):
            X = np.asarray(X, dtype=np.float64)
            if not np.all(np.isfinite(X)):
                raise NonFiniteError("X holds NaN or infinity")
        intercept = self.intercept_ if self.fit_intercept else None
        assert not isinstance(intercept, float)  # fit_intercept: the intercept is encrypted
        # the weights in one ciphertext make the fast product; a loaded model has coef_ only
        return linear.predict(X, self.coef_, intercept, weights=getattr(self, "_w", None))

    def to_plaintext(self, ctx: Any) -> GramDescentRegression:
        """Decrypt the fitted model (data owner) into a fitted plaintext twin."""
        check_is_fitted(self, "coef_")
        params = self.get_params()
        params.pop("refresh")
        if self.solver == "gd":
            params["batch_size"] = self.batch_size_
        twin = GramDescentRegression(**params)
        twin.coef_ = ctx.decrypt(self.coef_)
        twin.intercept_ = float(ctx.decrypt(self.intercept_)) if self.fit_intercept else 0.0
        twin.n_features_in_ = self.n_features_in_
        twin.n_iter_ = self.n_iter_
        return twin


__all__ = [
    "EncryptedLinearRegression",
    "NotFittedError",
    "OwnerRefresh",
    "ScaleWarning",
    "encrypt_dataset",
]
