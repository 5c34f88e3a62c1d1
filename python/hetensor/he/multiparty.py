"""Several data owners, one joint key: threshold (n-out-of-n) CKKS with OpenFHE's multiparty API.

Each owner (:class:`Party`) holds a secret share ``s_i``; the joint secret ``s = s_1 + ... +
s_n`` exists nowhere. Key generation is a chain of rounds in which every party only uses its
own share and public messages:

1. Public key: party 1 makes an ordinary key pair; party ``i`` extends party ``i - 1``'s
   public key with its share (``MultipartyKeyGen``). The last public key encrypts under ``s``.
2. Relinearization key (for ``s^2``): party 1's key-switching key ``s_1 -> s_1``
   (``KeySwitchGen``), every other party's on the same public randomness
   (``MultiKeySwitchGen``), summed (``MultiAddEvalKeys``) into a key for ``s``; then each party
   multiplies that by its share (``MultiMultEvalKey``) and the results are summed
   (``MultiAddEvalMultKeys``).
3. Rotation keys for the computation's :class:`KeyPlan`: party 1's (``EvalAtIndexKeyGen``),
   the others' on the same randomness (``MultiEvalAtIndexKeyGen``), summed
   (``MultiAddEvalAutomorphismKeys``).

The result is an ordinary *public* :class:`~hetensor.Context` (joint public, relinearization
and rotation keys, no secret key), so every :class:`EncryptedArray` operation, serialization,
:func:`hetensor.distributed.fit` and the Dask transport work unchanged. Decryption needs every
party: each computes a partial decryption with its share (``MultipartyDecryptLead`` for party
1, ``MultipartyDecryptMain`` for the others) and anyone fuses them
(``MultipartyDecryptFusion``). A missing partial raises; one share alone decrypts to noise.

Refresh: OpenFHE has no joint bootstrapping key. hetensor gives the joint context enough
depth for the Gram solver (``depth >= 2 + max_iter``: two levels for the statistics, one per
iteration), so **no owner is online during training**: owners are online for key generation
(the rounds above, once) and for each joint decryption (one partial decryption per result).
With ``setup(..., interactive_refresh=True)``,
:class:`ThresholdRefresh` lifts that bound with OpenFHE's interactive multiparty
bootstrapping (``IntMPBoot*``): all owners are online at every refresh round.

This is cryptography, not transport: it needs no Dask. Every OpenFHE call is made by the
encrypted layer's engine (ciphertext operations) and key module (key generation).

Examples
--------
>>> import numpy as np
>>> from hetensor.he.multiparty import fuse, setup                   # doctest: +SKIP
>>> joint, parties = setup(3, depth=4, rotations=[1], insecure=True)  # doctest: +SKIP
>>> x = joint.encrypt(np.array([1.0, 2.0]))                           # doctest: +SKIP
>>> y = (x * x).rotate(1)                                             # doctest: +SKIP
>>> partials = [p.partial_decrypt(y) for p in parties]               # doctest: +SKIP
>>> np.round(fuse(joint, y, partials), 4)                             # doctest: +SKIP
array([4., 1.])
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InsecureParametersWarning
from ._keys import KeyRing, threshold_keygen
from .array import EncryptedArray
from .context import Context
from .keys import KeyPlan

__all__ = [
    "REFRESH_RESERVE",
    "PartialDecryption",
    "Party",
    "ThresholdRefresh",
    "fuse",
    "joint_decrypt",
    "setup",
]

# Levels below the visible chain kept for interactive refresh: OpenFHE's IntMPBoot needs the
# ciphertext to keep at least 5 RNS towers (measured with 40-bit scaling: 4 fail to decode).
REFRESH_RESERVE = 5
_TOWERS: dict[str, int] = {}  # fingerprint -> RNS towers of joint contexts with the reserve


@dataclass(frozen=True)
class PartialDecryption:
    """One party's partial decryption of one encrypted array (safe to send to the fuser)."""

    party: int
    n_parties: int
    fingerprint: str
    ciphertexts: tuple[Any, ...] = ()


