"""How big a job is, before it starts: replications, plan, time, memory and disk.

A run, a sweep or a sensitivity analysis that cannot fit is refused before anything is
written or started: a plan of more chunks than a run folder's manifest can list
(:data:`MAX_CHUNKS`), a design of more points than can be loaded (:data:`MAX_POINTS`),
tables that would not fit in the memory this machine has free (a run held in memory, a
sweep, which always is), or in the free space of its output folder's disk. The refusal
says what the job would take: replications, time, memory and disk. A job that fits but
takes more than :data:`LONG_JOB` seconds is described the same way before it starts.

Time is measured, not assumed: a large job first times one replication of its own
scenario in this process (the baseline takes about 0.04 s on one core of the benchmark
machine, 24 replications a second, see ``benchmarks/results.md``; a one-year horizon is
ten times quicker, a scenario with many attacks slower), and a sweep times the loading of
one point's scenario. That replication also meets the event budget
(:data:`sim.scenario.schema.EVENT_BUDGET`) before anything is written. Table sizes count 8 bytes
per number: one row per replication (outcomes and drawn inputs) and one per
replication-year (the time series); the Parquet files on disk come out smaller (1.3 MB
against 1.6 MB for 400 baseline replications), and a run's shards and its compacted
tables are on disk together for a while, so a run needs twice its tables.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..model.outputs import OUTCOMES, TIMESERIES
from ..scenario.schema import Scenario

MAX_CHUNKS = 40_000
"""The most chunks a plan may hold. A run folder's manifest lists every finished chunk and
is rewritten as each one finishes, so its size and the work of rewriting it grow with the
chunks; 40,000 chunks of the default 250 replications are 10 million replications."""

MAX_POINTS = 100_000
"""The most points a sweep or sensitivity design may hold: each point's scenario is
loaded, checked and kept in memory before the first replication runs."""

LONG_JOB = 60.0
"""Seconds beyond which a job that fits is described before it starts."""

PROBE_FROM = 1000
"""Jobs of at least this many replications (or refused ones) time a replication first."""

BYTES_PER_NUMBER = 8
IN_MEMORY_COPIES = 4
"""Peak memory of a run held in memory, in multiples of its tables: the finished chunks, the
assembled frames and the copies made while joining them (measured: the peak grew by 3.4
times the tables for 4,000 baseline replications, by 3.9 times for 20,000 of one year)."""
SCENARIO_BYTES = 100_000
"""Memory held per design point for its scenario (about 70 kB for the baseline)."""
PARALLEL_EFFICIENCY = 0.9
"""Share of a worker's speed a pool keeps (0.94 measured on 2 workers)."""


class SizeError(UsageError):
    """A job that cannot fit: the message says what it would take and what to change."""


@dataclass(frozen=True)
class Size:
    """What a job would take. ``memory`` is held in this process, ``disk`` written to the
    output folder; ``free_memory`` and ``free_disk`` are what the machine has (None when
    not known or not needed)."""

    what: str
    replications: int
    points: int
    chunks: int
    workers: int
    memory: int
    disk: int
    seconds_per_replication: float | None = None
    seconds_per_point: float = 0.0
    free_memory: int | None = None
    free_disk: int | None = None
    capped: bool = False  # ``replications`` is a cap (a precision run may stop before it)

    @property
    def seconds(self) -> float | None:
        if self.seconds_per_replication is None:
            return None
        speed = self.workers * (PARALLEL_EFFICIENCY if self.workers > 1 else 1.0)
        loading = self.points * self.seconds_per_point if self.points > 1 else 0.0
        return self.replications * self.seconds_per_replication / speed + loading

    def problems(self) -> list[str]:
        """Why the job cannot fit (empty if it can)."""
        found = []
        if self.chunks > MAX_CHUNKS:
            hint = ((" (a larger --runs, the step between checks, or --chunk-size makes fewer)" if self.capped
                     else " (a larger --chunk-size makes fewer)") if self.what == "run" else "")
            found.append(f"its plan holds {self.chunks:,} chunks, more than the {MAX_CHUNKS:,} a results "
                         f"folder can list{hint}")
        if self.points > MAX_POINTS:
            found.append(f"its design has {self.points:,} points, more than the {MAX_POINTS:,} that can be "
                         "loaded")
        if self.free_memory is not None and self.memory > self.free_memory:
            found.append(f"it needs about {_bytes(self.memory)} of memory and {_bytes(self.free_memory)} "
                         "is free")
        if self.free_disk is not None and self.disk > self.free_disk:
            found.append(f"it writes about {_bytes(self.disk)} and its folder's disk has {_bytes(self.free_disk)} "
                         "free")
        return found

    def describe(self) -> str:
        """One sentence: replications (and points), time at the measured rate, memory, disk."""
        what = f"{'up to ' if self.capped else ''}{self.replications:,} replications"
        if self.points > 1:
            what += f" ({self.points:,} points)"
        parts = [what]
        if self.seconds is not None and self.seconds_per_replication:
            rate = 1.0 / self.seconds_per_replication
            parts.append(f"about {duration(self.seconds)} on {self.workers} worker(s) at {rate:,.0f} "
                         "replications/s each (timed on this scenario)")
        if self.memory:
            parts.append(f"about {_bytes(self.memory)} of memory")
        if self.disk:
            parts.append(f"{_bytes(self.disk)} on disk")
        return f"This {self.what} is " + ", ".join(parts) + "."


