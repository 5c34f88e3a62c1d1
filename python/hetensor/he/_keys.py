"""Keys and roles: the key material of one context and every OpenFHE key-generation call.

A :class:`KeyRing` holds a context's public key, its secret key (the data owner's role; none on
the compute side), the rotation indices whose keys exist, whether bootstrapping keys exist, and
while ``Context.recording`` runs, the rotation indices a dry run asks for. OpenFHE keeps
evaluation keys in process-wide tables keyed by the key tag, so a public view shares those
tables; the role is enforced here (a missing rotation key raises on a public ring, and only
the owner's ring makes keys).

The threshold (multiparty) key-generation rounds live here too: :func:`threshold_keygen`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import KeyRoleError, MissingKeyError
from ._backend import openfhe as ofhe
from ._engine import openfhe_error

__all__ = ["KeyRing", "setup_bootstrapping", "threshold_keygen"]


def setup_bootstrapping(cc: Any, level_budget: Sequence[int], slots: int) -> None:
    """OpenFHE's bootstrapping precomputation for ``slots`` slots (no keys)."""
    cc.EvalBootstrapSetup(list(level_budget), [0, 0], slots)


class KeyRing:
    """The keys of one context and its role (see the module docstring)."""

    def __init__(
        self,
        cc: Any,
        public_key: Any,
        secret_key: Any = None,
        rotations: Iterable[int] = (),
        bootstrap_ready: bool = False,
        keygen_seconds: float = 0.0,
    ) -> None:
        self.cc = cc
        self.public_key = public_key
        self.secret_key = secret_key
        self.rotations: set[int] = set(rotations)
        self.bootstrap_ready = bool(bootstrap_ready)
        self.keygen_seconds = float(keygen_seconds)
        self.tag: str = public_key.GetKeyTag()
        self.recording: set[int] | None = None
        # automorphism indices of the bootstrapping keys (rotations among them cost nothing)
        self.bootstrap_automorphisms: frozenset[int] = frozenset()

    @classmethod
    def generate(
        cls, cc: Any, *, bootstrap_slots: int | None, level_budget: Sequence[int]
    ) -> KeyRing:
        """Fresh owner keys: key pair, relinearization key and (``bootstrap_slots`` given)
        bootstrapping keys for that many slots."""
        t0 = time.perf_counter()
        try:
            keys = cc.KeyGen()
            cc.EvalMultKeyGen(keys.secretKey)
            if bootstrap_slots is not None:
                setup_bootstrapping(cc, level_budget, bootstrap_slots)
                cc.EvalBootstrapKeyGen(keys.secretKey, bootstrap_slots)
        except RuntimeError as err:
            raise openfhe_error(err, "generating keys") from err
        ring = cls(
            cc,
            keys.publicKey,
            keys.secretKey,
            bootstrap_ready=bootstrap_slots is not None,
            keygen_seconds=time.perf_counter() - t0,
        )
        if bootstrap_slots is not None:
            ring.bootstrap_automorphisms = ring.existing_automorphisms()
        return ring

    def view(self, *, secret_key: Any = None) -> KeyRing:
        """The same public and evaluation keys (a snapshot of the rotation set), with
        ``secret_key`` (None: the compute-side role)."""
        ring = KeyRing(self.cc, self.public_key, secret_key, self.rotations, self.bootstrap_ready)
        ring.bootstrap_automorphisms = self.bootstrap_automorphisms
        return ring

    def existing_automorphisms(self) -> frozenset[int]:
        """Automorphism indices whose keys OpenFHE holds under this ring's tag."""
        try:
            return frozenset(self.cc.GetExistingEvalAutomorphismKeyIndices(self.tag))
        except RuntimeError:
            return frozenset()

    def new_key_count(self, indices: Iterable[int]) -> int:
        """How many keys making the rotations ``indices`` adds: those neither held nor
        among the bootstrapping keys."""
        new = sorted(set(indices) - {0})
        if not new:
            return 0
        if not self.bootstrap_automorphisms:
            return len(new)
        try:
            autos = self.cc.FindAutomorphismIndices(new)
        except RuntimeError:
            return len(new)
        return sum(1 for a in autos if a not in self.bootstrap_automorphisms)

    @property
    def has_secret(self) -> bool:
        return self.secret_key is not None

    def require_secret(self, action: str) -> Any:
        """The secret key, or KeyRoleError naming ``action`` on the compute side."""
        if self.secret_key is None:
            raise KeyRoleError(
                f"cannot {action} on a public (compute-side) context: it holds no secret key. "
                "Only the data owner's context can."
            )
        return self.secret_key

    def generate_rotations(self, indices: Iterable[int]) -> None:
        """Make the rotation keys of ``indices`` (in ``[0, slots)``) not held yet (owner)."""
        sk = self.require_secret("generate evaluation keys")
        new = sorted(set(indices) - self.rotations - {0})
        if not new:
            return
        t0 = time.perf_counter()
        try:
            self.cc.EvalRotateKeyGen(sk, new)
        except RuntimeError as err:
            raise openfhe_error(err, f"generating rotation keys {new}") from err
        self.keygen_seconds += time.perf_counter() - t0
        self.rotations.update(new)

    def rotation_index(self, k: int, idx: int, *, dry: bool = False) -> int:
        """Check the key for rotating by ``k`` (slot index ``idx``). Records it while
        recording; generates a missing key on the owner; raises MissingKeyError on a public
        ring (not in dry runs)."""
        if self.recording is not None and idx:
            self.recording.add(idx)
        if dry or not idx or idx in self.rotations:
            return idx
        if self.secret_key is None:
            raise MissingKeyError(
                f"no rotation key for step {k} (index {idx}) on this public context. "
                f"On the owner, call owner.generate_keys(rotations=[{k}]) (or pass the "
                "computation's KeyPlan, e.g. from owner.recording()) before owner.public()."
            )
        self.generate_rotations([idx])
        return idx


