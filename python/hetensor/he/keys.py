"""Key plans: which evaluation keys a computation needs, named before it runs.

The compute side cannot make keys (it has no secret key), so work is planned first: a
:class:`KeyPlan` names the rotations (and whether bootstrapping keys) a computation needs, the
owner generates them with ``owner.generate_keys(plan)``, then ``owner.public()`` carries them.

Examples
--------
>>> from hetensor.he.keys import KeyPlan
>>> plan = KeyPlan.rotations_of(1, -1) | KeyPlan.for_sum(5)
>>> sorted(plan.rotations)
[-1, 1, 2, 4]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import _core
from .._validate import check_int, check_ints

__all__ = ["KeyPlan"]


@dataclass(frozen=True)
class KeyPlan:
    """The evaluation keys a computation needs.

    Parameters
    ----------
    rotations : frozenset of int
        Rotation steps (any sign; the context maps them to its slot range).
    """

    rotations: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotations", frozenset(check_ints("rotations", self.rotations)))

    def __or__(self, other: KeyPlan) -> KeyPlan:
        if not isinstance(other, KeyPlan):
            return NotImplemented
        return KeyPlan(self.rotations | other.rotations)

    @classmethod
    def rotations_of(cls, *steps: int) -> KeyPlan:
        """Plan for rotating by each of ``steps``."""
        return cls(frozenset(steps))

    @classmethod
    def for_sum(cls, length: int) -> KeyPlan:
        """Plan for :meth:`Ciphertext.sum` of a vector of ``length`` elements (log2 rotations)."""
        period = _core.packing.next_pow2(check_int("length", length, 1))
        return cls(frozenset(_core.packing.rotation_sum_steps(period)))

    def memory_bytes(self, context: Any) -> int:
        """Estimated bytes the keys of this plan not yet held by ``context`` will take
        (before ``context.generate_keys(plan)`` makes them)."""
        return int(context.resources(self).rotation_bytes - context.resources().rotation_bytes)

    @classmethod
    def coerce(cls, plan: KeyPlan | Iterable[int]) -> KeyPlan:
        """A KeyPlan from a plan or an iterable of rotation steps."""
        return plan if isinstance(plan, KeyPlan) else cls(frozenset(check_ints("rotations", plan)))
