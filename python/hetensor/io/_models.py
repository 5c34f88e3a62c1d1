"""Codec for :mod:`hetensor.linear_model` estimators; registers kind ``linear_regression``.

A fitted ``EncryptedLinearRegression`` or ``GramDescentRegression`` is stored as root
attributes ``class`` (which of the two), ``params`` (``get_params()`` as JSON) and ``fitted``
(the fitted counters as JSON), and one group each for ``coef_`` and ``intercept_``: a float64
dataset ``plain``, or, when encrypted, an envelope (see :mod:`hetensor.io._encrypted`). A
model with encrypted coefficients loads only with ``context=`` its context.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import ContextMismatchError, FormatError
from ._encrypted import read_envelope, require_context, write_envelope
from ._registry import LoadOptions, register

__all__: list[str] = []

_FITTED = ("n_features_in_", "n_iter_", "n_refreshes_")


def _write_regression(group: Any, model: Any) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    group.attrs["class"] = type(model).__name__
    group.attrs["params"] = json.dumps(model.get_params())
    group.attrs["fitted"] = json.dumps({k: getattr(model, k) for k in _FITTED if hasattr(model, k)})
    for name in ("coef_", "intercept_"):
        value = getattr(model, name)
        sub = group.create_group(name)
        if isinstance(value, (int, float, np.ndarray)):
            sub.create_dataset("plain", data=np.asarray(value, dtype=np.float64))
        else:  # encrypted: the checked envelope of its context
            write_envelope(sub, value.to_bytes(), value.context.fingerprint)


def _read_regression(group: Any, options: LoadOptions) -> Any:
    from .. import linear_model

    encrypted = [n for n in ("coef_", "intercept_") if n in group and "envelope" in group[n]]
    ctx: Any = None  # a Context, needed only when something is encrypted
    if encrypted:
        ctx = require_context(options, "an encrypted model")
    for name in encrypted:
        stored = str(group[name].attrs.get("context_fingerprint", ""))
        if stored != ctx.fingerprint:
            raise ContextMismatchError(
                f"this model's {name} belongs to another context (fingerprint {stored[:12]}..., "
                f"the given context is {ctx.fingerprint[:12]}...)"
            )
    try:
        cls = {
            "EncryptedLinearRegression": linear_model.EncryptedLinearRegression,
            "GramDescentRegression": linear_model.GramDescentRegression,
        }[str(group.attrs["class"])]
        model = cls(**json.loads(group.attrs["params"]))
        for key, value in json.loads(group.attrs["fitted"]).items():
            setattr(model, key, value)
        for name in ("coef_", "intercept_"):
            if name in encrypted:
                value = ctx.from_bytes(read_envelope(group[name]), isolate=options.isolate)
            else:
                value = group[name]["plain"][()]
                value = float(value) if np.ndim(value) == 0 else np.asarray(value)
            setattr(model, name, value)
    except (KeyError, TypeError, ValueError) as err:
        raise FormatError(f"corrupt regression-model file: {err}") from err
    return model


register(
    (
        "hetensor.linear_model:EncryptedLinearRegression",
        "hetensor.linear_model:GramDescentRegression",
    ),
    "linear_regression",
    _write_regression,
    _read_regression,
)
