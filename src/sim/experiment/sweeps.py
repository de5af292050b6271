"""Parameter sweeps: one scenario run at many points of its parameter space.

A sweep varies some of a scenario's values (factors, each named by its dotted path as in
``--set``) and runs the scenario at every point of a design: a full grid of listed values,
or a Latin hypercube or scrambled Sobol sample of ranges (``scipy.stats.qmc``, seeded by
the sweep's seed). Every point runs the same replications with the same root seed, so
replication i of every point draws from the same random streams (common random numbers):
differences between points come from the parameters, not from noise. The streams are per
source (one per modelled process and per uncertain input), so this holds even when a
parameter changes how many draws a source makes. A point is exactly the single run
``sim run SCENARIO --set PATH=VALUE ...`` with the same seed and replications.

The tables: ``points`` (``point`` and one column per factor), ``outcomes`` (``point``,
the factor values, then the run's outcome columns and drawn inputs), and a per-point
summary with the same quantities as a run's ``summary.csv``. Written to a folder, a sweep
is saved chunk by chunk as it goes, like a run (:mod:`sim.experiment.store`), and an interrupted one
is resumed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import qmc

from ..analysis import stats
from ..errors import Problem, ScenarioError, UsageError
from ..scenario.files import load_scenario, load_scenarios, parse_override, resolve_document
from ..scenario.schema import Scenario
from .executors import Task, executor_for
from .manifest import MANIFEST_VERSION, Manifest, model_digest, scenario_digest
from .results import atomic_write, read_columns, retire_manifest
from .runner import MemorySink, Progress, assemble, chunk_size_for, default_workers, run_tasks
from .sizes import refuse_design
from .store import FolderSink, Held, RunFolder, RunFolderError

if TYPE_CHECKING:
    from ..present.plots import SweepPlots

DESIGNS = ("grid", "lhs", "sobol")


class SweepError(UsageError):
    """A sweep cannot be set up as asked (a bad --vary, a design without samples, ...)."""


@dataclass(frozen=True)
class Factor:
    """One varied value: listed ``values`` (grid levels, or choices for a sample), or a
    continuous range ``low .. high``."""

    path: str
    values: tuple[Any, ...] = ()
    low: float = math.nan
    high: float = math.nan

    @property
    def is_range(self) -> bool:
        return not self.values

    def levels(self, count: int) -> tuple[Any, ...]:
        """The grid levels: the listed values, or ``count`` evenly spaced over the range."""
        if self.values:
            return self.values
        return tuple(float(v) for v in np.linspace(self.low, self.high, count))

    def at(self, u: np.ndarray) -> list[Any]:
        """Values at unit-interval coordinates ``u``: the range scaled, or a listed value
        (each an equal share of [0, 1))."""
        if self.is_range:
            return [float(v) for v in self.low + u * (self.high - self.low)]
        k = len(self.values)
        return [self.values[min(int(x * k), k - 1)] for x in u]


def parse_vary(text: str) -> Factor:
    """``PATH=LOW:HIGH`` (a range) or ``PATH=V1,V2,...`` (listed values, each read as YAML)."""
    if "=" not in text:
        raise SweepError(f"--vary {text!r}: expected PATH=LOW:HIGH or PATH=V1,V2,...")
    path, spec = (part.strip() for part in text.split("=", 1))
    if not path or not spec:
        raise SweepError(f"--vary {text!r}: expected PATH=LOW:HIGH or PATH=V1,V2,...")
    if ":" in spec and "," not in spec:
        low, high = (_value(path, part) for part in spec.split(":", 1))
        return make_factor(path, {"low": low, "high": high})
    return make_factor(path, [_value(path, part) for part in spec.split(",")])


def _value(path: str, text: str) -> Any:
    try:
        return parse_override(f"{path}={text.strip()}")[1]
    except ScenarioError as exc:
        raise SweepError(f"--vary {path}: {exc.problems[0].message}") from None


def make_factor(path: str, spec: Any) -> Factor:
    """A factor from a sweep file's entry: a list of values or ``{low: .., high: ..}``."""
    if isinstance(spec, Mapping):
        if set(spec) != {"low", "high"}:
            raise SweepError(f"{path}: a range is written {{low: L, high: H}} (got {dict(spec)})")
        low, high = spec["low"], spec["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= sys.float_info.max
                   for v in (low, high)):  # finite: no NaN, no infinity, no integer past float range
            raise SweepError(f"{path}: a range needs two finite numbers (got {low!r} and {high!r})")
        if not low < high:
            raise SweepError(f"{path}: a range needs LOW < HIGH (got {low} and {high})")
        return Factor(path, low=float(low), high=float(high))
    values = tuple(spec) if isinstance(spec, list | tuple) else (spec,)
    if not values:
        raise SweepError(f"{path}: no values to vary over")
    for v in values:
        if isinstance(v, Mapping | list):
            raise SweepError(f"{path}: each value must be a single number, word or true/false (got {v!r})")
    if len(set(map(repr, values))) < len(values):
        raise SweepError(f"{path}: a value is listed twice ({', '.join(map(repr, values))})")
    return Factor(path, values=values)


