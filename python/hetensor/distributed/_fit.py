"""Encrypted regression over Dask: statistics per partition, a tree of merges, one solve.

What runs where (and what travels):

1. ``install_context``: the public context (public, relinearization and rotation keys) goes
   to each worker once, as a worker plugin.
2. One task per partition computes :meth:`EncryptedLinearRegression.statistics` on a worker.
   Its input is the partition's ciphertexts (encrypted partitions, sent with the task), a pair
   of file paths the worker loads itself (:func:`hetensor.load`: nothing but the paths
   travels), or plaintext blocks the worker encrypts with the public key (only for workers
   inside the data owner's trust domain: the plaintext reaches them).
3. A tree of ``merge`` tasks (``split_every`` children each) adds the statistics: ``P + 1``
   ciphertexts per partial result travel between workers, whatever the number of rows.
4. The solver's iterations (:meth:`EncryptedLinearRegression.fit_statistics`) run on the
   client (default; the only choice with ``refresh="client"``, whose owner rounds happen
   there) or on a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..he import Context, EncryptedArray
from ..linear_model import EncryptedLinearRegression, GramStatistics, encrypt_dataset
from ._transport import get_context, install_context

__all__ = ["fit", "local_client", "statistics"]

DEFAULT_TIMEOUT = 600.0


@contextlib.contextmanager
def local_client(n_workers: int = 2, **kwargs: Any) -> Iterator[Any]:
    """A ``distributed.Client`` on a fresh ``LocalCluster``, closed on exit.

    Worker processes (``processes=True``), one thread each and ``OMP_NUM_THREADS=1`` in their
    environment, so ``n_workers`` workers use ``n_workers`` cores; no dashboard.

    Examples
    --------
    >>> with local_client(2) as client:                        # doctest: +SKIP
    ...     model = fit(EncryptedLinearRegression(), parts, client)
    """
    from distributed import Client, LocalCluster

    options: dict[str, Any] = {
        "n_workers": n_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
        "env": {"OMP_NUM_THREADS": "1"},
    }
    options.update(kwargs)
    with LocalCluster(**options) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _maybe_local(client: Any) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    with local_client(min(2, os.cpu_count() or 1)) as own:
        yield own


# ---------------------------------------------------------------------- worker tasks
def _model(params: dict[str, Any]) -> EncryptedLinearRegression:
    return EncryptedLinearRegression(**params)


def _stats_encrypted(params: dict[str, Any], X: EncryptedArray, y: EncryptedArray) -> Any:
    return _model(params).statistics(X, y)


def _stats_files(params: dict[str, Any], fingerprint: str, x_path: str, y_path: str) -> Any:
    from ..io import load

    ctx = get_context(fingerprint)
    return _model(params).statistics(load(x_path, context=ctx), load(y_path, context=ctx))


def _stats_plain(params: dict[str, Any], fingerprint: str, X: Any, y: Any) -> Any:
    ctx = get_context(fingerprint)
    Xe, ye = encrypt_dataset(ctx, np.asarray(X), np.asarray(y))
    return _model(params).statistics(Xe, ye)


def _merge_all(*parts: GramStatistics) -> GramStatistics:
    out = GramStatistics.identity()
    for part in parts:
        out = out.merge(part)
    return out


def _solve(params: dict[str, Any], stats: GramStatistics) -> EncryptedLinearRegression:
    return _model(params).fit_statistics(stats)


# ---------------------------------------------------------------------- client side
def _is_dask_array(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.array")


def _key(name: str) -> str:
    return f"hetensor-{name}-{uuid.uuid4().hex}"


def _submit_partitions(
    client: Any, params: dict[str, Any], partitions: Any, context: Context | None
) -> list[Any]:
    """One statistics future per partition (see the module docstring for the kinds)."""
    if (
        isinstance(partitions, tuple)
        and len(partitions) == 2
        and all(_is_dask_array(a) for a in partitions)
    ):
        return _submit_dask_arrays(client, params, partitions, context)
    if isinstance(partitions, (str, bytes, os.PathLike)) or not isinstance(partitions, Sequence):
        raise TypeError(
            "partitions must be a list of (X, y) pairs (EncryptedArrays, file paths or "
            "plaintext arrays) or a pair of dask arrays (X, y)"
        )
    if len(partitions) == 0:
        raise ValueError("no partitions given")
    futures = []
    for i, part in enumerate(partitions):
        if not (isinstance(part, (tuple, list)) and len(part) == 2):
            raise TypeError(f"partition {i} must be an (X, y) pair, got {type(part).__name__}")
        X, y = part
        if isinstance(X, EncryptedArray) or isinstance(y, EncryptedArray):
            if not (isinstance(X, EncryptedArray) and isinstance(y, EncryptedArray)):
                raise TypeError(f"partition {i}: X and y must both be encrypted, or neither")
            install_context(client, X.context)  # idempotent: one plugin per fingerprint
            if context is not None and X.context.fingerprint != context.fingerprint:
                raise ValueError(f"partition {i} was encrypted under another context")
            fut = client.submit(_stats_encrypted, params, X, y, key=_key("stats"))
        elif isinstance(X, (str, os.PathLike)) and isinstance(y, (str, os.PathLike)):
            ctx = _require(context, "file partitions (the context to load them with)")
            fut = client.submit(
                _stats_files, params, ctx.fingerprint, os.fspath(X), os.fspath(y), key=_key("stats")
            )
        else:
            ctx = _require(context, "plaintext partitions (the public key to encrypt with)")
            fut = client.submit(
                _stats_plain,
                params,
                ctx.fingerprint,
                np.asarray(X),
                np.asarray(y),
                key=_key("stats"),
            )
        futures.append(fut)
    return futures


def _submit_dask_arrays(
    client: Any, params: dict[str, Any], arrays: tuple[Any, Any], context: Context | None
) -> list[Any]:
    import dask

    ctx = _require(context, "dask arrays (the public key to encrypt with)")
    X, y = arrays
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"X must be 2-D and y 1-D, got shapes {X.shape} and {y.shape}")
    X = X.rechunk({1: -1})
    y = y.rechunk((X.chunks[0],))
    blocks_x = X.to_delayed().ravel()
    blocks_y = y.to_delayed().ravel()
    task = dask.delayed(_stats_plain, pure=False)
    tasks = [
        task(params, ctx.fingerprint, bx, by) for bx, by in zip(blocks_x, blocks_y, strict=True)
    ]
    return list(client.compute(tasks))


def _require(context: Context | None, what: str) -> Context:
    if context is None:
        raise ValueError(f"context= is needed for {what}")
    if not isinstance(context, Context):
        raise TypeError(f"context must be a hetensor Context, got {type(context).__name__}")
    return context


def _tree_reduce(client: Any, futures: list[Any], split_every: int, seed: int | None) -> Any:
    """Merge futures in a tree of ``split_every``-ary tasks (order shuffled by ``seed``)."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
    level = list(futures)
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(level))
        level = [level[i] for i in order]
    while len(level) > 1:
        level = [
            client.submit(_merge_all, *level[i : i + split_every], key=_key("merge"))
            for i in range(0, len(level), split_every)
        ]
    return level[0]


