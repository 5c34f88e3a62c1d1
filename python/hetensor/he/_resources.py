"""Resource planning: the memory and key-generation time a context and its keys will take,
estimated before anything is allocated, and the budget they are checked against.

The model counts 8-byte words from the structure of the parameters: ring dimension ``N``,
``L`` towers of the ciphertext modulus Q (the total depth plus one), ``K`` towers of the
key-switching modulus P and ``D`` digits of hybrid key switching. An evaluation key
(relinearization, each rotation, each bootstrapping automorphism) is ``D x 2`` polynomials
over the ``L + K`` towers of QP; a fresh ciphertext is 2 polynomials over Q; bootstrapping
adds its automorphism keys and the precomputed plaintexts of its linear transforms (over QP).
The constants (``_CAL``) are calibrated against peak resident memory measured here
(``scripts/calibrate_resources.py``; the table is in ``docs/guide/contexts.md``).

The budget a big allocation must fit is 0.9 x the least of the cgroup's ``memory.max``, the
address-space limit (``RLIMIT_AS``) minus the address space in use, and the machine's RAM
(the first and the last less the resident memory in use). Low *available* memory only
warns: a refusal must not depend on the machine's momentary load.
"""

from __future__ import annotations

import math
import os
import resource
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .._validate import check_real
from ..errors import ResourceError

__all__ = [
    "ResourceEstimate",
    "check_budget",
    "default_digits",
    "estimate",
    "estimate_resources",
    "memory_budget",
]

# Context.ckks's keyword defaults (for estimate_resources)
_CKKS_DEFAULTS: dict[str, Any] = {
    "scale_bits": None,
    "first_mod_bits": None,
    "slots": None,
    "security": 128,
    "ring_dim": None,
    "bootstrapping": False,
    "level_budget": (3, 3),
    "bootstrap_slots": None,
    "num_large_digits": None,
    "insecure": False,
    "decryption": "standard",
    "noise_estimate": None,
    "secret_key_dist": "uniform_ternary",
}

WORD = 8  # bytes per RNS coefficient
AUX_BITS = 60  # bits of each tower of P
# calibration (measured with scripts/calibrate_resources.py, one OpenMP thread):
_CAL = {
    "process_bytes": 170 * 2**20,  # Python + numpy + openfhe + hetensor imported
    "context_words": 8.0,  # crypto-context tables and key-pair transients, x N (L + K)
    "key_factor": 1.05,  # a stored evaluation key, x its D * 2 * (L + K) * N words
    "boot_key_factor": 1.0,  # bootstrapping's automorphism keys, x D * 2 * (L + K) * N words
    "plaintext_factor": 1.0,  # precomputed bootstrapping plaintexts, x (L + K) * N words
    "key_seconds": 7e-9,  # key generation, x D (L + K) N log2 N per key
    "plaintext_seconds": 4e-9,  # bootstrapping precomputation, x (L + K) N log2 N each
    # running a bootstrap: its hoisted baby-step rotations in the extended basis, x
    # baby steps * 2 * (L + K) * N words (fitted to the regression benchmark's peak: 4713
    # MiB measured, 4025 MiB for context and keys, at depth 4, ring 2^16)
    "working_factor": 2.0,
}
# Rotations of the baby-step giant-step part of bootstrapping's linear transforms for small
# sparse setups, measured with OpenFHE 1.6 (level budget -> slots -> count); larger setups
# use the formula of _bsgs_rotations.
_BSGS_MEASURED = {
    (1, 1): {8: 7, 16: 15, 32: 16, 64: 32, 128: 32},
    (2, 2): {8: 6, 16: 7, 32: 14, 64: 15, 128: 30, 256: 31},
    (3, 3): {8: 4, 16: 7, 32: 10, 64: 10, 128: 21, 256: 24},
}


def default_digits(total_depth: int) -> int:
    """OpenFHE's default number of key-switching digits for a chain of ``total_depth``."""
    return 3 if total_depth > 3 else 2 if total_depth > 0 else 1


def _sparse_rotations(ratio: int) -> int:
    """Automorphisms sparse bootstrapping adds for ``ring_dim / (2 slots) = ratio``: the
    steps ``j 4^k * slots < ratio * slots``, ``j = 1, 2, 3`` (OpenFHE 1.6)."""
    return sum(1 for k in range(32) for j in (1, 2, 3) if j * 4**k < ratio)


