"""Distributed encrypted training and search on Dask.

Needs the optional extra: ``pip install "hetensor[distributed]"`` (``dask`` and
``distributed``).

- :func:`fit` / :func:`statistics`: encrypted sufficient statistics per row partition on
  Dask workers, merged by an associative tree reduction (:class:`GramStatistics` is a monoid),
  then the solver's iterations. ``LocalCluster`` by default; any ``distributed.Client``.
- :func:`install_context`: the public evaluation keys go to each worker once (a worker
  plugin); ciphertexts then travel as checked envelopes (``copyreg`` and Dask serializers).
- :class:`Summary`: a commutative monoid of scored results; :func:`search` evaluates a grid
  of ``(alpha, learning_rate, max_iter)`` on encrypted statistics in parallel.
- :mod:`hetensor.distributed.threshold`: several data owners with a joint threshold key
  (a re-export of :mod:`hetensor.he.multiparty`, which needs no Dask).

Examples
--------
>>> import hetensor as ht                                                    # doctest: +SKIP
>>> from hetensor.linear_model import EncryptedLinearRegression, encrypt_dataset
>>> parts = [encrypt_dataset(owner, X[i::4], y[i::4]) for i in range(4)]      # doctest: +SKIP
>>> model = ht.distributed.fit(EncryptedLinearRegression(max_iter=6), parts)  # doctest: +SKIP
"""

from __future__ import annotations

from .._extras import install_hint

try:
    import dask  # noqa: F401

    import distributed  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"hetensor.distributed needs Dask ({err}): {install_hint(['dask', 'distributed'])}"
    ) from err

from . import threshold
from ._fit import fit, local_client, statistics
from ._search import ValidationMSE, grid, search
from ._summary import Summary
from ._transport import ContextPlugin, get_context, install_context, register_context

__all__ = [
    "ContextPlugin",
    "Summary",
    "ValidationMSE",
    "fit",
    "get_context",
    "grid",
    "install_context",
    "local_client",
    "register_context",
    "search",
    "statistics",
    "threshold",
]
