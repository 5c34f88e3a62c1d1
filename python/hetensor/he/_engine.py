"""The one place that issues OpenFHE ciphertext operations, with level and key checks.

:class:`Engine` wraps a context's crypto context: every encrypted type (``Ciphertext``,
``EncryptedArray``, ``EncryptedMatrix``), the context itself (encoding, encryption,
decryption) and the multiparty protocol (partial decryptions, interactive refresh) call it, so
depth checks, automatic bootstrapping, rotation-key lookup, hoisted rotations and OpenFHE error
translation live here once. :class:`DryEngine` has the same interface on :class:`Symbolic`
ciphertexts: it performs no cryptography and only tracks levels and records the rotation keys
a computation needs (``Context.recording``).

OpenFHE is called from four modules of the encrypted layer, one job each: ``_params``
(parameters and crypto contexts), ``_keys`` (key generation), this one (everything done to a
ciphertext) and ``_wire`` (serialization; ``_isolate``'s child process runs the same
deserializers on untrusted bytes).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CapacityError, DepthError, OpenFHEError
from . import _security
from ._backend import openfhe as ofhe

if TYPE_CHECKING:
    from .context import Context

__all__ = ["DryEngine", "Engine", "Symbolic", "openfhe_error", "poly_depth"]


class Symbolic:
    """Stand-in for a ciphertext in a dry run: only its level is known."""

    __slots__ = ("used",)

    def __init__(self, used: int) -> None:
        self.used = used

    def __repr__(self) -> str:
        return f"Symbolic(levels_used={self.used})"


def openfhe_error(err: Exception, doing: str) -> OpenFHEError:
    """OpenFHE's RuntimeError as an OpenFHEError saying what hetensor was doing."""
    text = str(err)
    text = re.sub(r"^\S+\.(cpp|h):l\.\d+:\S+\(\):\s*", "", text)  # drop OpenFHE's source path
    return OpenFHEError(f"OpenFHE failed while {doing}: {text}")


def poly_depth(n_coeffs: int) -> int:
    """Levels OpenFHE's evaluation of a polynomial with ``n_coeffs`` coefficients uses."""
    return int(ofhe.GetMultiplicativeDepthByCoeffVector([1.0] * n_coeffs, False))