def _bsgs_rotations(slots: int, level_budget: tuple[int, int]) -> int:
    measured = _BSGS_MEASURED.get((int(level_budget[0]), int(level_budget[1])), {})
    if slots in measured:
        return int(measured[slots])
    log_slots = max(1, int(math.log2(slots)))
    total = 0.0
    for budget in level_budget:
        b = min(budget, log_slots)
        total += b * 2 ** (math.ceil(log_slots / b) / 2 + 1)
    return math.ceil(total)


def bootstrap_counts(slots: int, ring_dim: int, level_budget: tuple[int, int]) -> tuple[int, int]:
    """(automorphism keys, precomputed plaintexts) of a bootstrapping setup for ``slots``."""
    keys = _bsgs_rotations(slots, level_budget) + _sparse_rotations(ring_dim // (2 * slots)) + 1
    if tuple(level_budget) == (1, 1):
        plaintexts = 2 * slots
    else:
        log_slots = max(1, int(math.log2(slots)))
        plaintexts = sum(
            min(b, log_slots) * 2 ** (math.ceil(log_slots / min(b, log_slots)) + 1)
            for b in level_budget
        )
    return keys, plaintexts


@dataclass(frozen=True)
class ResourceEstimate:
    """Predicted memory and key-generation time of a context and its keys.

    Attributes
    ----------
    ring_dim, towers, p_towers, digits : int
        The structure: ring dimension ``N``, towers of Q (``L``) and of P (``K``), digits of
        hybrid key switching (``D``).
    key_bytes : int
        One evaluation key (relinearization, a rotation): ``D x 2 x (L + K) x N`` words.
    ciphertext_bytes : int
        One fresh ciphertext at the top level (``2 L N`` words; ``2 l N`` at ``l`` towers).
    context_bytes : int
        The crypto context, key pair and relinearization key.
    rotation_keys : int
        Rotation keys counted in (besides bootstrapping's).
    bootstrap_keys, bootstrap_plaintexts : int
        Automorphism keys and precomputed plaintexts of the bootstrapping setup (0 without).
    bootstrap_bytes : int
        Bootstrapping's keys and precomputations, with the transient of their generation.
    peak_bytes : int
        Predicted peak resident memory of a process holding all of it (the interpreter and
        libraries included).
    working_bytes : int
        What running a bootstrap adds on top (its transient rotations); 0 without.
    keygen_seconds : float
        Predicted time to make the keys and the bootstrapping precomputation (one thread).
    """

    ring_dim: int
    towers: int
    p_towers: int
    digits: int
    key_bytes: int
    ciphertext_bytes: int
    context_bytes: int
    rotation_keys: int
    bootstrap_keys: int
    bootstrap_plaintexts: int
    bootstrap_bytes: int
    peak_bytes: int
    keygen_seconds: float
    working_bytes: int = 0

    @property
    def run_peak_bytes(self) -> int:
        """Predicted peak while computing (bootstrapping included): ``peak_bytes`` plus
        ``working_bytes``."""
        return self.peak_bytes + self.working_bytes

    @property
    def rotation_bytes(self) -> int:
        """Memory of the :attr:`rotation_keys`."""
        return self.rotation_keys * self.key_bytes

    def with_rotations(self, count: int) -> ResourceEstimate:
        """The same parameters with ``count`` rotation keys."""
        return _finish(replace(self, rotation_keys=int(count)))

    def describe(self) -> dict[str, Any]:
        """The estimate as a dict of readable fields (``ctx.info()["memory"]``)."""
        return {
            "peak": format_bytes(self.peak_bytes),
            "peak_bootstrapping": format_bytes(self.run_peak_bytes),
            "ring_dim": self.ring_dim,
            "towers_q_p": (self.towers, self.p_towers),
            "digits": self.digits,
            "per_key": format_bytes(self.key_bytes),
            "ciphertext": format_bytes(self.ciphertext_bytes),
            "context_and_keypair": format_bytes(self.context_bytes),
            "rotation_keys": f"{self.rotation_keys} x {format_bytes(self.key_bytes)}",
            "bootstrapping": (
                f"{self.bootstrap_keys} keys + {self.bootstrap_plaintexts} plaintexts: "
                f"{format_bytes(self.bootstrap_bytes)}"
                if self.bootstrap_keys
                else "none"
            ),
            "keygen_seconds": round(self.keygen_seconds, 1),
        }


def format_bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}" if unit == "GiB" else f"{n / size:.0f} {unit}"
    return f"{int(n)} B"


