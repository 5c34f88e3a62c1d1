"""The one place that issues OpenFHE ciphertext operations, with level and key checks.

:class:`Engine` wraps a context's crypto context: every encrypted type (``Ciphertext``,
``EncryptedArray``) calls it, so depth checks, automatic bootstrapping, rotation-key lookup,
hoisted rotations and OpenFHE error translation live here once. :class:`DryEngine` has the
same interface on :class:`Symbolic` ciphertexts: it performs no cryptography and only tracks
levels and records the rotation keys a computation needs (``Context.recording``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CapacityError, DepthError, OpenFHEError

if TYPE_CHECKING:
    from .context import Context

__all__ = ["DryEngine", "Engine", "Symbolic"]


class Symbolic:
    """Stand-in for a ciphertext in a dry run: only its level is known."""

    __slots__ = ("used",)

    def __init__(self, used: int) -> None:
        self.used = used

    def __repr__(self) -> str:
        return f"Symbolic(levels_used={self.used})"


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
        self.counts: Counter[str] = Counter()  # OpenFHE operations issued, by kind
        self._zeros: dict[int, Any] = {}  # exact zero ciphertexts by level (see at_level)

    # -------------------------------------------------------------- levels
    def levels_used(self, ct: Any) -> int:
        return int(ct.GetLevel()) + int(ct.GetNoiseScaleDeg()) - 1

    def levels_left(self, ct: Any) -> int:
        return self.ctx._usable_depth - self.levels_used(ct)

    def check_levels(self, cts: Iterable[Any], need: int, op: str) -> None:
        """Raise DepthError (before any work) unless every ct has ``need`` levels or the
        context can bootstrap."""
        if need <= 0:
            return
        ctx = self.ctx
        if ctx._auto_bootstrap:
            if need > ctx.depth:
                raise DepthError(
                    f"{op} needs {need} multiplicative levels in a row, but a bootstrapped "
                    f"ciphertext has only {ctx.depth}; create the context with depth >= {need}"
                )
            return
        left = min((self.levels_left(ct) for ct in cts), default=ctx.depth)
        if left < need:
            raise DepthError(
                f"{op} needs {need} multiplicative level(s) but the operand has {left} of "
                f"{ctx.depth} left; create the context with a larger depth "
                f"(depth >= {ctx.depth + need - left}) or with bootstrapping=True"
                + (
                    f" and all slots (this context bootstraps only {ctx.bootstrap_slots}-slot "
                    "sparse arrays, explicitly: ctx.bootstrap(array))"
                    if ctx.bootstrapping
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
        ctx = self.ctx
        sparse = ctx.bootstrap_slots
        if sparse is None or sparse >= ctx.slots:
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
        full = self.ctx.slots
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
            one = self.ctx._encrypt_slots(np.ones(self.ctx.slots), level)
            self._zeros[level] = _wrap_errors(self.cc.EvalSub, one, one)
        return self._zeros[level]

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
        return self.ctx._make_plaintext(slot_values, int(ct.GetLevel()))

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
    def rotate(self, a: Any, k: int) -> Any:
        idx = self.ctx._rotation_key(int(k))
        if idx == 0:
            return a
        self.counts["rotation"] += 1
        return _wrap_errors(self.cc.EvalRotate, a, idx)

    def rotate_many(self, a: Any, steps: Sequence[int]) -> dict[int, Any]:
        """Rotations of one ciphertext by several steps, sharing one hoisted precomputation."""
        idx = {int(k): self.ctx._rotation_key(int(k)) for k in steps}
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
        return Symbolic(self.ctx._usable_depth - self.ctx.depth)

    def at_level(self, ct: Any, used: int) -> Any:
        if used < ct.used:
            raise DepthError(f"cannot raise a ciphertext from {ct.used} levels used to {used}")
        return Symbolic(used)

    @staticmethod
    def _join(*cts: Any) -> Symbolic:
        return Symbolic(max(c.used for c in cts))

    def add(self, a: Any, b: Any) -> Any:
        return self._join(a, b)

    sub = add_into = add

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
        self.ctx._rotation_key(int(k), dry=True)
        return a

    def rotate_many(self, a: Any, steps: Sequence[int]) -> dict[int, Any]:
        return {int(k): self.rotate(a, k) for k in steps}