def threshold_keygen(
    cc: Any, lead: KeyRing, n_parties: int, indices: Sequence[int]
) -> list[tuple[Any, Any]]:
    """The n-out-of-n key-generation rounds (OpenFHE's multiparty API), all in this process.

    ``lead`` is party 0's ring (an ordinary key pair of ``cc``). Returns every party's
    ``(public key, secret share)``, party 0 first; the last public key is the joint one, and
    the joint relinearization key and the rotation keys of ``indices`` are inserted into
    OpenFHE's tables under its key tag. Each call below that takes a secret share is that
    party's own step of the protocol.
    """
    try:
        cc.Enable(ofhe.PKESchemeFeature.MULTIPARTY)
        # round 1: the public key chain
        pairs = [(lead.public_key, lead.require_secret("lead a threshold setup"))]
        for _ in range(1, n_parties):
            pair = cc.MultipartyKeyGen(pairs[-1][0])
            pairs.append((pair.publicKey, pair.secretKey))
        secrets = [s for _, s in pairs]
        tag = pairs[-1][0].GetKeyTag()

        # round 2: relinearization key for s^2
        first = cc.KeySwitchGen(secrets[0], secrets[0])
        summed = first
        for s in secrets[1:]:
            summed = cc.MultiAddEvalKeys(summed, cc.MultiKeySwitchGen(s, s, first), tag)
        final = None
        for s in secrets:
            share = cc.MultiMultEvalKey(s, summed, tag)
            final = share if final is None else cc.MultiAddEvalMultKeys(final, share, tag)
        cc.InsertEvalMultKey([final])

        # round 3: rotation keys
        if indices:
            cc.EvalAtIndexKeyGen(secrets[0], list(indices))
            base = cc.GetEvalAutomorphismKeyMap(secrets[0].GetKeyTag())
            joint_map = base
            for s in secrets[1:]:
                mine = cc.MultiEvalAtIndexKeyGen(s, base, list(indices), tag)
                joint_map = cc.MultiAddEvalAutomorphismKeys(joint_map, mine, tag)
            cc.InsertEvalAutomorphismKey(joint_map, tag)
    except RuntimeError as err:
        raise openfhe_error(err, "running the threshold key generation") from err
    return pairs
