"""How many replications are enough: runs that stop once their means are precise.

A Monte Carlo mean over n replications has a 95% interval of half-width about
1.96 s / sqrt(n); a run asked for a target precision p keeps adding replications, in
replication order, until that half-width is below p |mean| for every mean it watches
(the headline outcomes, by default), or a cap is reached.

The check is made only at fixed replication counts (check points every ``check_every``
replications), and only on the replications below the check point. Replication i is the
same whatever the workers, chunks or executor (see :mod:`sim.model.streams`), and the moments at
a check point are computed segment by segment, each segment's values in replication order,
so the same seed stops at the same count, bit for bit, on any machine layout.

A phase year that was not reached is not a value: the mean of a phase year is over the
replications that reached the phase, and its precision is judged on those. A mean of zero
with no spread (no tariff paid in any replication, say) is exact and counts as met; a mean
of zero with spread can never meet a relative target, and keeps the run going to the cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .sizes import refuse_plan

Z95 = 1.959963984540054
"""The standard normal's 97.5% quantile: a 95% interval is the mean plus or minus Z95 s/sqrt(n)."""


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of a set of values (Welford / Chan)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        x = np.asarray(values, dtype=float)
        x = x[~np.isnan(x)]
        if len(x) == 0:
            return cls()
        mean = float(x.mean())
        return cls(len(x), mean, float(((x - mean) ** 2).sum()))

    def __add__(self, other: Moments) -> Moments:
        """The moments of both sets together (Chan, Golub and LeVeque 1979)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        return Moments(n, self.mean + delta * other.n / n, self.m2 + other.m2 + delta**2 * self.n * other.n / n)

    def half_width(self) -> float:
        """Half-width of the 95% interval of the mean (infinite with fewer than two values)."""
        if self.n < 2:
            return math.inf
        return Z95 * math.sqrt(self.m2 / (self.n - 1) / self.n)

    def relative_half_width(self) -> float:
        """Half-width over |mean|: 0 for an exact zero (no spread), infinite for a zero mean with spread."""
        width = self.half_width()
        if width == 0:
            return 0.0
        return width / abs(self.mean) if self.mean != 0 else math.inf

    def as_list(self) -> list[float]:
        return [self.n, self.mean, self.m2]


def check_points(check_every: int, max_runs: int) -> list[int]:
    """The replication counts at which the precision is checked: every ``check_every``, and
    the cap."""
    if check_every < 1 or max_runs < 1:
        raise ValueError("check_every and max_runs must be at least 1")
    refuse_plan(math.ceil(max_runs / check_every))  # each check point ends a chunk
    points = list(range(check_every, max_runs, check_every))
    return [*points, max_runs]


def aligned_chunks(points: Sequence[int], chunk_size: int) -> list[tuple[int, int]]:
    """Chunks of at most ``chunk_size`` replications that never straddle a check point."""
    chunks, start = [], 0
    for stop in points:
        chunks += [(a, min(a + chunk_size, stop)) for a in range(start, stop, chunk_size)]
        start = stop
    return chunks


@dataclass(frozen=True)
class Verdict:
    """What a check point found: the count, the relative half-width of each watched mean,
    and whether all are under the target."""

    runs: int
    widths: dict[str, float]
    target: float

    @property
    def met(self) -> bool:
        return all(w < self.target for w in self.widths.values())

    @property
    def widest(self) -> tuple[str, float]:
        name = max(self.widths, key=lambda k: self.widths[k])
        return name, self.widths[name]


class PrecisionWatch:
    """Collects finished chunks (in any order) and judges each check point once every
    replication below it is in. Segment moments (one per stretch between check points) are
    what a resumed run needs to pick up the judging where it stopped."""

    def __init__(self, target: float, columns: Sequence[str], points: Sequence[int],
                 segments: Mapping[str, Mapping[str, Sequence[float]]] | None = None):
        if not target > 0:
            raise ValueError("the target precision must be above 0")
        self.target = target
        self.columns = list(columns)
        self.points = list(points)
        self.segments: dict[int, dict[str, Moments]] = {
            int(k): {c: Moments(int(v[0]), float(v[1]), float(v[2])) for c, v in cols.items()}
            for k, cols in (segments or {}).items()}
        self._parts: dict[int, list[tuple[int, dict[str, np.ndarray]]]] = {}
        self.verdicts: list[Verdict] = []
        self._totals = {c: Moments() for c in self.columns}  # over the segments judged so far
        self._judged = 0  # check points judged so far

    def segment_of(self, start: int) -> int:
        for k, stop in enumerate(self.points):
            if start < stop:
                return k
        raise ValueError(f"replication {start} is beyond the cap {self.points[-1]}")

    def add(self, start: int, stop: int, outcomes: Mapping[str, Any]) -> Verdict | None:
        """Take a finished chunk's outcome columns (arrays or a frame); returns the first
        check point that meets the target, if one now does (check points are judged in
        order, each once)."""
        k = self.segment_of(start)
        if k not in self.segments:
            self._parts.setdefault(k, []).append(
                (start, {c: np.asarray(outcomes[c], dtype=float) for c in self.columns}))
            begin = self.points[k - 1] if k else 0
            if sum(len(p[self.columns[0]]) for _, p in self._parts[k]) == self.points[k] - begin:
                parts = [p for _, p in sorted(self._parts.pop(k), key=lambda item: item[0])]
                self.segments[k] = {c: Moments.of(np.concatenate([p[c] for p in parts])) for c in self.columns}
        return self._judge()

    def judge(self) -> Verdict | None:
        """Judge the check points whose replications are all in (already, on a resumed run)."""
        return self._judge()

    def _judge(self) -> Verdict | None:
        while self._judged in self.segments:
            for c in self.columns:
                self._totals[c] = self._totals[c] + self.segments[self._judged][c]
            verdict = Verdict(self.points[self._judged],
                              {c: m.relative_half_width() for c, m in self._totals.items()}, self.target)
            self.verdicts.append(verdict)
            self._judged += 1
            if verdict.met:
                return verdict
        return None

    def stored_segments(self) -> dict[str, dict[str, list[float]]]:
        """The segment moments in a form a JSON manifest keeps."""
        return {str(k): {c: m.as_list() for c, m in cols.items()} for k, cols in sorted(self.segments.items())}

    @property
    def last(self) -> Verdict | None:
        return self.verdicts[-1] if self.verdicts else None


def describe_widths(widths: Mapping[str, float], names: Iterable[str] | None = None) -> str:
    """``name ±0.8%, ...`` for a verdict's widths."""
    keys = list(names) if names is not None else list(widths)
    return ", ".join(f"{k} \u00b1{widths[k]:.2%}" if math.isfinite(widths[k]) else f"{k} (no estimate)" for k in keys)