def make_design(factors: Sequence[Factor], design: str = "grid", *, samples: int | None = None,
                levels: int = 5, seed: int = 1) -> pd.DataFrame:
    """The points of a sweep: column ``point`` (0, 1, ...) and one column per factor path.

    ``grid``: every combination of the factors' levels (ranges get ``levels`` evenly spaced
    values), the last factor varying fastest. ``lhs`` / ``sobol``: ``samples`` points of a
    Latin hypercube or a scrambled Sobol sequence over the factors, seeded by ``seed``.
    """
    if not factors:
        raise SweepError("nothing to vary: give at least one --vary PATH=...")
    paths = [f.path for f in factors]
    if len(set(paths)) < len(paths):
        raise SweepError(f"a path is varied twice: {', '.join(paths)}")
    if design == "grid":
        if levels < 2:
            raise SweepError("--levels must be at least 2")
        refuse_design(design_size(factors, design, levels=levels), "grid")
        rows = list(itertools.product(*(f.levels(levels) for f in factors)))
    elif design in ("lhs", "sobol"):
        if not samples or samples < 1:
            raise SweepError(f"the {design} design needs --samples N")
        refuse_design(design_size(factors, design, samples=samples), f"{design} design")
        rng = np.random.default_rng(seed)
        engine = (qmc.LatinHypercube(d=len(factors), rng=rng) if design == "lhs"
                  else qmc.Sobol(d=len(factors), scramble=True, rng=rng))
        with warnings.catch_warnings():  # Sobol balance is best at powers of two; any n is valid
            warnings.simplefilter("ignore", UserWarning)
            unit = engine.random(samples)
        rows = list(zip(*(f.at(unit[:, j]) for j, f in enumerate(factors)), strict=True))
    else:
        raise SweepError(f"unknown design {design!r}; known: {', '.join(DESIGNS)}")
    points = pd.DataFrame(rows, columns=paths)
    points.insert(0, "point", np.arange(len(points), dtype=np.int64))
    return points


def design_size(factors: Sequence[Factor], design: str = "grid", *, samples: int | None = None,
                levels: int = 5) -> int:
    """The number of points :func:`make_design` would make, without making them."""
    if design == "grid":
        return math.prod(len(f.values) or levels for f in factors)
    return samples or 0


# --- sweep files ---------------------------------------------------------------------------