def estimate(params: Any, *, digits: int | None = None, rotations: int = 0) -> ResourceEstimate:
    """The resources of a context of ``params`` (:class:`CKKSParameters`) with ``digits``
    key-switching digits (None: OpenFHE's default) and ``rotations`` rotation keys."""
    n = int(params.ring_dim)
    towers = int(params.total_depth) + 1
    wanted = digits or default_digits(int(params.total_depth))
    alpha = math.ceil(towers / wanted)  # towers per digit
    d = math.ceil(towers / alpha)
    max_bits = params.first_mod_bits + (alpha - 1) * params.scale_bits
    # P exceeds the largest digit by a few bits (measured: a 55-bit digit needs one 60-bit
    # tower, a 57-bit one two)
    k = math.ceil((max_bits + 4) / AUX_BITS)
    key_words = d * 2 * (towers + k) * n
    boot_keys = boot_pts = 0
    if params.bootstrapping:
        boot_keys, boot_pts = bootstrap_counts(
            int(params.bootstrap_slots or params.slots), n, tuple(params.level_budget)
        )
        if params.secret_key_dist == "sparse_encapsulated":
            boot_keys += 2  # the switches to the sparse secret and back
    base = ResourceEstimate(
        ring_dim=n,
        towers=towers,
        p_towers=k,
        digits=d,
        key_bytes=int(_CAL["key_factor"] * key_words * WORD),
        ciphertext_bytes=2 * towers * n * WORD,
        context_bytes=int(
            (_CAL["context_words"] * (towers + k) * n + 3 * towers * n + key_words) * WORD
        ),
        rotation_keys=int(rotations),
        bootstrap_keys=boot_keys,
        bootstrap_plaintexts=boot_pts,
        bootstrap_bytes=int(
            (
                _CAL["boot_key_factor"] * boot_keys * key_words
                + _CAL["plaintext_factor"] * boot_pts * (towers + k) * n
            )
            * WORD
        ),
        peak_bytes=0,
        keygen_seconds=0.0,
        working_bytes=int(_CAL["working_factor"] * min(15, boot_keys) * 2 * (towers + k) * n * WORD)
        if params.bootstrapping
        else 0,
    )
    return _finish(base)


def _finish(e: ResourceEstimate) -> ResourceEstimate:
    """Fill in the totals of ``e`` from its parts."""
    nlogn = e.ring_dim * math.log2(e.ring_dim)
    per_key = _CAL["key_seconds"] * e.digits * (e.towers + e.p_towers) * nlogn
    seconds = (
        per_key * (1 + e.rotation_keys + e.bootstrap_keys)
        + _CAL["plaintext_seconds"] * e.bootstrap_plaintexts * (e.towers + e.p_towers) * nlogn
    )
    peak = (
        _CAL["process_bytes"]
        + e.context_bytes
        + e.rotation_keys * e.key_bytes
        + e.bootstrap_bytes
        + 4 * e.ciphertext_bytes  # a few working ciphertexts
    )
    return replace(e, peak_bytes=int(peak), keygen_seconds=float(seconds))