class Party:
    """One data owner in a threshold setup: its secret share and its protocol steps.

    Made by :func:`setup`. The share never leaves the object; the methods are what the owner
    does online (key-generation rounds, partial decryptions).
    """

    def __init__(
        self, index: int, n_parties: int, joint: Context, public_key: Any, secret: Any
    ) -> None:
        self.index = index
        self.n_parties = n_parties
        self.public_key = public_key
        self._joint = joint
        self._secret = secret

    def __repr__(self) -> str:
        return f"<hetensor threshold Party {self.index}>"

    @property
    def is_lead(self) -> bool:
        return self.index == 0

    def partial_decrypt(self, arr: EncryptedArray) -> PartialDecryption:
        """This party's share of decrypting ``arr`` (reveals nothing alone)."""
        if not isinstance(arr, EncryptedArray):
            raise TypeError(f"expected an EncryptedArray, got {type(arr).__name__}")
        if arr.is_symbolic:
            raise TypeError("a symbolic (placeholder) array holds no data")
        eng = self._joint._engine
        parts = tuple(
            eng.decrypt_share(ct, self._secret, lead=self.is_lead, party=self.index)
            for ct in arr._cts
        )
        return PartialDecryption(self.index, self.n_parties, arr.context.fingerprint, parts)

    def refresh_share(self, c1: Any, a: Any) -> Any:
        """This party's masked decryption and re-encryption shares (``IntMPBootDecrypt``)."""
        return self._joint._engine.refresh_share(self._secret, c1, a)

    def decrypt_alone(self, arr: EncryptedArray) -> np.ndarray:
        """Decrypt with this share only, to show that no single party can.

        Raises
        ------
        OpenFHEError
            What normally happens: the result is noise far beyond CKKS's range, and OpenFHE
            refuses to decode it. If it decodes, the values returned are that noise.
        """
        eng = self._joint._engine
        rows = [eng.decrypt_alone(ct, self._secret, party=self.index) for ct in arr._cts]
        return arr._decode(np.stack(rows), True)


def setup(
    n_parties: int,
    depth: int,
    *,
    rotations: KeyPlan | Iterable[int] = (),
    interactive_refresh: bool = False,
    **ckks_options: Any,
) -> tuple[Context, list[Party]]:
    """Run the threshold key generation for ``n_parties`` owners (all in this process).

    Parameters
    ----------
    n_parties : int
        Number of data owners (>= 2). All are needed to decrypt.
    depth : int
        Multiplicative depth of the joint context (the Gram solver needs ``2 + max_iter``).
    rotations : KeyPlan or iterable of int
        Rotation keys to generate jointly, e.g. ``EncryptedLinearRegression().key_plan(n, d)``.
    interactive_refresh : bool, default False
        Reserve the bottom levels that OpenFHE's interactive multiparty bootstrapping needs
        (the modulus chain gets ``depth + 5`` levels, computations see ``depth``), so
        :class:`ThresholdRefresh` can refresh ciphertexts with all parties online.
    **ckks_options
        Passed to :meth:`Context.ckks` (``insecure``, ``ring_dim``, ``scale_bits``, ...);
        bootstrapping and noise-flooding decryption are not available in threshold mode.

    Returns
    -------
    (Context, list of Party)
        The joint *public* context (no secret key anywhere) and the parties, party 0 leading.

    Examples
    --------
    >>> joint, parties = setup(3, depth=8, insecure=True)             # doctest: +SKIP
    >>> joint.role                                                     # doctest: +SKIP
    'public'
    """
    if isinstance(n_parties, bool) or not isinstance(n_parties, int) or n_parties < 2:
        raise ValueError(f"n_parties must be an int >= 2, got {n_parties!r}")
    for key in ("bootstrapping", "decryption", "noise_estimate"):
        if ckks_options.get(key) not in (None, False, "standard"):
            raise ValueError(f"{key}= is not supported in threshold mode")
    with warnings.catch_warnings():
        if ckks_options.get("insecure"):
            warnings.simplefilter("ignore", InsecureParametersWarning)
        # party 0's context: its parameters make the shared crypto context, its key pair is
        # party 0's share (the protocol's first round)
        reserve = REFRESH_RESERVE if interactive_refresh else 0
        lead = Context.ckks(depth + reserve, **ckks_options)
    if ckks_options.get("insecure"):
        warnings.warn(
            "INSECURE CKKS parameters (insecure=True) for the threshold setup: tests only.",
            InsecureParametersWarning,
            stacklevel=2,
        )
    indices = sorted({lead.normalize_rotation(k) for k in KeyPlan.coerce(rotations).rotations})
    indices = [i for i in indices if i]
    pairs = threshold_keygen(lead._cc, lead._keys, n_parties, indices)
    params = lead.params
    if interactive_refresh:  # hide the levels reserved for interactive refresh
        params = dataclasses.replace(params, depth=depth, total_depth=depth)
    joint = Context(_state=(lead._cc, params, KeyRing(lead._cc, pairs[-1][0], None, indices)))
    if interactive_refresh:
        _TOWERS[joint.fingerprint] = lead.params.total_depth + 1
    parties = [Party(i, n_parties, joint, pk, sk) for i, (pk, sk) in enumerate(pairs)]
    return joint, parties


