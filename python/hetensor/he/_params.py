"""Parameter search: from what the user asks for (depth, precision, security) to an OpenFHE
CryptoContext and the read-only :class:`CKKSParameters` a :class:`~hetensor.Context` reports.

OpenFHE picks the ring dimension that meets the security level for the modulus chain; hetensor
validates the request first, gives every failure a typed error, and with bootstrapping searches
the number of key-switching digits for the smallest ring.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._validate import check_int, check_ints, real_array
from ..errors import (
    CapacityError,
    InsecureParametersError,
    InsecureParametersWarning,
)
from ._backend import openfhe as ofhe
from ._base import Encrypted
from ._engine import openfhe_error
from ._security import HE_STANDARD_MAX_LOG_QP

__all__ = ["CKKSParameters", "check_int", "checked_values", "create"]

SECURITY_LEVELS = {
    128: "HEStd_128_classic",
    192: "HEStd_192_classic",
    256: "HEStd_256_classic",
}
DEFAULT_SCALE_BITS = 40  # leveled: ~1e-7 precision on [-1, 1], ring 2^14 up to depth ~7
# 54-bit scaling with a 60-bit first modulus: |values| < 32 at the last level (standardized
# data fit), bootstrapping error ~1e-6 and 4-5 more levels than 59 bits in ring 2^16 (measured)
BOOTSTRAP_SCALE_BITS = 54
DEFAULT_FIRST_MOD_BITS = 60
INSECURE_RING_DIM = 2**12
# tried in order after OpenFHE's default: the fewest digits (smallest keys) that reach the
# smallest ring wins
BOOTSTRAP_DIGIT_CANDIDATES = (3, 4, 5, 6, 7, 8, 10)
LEVELED_DIGIT_CANDIDATES = (2, 3, 4, 5, 6, 7, 8)
# a leveled context with the default first modulus also tries this smaller one when it halves
# the ring: with 40-bit scaling values must then stay below 2^14 (16384) instead of 2^19
SMALL_FIRST_MOD_BITS = 55
AUX_BITS = 60  # one tower of the key-switching modulus P, the least hybrid switching adds
FEATURES = ("PKE", "KEYSWITCH", "LEVELEDSHE", "ADVANCEDSHE")
# The secret's distribution. "sparse_encapsulated" (OpenFHE 1.6's recommendation for
# bootstrapping) keeps a uniform ternary secret for everything and switches to a sparse one
# only inside bootstrapping's modulus raise: fewer levels for the modular reduction.
SECRET_KEY_DISTS = {
    "uniform_ternary": "UNIFORM_TERNARY",
    "sparse_encapsulated": "SPARSE_ENCAPSULATED",
}


@dataclass(frozen=True)
class CKKSParameters:
    """The parameters a :class:`Context` was made with (read-only).

    Attributes
    ----------
    depth : int
        Multiplicative levels available to user computations (after a bootstrap, when
        bootstrapping is on).
    total_depth : int
        Multiplicative depth of the OpenFHE context (``depth`` plus bootstrapping's own levels).
    scale_bits, first_mod_bits : int
        Bits of the scaling factor and of the first RNS modulus.
    slots : int
        Slots per ciphertext (a power of two, at most ``ring_dim / 2``).
    ring_dim : int
        Ring dimension chosen by OpenFHE (or given explicitly).
    security : int or None
        Claimed classical security in bits (128, 192, 256); ``None`` for ``insecure=True``.
    bootstrapping : bool
        Whether the context supports CKKS bootstrapping.
    level_budget : tuple of int
        Levels spent by bootstrapping's CoeffsToSlots and SlotsToCoeffs.
    log_q : int
        Bits of the ciphertext modulus Q at the top level.
    decryption : {"standard", "flooding"}
        Decryption noise mode (``"flooding"``: OpenFHE's NOISE_FLOODING_DECRYPT).
    noise_estimate : float or None
        With ``"flooding"``: log2 of the computation's noise measured in the estimation phase
        (``None``: this is the estimation-phase context).
    bootstrap_slots : int or None
        Slots of the bootstrapping setup: ``slots`` (every array bootstraps) or fewer (sparse:
        only arrays that repeat with a period of at most this many slots); ``None`` without
        bootstrapping.
    key_digits : int or None
        Digits of hybrid key switching asked of OpenFHE (``None``: OpenFHE's default, 2 up
        to total depth 3, else 3); the memory estimate depends on it.
    secret_key_dist : {"uniform_ternary", "sparse_encapsulated"}
        The secret's distribution (see :meth:`Context.ckks`).
    """

    depth: int
    total_depth: int
    scale_bits: int
    first_mod_bits: int
    slots: int
    ring_dim: int
    security: int | None
    bootstrapping: bool
    level_budget: tuple[int, int]
    log_q: int
    decryption: str = "standard"
    noise_estimate: float | None = None
    bootstrap_slots: int | None = None
    key_digits: int | None = None
    secret_key_dist: str = "uniform_ternary"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        # keep fingerprints of older contexts unchanged
        if out["key_digits"] is None:
            del out["key_digits"]
        if out["secret_key_dist"] == "uniform_ternary":
            del out["secret_key_dist"]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CKKSParameters:
        data = dict(data)
        data["level_budget"] = tuple(data["level_budget"])
        if data.get("bootstrapping") and data.get("bootstrap_slots") is None:
            data["bootstrap_slots"] = data["slots"]  # written before sparse bootstrapping
        return cls(**data)

    @property
    def usable_depth(self) -> int:
        """Levels a ciphertext may use: with bootstrapping the last one is reserved."""
        return self.total_depth - 1 if self.bootstrapping else self.total_depth

    @property
    def fresh_level(self) -> int:
        """Where fresh ciphertexts start. With bootstrapping: where a bootstrap leaves them,
        ``depth`` levels below the top, so operations are cheaper and ``depth`` means the
        same always."""
        return self.usable_depth - self.depth

    @property
    def value_limit(self) -> float:
        """Largest magnitude a value may have: ``2**(first_mod_bits - scale_bits - 1)``."""
        return 2.0 ** (self.first_mod_bits - self.scale_bits - 1)


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


def checked_values(params: CKKSParameters, values: Any) -> np.ndarray:
    """``values`` as a float64 array a context of ``params`` can encrypt.

    Raises
    ------
    TypeError
        ``values`` is already encrypted.
    ValueError
        Ragged nested sequences.
    InvalidDtypeError
        Not integer or floating (complex, boolean, string, object).
    NonFiniteError
        NaN or infinity (naming the first index).
    CapacityError
        Magnitudes at or above :attr:`CKKSParameters.value_limit`.
    """
    if isinstance(values, Encrypted):
        raise TypeError("values are already encrypted")
    arr = real_array("values", values)  # CKKS here encrypts real numbers (ints cast)
    arr = np.asarray(arr, dtype=np.float64, order="C")  # keeps 0-d (ascontiguousarray won't)
    if arr.size:
        limit = params.value_limit
        peak = float(np.max(np.abs(arr)))
        if peak >= limit and np.isfinite(peak):
            raise CapacityError(
                f"values up to {peak:g} in magnitude overflow CKKS with {params.scale_bits}-bit "
                f"scaling and a {params.first_mod_bits}-bit first modulus (limit {limit:g}); "
                "standardize the data first"
            )
    return arr


def _power_of_two(name: str, value: Any, lo: int) -> int:
    value = check_int(name, value, lo)
    if value & (value - 1):
        raise ValueError(f"{name} must be a power of two, got {value}")
    return value


def create(
    depth: int,
    *,
    scale_bits: int | None,
    first_mod_bits: int | None,
    slots: int | None,
    security: int,
    ring_dim: int | None,
    bootstrapping: bool,
    level_budget: tuple[int, int],
    bootstrap_slots: int | None,
    num_large_digits: int | None,
    insecure: bool,
    decryption: str,
    noise_estimate: float | None,
    secret_key_dist: str = "uniform_ternary",
    stacklevel: int = 2,
) -> tuple[Any, CKKSParameters]:
    """Validate the request and make the OpenFHE CryptoContext (see :meth:`Context.ckks`).

    Returns the crypto context (features enabled, no keys yet) and its parameters.
    ``stacklevel`` points the insecure-parameters warning at the user's call.
    """
    depth = check_int("depth", depth, 1)
    default_scale = BOOTSTRAP_SCALE_BITS if bootstrapping else DEFAULT_SCALE_BITS
    scale_bits = check_int(
        "scale_bits", default_scale if scale_bits is None else scale_bits, 20, 59
    )
    first_mod_given = first_mod_bits
    first_mod_bits = check_int(
        "first_mod_bits",
        DEFAULT_FIRST_MOD_BITS if first_mod_bits is None else first_mod_bits,
        scale_bits + 1,
        60,
    )
    if len(check_ints("level_budget", level_budget)) != 2:
        raise ValueError(f"level_budget must be two ints, got {level_budget!r}")
    level_budget = (
        check_int("level_budget[0]", level_budget[0], 1, 8),
        check_int("level_budget[1]", level_budget[1], 1, 8),
    )
    if insecure:
        warnings.warn(
            "INSECURE CKKS parameters (insecure=True): no security level is enforced. "
            "Use this for tests only, never for real data.",
            InsecureParametersWarning,
            stacklevel=stacklevel + 1,
        )
        ring_dim = INSECURE_RING_DIM if ring_dim is None else ring_dim
        sec_name = "HEStd_NotSet"
    else:
        if security not in SECURITY_LEVELS:
            raise ValueError(f"security must be one of 128, 192, 256; got {security!r}")
        sec_name = SECURITY_LEVELS[security]
    if ring_dim is not None:
        ring_dim = _power_of_two("ring_dim", ring_dim, 16)
    if num_large_digits is not None:
        num_large_digits = check_int("num_large_digits", num_large_digits, 1, 32)
    if slots is not None:
        slots = _power_of_two("slots", slots, 1)
    if bootstrap_slots is not None:
        if not bootstrapping:
            raise ValueError("bootstrap_slots needs bootstrapping=True")
        bootstrap_slots = _power_of_two("bootstrap_slots", bootstrap_slots, 1)

    if secret_key_dist not in SECRET_KEY_DISTS:
        raise ValueError(
            f"secret_key_dist must be one of {sorted(SECRET_KEY_DISTS)}, got {secret_key_dist!r}"
        )
    key_dist = getattr(ofhe.SecretKeyDist, SECRET_KEY_DISTS[secret_key_dist])
    total_depth = depth
    if bootstrapping:
        # + bootstrapping's own levels, + 1: OpenFHE must rescale a FLEXIBLEAUTO ciphertext
        # once before bootstrapping it, so the last level is never usable.
        boot_levels = ofhe.CryptoContext.GetBootstrapDepth(list(level_budget), key_dist)
        total_depth += int(boot_levels) + 1

    def make_params(num_digits: int | None, first_bits: int) -> Any:
        p = ofhe.CCParamsCKKSRNS()
        p.SetMultiplicativeDepth(total_depth)
        p.SetScalingModSize(scale_bits)
        p.SetFirstModSize(first_bits)
        p.SetScalingTechnique(ofhe.ScalingTechnique.FLEXIBLEAUTO)
        p.SetSecurityLevel(getattr(ofhe.SecurityLevel, sec_name))
        p.SetSecretKeyDist(key_dist)
        if ring_dim is not None:
            p.SetRingDim(ring_dim)
        if slots is not None:
            p.SetBatchSize(slots)
        if num_digits is not None:
            p.SetNumLargeDigits(num_digits)
        set_decryption_mode(p, decryption, noise_estimate, bootstrapping)
        return p

    firsts = [first_mod_bits]
    if not bootstrapping and first_mod_given is None and scale_bits < SMALL_FIRST_MOD_BITS - 1:
        firsts.append(SMALL_FIRST_MOD_BITS)
    try:
        cc = ofhe.GenCryptoContext(make_params(num_large_digits, first_mod_bits))
        digits_used = num_large_digits
        if num_large_digits is None and ring_dim is None:
            # More key-switching digits shrink the special modulus P, and (leveled, default
            # first modulus) a smaller first modulus shrinks Q: either can halve the ring
            # OpenFHE needs (e.g. 2^17 -> 2^16 at total depth 23 with bootstrapping, 2^14 ->
            # 2^13 at depth 1 and 2). A smaller ring is far cheaper; keep the smallest, with
            # the largest first modulus and the fewest digits (smallest keys) reaching it.
            candidates = BOOTSTRAP_DIGIT_CANDIDATES if bootstrapping else LEVELED_DIGIT_CANDIDATES
            for first in firsts:
                floor = _smallest_ring(security, first + total_depth * scale_bits + AUX_BITS)
                for digits in candidates:
                    if cc.GetRingDimension() <= floor:
                        break  # nothing smaller exists
                    try:
                        trial = ofhe.GenCryptoContext(make_params(digits, first))
                    except RuntimeError:  # the towers do not split into this many digits
                        continue
                    if trial.GetRingDimension() < cc.GetRingDimension():
                        cc, digits_used, first_mod_bits = trial, digits, first
    except RuntimeError as err:
        text = str(err)
        if "does not comply" in text:
            wanted = re.findall(r"\((\d+)\)", text)
            need = f" (OpenFHE needs {wanted[-1]})" if wanted else ""
            raise InsecureParametersError(
                f"ring_dim={ring_dim} is below what {security}-bit security needs for "
                f"total depth {total_depth} and {scale_bits}-bit scaling{need}. Omit "
                "ring_dim to let OpenFHE choose, or pass insecure=True (tests only)."
            ) from err
        if "batch size" in text:
            bound = f"{ring_dim // 2}" if ring_dim else "half the ring dimension"
            raise CapacityError(
                f"slots={slots} does not fit the ring: at most {bound} slots"
            ) from err
        raise openfhe_error(err, "creating the CKKS context") from err
    for feature in (*FEATURES, "FHE") if bootstrapping else FEATURES:
        cc.Enable(getattr(ofhe.PKESchemeFeature, feature))

    n_ring = int(cc.GetRingDimension())
    batch = int(cc.GetEncodingParams().GetBatchSize()) or n_ring // 2
    if slots is not None and batch != slots:
        raise CapacityError(
            f"slots={slots} does not fit ring dimension {n_ring} (at most {n_ring // 2} slots)"
        )
    if bootstrap_slots is not None and bootstrap_slots > batch:
        raise CapacityError(
            f"bootstrap_slots={bootstrap_slots} exceeds the context's {batch} slots"
        )
    params = CKKSParameters(
        depth=depth,
        total_depth=total_depth,
        scale_bits=actual_scale_bits(cc, scale_bits, decryption),
        first_mod_bits=first_mod_bits,
        slots=batch,
        ring_dim=n_ring,
        security=None if insecure else int(security),
        bootstrapping=bool(bootstrapping),
        level_budget=level_budget,
        log_q=int(cc.GetElementParams().GetModulus()).bit_length(),
        bootstrap_slots=(bootstrap_slots or batch) if bootstrapping else None,
        key_digits=digits_used,
        secret_key_dist=secret_key_dist,
        **decryption_fields(decryption, noise_estimate),
    )
    return cc, params


def bootstrap_depth(level_budget: tuple[int, int], secret_key_dist: str) -> int:
    """Levels OpenFHE's bootstrapping spends for ``level_budget`` and the secret's
    distribution (without the one FLEXIBLEAUTO reserves)."""
    dist = getattr(ofhe.SecretKeyDist, SECRET_KEY_DISTS[secret_key_dist])
    return int(ofhe.CryptoContext.GetBootstrapDepth(list(level_budget), dist))


def _smallest_ring(security: int, log_qp: int) -> int:
    """The smallest ring the HE standard allows for ``log_qp`` bits at ``security`` (a lower
    bound of what OpenFHE picks: its P has at least one tower); 0 when unknown."""
    bounds = HE_STANDARD_MAX_LOG_QP.get(security, {})
    fits = [n for n, bound in bounds.items() if log_qp <= bound]
    return min(fits) if fits else 0