class SweepFile(BaseModel):
    """A sweep written as a file: the same as the ``sim sweep`` options."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    scenario: str = Field(description="The scenario file, relative to the sweep file.")
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=1)
    levels: int = Field(5, ge=2)
    runs: int = Field(1000, ge=1)
    seed: int = Field(1, ge=0)
    vary: dict[str, list[Any] | dict[str, Any] | int | float | bool | str]
    set: dict[str, Any] = Field(default_factory=dict)


def is_sweep_file(path: str | os.PathLike[str]) -> bool:
    """Whether the YAML file at ``path`` describes a sweep (it has ``vary:``) rather than a scenario."""
    data, _ = resolve_document(path)
    return "vary" in data


def load_sweep_file(path: str | os.PathLike[str]) -> SweepFile:
    """Read and check a sweep file; raises ScenarioError (one line per problem) if it is wrong."""
    spec: SweepFile = load_scenario(path, model=SweepFile)  # type: ignore[assignment]
    problems = []
    for key, value in spec.vary.items():
        try:
            make_factor(key, value)
        except SweepError as exc:
            problems.append(Problem(os.fspath(path), None, f"vary.{key}", str(exc).split(": ", 1)[-1]))
    if problems:
        raise ScenarioError(problems)
    spec.scenario = os.fspath(Path(path).parent / spec.scenario)
    return spec


# --- running -------------------------------------------------------------------------------

def point_scenarios(scenario_path: str | os.PathLike[str], points: pd.DataFrame,
                    overrides: Sequence[str] = ()) -> list[Scenario]:
    """The scenario at each point: the file, then ``overrides``, then the point's values.

    Raises ScenarioError for the first point that does not make a valid scenario, its
    problems prefixed with the point and its values.
    """
    base = dict(parse_override(text) for text in overrides)
    factors = [c for c in points.columns if c != "point"]
    rows = [(row[0], dict(zip(factors, row[1:], strict=True))) for row in points.itertuples(index=False)]
    scenarios: list[Scenario] = []
    made = load_scenarios(scenario_path, ({**base, **_plain(values)} for _, values in rows))
    for point, values in rows:
        try:
            scenarios.append(next(made))  # type: ignore[arg-type]
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in values.items())
            raise ScenarioError([Problem(p.file, p.line, p.path, f"at point {point} ({where}): {p.message}", p.value)
                                 for p in exc.problems]) from None
    return scenarios


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """numpy scalars as plain Python values, as a scenario file would hold them."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}


