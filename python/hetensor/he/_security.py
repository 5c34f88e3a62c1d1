"""Decryption noise flooding and the reports of a context (:class:`Hardening`).

Flooding (OpenFHE's ``NOISE_FLOODING_DECRYPT``, CKKS IND-CPA^D) is a two-phase protocol: an
estimation-phase context measures the computation's noise, then the real context adds noise of
that size at every decryption (the decryption mode is a parameter, which ``_params`` sets
up). The security report lists the parameters that decide security (ring, modulus bits,
secret distribution, decryption mode) with warnings for weak settings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..errors import InsecureParametersWarning, KeyRoleError

if TYPE_CHECKING:
    from ._params import CKKSParameters
    from .context import Context

__all__ = [
    "HE_STANDARD_MAX_LOG_QP",
    "Hardening",
    "flooding",
    "refuse_estimation_phase",
    "report",
]

# Largest log2(QP) for uniform ternary secrets, HomomorphicEncryption.org standard tables
# (as used by OpenFHE's HEStd_*_classic), by security level and ring dimension.
HE_STANDARD_MAX_LOG_QP = {
    128: {
        1024: 27,
        2048: 54,
        4096: 109,
        8192: 218,
        16384: 438,
        32768: 881,
        65536: 1761,
        131072: 3524,
    },
    192: {
        1024: 19,
        2048: 37,
        4096: 75,
        8192: 152,
        16384: 305,
        32768: 611,
        65536: 1228,
        131072: 2457,
    },
    256: {
        1024: 14,
        2048: 29,
        4096: 58,
        8192: 118,
        16384: 237,
        32768: 476,
        65536: 956,
        131072: 1915,
    },
}


def refuse_estimation_phase(params: CKKSParameters) -> None:
    """Raise KeyRoleError on a noise-estimation context, whose decryptions yield noise."""
    if params.decryption == "flooding" and params.noise_estimate is None:
        raise KeyRoleError(
            "this is a noise-estimation context (decryption='flooding' without "
            "noise_estimate): its decryptions yield noise, not values. Use "
            "decryption_noise(result), then Context.ckks(..., decryption='flooding', "
            "noise_estimate=...) for the real run (or Context.flooding)."
        )


def check_estimation_phase(params: CKKSParameters) -> None:
    """Raise ValueError unless ``params`` are those of an estimation-phase context."""
    if params.decryption != "flooding" or params.noise_estimate is not None:
        raise ValueError(
            "decryption_noise needs an estimation-phase context: "
            "Context.ckks(..., decryption='flooding') without noise_estimate"
        )


def flooding(
    cls: type[Context],
    computation: Callable[[Context], Any],
    depth: int,
    margin_bits: float,
    kwargs: dict[str, Any],
) -> Context:
    """Both phases of :meth:`Context.flooding`: estimate, then the real context."""
    for key in ("decryption", "noise_estimate"):
        if key in kwargs:
            raise TypeError(f"Context.flooding sets {key} itself")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureParametersWarning)
        estimator = cls.ckks(depth, decryption="flooding", **kwargs)
    noise = estimator.decryption_noise(computation(estimator))
    kwargs = dict(kwargs)
    kwargs.setdefault("ring_dim", estimator.ring_dim)  # both phases need the same ring
    if kwargs.get("insecure"):
        warnings.warn(
            "INSECURE CKKS parameters (insecure=True) for the flooding context.",
            InsecureParametersWarning,
            stacklevel=3,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureParametersWarning)
        return cls.ckks(depth, decryption="flooding", noise_estimate=noise + margin_bits, **kwargs)


def report(params: CKKSParameters, role: str) -> dict[str, Any]:
    """The fields of :meth:`Context.security_report` for a context of ``params`` and ``role``."""
    p = params
    level = p.security or 128
    bound = HE_STANDARD_MAX_LOG_QP.get(level, {}).get(p.ring_dim)
    warn: list[str] = []
    if p.security is None:
        warn.append(
            "INSECURE: created with insecure=True, no security level enforced"
            + (
                f"; ring {p.ring_dim} with log Q {p.log_q} exceeds the 128-bit bound {bound}"
                if bound is not None and p.log_q > bound
                else ""
            )
            + ". Tests only."
        )
        if bound is None:
            warn.append(f"ring dimension {p.ring_dim} is below every HE-standard table")
    if p.decryption == "standard":
        warn.append(
            'decryption="standard": CKKS decryptions leak information about the secret '
            "key (Li-Micciancio, IND-CPA^D); do not share decrypted results with parties "
            'who saw the ciphertexts, or use decryption="flooding"'
        )
    elif p.noise_estimate is None:
        warn.append("noise-estimation phase context: decryption yields noise only")
    if role == "owner":
        warn.append("this context holds the secret key: never send it to a server")
    return {
        "ring_dim": p.ring_dim,
        "log_q": p.log_q,
        "log_qp": None,
        "max_log_qp": bound,
        "security_bits": p.security,
        "slots": p.slots,
        "depth": p.depth,
        "total_depth": p.total_depth,
        "scale_bits": p.scale_bits,
        "first_mod_bits": p.first_mod_bits,
        "secret_key_dist": p.secret_key_dist.replace("_", " "),
        "decryption": p.decryption,
        "noise_estimate": p.noise_estimate,
        "bootstrapping": p.bootstrapping,
        "role": role,
        "warnings": warn,
    }


# Only Context inherits this facet, so ``cls`` is Context (passed on with a cast).
class Hardening:
    """Noise flooding and the reports (:meth:`security_report`, :meth:`info`) of
    :class:`~hetensor.Context` (a facet of it: Context inherits them; they use its
    parameters, keys and engine)."""

    if TYPE_CHECKING:
        _params: CKKSParameters
        _keys: Any
        _engine: Any

        @property
        def role(self) -> str: ...
        @property
        def fingerprint(self) -> str: ...
        @property
        def keygen_seconds(self) -> float: ...

        def key_sizes(self) -> dict[str, int]: ...

        def resources(self) -> Any: ...

        def _check_compatible(self, obj: Any) -> None: ...

    @classmethod
    def flooding(
        cls,
        computation: Callable[[Context], Any],
        depth: int = 3,
        *,
        margin_bits: float = 1.0,
        **kwargs: Any,
    ) -> Context:
        """Make a ``decryption="flooding"`` context with its noise estimated (both phases).

        Parameters
        ----------
        computation : callable ``(Context) -> encrypted object``
            Runs the same computation as the real one (same operations, representative
            inputs) on the estimation-phase context it is given, and returns the result.
        depth, **kwargs
            As for :meth:`ckks` (``decryption`` and ``noise_estimate`` are set here).
        margin_bits : float, default 1.0
            Added to the measured noise (log2), in case the real inputs are noisier.

        Returns
        -------
        Context
            An owner context with fresh keys (never reuse the estimation keys) whose
            decryptions are noise-flooded.

        Examples
        --------
        >>> import numpy as np
        >>> import hetensor as ht
        >>> f = lambda c: c.encrypt(np.linspace(-1, 1, 8)) ** 2         # doctest: +SKIP
        >>> ctx = ht.Context.flooding(f, depth=2)                       # doctest: +SKIP
        >>> x = np.linspace(-1, 1, 8)
        >>> np.allclose(ctx.decrypt(ctx.encrypt(x) ** 2), x**2, atol=1e-9)  # doctest: +SKIP
        True
        """
        return flooding(cast("type[Context]", cls), computation, depth, margin_bits, kwargs)

    def decryption_noise(self, obj: Any) -> float:
        """log2 of the noise in ``obj`` on a noise-estimation context (flooding phase 1).

        Returns the largest estimate over the object's ciphertexts; pass it as
        ``noise_estimate`` to :meth:`ckks`.
        """
        self._keys.require_secret("estimate decryption noise")
        check_estimation_phase(self._params)
        self._check_compatible(obj)
        return max(self._engine.noise(ct) for ct in obj._cts)

    def security_report(self) -> dict[str, Any]:
        """The parameters that decide security, with warnings for weak settings.

        Returns
        -------
        dict
            ``ring_dim``, ``log_q`` (bits of the top-level ciphertext modulus), ``log_qp``
            (``None``: openfhe-python does not expose the key-switching modulus P),
            ``max_log_qp`` (largest log QP the HE standard allows at this ring and level),
            ``security_bits`` (claimed by OpenFHE's tables, ``None`` when not enforced),
            ``slots``, ``depth``, ``total_depth``, ``scale_bits``, ``secret_key_dist``,
            ``decryption``, ``role``, and ``warnings`` (list of str).

        Examples
        --------
        >>> ctx = ht.Context.ckks(depth=3)                   # doctest: +SKIP
        >>> r = ctx.security_report()                        # doctest: +SKIP
        >>> r["ring_dim"], r["security_bits"], r["warnings"] # doctest: +SKIP
        (16384, 128, ['decryption="standard": ...'])
        """
        return report(self._params, self.role)

    def info(self) -> dict[str, Any]:
        """Versions, parameters, key sizes and build facts, as a dict.

        Examples
        --------
        >>> import hetensor as ht
        >>> ctx = ht.Context.ckks(depth=3)                  # doctest: +SKIP
        >>> ctx.info()["security"]                          # doctest: +SKIP
        '128-bit classic'
        """
        from .._info import build_info

        out = build_info()
        p = self._params
        out.update(
            {
                "role": self.role,
                "scheme": "CKKS (RNS, FLEXIBLEAUTO scaling)",
                "security": f"{p.security}-bit classic" if p.security else "NONE (insecure=True)",
                "ring_dim": p.ring_dim,
                "slots": p.slots,
                "depth": p.depth,
                "total_depth": p.total_depth,
                "levels_fresh": p.usable_depth - p.fresh_level,
                "scale_bits": p.scale_bits,
                "first_mod_bits": p.first_mod_bits,
                "log_q": p.log_q,
                "bootstrapping": p.bootstrapping,
                "level_budget": p.level_budget if p.bootstrapping else None,
                "rotation_keys": sorted(self._keys.rotations),
                "key_sizes": self.key_sizes(),
                "memory": self.resources().describe(),
                "keygen_seconds": round(self.keygen_seconds, 3),
                "fingerprint": self.fingerprint,
            }
        )
        return out