def fuse(ctx: Context, arr: EncryptedArray, partials: Sequence[PartialDecryption]) -> np.ndarray:
    """Combine every party's :class:`PartialDecryption` of ``arr`` into the plaintext.

    Raises
    ------
    ValueError
        A party's partial is missing, duplicated or made for another context.
    """
    if not partials:
        raise ValueError("no partial decryptions given")
    n_parties = partials[0].n_parties
    got = sorted(p.party for p in partials)
    if got != list(range(n_parties)):
        raise ValueError(
            f"threshold decryption needs the partial decryptions of all {n_parties} parties "
            f"(0..{n_parties - 1}) exactly once, got parties {got}"
        )
    if any(p.n_parties != n_parties for p in partials):
        raise ValueError("partial decryptions from different threshold setups")
    if any(p.fingerprint != ctx.fingerprint for p in partials):
        raise ValueError("a partial decryption belongs to another context")
    ctx._check_compatible(arr)
    rows = [ctx._engine.fuse([p.ciphertexts[i] for p in partials]) for i in range(len(arr._cts))]
    return arr._decode(np.stack(rows), True)


def joint_decrypt(ctx: Context, arr: EncryptedArray, parties: Sequence[Party]) -> np.ndarray:
    """Every party's partial decryption, then :func:`fuse` (all parties online)."""
    return fuse(ctx, arr, [p.partial_decrypt(arr) for p in parties])


class ThresholdRefresh:
    """Interactive multiparty refresh of ciphertexts (OpenFHE ``IntMPBoot*``), all parties online.

    Pass as ``refresh_client`` with ``EncryptedLinearRegression(refresh="client")`` on a joint
    context made with ``setup(..., interactive_refresh=True)``. Each round, per ciphertext:
    the server compresses it (``Compress``, ``IntMPBootAdjustScale``), party 0 draws the common
    random polynomial ``a`` (``IntMPBootRandomElementGen``), **every party** computes its
    masked decryption share and re-encryption share from ``c1`` and ``a`` (``IntMPBootDecrypt``,
    :meth:`Party.refresh_share`), and the shares are summed and re-encrypted under the joint
    key (``IntMPBootAdd``, ``IntMPBootEncrypt``): a fresh ciphertext at the top of the chain.
    No party sees the value (the shares are masked), unlike :class:`OwnerRefresh`, where the
    single owner decrypts; the price is that all owners are online for every round.

    Attributes
    ----------
    rounds : int
        Refresh rounds run.

    Examples
    --------
    >>> joint, parties = setup(3, 7, rotations=plan, interactive_refresh=True)  # doctest: +SKIP
    >>> model = EncryptedLinearRegression(max_iter=20, refresh="client")        # doctest: +SKIP
    >>> model.fit(Xe, ye, refresh_client=ThresholdRefresh(joint, parties))      # doctest: +SKIP
    """

    def __init__(self, ctx: Context, parties: Sequence[Party]) -> None:
        if ctx.has_secret_key:
            raise ValueError("ThresholdRefresh needs the joint (public) context of setup()")
        if (
            sorted(p.index for p in parties) != list(range(len(parties)))
            or not parties
            or any(p.n_parties != len(parties) for p in parties)
        ):
            raise ValueError("ThresholdRefresh needs every party of the setup, each once")
        towers = _TOWERS.get(ctx.fingerprint)
        if towers is None:
            raise ValueError(
                "this joint context has no levels reserved for interactive refresh: make it "
                "with setup(..., interactive_refresh=True)"
            )
        self.ctx = ctx
        self.parties = sorted(parties, key=lambda p: p.index)
        self._towers = towers
        self.rounds = 0

    def _refresh(self, ct: Any) -> Any:
        eng = self.ctx._engine
        ct, c1, a = eng.refresh_begin(ct, self._towers)
        shares = [p.refresh_share(c1, a) for p in self.parties]  # each party, online
        return eng.refresh_end(ct, shares, a)

    def __call__(self, arrays: Sequence[EncryptedArray]) -> list[EncryptedArray]:
        self.rounds += 1
        out = []
        for arr in arrays:
            self.ctx._check_compatible(arr)
            out.append(arr._rebuilt(self.ctx, [self._refresh(ct) for ct in arr._cts]))
        return out