def duration(seconds: float) -> str:
    """``"40 s"``, ``"12 min"``, ``"3.5 h"``, ``"12 days"``, ``"3.2 years"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    if seconds < 730 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365.25 * 86400):,.1f} years"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{max(n, 0) / 1e3:,.0f} kB"


# --- what one replication takes ------------------------------------------------------------

_TIMED: dict[int, tuple[Scenario, float]] = {}


def seconds_per_replication(scenario: Scenario, seed: int = 1) -> float:
    """Time replications 0 and 1 of ``scenario`` here and keep the quicker (the first pays
    for warming up); remembered per scenario. Raises :class:`~sim.errors.EventBudgetError`
    if one passes the event budget."""
    from ..model.engine import run_replication

    hit = _TIMED.get(id(scenario))
    if hit is None or hit[0] is not scenario:
        times = []
        for i in (0, 1):
            began = time.perf_counter()
            run_replication(scenario, seed, i)
            times.append(time.perf_counter() - began)
        if len(_TIMED) > 32:
            _TIMED.clear()
        hit = _TIMED[id(scenario)] = (scenario, min(times))
    return hit[1]


def row_bytes(scenario: Scenario) -> tuple[int, int]:
    """Bytes of one replication's outcome row (with its drawn inputs) and of its yearly rows."""
    from ..model.sampling import uncertain_inputs

    members = {"commodity": len(scenario.commodities), "province": len(scenario.shocks.security.provinces),
               "group": len(scenario.shocks.refining.groups), "project": len(scenario.projects), None: 1}
    outcome = (sum(members[c.family] for c in OUTCOMES) + len(uncertain_inputs(scenario))) * BYTES_PER_NUMBER
    columns = sum(members[c.family] for c in TIMESERIES)  # at most: China's price only where it differs
    series = columns * BYTES_PER_NUMBER * scenario.horizon_years
    return outcome, series


# --- what the machine has ------------------------------------------------------------------

def free_memory() -> int | None:
    """Memory available to a new allocation (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(folder: str | os.PathLike[str]) -> int | None:
    """Free space on the disk that holds (or will hold) ``folder``."""
    path = Path(folder).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


# --- sizing jobs -----------------------------------------------------------------------------

def run_size(scenario: Scenario, *, runs: int, chunks: int, workers: int, timeseries: bool = True,
             out: str | os.PathLike[str] | None = None, in_memory: bool = True, seed: int = 1,
             capped: bool = False) -> Size:
    """The size of a run of ``runs`` replications planned in ``chunks`` chunks; ``in_memory``
    if its tables are held in this process, ``out`` if they are written there (a run into a
    folder is always timed, so that a scenario past the event budget is refused before the
    folder is touched)."""
    outcome, series = row_bytes(scenario)
    table = runs * (outcome + (series if timeseries else 0))
    size = Size("run", runs, 1, chunks, workers, memory=table * IN_MEMORY_COPIES if in_memory else 0,
                disk=2 * table if out is not None else 0,  # the shards and the compacted tables, for a while both
                free_memory=free_memory() if in_memory else None,
                free_disk=free_disk(out) if out is not None else None, capped=capped)
    return _timed(size, scenario, seed, always=out is not None)


def sweep_size(scenario: Scenario, *, points: int, runs: int, chunks: int, workers: int,
               out: str | os.PathLike[str] | None = None, seed: int = 1,
               seconds_per_point: float = 0.0, what: str = "sweep") -> Size:
    """The size of a sweep of ``points`` points of ``runs`` replications (outcomes only, held in
    memory); ``scenario`` is its first point's, ``seconds_per_point`` the time to load one."""
    outcome, _ = row_bytes(scenario)
    table = points * runs * outcome
    size = Size(what, points * runs, points, chunks, workers,
                memory=table * IN_MEMORY_COPIES + points * SCENARIO_BYTES,
                disk=2 * table if out is not None else 0, seconds_per_point=seconds_per_point,
                free_memory=free_memory(), free_disk=free_disk(out) if out is not None else None)
    return _timed(size, scenario, seed)


def _timed(size: Size, scenario: Scenario, seed: int, always: bool = False) -> Size:
    if size.replications < PROBE_FROM and not size.problems() and not always:
        return size
    return Size(**{**size.__dict__, "seconds_per_replication": seconds_per_replication(scenario, seed)})


def check(size: Size, notice: Callable[[str], Any] | None = None) -> Size:
    """Refuse a job that cannot fit (:class:`SizeError`, saying what it would take); tell
    ``notice`` about a long one."""
    problems = size.problems()
    if problems:
        fewer = "replications" if size.points == 1 else "points or replications per point"
        raise SizeError(f"{size.describe()} It cannot be done here: " + "; ".join(problems)
                        + f". Ask for fewer {fewer}.")
    seconds = size.seconds
    if notice is not None and seconds is not None and seconds > LONG_JOB:
        notice(size.describe())
    return size


def refuse_design(points: int, what: str = "design") -> None:
    """Refuse a design of more than :data:`MAX_POINTS` points before it is made."""
    if points > MAX_POINTS:
        raise SizeError(f"this {what} has {points:,} points, more than the {MAX_POINTS:,} that can be loaded "
                        "and run: ask for fewer levels or samples")


def refuse_plan(chunks: int) -> None:
    """Refuse a plan of more than :data:`MAX_CHUNKS` chunks before it is listed."""
    if chunks > MAX_CHUNKS:
        raise SizeError(f"a plan of {chunks:,} chunks is more than the {MAX_CHUNKS:,} a run folder can list: "
                        "ask for fewer replications or a larger chunk size")
