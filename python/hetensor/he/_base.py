"""What every encrypted type shares: a context, ciphertexts, a slot layout and level metadata.

:class:`Encrypted` is the base of :class:`~hetensor.EncryptedArray`,
:class:`~hetensor.EncryptedMatrix` and :class:`~hetensor.Ciphertext`. Each subclass names its
wire kind and says how to decode its slots, describe itself on the wire and rebuild itself
from the wire, so :class:`~hetensor.Context` decrypts, bootstraps and serializes any of them
without knowing which it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import _bounds

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Encrypted"]


class Encrypted:
    """Base class of hetensor's encrypted types (never instantiated directly).

    Immutable: operations return new objects. Never converted to plaintext implicitly
    (``np.asarray``, ``bool`` and ``hash`` raise); decryption is always ``ctx.decrypt(obj)``.

    Attributes
    ----------
    context : Context
        The (owner or public) context the object is bound to.
    layout
        Where the elements sit in the slots (a ``hetensor._core.packing`` plan).
    level, levels_left : int
        Multiplicative levels used so far (the most of any ciphertext) and still available
        before a bootstrap (the fewest of any ciphertext).
    bound : float
        Public bound on ``|values|`` (see :attr:`bound` and :meth:`info`).
    """

    __slots__ = ("_bound", "_cts", "_ctx", "_eng", "_layout")
    __hash__ = None  # type: ignore[assignment]

    _kind: ClassVar[str]  # wire kind of the checked envelope
    _made_by: ClassVar[str]  # how users make one (error message of the constructor)
    _ctx: Context
    _cts: tuple[Any, ...]
    _eng: Any
    _layout: Any
    _bound: float

    def __init__(self) -> None:
        raise TypeError(self._made_by)

    def _init(self, ctx: Context, cts: Sequence[Any], layout: Any, eng: Any, bound: float) -> None:
        self._ctx = ctx
        self._cts = tuple(cts)
        self._layout = layout
        self._eng = eng if eng is not None else ctx._engine
        self._bound = float(bound)

    # ------------------------------------------------------------------ metadata
    @property
    def context(self) -> Context:
        """The (possibly public) context this object is bound to."""
        return self._ctx

    @property
    def layout(self) -> Any:
        """Read-only slot layout (a ``hetensor._core.packing`` plan)."""
        return self._layout

    @property
    def n_ciphertexts(self) -> int:
        return len(self._cts)

    @property
    def level(self) -> int:
        """Multiplicative levels used so far (the most of any of its ciphertexts)."""
        return max(self._eng.levels_used(ct) for ct in self._cts)

    @property
    def levels_left(self) -> int:
        """Multiplications still possible before a bootstrap (or a DepthError)."""
        return min(self._eng.levels_left(ct) for ct in self._cts)

    @property
    def bound(self) -> float:
        """Public bound on the magnitude of every value: ``|x| <= bound`` elementwise.

        Set at encryption (the data's largest magnitude rounded up to a power of two, or
        ``encrypt(..., bound=...)``) and derived by every operation from its operands' bounds
        (docs: Encrypted arrays, Bounds); operations whose result's bound exceeds what a
        ciphertext holds at its level raise :class:`~hetensor.errors.CapacityError` before
        any work. Metadata the server sees, like the shape.
        """
        return self._bound

    def info(self) -> dict[str, Any]:
        """Public facts about this object: shape, ciphertexts, levels, the bound, the limit a
        ciphertext holds at its level, and the expected absolute error of each decrypted
        element (``max(bound, 1) * 2**-precision_bits``: CKKS error scales with the largest
        value a ciphertext holds, so small elements next to large ones lose relative
        precision; nothing raises for it).

        Examples
        --------
        >>> a = ctx.encrypt(np.array([100.0, -100.0, 0.5]))        # doctest: +SKIP
        >>> a.info()["bound"], (a * a).info()["bound"]              # doctest: +SKIP
        (128.0, 16384.0)
        """
        params = self._ctx._params
        level = self.level
        return {
            "kind": self._kind,
            "shape": tuple(getattr(self, "shape", ())),
            "ciphertexts": len(self._cts),
            "level": level,
            "levels_left": self.levels_left,
            "bound": self._bound,
            "limit": _bounds.level_limit(params, level),
            "precision_bits": _bounds.precision_bits(params),
            "expected_abs_error": _bounds.expected_error(params, self._bound),
            "symbolic": self.is_symbolic,
        }

    def _checked_bound(self, bound: float, levels: int, op: str, *others: Encrypted) -> float:
        """``bound`` if a result of that bound fits at the level this object (and ``others``)
        will reach after ``levels`` more levels; CapacityError (before any work) otherwise."""
        params = self._ctx._params
        if bound <= _bounds.floor_limit(params):  # fits at any level: no need to ask OpenFHE
            return bound
        used = max(x.level for x in (self, *others)) + int(levels)
        return _bounds.check(params, bound, used, op)

    @property
    def scale(self) -> float:
        """CKKS scaling factor of the first ciphertext (NaN for a symbolic placeholder)."""
        if self._eng.dry:
            return float("nan")
        return float(self._cts[0].GetScalingFactor())

    @property
    def openfhe(self) -> tuple[Any, ...]:
        """The raw OpenFHE ciphertexts, for interoperating with code written on OpenFHE (and
        benchmarks against it); hetensor's checks do not apply to what is done with them."""
        return self._cts

    @property
    def is_symbolic(self) -> bool:
        """True for a placeholder of a dry run (``Context.recording``): it holds no data."""
        return bool(self._eng.dry)

    def __bool__(self) -> bool:
        name = type(self).__name__
        raise TypeError(f"the truth value of {_article(name)} {name} is unknown without decryption")

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        name = type(self).__name__
        raise TypeError(
            f"{_article(name)} {name} cannot be converted to a NumPy array implicitly: "
            "use ctx.decrypt(...) on the data owner's context"
        )

    def to_bytes(self) -> bytes:
        """Serialize into a checked envelope; read back with ``ctx.from_bytes``."""
        return self._ctx.to_bytes(self)

    # ------------------------------------------------------------------ subclass hooks
    @property
    def _period(self) -> int | None:
        """Slots after which the layout repeats (sparse bootstrapping); None: unknown."""
        return None

    def _decode(self, slot_rows: np.ndarray, average: bool) -> np.ndarray:
        """NumPy values from the decrypted slot vectors, one row per ciphertext."""
        raise NotImplementedError

    def _wire_meta(self) -> dict[str, Any]:
        """JSON-able metadata that, with the ciphertexts, rebuilds the object."""
        raise NotImplementedError

    @classmethod
    def _from_wire(cls, ctx: Context, cts: list[Any], meta: dict[str, Any]) -> Encrypted:
        """Rebuild from :meth:`_wire_meta` output; ValueError if it does not fit ``ctx``."""
        raise NotImplementedError

    def _rebuilt(self, ctx: Context, cts: Sequence[Any]) -> Encrypted:
        """The same object (metadata) over other ciphertexts (e.g. bootstrapped), bound to
        ``ctx``."""
        raise NotImplementedError


def _article(name: str) -> str:
    return "an" if name[0] in "AEIOU" else "a"