def _wrap_errors(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except RuntimeError as err:
        raise OpenFHEError(f"OpenFHE failed in {getattr(fn, '__name__', fn)}: {err}") from err


class Engine:
    """OpenFHE operations for one context (see module docstring)."""

    dry = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cc = ctx._cc
        self.params = ctx._params
        self.keys = ctx._keys
        self.counts: Counter[str] = Counter()  # OpenFHE operations issued, by kind
        self._zeros: dict[int, Any] = {}  # exact zero ciphertexts by level (see at_level)

    # -------------------------------------------------------------- levels
    def levels_used(self, ct: Any) -> int:
        return int(ct.GetLevel()) + int(ct.GetNoiseScaleDeg()) - 1

    def levels_left(self, ct: Any) -> int:
        return self.params.usable_depth - self.levels_used(ct)

    @property
    def auto_bootstrap(self) -> bool:
        """Whether operations may bootstrap any operand on their own (full-slot setup)."""
        p = self.params
        return self.keys.bootstrap_ready and p.bootstrap_slots == p.slots

    def check_levels(self, cts: Iterable[Any], need: int, op: str) -> None:
        """Raise DepthError (before any work) unless every ct has ``need`` levels or the
        context can bootstrap."""
        if need <= 0:
            return
        depth = self.params.depth
        if self.auto_bootstrap:
            if need > depth:
                raise DepthError(
                    f"{op} needs {need} multiplicative levels in a row, but a bootstrapped "
                    f"ciphertext has only {depth}; create the context with depth >= {need}"
                )
            return
        left = min((self.levels_left(ct) for ct in cts), default=depth)
        if left < need:
            raise DepthError(
                f"{op} needs {need} multiplicative level(s) but the operand has {left} of "
                f"{depth} left; create the context with a larger depth "
                f"(depth >= {depth + need - left}) or with bootstrapping=True"
                + (
                    f" and all slots (this context bootstraps only "
                    f"{self.params.bootstrap_slots}-slot sparse arrays, explicitly: "
                    "ctx.bootstrap(array))"
                    if self.params.bootstrapping
                    else ""
                )
            )

    def ready(self, ct: Any, need: int, op: str) -> Any:
        """``ct`` with at least ``need`` levels left: bootstrapped first if needed and allowed."""
        if self.levels_left(ct) >= need:
            return ct
        self.check_levels([ct], need, op)  # raises unless bootstrapping is possible
        return self.bootstrap(ct)

    def sparse_slots(self, period: int | None) -> int | None:
        """Slots to bootstrap a ciphertext whose values repeat every ``period`` slots as
        (``None``: all of them); raises if the context's sparse setup cannot take it."""
        sparse, slots = self.params.bootstrap_slots, self.params.slots
        if sparse is None or sparse >= slots:
            return None
        if period is None or period > sparse:
            what = "a ciphertext of unknown layout" if period is None else f"period {period}"
            raise CapacityError(
                f"this context bootstraps {sparse}-slot sparse ciphertexts only "
                f"(bootstrap_slots={sparse}) but got {what}: only arrays whose layout repeats "
                f"every {sparse} slots or fewer (vectors of at most {sparse} entries) can be "
                "bootstrapped; make the context without bootstrap_slots to bootstrap any array"
            )
        return sparse

    def bootstrap(self, ct: Any, period: int | None = None) -> Any:
        """Bootstrap ``ct``. ``period``: its values repeat every ``period`` slots (needed by
        a sparse setup, which bootstraps such a ciphertext as ``bootstrap_slots`` slots)."""
        sparse = self.sparse_slots(period)
        self.counts["bootstrap"] += 1
        if sparse is None:
            return _wrap_errors(self.cc.EvalBootstrap, ct)
        # A P-periodic full-slot ciphertext (P dividing `sparse`) is the sparse encoding of
        # its first `sparse` slots: bootstrap it as such, then view the result with all slots.
        full = self.params.slots
        ct.SetSlots(sparse)
        try:
            out = _wrap_errors(self.cc.EvalBootstrap, ct)
        finally:
            ct.SetSlots(full)
        out.SetSlots(full)
        return out

    def at_level(self, ct: Any, used: int) -> Any:
        """``ct`` rescaled (noise-scale degree 1) and brought down to ``used`` levels used.

        OpenFHE's FLEXIBLEAUTO scaling does this adjustment itself inside every product or
        sum of operands at different levels (a rescale and a scalar product, several times
        the cost of the product). An operand used many times at one level (a matrix's
        diagonals, the rotations of a vector) is cheaper adjusted once here: the adjustment
        is OpenFHE's own, triggered by adding an exact zero ciphertext of the target level,
        so scale and precision are exactly those of the implicit one.
        """
        have = self.levels_used(ct)
        if used < have:
            raise DepthError(f"cannot raise a ciphertext from {have} levels used to {used}")
        if used == have and int(ct.GetNoiseScaleDeg()) == 1:
            return ct
        self.counts["adjust"] += 1
        return _wrap_errors(self.cc.EvalAdd, ct, self._zero(used))

    def _zero(self, level: int) -> Any:
        """An exact zero (both polynomials 0, no noise) at ``level``, degree 1; cached."""
        if level not in self._zeros:
            one = self.encrypt(np.ones(self.params.slots), level)
            self._zeros[level] = _wrap_errors(self.cc.EvalSub, one, one)
        return self._zeros[level]

    # -------------------------------------------------------------- encode / encrypt / decrypt
    def plaintext_at(self, slot_values: np.ndarray, level: int) -> Any:
        """Encode a full slot vector at ``level``.

        Magnitudes below CKKS precision (``2**-scale_bits``) are set to zero first: they
        encode as nothing anyway, and OpenFHE rejects a vector whose largest magnitude times
        the scale is below 1 ("Scaling factor too small"; e.g. ``[1e-18]`` at 40 bits).
        """
        tiny = 2.0**-self.params.scale_bits
        slot_values = np.where(np.abs(slot_values) < tiny, 0.0, slot_values)
        return self.cc.MakeCKKSPackedPlaintext(
            slot_values.tolist(), 1, level, None, self.params.slots
        )

    def encrypt(self, slot_values: np.ndarray, level: int | None = None) -> Any:
        """Encrypt a slot vector at ``level`` (default: where fresh ciphertexts start; 0 is
        the top of the modulus chain, above a bootstrapping context's usual start)."""
        try:
            pt = self.plaintext_at(slot_values, self.params.fresh_level if level is None else level)
            return self.cc.Encrypt(self.keys.public_key, pt)
        except RuntimeError as err:
            raise openfhe_error(err, "encrypting") from err

    def decrypt(self, ct: Any) -> np.ndarray:
        """The slot values of ``ct`` (the owner's secret key)."""
        sk = self.keys.require_secret("decrypt")
        _security.refuse_estimation_phase(self.params)
        doing = (
            "decrypting (the result lost its precision: values too large for the scale, or "
            "more levels used than the context's depth)"
        )
        return self._decrypt_with(ct, sk, doing)

    def _decrypt_with(self, ct: Any, secret: Any, doing: str) -> np.ndarray:
        try:
            pt = self.cc.Decrypt(ct, secret)
            return self._slot_values(pt)
        except RuntimeError as err:
            raise openfhe_error(err, doing) from err

    def _slot_values(self, pt: Any) -> np.ndarray:
        pt.SetLength(self.params.slots)
        return np.asarray(pt.GetRealPackedValue(), dtype=np.float64)

    def noise(self, ct: Any) -> float:
        """log2 of the noise in ``ct`` (decryption on a noise-estimation context)."""
        sk = self.keys.require_secret("estimate decryption noise")
        try:
            return float(self.cc.Decrypt(ct, sk).GetLogError())
        except RuntimeError as err:
            raise openfhe_error(err, "estimating the decryption noise") from err

    # -------------------------------------------------------------- multiparty
    def decrypt_share(self, ct: Any, secret: Any, *, lead: bool, party: int) -> Any:
        """One party's partial decryption of ``ct`` with its secret share."""
        step = self.cc.MultipartyDecryptLead if lead else self.cc.MultipartyDecryptMain
        try:
            return step([ct], secret)[0]
        except RuntimeError as err:
            raise openfhe_error(err, f"partially decrypting (party {party})") from err

    def decrypt_alone(self, ct: Any, secret: Any, *, party: int) -> np.ndarray:
        """Decrypt with one secret share only (noise, normally refused by OpenFHE)."""
        return self._decrypt_with(ct, secret, f"decrypting with party {party}'s share alone")

    def fuse(self, shares: Sequence[Any]) -> np.ndarray:
        """The slot values from every party's partial decryption of one ciphertext."""
        try:
            return self._slot_values(self.cc.MultipartyDecryptFusion(list(shares)))
        except RuntimeError as err:
            raise openfhe_error(err, "fusing the partial decryptions") from err

    def refresh_begin(self, ct: Any, towers: int) -> tuple[Any, Any, Any]:
        """Server's first step of interactive multiparty bootstrapping: ``(adjusted ct, c1,
        a)`` with ``a`` the common random polynomial (party 0 draws it)."""
        try:
            level, deg = int(ct.GetLevel()), int(ct.GetNoiseScaleDeg())
            if deg == 2:  # FLEXIBLEAUTO leaves the last rescale pending: do it (keep all towers)
                ct = self.cc.Compress(ct, towers - level - 1)
            ct = self.cc.IntMPBootAdjustScale(ct)
            a = self.cc.IntMPBootRandomElementGen(self.keys.public_key)
            c1 = ct.Clone()
            c1.RemoveElement(0)
        except RuntimeError as err:
            raise openfhe_error(err, "refreshing interactively") from err
        return ct, c1, a

    def refresh_share(self, secret: Any, c1: Any, a: Any) -> Any:
        """One party's masked decryption and re-encryption shares (``IntMPBootDecrypt``)."""
        try:
            return self.cc.IntMPBootDecrypt(secret, c1, a)
        except RuntimeError as err:
            raise openfhe_error(err, "refreshing interactively") from err

    def refresh_end(self, ct: Any, shares: Sequence[Any], a: Any) -> Any:
        """The shares summed and re-encrypted under the joint key: a fresh ciphertext."""
        self.counts["interactive_refresh"] += 1
        try:
            summed = self.cc.IntMPBootAdd(list(shares))
            return self.cc.IntMPBootEncrypt(self.keys.public_key, summed, a, ct)
        except RuntimeError as err:
            raise openfhe_error(err, "refreshing interactively") from err

    # -------------------------------------------------------------- arithmetic
    def add(self, a: Any, b: Any) -> Any:
        self.counts["add"] += 1
        return _wrap_errors(self.cc.EvalAdd, a, b)

    def sub(self, a: Any, b: Any) -> Any:
        self.counts["add"] += 1
        return _wrap_errors(self.cc.EvalSub, a, b)

    def add_into(self, total: Any, term: Any) -> Any:
        """``total += term`` in place (``total`` must be a ciphertext the caller owns): a
        running sum without a new allocation per term, several times cheaper for the
        3-component products of :meth:`mul_no_relin`."""
        self.counts["add"] += 1
        _wrap_errors(self.cc.EvalAddInPlace, total, term)
        return total

    def neg(self, a: Any) -> Any:
        return _wrap_errors(self.cc.EvalNegate, a)

    def add_many(self, cts: Sequence[Any]) -> Any:
        if len(cts) == 1:
            return cts[0]
        self.counts["add"] += len(cts) - 1
        return _wrap_errors(self.cc.EvalAddMany, list(cts))

    def plaintext(self, slot_values: np.ndarray, ct: Any) -> Any:
        """Encode a slot vector at the level of ``ct`` (for a product or sum with it)."""
        return self.plaintext_at(slot_values, int(ct.GetLevel()))

    def add_plain(self, a: Any, slot_values: np.ndarray) -> Any:
        self.counts["add"] += 1
        return _wrap_errors(self.cc.EvalAdd, a, self.plaintext(slot_values, a))

    def add_scalar(self, a: Any, value: float) -> Any:
        self.counts["add"] += 1
        return _wrap_errors(self.cc.EvalAdd, a, float(value))

    def mul(self, a: Any, b: Any, op: str = "multiply") -> Any:
        a = self.ready(a, 1, op)
        b = self.ready(b, 1, op)
        self.counts["ct_mult"] += 1
        return _wrap_errors(self.cc.EvalMult, a, b)

    def mul_no_relin(self, a: Any, b: Any, op: str = "multiply") -> Any:
        """Product left unrelinearized (3 components): sum many, then :meth:`relinearize`
        once, which saves one key switch per product."""
        a = self.ready(a, 1, op)
        b = self.ready(b, 1, op)
        self.counts["ct_mult"] += 1
        return _wrap_errors(self.cc.EvalMultNoRelin, a, b)

    def relinearize(self, a: Any) -> Any:
        self.counts["relinearize"] += 1
        return _wrap_errors(self.cc.Relinearize, a)

    def square(self, a: Any) -> Any:
        self.counts["ct_mult"] += 1
        return _wrap_errors(self.cc.EvalSquare, self.ready(a, 1, "square"))

    def mul_plain(self, a: Any, slot_values: np.ndarray, op: str = "multiply") -> Any:
        a = self.ready(a, 1, op)
        self.counts["pt_mult"] += 1
        return _wrap_errors(self.cc.EvalMult, a, self.plaintext(slot_values, a))

    def mul_scalar(self, a: Any, value: float, op: str = "multiply") -> Any:
        """Scalar product; 1, -1, 2 and -2 cost additions instead of a level."""
        if value == 1.0:
            return a
        if value == -1.0:
            return self.neg(a)
        if value in (2.0, -2.0):
            doubled = self.add(a, a)
            return doubled if value > 0 else self.neg(doubled)
        a = self.ready(a, 1, op)
        self.counts["scalar_mult"] += 1
        return _wrap_errors(self.cc.EvalMult, a, float(value))

    def poly(self, a: Any, coeffs_low_first: Sequence[float], depth: int) -> Any:
        a = self.ready(a, depth, "polyval")
        self.counts["polynomial"] += 1
        return _wrap_errors(self.cc.EvalPoly, a, [float(c) for c in coeffs_low_first])

    def chebyshev(self, a: Any, func: Any, lo: float, hi: float, degree: int, depth: int) -> Any:
        a = self.ready(a, depth, "chebyshev")
        self.counts["polynomial"] += 1
        return _wrap_errors(
            self.cc.EvalChebyshevFunction, func, a, float(lo), float(hi), int(degree)
        )

    # -------------------------------------------------------------- rotations
    def rotation_key(self, k: int) -> int:
        """Slot index for rotating by ``k``, once its key is known to exist (see KeyRing)."""
        idx = self.ctx.normalize_rotation(k)
        return self.keys.rotation_index(int(k), idx, dry=self.dry)

    def rotate(self, a: Any, k: int) -> Any:
        idx = self.rotation_key(k)
        if idx == 0:
            return a
        self.counts["rotation"] += 1
        return _wrap_errors(self.cc.EvalRotate, a, idx)

    def rotate_many(self, a: Any, steps: Sequence[int]) -> dict[int, Any]:
        """Rotations of one ciphertext by several steps, sharing one hoisted precomputation."""
        idx = {int(k): self.rotation_key(k) for k in steps}
        out: dict[int, Any] = {k: a for k, i in idx.items() if i == 0}
        todo = [(k, i) for k, i in idx.items() if i != 0]
        self.counts["rotation"] += len(todo)
        if len(todo) == 1:
            k, i = todo[0]
            out[k] = _wrap_errors(self.cc.EvalRotate, a, i)
        elif todo:
            self.counts["hoisted_rotation"] += len(todo)
            m = 2 * int(self.cc.GetRingDimension())
            pre = _wrap_errors(self.cc.EvalFastRotationPrecompute, a)
            for k, i in todo:
                out[k] = _wrap_errors(self.cc.EvalFastRotation, a, i, m, pre)
        return out

    def rotate_sum(self, a: Any, steps: Iterable[int]) -> Any:
        """a + rot(a, s1), then the same with s2, ...: log-depth rotate-and-sum."""
        for step in steps:
            a = self.add(a, self.rotate(a, step))
        return a


class DryEngine(Engine):
    """Engine for dry runs: tracks levels on :class:`Symbolic` values, records rotations."""

    dry = True

    def levels_used(self, ct: Any) -> int:
        return ct.used

    def bootstrap(self, ct: Any, period: int | None = None) -> Any:
        self.sparse_slots(period)
        return Symbolic(self.params.fresh_level)

    def encrypt(self, slot_values: np.ndarray | None, level: int | None = None) -> Any:
        return Symbolic(self.params.fresh_level if level is None else level)

    def at_level(self, ct: Any, used: int) -> Any:
        if used < ct.used:
            raise DepthError(f"cannot raise a ciphertext from {ct.used} levels used to {used}")
        return Symbolic(used)

    @staticmethod
    def _join(*cts: Any) -> Symbolic:
        return Symbolic(max(c.used for c in cts))

    def add(self, a: Any, b: Any) -> Any:
        return self._join(a, b)

    sub = add

    def add_into(self, total: Any, term: Any) -> Any:
        return self._join(total, term)

    def neg(self, a: Any) -> Any:
        return a

    def add_many(self, cts: Sequence[Any]) -> Any:
        return self._join(*cts)

    def add_plain(self, a: Any, slot_values: np.ndarray) -> Any:
        return a

    def add_scalar(self, a: Any, value: float) -> Any:
        return a

    def mul(self, a: Any, b: Any, op: str = "multiply") -> Any:
        a, b = self.ready(a, 1, op), self.ready(b, 1, op)
        return Symbolic(max(a.used, b.used) + 1)

    mul_no_relin = mul

    def relinearize(self, a: Any) -> Any:
        return a

    def square(self, a: Any) -> Any:
        return Symbolic(self.ready(a, 1, "square").used + 1)

    def mul_plain(self, a: Any, slot_values: np.ndarray, op: str = "multiply") -> Any:
        return Symbolic(self.ready(a, 1, op).used + 1)

    def mul_scalar(self, a: Any, value: float, op: str = "multiply") -> Any:
        if value in (1.0, -1.0, 2.0, -2.0):
            return a
        return Symbolic(self.ready(a, 1, op).used + 1)

    def poly(self, a: Any, coeffs_low_first: Sequence[float], depth: int) -> Any:
        return Symbolic(self.ready(a, depth, "polyval").used + depth)

    def chebyshev(self, a: Any, func: Any, lo: float, hi: float, degree: int, depth: int) -> Any:
        return Symbolic(self.ready(a, depth, "chebyshev").used + depth)

    def rotate(self, a: Any, k: int) -> Any:
        self.rotation_key(k)
        return a

    def rotate_many(self, a: Any, steps: Sequence[int]) -> dict[int, Any]:
        return {int(k): self.rotate(a, k) for k in steps}
