"""Public bounds on ``|values|`` of encrypted objects: where they start, the limit a ciphertext
holds at each level, the per-level check, and the expected absolute error.

Every encrypted object carries a bound ``B`` with ``|value| <= B`` for each of its elements
(a public number, like its shape). Encryption sets it (the data's largest magnitude rounded
up to a power of two, or an explicit ``bound=``); every operation derives its result's bound
from its operands' (the rules are listed in ``docs/guide/arrays.md``, section Bounds) and,
before any OpenFHE work, checks it against :func:`level_limit` at the level the result will
sit at: :func:`check` raises :class:`~hetensor.errors.CapacityError` instead of letting CKKS
return garbage.

The limits were measured (``docs/guide/arrays.md``): a ciphertext at ``u`` levels used,
holding values up to ``2**e`` (after ``u`` products with ones), decrypts to within ``1e-3``
relative error up to ``2**(scale_bits - 14)`` at ``0 < u < total_depth`` and up to
``2**(first_mod_bits - scale_bits + 3)`` at ``u = total_depth`` (only the first modulus
left); one power of two more fails (OpenFHE raises "approximation error is too high" or the
values come back wrong), for 30-, 40-, 50- and 54-bit scales, first moduli of 40 and 60 bits,
rings 2^12 and 2^14 and depths 2 to 20. The limits here keep two (middle levels) and three
(last level) powers of two of margin below the measured failures.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CapacityError

if TYPE_CHECKING:
    from ._params import CKKSParameters

__all__ = [
    "MIDDLE_MARGIN_BITS",
    "amplification",
    "ceil_pow2",
    "check",
    "check_interval",
    "data_bound",
    "expected_error",
    "floor_limit",
    "level_limit",
    "plain_max",
    "power",
    "precision_bits",
    "row_sum",
    "weight_bounds",
    "wire_bound",
]

# log2 of the limit below the scale at the middle levels: measured failures at 2**(s - 13)
MIDDLE_MARGIN_BITS = 15
# log2 of the limit above first_mod_bits - scale_bits at the last level: failures at + 4
LAST_EXTRA_BITS = 1


def ceil_pow2(x: float) -> float:
    """The smallest power of two ``>= x`` (0 for 0)."""
    if x <= 0.0:
        return 0.0
    mantissa, exponent = math.frexp(x)  # x = mantissa * 2**exponent, 0.5 <= mantissa < 1
    return math.ldexp(1.0, exponent - 1 if mantissa == 0.5 else exponent)


def plain_max(value: Any) -> float:
    """``max |value|`` of a plain operand (float or array; 0 for an empty array)."""
    if isinstance(value, (int, float)):
        return abs(float(value))
    arr = np.abs(np.asarray(value, dtype=np.float64))
    return float(arr.max()) if arr.size else 0.0


def row_sum(w: Any) -> float:
    """Largest absolute row sum of a plain matrix (``sum |w|`` of a vector): the factor a
    product with it can multiply a bound by."""
    arr = np.abs(np.asarray(w, dtype=np.float64))
    return float(arr.sum(axis=-1).max()) if arr.size else 0.0


def data_bound(values: np.ndarray, bound: Any = None) -> float:
    """The bound of freshly encrypted ``values``: ``bound`` if given (checked ``>=`` the data's
    largest magnitude), else that magnitude rounded up to a power of two."""
    peak = plain_max(values)
    if not math.isfinite(peak):  # NaN or infinity: encoding raises NonFiniteError next
        return math.inf
    if bound is None:
        return ceil_pow2(peak)
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
        raise TypeError(f"bound must be a real number, got {type(bound).__name__}")
    b = float(bound)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"bound must be finite and >= 0, got {bound!r}")
    if b < peak:
        raise ValueError(
            f"bound={b:g} is below the data's largest magnitude {peak:g}: the bound must "
            "hold for every value (omit it to use the data's own, rounded up to a power of two)"
        )
    return b


def wire_bound(meta: dict[str, Any], params: CKKSParameters) -> float:
    """The bound stored in wire metadata; payloads written before bounds existed carry none
    and get :attr:`CKKSParameters.value_limit`, the largest magnitude ``encrypt`` accepts."""
    value = meta.get("bound")
    if value is None:
        return params.value_limit
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"bound must be a number, got {type(value).__name__}")
    b = float(value)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"bound must be finite and >= 0, got {value!r}")
    return b


def level_limit(params: CKKSParameters, used: int) -> float:
    """Largest bound a ciphertext of ``params`` holds at ``used`` levels used (see module)."""
    middle = 2.0 ** (params.scale_bits - MIDDLE_MARGIN_BITS)
    if used >= params.total_depth:
        return min(middle, 2.0 ** (params.first_mod_bits - params.scale_bits + LAST_EXTRA_BITS))
    return middle


_FLOORS: dict[int, tuple[CKKSParameters, float]] = {}


def floor_limit(params: CKKSParameters) -> float:
    """The smallest :func:`level_limit` of any level: a bound below it needs no level.
    Cached by identity (hashing the parameters costs more than the check it saves)."""
    entry = _FLOORS.get(id(params))
    if entry is None or entry[0] is not params:
        value = min(level_limit(params, 0), level_limit(params, params.total_depth))
        if len(_FLOORS) > 256:  # one entry per context's parameters: keep it small
            _FLOORS.clear()
        entry = _FLOORS[id(params)] = (params, value)
    return entry[1]


def check(params: CKKSParameters, bound: float, used: int, op: str) -> float:
    """``bound``, or CapacityError (before any work) if a result of that bound cannot be
    represented at ``used`` levels used (clamped to the usable depth: beyond it the operation
    bootstraps first or raises DepthError)."""
    used = min(int(used), params.usable_depth)
    limit = level_limit(params, used)
    if bound <= limit:
        return bound
    last = used >= params.total_depth and limit < 2.0 ** (params.scale_bits - MIDDLE_MARGIN_BITS)
    headroom = (
        "a context with more headroom at its last level (a larger first_mod_bits, a smaller "
        "scale_bits, or one more level of depth so this step does not run on the last modulus)"
        if last
        else "a context with a larger scale_bits"
    )
    raise CapacityError(
        f"{op}: the result's values may reach {bound:g} in magnitude (its public bound), "
        f"above the {limit:g} a ciphertext holds at level {used} of {params.total_depth} "
        f"({params.scale_bits}-bit scale, {params.first_mod_bits}-bit first modulus); CKKS "
        "would return garbage. Standardize the data, encrypt it with a tighter bound= when "
        f"its values are known to be smaller, or use {headroom}"
    )


def check_interval(bound: float, lo: float, hi: float, op: str) -> None:
    """CapacityError unless values bounded by ``bound`` may lie in ``[lo, hi]``: the bound
    is symmetric, so only ``bound <= max(|lo|, |hi|)`` can be checked (a one-sided interval
    such as ``(1, 10)`` cannot exclude values in ``[-bound, 1)``)."""
    reach = max(abs(lo), abs(hi))
    if bound > reach:
        raise CapacityError(
            f"{op}: the input's values may reach {bound:g} in magnitude (its public bound), "
            f"outside the interval [{lo:g}, {hi:g}] the approximation is valid on (it "
            "diverges outside); widen the interval, scale the input into it, or encrypt the "
            "input with a tighter bound= when its values are known to lie in it"
        )


def precision_bits(params: CKKSParameters) -> float:
    """Bits of precision relative to the bound: ``scale_bits - 12 - log2(ring_dim) / 2``
    (measured 21.4 to 22.8 bits at a 40-bit scale and ring 2^14 after 0 to 3 products, 23 to
    24.7 at ring 2^12; 33 at a 50-bit scale, 13 at 30 bits)."""
    return params.scale_bits - 12 - math.log2(params.ring_dim) / 2


def expected_error(params: CKKSParameters, bound: float) -> float:
    """Expected absolute error of each decrypted element: ``max(bound, 1) * 2**-precision``
    (the error scales with the largest value a ciphertext holds; fresh encryption noise sets
    a floor that does not shrink below the precision of values of magnitude 1)."""
    return max(bound, 1.0) * 2.0 ** -precision_bits(params)


def amplification(steps: int, beta: float) -> np.ndarray:
    """``A[k - 1] = max |p_j(mu)|`` over ``j <= k`` and ``mu`` in the spectrum: the factor by
    which ``k`` (Nesterov) gradient steps ``w <- (1 + beta) M w - beta M w_prev + c``
    (``w_1 = c``) can amplify ``||c||_2``, for a symmetric ``M`` with eigenvalues in
    ``[0, 1]`` (``beta > 0``) or ``[-1, 1]`` (``beta = 0``: then ``A[k - 1] = k``), which a
    convergent learning rate guarantees."""
    steps = max(int(steps), 0)
    if not beta:
        return np.arange(1.0, steps + 1.0)
    mu = np.linspace(0.0, 1.0, 1025)
    prev, w = np.zeros_like(mu), np.ones_like(mu)
    out = np.empty(steps)
    top = 0.0
    for k in range(steps):
        if k:
            w, prev = (1.0 + beta) * mu * w - beta * mu * prev + 1.0, w
        top = max(top, float(np.abs(w).max()))
        out[k] = top
    return out


def power(bound: float, n: int) -> float:
    """``bound ** n`` without overflow (``inf`` beyond the float range)."""
    if bound <= 1.0 or n * math.log2(bound) < 1000:
        return float(bound) ** int(n)
    return math.inf


def weight_bounds(c_bound: float, c_norm: float, steps: int, beta: float) -> list[float]:
    """Bounds of the weights after each of ``steps`` gradient steps ``w <- (1 + beta) M w -
    beta M w_prev + c`` (``w_1 = c``): ``|w_k| <= ||w_k||_2 <= A_k ||c||_2 <= A_k c_norm``
    with ``A_k`` of :func:`amplification` (and ``|w_1| = |c| <= c_bound``).

    ``c_norm`` bounds ``||c||_2``: ``sqrt(d_eff) c_bound``, or, for ``c = eta X^T S y`` with
    ``eta = lr / sum(s)``, ``sqrt(lr y^T S y / sum(s))`` (``sqrt(lr) bound(y)`` unweighted),
    since ``||S^(1/2) X||_2^2 = lambda_max <= sum(s) / lr`` under the same assumption:

    a convergent learning rate, ``M = I - eta (X^T S X + diag(penalty))`` with eigenvalues
    in ``[0, 1]`` (``[-1, 1]`` without momentum), which the default step ``1 / (d_eff +
    alpha / n)`` guarantees for standardized features. The worst case the encrypted data
    alone allows grows like ``(1 + eta d_eff bound(X)^2)^k``: useless.
    """
    amp = amplification(max(int(steps), 1), beta)
    out = [float(a) * c_norm for a in amp]
    out[0] = min(c_bound, c_norm)
    return out
