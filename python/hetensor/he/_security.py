"""Decryption noise flooding and the security report of a context.

Flooding (OpenFHE's ``NOISE_FLOODING_DECRYPT``, CKKS IND-CPA^D) is a two-phase protocol: an
estimation-phase context measures the computation's noise, then the real context adds noise of
that size at every decryption. The security report lists the parameters that decide security
(ring, modulus bits, secret distribution, decryption mode) with warnings for weak settings.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InsecureParametersWarning, KeyRoleError
from ._backend import openfhe as ofhe

if TYPE_CHECKING:
    from ._params import CKKSParameters
    from .context import Context

__all__ = [
    "HE_STANDARD_MAX_LOG_QP",
    "actual_scale_bits",
    "decryption_fields",
    "flooding",
    "refuse_estimation_phase",
    "report",
    "set_decryption_mode",
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


def set_decryption_mode(
    p: Any, decryption: str, noise_estimate: float | None, bootstrapping: bool
) -> None:
    """Configure OpenFHE's decryption noise mode on CCParamsCKKSRNS ``p``."""
    if decryption == "standard":
        if noise_estimate is not None:
            raise ValueError('noise_estimate only applies to decryption="flooding"')
        return
    if decryption != "flooding":
        raise ValueError(f'decryption must be "standard" or "flooding", got {decryption!r}')
    if bootstrapping:
        raise ValueError(
            'decryption="flooding" does not support bootstrapping (OpenFHE 1.x limitation)'
        )
    p.SetDecryptionNoiseMode(ofhe.DecryptionNoiseMode.NOISE_FLOODING_DECRYPT)
    if noise_estimate is None:
        p.SetExecutionMode(ofhe.ExecutionMode.EXEC_NOISE_ESTIMATION)
        return
    if isinstance(noise_estimate, bool) or not isinstance(noise_estimate, (int, float)):
        raise TypeError(f"noise_estimate must be a float, got {type(noise_estimate).__name__}")
    if not np.isfinite(noise_estimate) or not 0 < noise_estimate < 60:
        raise ValueError(f"noise_estimate must be log2 of a noise in (0, 60), got {noise_estimate}")
    p.SetExecutionMode(ofhe.ExecutionMode.EXEC_EVALUATION)
    p.SetNoiseEstimate(float(noise_estimate))


def decryption_fields(decryption: str, noise_estimate: float | None) -> dict[str, Any]:
    """CKKSParameters fields for the decryption mode (none for the default)."""
    if decryption == "standard":
        return {}
    return {"decryption": decryption, "noise_estimate": noise_estimate}


def actual_scale_bits(cc: Any, requested: int, decryption: str) -> int:
    """In flooding mode OpenFHE (64-bit) picks the scaling factor itself (2^59): record it."""
    if decryption == "standard":
        return requested
    return round(math.log2(float(cc.GetScalingFactorReal(0))))


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
        "secret_key_dist": "uniform ternary",
        "decryption": p.decryption,
        "noise_estimate": p.noise_estimate,
        "bootstrapping": p.bootstrapping,
        "role": role,
        "warnings": warn,
    }