def _result(future: Any, timeout: float | None) -> Any:
    from distributed import wait

    try:
        wait([future], timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError) as err:  # distinct classes on Python 3.10
        future.cancel()
        raise TimeoutError(
            f"the distributed computation did not finish within {timeout} s"
        ) from err
    return future.result()


def _statistics_future(
    model: Any,
    partitions: Any,
    client: Any,
    context: Context | None,
    split_every: int,
    seed: int | None,
) -> Any:
    if not isinstance(model, EncryptedLinearRegression):
        raise TypeError(f"model must be an EncryptedLinearRegression, got {type(model).__name__}")
    model.check_params()
    params = model.get_params()
    if context is not None:
        install_context(client, context)
    futures = _submit_partitions(client, params, partitions, context)
    return _tree_reduce(client, futures, split_every, seed)


def statistics(
    model: EncryptedLinearRegression,
    partitions: Any,
    client: Any = None,
    *,
    context: Context | None = None,
    split_every: int = 2,
    seed: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> GramStatistics:
    """The merged encrypted statistics of all partitions, computed on Dask workers.

    Parameters are those of :func:`fit`; returns the :class:`GramStatistics` of all rows
    (bound to the context registered in this process, a public view).

    Examples
    --------
    >>> stats = ht.distributed.statistics(model, parts, client)            # doctest: +SKIP
    >>> stats.n_samples                                                     # doctest: +SKIP
    1000
    """
    with _maybe_local(client) as cl:
        future = _statistics_future(model, partitions, cl, context, split_every, seed)
        return _result(future, timeout)


def fit(
    model: EncryptedLinearRegression,
    partitions: Any,
    client: Any = None,
    *,
    context: Context | None = None,
    split_every: int = 2,
    seed: int | None = None,
    solve_on: str = "client",
    refresh_client: Callable[[Sequence[EncryptedArray]], list[EncryptedArray]] | None = None,
    callback: Callable[[int, EncryptedArray], None] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> EncryptedLinearRegression:
    """Fit ``model`` on row partitions spread over Dask workers (encrypted throughout).

    Parameters
    ----------
    model : EncryptedLinearRegression
        Its parameters are used on the workers; it is fitted in place and returned.
    partitions : list of (X, y) pairs, or a pair of dask arrays ``(X, y)``
        Each pair is ``EncryptedArray``\\ s (encrypted by the owner, e.g. with
        :func:`~hetensor.linear_model.encrypt_dataset`), two file paths written by
        :func:`hetensor.save` that each worker loads itself, or plaintext arrays that the
        worker encrypts with ``context``'s public key. Dask arrays are split along their row
        chunks and encrypted on the workers as well.
    client : distributed.Client, optional
        Default: a ``LocalCluster`` (worker processes, one thread each) made and closed for
        this call.
    context : Context, optional
        Needed for file and plaintext partitions: the (public) context to load or encrypt
        with. Only its public keys are sent, once per worker.
    split_every : int, default 2
        Fan-in of the merge tree.
    seed : int, optional
        Shuffle the partitions before the merge tree (``numpy.random.default_rng(seed)``);
        the result is the same up to CKKS rounding, whatever the order.
    solve_on : {"client", "worker"}
        Where the solver's iterations run.
    refresh_client, callback
        As in :meth:`EncryptedLinearRegression.fit` (client only).
    timeout : float or None, default 600
        Seconds to wait for the statistics; :class:`TimeoutError` after that (never hangs).

    Returns
    -------
    EncryptedLinearRegression
        ``model``, fitted.

    Raises
    ------
    distributed.KilledWorker
        A partition's task killed workers repeatedly (a lost worker alone is retried on
        another one).

    Examples
    --------
    >>> import hetensor as ht                                                 # doctest: +SKIP
    >>> from hetensor.linear_model import EncryptedLinearRegression, encrypt_dataset
    >>> parts = [encrypt_dataset(owner, X[i::3], y[i::3]) for i in range(3)]  # doctest: +SKIP
    >>> model = ht.distributed.fit(EncryptedLinearRegression(max_iter=6), parts)  # doctest: +SKIP
    >>> owner.decrypt(model.coef_)                                            # doctest: +SKIP
    """
    if solve_on not in ("client", "worker"):
        raise ValueError(f"solve_on must be 'client' or 'worker', got {solve_on!r}")
    if solve_on == "worker" and (refresh_client is not None or callback is not None):
        raise ValueError("refresh_client and callback run on the client: use solve_on='client'")
    model.check_params(refresh_client)
    with _maybe_local(client) as cl:
        future = _statistics_future(model, partitions, cl, context, split_every, seed)
        if solve_on == "client":
            stats = _result(future, timeout)
            return model.fit_statistics(stats, refresh_client=refresh_client, callback=callback)
        solved = cl.submit(_solve, model.get_params(), future, key=_key("solve"))
        fitted = _result(solved, timeout)
    model.__dict__.update(fitted.__dict__)
    return model