@dataclass
class Sweep:
    """A finished sweep: its points, every replication's outcomes, and its provenance."""

    points: pd.DataFrame
    outcomes: pd.DataFrame
    manifest: Manifest
    """The sweep's record (see :mod:`sim.experiment.manifest`); a mapping given here is read as one."""
    horizons: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.manifest = Manifest.of(self.manifest)

    @property
    def name(self) -> str:
        return self.manifest.name or "sweep"

    @property
    def factors(self) -> list[str]:
        return [c for c in self.points.columns if c != "point"]

    @property
    def plot(self) -> SweepPlots:
        """The sweep's figures: ``sweep.plot.effect(FACTOR)``, ``sweep.plot.heatmap(X, Y)``."""
        from ..present.plots import SweepPlots

        return SweepPlots(self)

    def __repr__(self) -> str:
        return (f"<Sweep {self.name}: {len(self.points)} points x {self.manifest.runs} replications, "
                f"factors {', '.join(self.factors)}>")

    def summary(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per (point, quantity): the factor values, then the columns of a run's
        summary (:data:`sim.analysis.stats.SUMMARY_COLUMNS`); of the outcome columns in
        ``columns`` only, if given (the probability rows are always there)."""
        parts = []
        for point, rows in self.outcomes.groupby("point", sort=True):
            table = stats.summarize(rows, self.horizons.get(int(point), self.manifest.horizon_years or 0), columns)
            table.insert(0, "point", int(point))
            parts.append(table)
        summary = pd.concat(parts, ignore_index=True)
        return self.points.merge(summary, on="point", how="right")

    def write(self, out_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """Write ``points.parquet``, ``outcomes.parquet``, ``summary.csv``, ``manifest.json``
        and (if asked) ``plots/`` into ``out_dir``; returns the files written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        retire_manifest(out)
        written = []
        for name, frame in (("points.parquet", self.points), ("outcomes.parquet", self.outcomes)):
            atomic_write(out / name, lambda p, f=frame: _to_parquet(f, p))
            written.append(out / name)
        summary = self.summary()
        atomic_write(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
        written.append(out / "summary.csv")
        if plots:
            from ..present.plots import write_sweep_plots

            written += write_sweep_plots(self, summary, out / "plots")
        # The manifest last: a folder whose manifest is written holds the whole sweep.
        text = self.manifest.to_json()
        atomic_write(out / "manifest.json", lambda p: p.write_text(text))
        return [*written, out / "manifest.json"]

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Sweep:
        """Read a folder written by :meth:`write` (or ``sim sweep``)."""
        path = Path(folder)
        manifest = Manifest.read(path / "manifest.json")
        if manifest.kind != "sweep":
            raise ValueError(f"{path} does not hold a sweep (no sweep manifest)")
        if manifest.status != "complete":
            raise FileNotFoundError(f"{path} holds an unfinished sweep: finish it with sim sweep ... --resume")
        horizons = dict(manifest.horizons)
        return cls(read_columns(path / "points.parquet"), read_columns(path / "outcomes.parquet"),
                   manifest, horizons)


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    # Listed values may mix kinds (1 and "high"): such a column is stored as text.
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(str)
    frame.to_parquet(path, index=False)


@dataclass
class SweepPlan:
    """What a sweep folder holds or will hold: enough to refuse a mismatched resume."""

    points_sha256: str  # the design (values and types) and the resolved scenario at each point
    seed: int
    runs: int  # per point
    chunk_size: int
    points: int
    model_sha256: str

    def tasks(self, scenarios: Sequence[Scenario]) -> list[tuple[int, Task]]:
        """(point, task) for every chunk of every point, point by point."""
        return [(p, Task(scn, self.seed, a, min(a + self.chunk_size, self.runs)))
                for p, scn in enumerate(scenarios) for a in range(0, self.runs, self.chunk_size)]


def _points_digest(points: pd.DataFrame, scenarios: Sequence[Scenario]) -> str:
    """sha256 of the design (its values and their types, which the tables keep) and of the
    resolved scenario at each point."""
    design = pd.util.hash_pandas_object(points, index=False).to_numpy().tobytes()
    types = json.dumps({c: str(t) for c, t in points.dtypes.items()}).encode()
    h = hashlib.sha256(design + types)
    h.update("\n".join(map(scenario_digest, scenarios)).encode())
    return h.hexdigest()


def run_sweep(scenario_path: str | os.PathLike[str], points: pd.DataFrame, *, runs: int, seed: int,
              overrides: Sequence[str] = (), workers: int | None = None,
              chunk_size: int | None = None, executor: str = "local", scheduler: str | None = None,
              progress: Progress | None = None, name: str | None = None,
              design: dict[str, Any] | None = None, out: str | os.PathLike[str] | None = None,
              resume: bool = False, overwrite: bool = False, plots: bool = True) -> Sweep:
    """Run ``runs`` replications (root seed ``seed``) at every point, all points' chunks on
    one pool or cluster, outcomes only. Raises ScenarioError if a point is not a valid scenario.

    With ``out`` the sweep is written there as it goes, as a run is (see :mod:`sim.experiment.store`):
    each finished chunk as a shard listed in the manifest, so that an interrupted sweep is
    finished with ``resume`` (the same points, seed and runs, or it is refused); a fresh
    sweep refuses to replace an interrupted one unless ``overwrite``. At the end the tables,
    summary and (if ``plots``) figures are written and the shards removed."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    scenarios = point_scenarios(scenario_path, points, overrides)
    workers = max(1, workers or default_workers())
    size = min(chunk_size_for(runs * len(scenarios), workers, chunk_size), runs)
    plan = SweepPlan(_points_digest(points, scenarios), seed, runs, size, len(scenarios), model_digest())
    began = time.perf_counter()

    def finish(frames: list[pd.DataFrame], plan: SweepPlan) -> Sweep:
        return _sweep_of(scenario_path, points, scenarios, frames, plan, overrides=overrides, workers=workers,
                         wall_seconds=time.perf_counter() - began, name=name, design=design)

    run_on = executor_for(executor, workers, scheduler)
    if out is None:
        tasks = plan.tasks(scenarios)
        kept = MemorySink()
        run_tasks(tasks, run_on, kept, timeseries=False, progress=progress)
        return finish([assemble([kept.chunks[(p, t.start)]])[0] for p, t in tasks], plan)

    folder = RunFolder(out)
    with folder.locked(create=not resume):
        if resume:
            manifest = _resumed_sweep(folder, plan)
            folder.check_before_resuming(manifest, finished=("points", "outcomes"), shards=("outcomes",))
            if manifest.status != "running":
                folder.clear_shards()  # left by a sweep stopped just after it completed
                return Sweep.open(folder.path)
            plan = SweepPlan(**(manifest.plan or {}))
        else:
            folder.clear(overwrite, Held("sweep", plan.points_sha256))
            manifest = Manifest(version=MANIFEST_VERSION, kind="sweep", status="running", plan=plan.__dict__,
                                name=name)
            folder.write_manifest(manifest)
        tasks = plan.tasks(scenarios)
        resumed = len(manifest.chunks_done)
        run_tasks(tasks, run_on, FolderSink(folder, manifest, timeseries=False, points=True), timeseries=False,
                  progress=progress)
        result = finish([read_columns(folder.shard("outcomes", t.start, t.stop, p)) for p, t in tasks], plan)
        result.manifest = result.manifest.model_copy(update={"status": "complete", "plan": plan.__dict__,
                                                             "chunks_resumed": resumed})
        # The shards go only once the manifest (written with the tables) says complete.
        result.write(folder.path, plots=plots)
        folder.clear_shards()
        return result


def _resumed_sweep(folder: RunFolder, plan: SweepPlan) -> Manifest:
    """The manifest of the sweep in ``folder``, checked against what is asked."""
    manifest = folder.read_manifest()
    if manifest is None or manifest.kind != "sweep" or manifest.plan is None:
        raise RunFolderError(f"nothing to resume in {folder.path}: it holds no sweep begun with this "
                             "version (run without --resume to start one)")
    held = SweepPlan(**manifest.plan)
    folder.check_model(held.model_sha256, "sweep")
    what = {"points": (held.points_sha256 != plan.points_sha256 or held.points != plan.points,
                       "different points (scenario, --set, --vary, --design, --samples or --levels; "
                       "values as first written: 1 and 1.0 differ)"),
            "seed": (held.seed != plan.seed, f"seed {held.seed} (this command asks for {plan.seed})"),
            "runs": (held.runs != plan.runs, f"{held.runs} runs per point (this command asks for {plan.runs})")}
    differ = [text for differs, text in what.values() if differs]
    if differ:
        raise RunFolderError(f"cannot resume {folder.path}: the sweep there has " + " and ".join(differ)
                             + ". Resume with the same options, or choose another --out.")
    return manifest


def _sweep_of(scenario_path: str | os.PathLike[str], points: pd.DataFrame, scenarios: Sequence[Scenario],
              frames: list[pd.DataFrame], plan: SweepPlan, *, overrides: Sequence[str], workers: int,
              wall_seconds: float, name: str | None, design: dict[str, Any] | None) -> Sweep:
    """The sweep from each chunk's outcome table (point by point, in replication order)."""
    outcomes = _outcome_table(points, frames, [p for p, _ in plan.tasks(scenarios)])
    first = scenarios[0]
    manifest = Manifest.of_run(
        first, seed=plan.seed, runs=plan.runs, workers=workers, chunk_size=plan.chunk_size,
        wall_seconds=wall_seconds, events_per_replication=float(outcomes["events"].mean()), kind="sweep",
        name=name or f"{first.name} sweep", scenario_file=os.fspath(scenario_path), overrides=list(overrides),
        points=len(points), horizon_years=first.horizon_years,
        horizons={int(p): s.horizon_years for p, s in zip(points["point"], scenarios, strict=True)},
        design=design or {}, factors=[c for c in points.columns if c != "point"])
    return Sweep(points, outcomes, manifest, dict(manifest.horizons))


def _outcome_table(points: pd.DataFrame, frames: list[pd.DataFrame], point_of: list[int]) -> pd.DataFrame:
    """One table from each chunk's outcomes, each row with its point and factor values."""
    parts = []
    values = points.set_index("point")
    for chunk, point in zip(frames, point_of, strict=True):
        n = len(chunk)
        frame = pd.DataFrame({"point": np.full(n, point, dtype=np.int64)})
        for factor in values.columns:
            frame[factor] = [values.at[point, factor]] * n
        parts.append(pd.concat([frame, chunk.reset_index(drop=True)], axis=1))
    outcomes = pd.concat(parts, ignore_index=True)
    outcomes["stalled"] = outcomes["stalled"].astype(bool)
    for factor in values.columns:
        outcomes[factor] = outcomes[factor].astype(points[factor].dtype)
    return outcomes
