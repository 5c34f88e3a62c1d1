"""The planner: the cheapest 128-bit context for a workload and a memory budget.

A workload is what a computation needs of its context: multiplicative depth, the number of
rotation keys, and, with server-side refresh, how many iterations of how many levels run
between bootstraps. :func:`plan_context` tries the candidate parameter sets (depth per
bootstrap, secret distribution, scale), estimates each one's memory and time with the
calibrated model of ``_resources`` and keeps the fastest that fits the budget; the
:class:`ContextPlan` it returns makes the context (``plan.make()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ResourceError
from . import _resources
from ._resources import ResourceEstimate, format_bytes

__all__ = ["ContextPlan", "Workload", "plan_context"]

# Time of one key switch (a rotation or a relinearization) per D (l + K) N log2 N for a
# ciphertext of l towers, and of one sparse (1, 1) bootstrap per D (L + K) N log2 N (mostly
# its modular reduction at the top of the chain), by secret distribution: fitted to the
# server-bootstrapped regression benchmark (``hetensor bench --filter linreg_bootstrap``,
# one OpenMP thread; docs/benchmarks.md)
_SWITCH_SECONDS = 2.3e-9
_BOOT_SECONDS = {"uniform_ternary": 6.8e-7, "sparse_encapsulated": 2.5e-7}


@dataclass(frozen=True)
class Workload:
    """What a computation asks of its context.

    Attributes
    ----------
    depth : int
        Levels it needs without refreshing (leveled), or that every segment between two
        refreshes needs at least (with ``refresh="server"``: ``base_levels + 1``).
    rotations : int
        Rotation keys (besides bootstrapping's).
    steps : frozenset of int, optional
        The rotation steps themselves (then those among bootstrapping's keys cost nothing;
        ``rotations`` is ignored).
    iterations : int
        Iterations of ``levels_per_iteration`` levels each (0: a single leveled computation
        of ``depth``); ``(depth + segment_offset) / levels_per_iteration`` of them run
        between two refreshes.
    switches_per_iteration : int
        Key switches (rotations, relinearizations) per iteration, for the time estimate.
    refreshed : int
        Ciphertexts refreshed at each refresh (e.g. 2 with Nesterov momentum).
    bootstrap_slots : int or None
        Period of what is bootstrapped (sparse bootstrapping), None for leveled work.
    setup_switches : int
        Key switches of the set-up (e.g. the Gram statistics).
    """

    depth: int
    rotations: int = 0
    steps: frozenset[int] | None = None
    iterations: int = 0
    levels_per_iteration: int = 1
    segment_offset: int = 0
    switches_per_iteration: int = 0
    refreshed: int = 1
    bootstrap_slots: int | None = None
    setup_switches: int = 0

    def refreshes(self, depth: int) -> int:
        """Refresh rounds ``iterations`` need in a context of ``depth`` levels per refresh
        (one more for the final product, as predict needs a level)."""
        if not self.iterations:
            return 0
        per = max(1, (depth + self.segment_offset) // self.levels_per_iteration)
        return math.ceil(self.iterations / per)


@dataclass(frozen=True)
class ContextPlan:
    """A chosen context with its predicted memory and time; ``make()`` makes it.

    Attributes
    ----------
    parameters : dict
        Keyword arguments of :meth:`Context.ckks`.
    estimate : ResourceEstimate
        Predicted memory with the workload's rotation keys (``estimate.peak_bytes``; while
        bootstrapping ``estimate.run_peak_bytes``).
    seconds : float
        Predicted time to model: set-up and keys, the computation and its refreshes.
    refreshes : int
        Predicted refresh rounds (bootstraps of the refreshed ciphertexts, or client rounds).
    alternatives : tuple
        ``(parameters, peak bytes, seconds)`` of the other candidates considered.
    """

    parameters: dict[str, Any]
    estimate: ResourceEstimate
    seconds: float
    refreshes: int
    memory_limit: float | None = None
    alternatives: tuple[tuple[dict[str, Any], int, float], ...] = field(default=())

    def make(self) -> Any:
        """The data owner's context of these parameters (``Context.ckks(**parameters)``)."""
        from .context import Context

        return Context.ckks(**self.parameters, memory_limit=self.memory_limit)

    context = make

    def describe(self) -> str:
        """One line: the parameters, predicted memory and time."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return (
            f"Context.ckks({args}): ring 2^{self.estimate.ring_dim.bit_length() - 1}, about "
            f"{format_bytes(self.estimate.run_peak_bytes)} peak and {self.seconds:.0f} s "
            f"({self.refreshes} refreshes)"
        )


def _seconds(est: ResourceEstimate, work: Workload, depth: int, dist: str) -> tuple[float, int]:
    """Predicted time of ``work`` in a context of ``est`` with ``depth`` levels."""
    nlogn = est.ring_dim * math.log2(est.ring_dim)
    towers = depth + 1  # ciphertexts live in the fresh levels
    switch = _SWITCH_SECONDS * est.digits * (towers + est.p_towers) * nlogn
    refreshes = work.refreshes(depth)
    boot = 0.0
    if work.bootstrap_slots is not None:
        boot = _BOOT_SECONDS[dist] * est.digits * (est.towers + est.p_towers) * nlogn
    seconds = (
        est.keygen_seconds
        + switch * (work.setup_switches + work.iterations * work.switches_per_iteration)
        + refreshes * work.refreshed * boot
    )
    return seconds, refreshes


def _candidates(work: Workload) -> list[dict[str, Any]]:
    if work.bootstrap_slots is None:  # leveled, refreshed by the owner if at all
        # Only the default scale: a 35-bit scale (depth 3 in ring 2^13) holds values below
        # 2^20 before its last level, which the Gram statistics of a few thousand
        # standardized rows exceed (the bound check refuses them); the planner does not
        # see the data's bounds yet.
        return [{"depth": work.depth}]
    out = []
    lowest = max(work.depth, work.levels_per_iteration - work.segment_offset)
    for dist in ("sparse_encapsulated", "uniform_ternary"):
        for depth in range(lowest, lowest + 10):
            out.append(
                {
                    "depth": depth,
                    "bootstrapping": True,
                    "level_budget": (1, 1),
                    "bootstrap_slots": work.bootstrap_slots,
                    "secret_key_dist": dist,
                }
            )
    return out


def plan_context(
    work: Workload, *, memory_limit: float | None = None, security: int = 128
) -> ContextPlan:
    """The fastest context for ``work`` whose predicted memory fits the budget.

    Parameters
    ----------
    work : Workload
        Depth, rotation keys, iterations and refreshes of the computation.
    memory_limit : float, optional
        Bytes the context and its keys may take (default: the budget of
        :meth:`Context.ckks`).
    security : {128, 192, 256}

    Raises
    ------
    ResourceError
        No candidate fits the budget (the message names the smallest).

    Examples
    --------
    >>> from hetensor.he import Workload, plan_context
    >>> plan = plan_context(Workload(depth=2, rotations=8))
    >>> plan.estimate.ring_dim, plan.parameters["depth"]
    (8192, 2)
    """
    budget, source = _resources.memory_budget(memory_limit)
    scored: list[tuple[float, int, dict[str, Any], ResourceEstimate, int]] = []
    for params in _candidates(work):
        # scored without OpenFHE (the table's ring and digits); the winner is checked below
        est = _resources.quick_estimate(
            security=security, steps=work.steps, rotations=work.rotations, **params
        )
        if est is None:
            continue
        dist = params.get("secret_key_dist", "uniform_ternary")
        seconds, refreshes = _seconds(est, work, int(params["depth"]), dist)
        scored.append((seconds, est.run_peak_bytes, params, est, refreshes))
    fits = [s for s in scored if s[1] - _resources.process_bytes() <= budget]
    if not fits:
        least = min(scored, key=lambda s: s[1])
        raise ResourceError(
            f"no context for this workload fits the memory budget of {format_bytes(budget)} "
            f"({source}); the smallest, {least[2]}, needs about {format_bytes(least[1])}. "
            "Use fewer rotation keys, fewer bootstrap slots or a larger machine."
        )
    best = min(fits, key=lambda s: (s[0], s[1]))
    params = {**best[2], "security": security} if security != 128 else dict(best[2])
    exact = _resources.estimate_resources(rotations=best[3].rotation_keys, **params)
    others = tuple((s[2], s[1], round(s[0], 1)) for s in scored if s is not best)
    return ContextPlan(
        parameters=params,
        estimate=exact,
        seconds=best[0],
        refreshes=best[4],
        memory_limit=memory_limit,
        alternatives=others,
    )