def estimate_resources(depth: int = 3, *, rotations: int = 0, **kwargs: Any) -> ResourceEstimate:
    """Predict the memory and key-generation time of ``Context.ckks(depth, **kwargs)`` with
    ``rotations`` rotation keys, without making any key.

    The parameters are chosen exactly as :meth:`Context.ckks` chooses them (OpenFHE's crypto
    context is made, no keys); the estimate is calibrated against measured peak resident
    memory (never more than 10% below it, at most 50% above, on the configurations of the
    calibration table in the contexts guide).

    Examples
    --------
    >>> import hetensor as ht
    >>> est = ht.he.estimate_resources(depth=3, rotations=10)
    >>> est.ring_dim, est.peak_bytes < 2**30
    (16384, True)
    """
    from . import _params

    unknown = set(kwargs) - set(_CKKS_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
    args = {**_CKKS_DEFAULTS, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # insecure=True warns at the real creation
        _cc, params = _params.create(depth, **args, stacklevel=2)
    return estimate(params, digits=params.key_digits, rotations=rotations)


def bootstrap_steps(slots: int, ring_dim: int, level_budget: tuple[int, int]) -> frozenset[int]:
    """Rotation steps (slot indices) surely among a sparse (1, 1) setup's keys (OpenFHE 1.6:
    the baby steps and the sparse multiples of ``slots``); empty for other setups."""
    if tuple(level_budget) != (1, 1):
        return frozenset()
    ratio = ring_dim // (2 * slots)
    baby = set(range(1, min(15, _bsgs_rotations(slots, (1, 1))) + 1))
    sparse = {j * 4**k * slots for k in range(32) for j in (1, 2, 3) if j * 4**k < ratio}
    return frozenset(baby | sparse)


def quick_estimate(
    depth: int,
    *,
    steps: frozenset[int] | None = None,
    rotations: int = 0,
    security: int = 128,
    scale_bits: int | None = None,
    first_mod_bits: int | None = None,
    bootstrapping: bool = False,
    level_budget: tuple[int, int] = (3, 3),
    bootstrap_slots: int | None = None,
    secret_key_dist: str = "uniform_ternary",
) -> ResourceEstimate | None:
    """:func:`estimate_resources` without OpenFHE's crypto context: the ring and digits
    from the HE standard's table, as ``Context.ckks`` searches them (for the planner, which
    scores many candidates; the chosen one is estimated exactly). ``steps``: the rotation
    steps (those among the bootstrapping keys are not counted), else ``rotations`` keys.
    None where no ring of the table holds the chain."""
    from ._params import (
        BOOTSTRAP_DIGIT_CANDIDATES,
        LEVELED_DIGIT_CANDIDATES,
        SMALL_FIRST_MOD_BITS,
        CKKSParameters,
        bootstrap_depth,
    )
    from ._security import HE_STANDARD_MAX_LOG_QP

    scale = scale_bits or (54 if bootstrapping else 40)
    first0 = first_mod_bits or 60
    total = depth + (bootstrap_depth(level_budget, secret_key_dist) + 1 if bootstrapping else 0)
    towers = total + 1
    firsts = [first0]
    if not bootstrapping and first_mod_bits is None and scale < SMALL_FIRST_MOD_BITS - 1:
        firsts.append(SMALL_FIRST_MOD_BITS)
    digit_options = BOOTSTRAP_DIGIT_CANDIDATES if bootstrapping else LEVELED_DIGIT_CANDIDATES
    bounds = HE_STANDARD_MAX_LOG_QP.get(security, {})
    best: tuple[int, int, int | None] | None = None  # (ring, first, digits)
    for first in firsts:
        for digits in (None, *digit_options):
            wanted = digits or default_digits(total)
            alpha = math.ceil(towers / wanted)
            if digits is not None and math.ceil(towers / alpha) != digits:
                continue  # OpenFHE refuses this split
            k = math.ceil((first + (alpha - 1) * scale + 4) / AUX_BITS)
            log_qp = first + total * scale + k * AUX_BITS
            rings = [n for n, bound in bounds.items() if log_qp <= bound]
            if not rings:
                continue
            if best is None or min(rings) < best[0]:
                best = (min(rings), first, digits)
    if best is None:
        return None
    ring, first, digits = best
    slots = ring // 2
    params = CKKSParameters(
        depth=depth,
        total_depth=total,
        scale_bits=scale,
        first_mod_bits=first,
        slots=slots,
        ring_dim=ring,
        security=security,
        bootstrapping=bootstrapping,
        level_budget=level_budget,
        log_q=first + total * scale,
        bootstrap_slots=(bootstrap_slots or slots) if bootstrapping else None,
        key_digits=digits,
        secret_key_dist=secret_key_dist,
    )
    if steps is not None:
        covered = (
            bootstrap_steps(int(params.bootstrap_slots or slots), ring, level_budget)
            if bootstrapping
            else frozenset()
        )
        normalized = {s % slots for s in steps} - {0}
        rotations = len(normalized - covered)
    return estimate(params, digits=digits, rotations=rotations)


# ---------------------------------------------------------------------- the budget
def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _proc_kib(path: str, field: str) -> int | None:
    """A ``Field: N kB`` line of /proc/self/status or /proc/meminfo, in KiB (None if absent)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (0 where unknown)."""
    return _proc_kib("/proc/self/status", field) or 0


def memory_limits() -> dict[str, int]:
    """What bounds this process's memory now, in bytes: ``"cgroup memory.max"``,
    ``"RLIMIT_AS"`` (the address-space limit less the address space in use) and ``"RAM"``
    (the first and the last less the resident memory in use); absent where unlimited or
    unknown."""
    rss = _status_kib("VmRSS") * 1024
    out: dict[str, int] = {}
    cgroup = _read_int("/sys/fs/cgroup/memory.max") or _read_int(
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    )
    if cgroup is not None and cgroup < 2**60:
        out["cgroup memory.max"] = cgroup - rss
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        out["RLIMIT_AS"] = int(soft) - _status_kib("VmSize") * 1024
    total = _proc_kib("/proc/meminfo", "MemTotal")
    if total is not None:
        out["RAM"] = total * 1024 - rss
    return out


def memory_budget(memory_limit: int | float | None = None) -> tuple[int, str]:
    """The bytes a new allocation may take and where the bound comes from.

    ``memory_limit`` (bytes) overrides; else 0.9 x the least of :func:`memory_limits`.
    """
    if memory_limit is not None:
        return int(check_real("memory_limit", memory_limit, 0, lo_open=True)), "memory_limit"
    limits = memory_limits()
    if not limits:
        return 2**62, "no limit found"
    source = min(limits, key=lambda k: limits[k])
    return int(0.9 * max(limits[source], 0)), f"0.9 x {source}"


def process_bytes() -> int:
    """The calibrated memory of the interpreter with hetensor imported (in the estimates)."""
    return int(_CAL["process_bytes"])


def check_budget(
    need: int,
    what: str,
    *,
    memory_limit: int | float | None = None,
    fixes: Callable[[], str] | None = None,
) -> None:
    """Raise ResourceError if ``need`` bytes (newly allocated by ``what``) exceed the budget
    (``fixes()`` says what fits); warn (RuntimeWarning) if they exceed the memory available
    now."""
    budget, source = memory_budget(memory_limit)
    if need > budget:
        raise ResourceError(
            f"{what} needs an estimated {format_bytes(need)}, over the memory budget of "
            f"{format_bytes(budget)} ({source}); nothing was allocated. "
            + (fixes() if fixes is not None else "")
            + " memory_limit= overrides the budget."
        )
    available = _proc_kib("/proc/meminfo", "MemAvailable")
    if memory_limit is None and available is not None and need > available * 1024:
        warnings.warn(
            f"{what} needs an estimated {format_bytes(need)}, more than the "
            f"{format_bytes(available * 1024)} available now: the machine may swap or "
            "kill the process",
            RuntimeWarning,
            stacklevel=4,
        )


def current_rss() -> int:
    """Resident memory of this process now, in bytes."""
    return _status_kib("VmRSS") * 1024


def suggest(params: Any, digits: int | None, budget: int, rotations: int = 0) -> str:
    """Changes of a bootstrapping request that fit ``budget`` (new bytes), as a sentence."""
    tips: list[str] = []

    def need(p: Any) -> int:
        est = estimate(p, digits=digits, rotations=rotations)
        return est.peak_bytes - int(_CAL["process_bytes"])

    if params.bootstrapping:
        slots = int(params.bootstrap_slots or params.slots)
        for s in (16, 8):
            if s < slots:
                p = replace(params, bootstrap_slots=s)
                if need(p) <= budget:
                    tips.append(f"bootstrap_slots={s} (about {format_bytes(need(p))})")
                    break
        if tuple(params.level_budget) != (1, 1) and slots <= 256:
            p = replace(params, level_budget=(1, 1))
            if need(p) <= budget:
                tips.append(f"level_budget=(1, 1) (about {format_bytes(need(p))})")
    for depth in range(int(params.depth) - 1, 0, -1):
        p = replace(params, depth=depth, total_depth=params.total_depth - params.depth + depth)
        if need(p) <= budget:
            tips.append(f"depth={depth} (about {format_bytes(need(p))}; the ring may shrink too)")
            break
    if not tips:
        return "No smaller depth or bootstrapping setup of this ring fits; use a larger machine."
    return "What fits: " + ", or ".join(tips) + "."


def suggest_keys(count: int, per_key: int, memory_limit: float | None) -> str:
    """What fits when ``count`` rotation keys of ``per_key`` bytes do not."""
    budget, _ = memory_budget(memory_limit)
    fit = max(0, budget // max(per_key, 1))
    return (
        f"At most {fit} of the {count} keys fit: plan fewer rotations (the hierarchical "
        "keys of power-of-two steps only, other rotations composed of them), or a "
        "smaller depth or ring (smaller keys)."
    )


def env_threads() -> int:
    """OpenMP threads OpenFHE will use (``OMP_NUM_THREADS``, else the CPU count)."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1
