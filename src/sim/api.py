"""The Python API: what an analyst calls from a notebook, and what the ``sim`` command calls.

    import sim
    scn = sim.load_scenario("scenarios/baseline.yaml", set={"horizon_years": 30})
    res = sim.run(scn, runs=2000, seed=1)            # or sim.open("results/baseline")
    res.outcomes, res.timeseries, res.summary()      # tidy pandas DataFrames
    res.plot.fan("export_value_usd"); res.plot.survival(); res.plot.hist("npv_usd")
    sim.compare(res, "scenarios/hybrid_model.yaml")  # run with res's seed, replications and set=
    sim.sweep("scenarios/baseline.yaml", vary={"shocks.security.rate_factor": [0.5, 1, 2]}, runs=200)
    sim.sensitivity(...); sim.discover(res, "phase3_year > 15"); sim.report(res, out="report.html")

Every function here takes plain values (paths, mappings, numbers) and returns a result
object holding pandas tables, figures through ``.plot``, and the provenance needed to
reproduce it. Nothing here prints. A scenario can be given as a file path or as the
:class:`~sim.scenario.schema.Scenario` :func:`load_scenario` returns; a scenario loaded here
carries its origin (its file, the files it extends, its overrides) as data, copies
included, so that a run records the question the file asks and the source of every
parameter, which the report shows.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .experiment import sizes
from .experiment.executors import EXECUTORS
from .experiment.manifest import Manifest
from .experiment.results import REPORT_OUTCOMES, REPORT_SERIES, ResultSet, report_folder
from .experiment.runner import simulate
from .experiment.store import RunFolder, run_to_folder
from .model.outputs import HEADLINE, is_outcome
from .scenario import files as scenario_files
from .scenario.files import override_texts
from .scenario.schema import Scenario

if TYPE_CHECKING:  # imported where used: comparing, sweeping and sensitivity need SciPy and SALib
    from .analysis.gsa import Sensitivity
    from .analysis.pairing import Comparison
    from .experiment.sweeps import Factor, Sweep, SweepFile

PathLike = str | os.PathLike[str]
Overrides = Mapping[str, Any] | Sequence[str] | None
ScenarioLike = Scenario | PathLike
Progress = Callable[[int], None]
Notice = Callable[[str], Any]

# --- scenarios -----------------------------------------------------------------------------

def load_scenario(path: PathLike, set: Overrides = None) -> Scenario:  # noqa: A002 - the API's word
    """Read, merge (``extends``), override and validate a scenario file.

    ``set`` overrides values by dotted path, as a mapping (``{"horizon_years": 30}``) or as
    ``"path=value"`` strings (the value read as YAML), like ``--set`` on the command line.
    Raises :class:`sim.ScenarioError` listing every problem, each with file and line. The
    scenario carries where it came from (``scn.origin``), and so does a copy of it.

    >>> scn = load_scenario("scenarios/baseline.yaml", set={"horizon_years": 30})
    >>> scn.horizon_years
    30
    """
    return scenario_files.load_scenario(path, override_texts(set))


def _scenario(scn: ScenarioLike, overrides: Overrides = None) -> Scenario:
    if isinstance(scn, Scenario):
        if overrides:
            file, texts = _origin(scn)
            return load_scenario(file, texts + override_texts(overrides))
        return scn
    return load_scenario(scn, overrides)


def _origin(scn: Scenario) -> tuple[str, list[str]]:
    """The file and overrides a scenario was loaded from; refuses one built in Python or
    changed in memory after loading (its file no longer says what it holds)."""
    origin = scn.origin
    if origin is None:
        raise UsageError("this scenario was not loaded with sim.load_scenario, so its file is not known: "
                         "give the scenario file's path instead")
    if origin.edited:
        raise UsageError(f"this scenario was changed in memory after it was loaded from {origin.file}, so the "
                         "file no longer says what it holds: load it with set={...} for the changes instead")
    return origin.file, list(origin.overrides)


def provenance(scn: Scenario, *, parameters: bool = False) -> dict[str, Any]:
    """What a run records of where its scenario came from: the file, the overrides and the
    question the file asks (its top comment); with ``parameters``, also every parameter
    with the source written beside it (for a run folder, which may travel without its
    scenario files)."""
    from .scenario.reference import file_question, parameter_table

    origin = scn.origin
    if origin is None or origin.edited or not Path(origin.file).exists():
        return {}
    file, texts = origin.file, list(origin.overrides)
    record: dict[str, Any] = {"scenario_file": file, "overrides": texts, "question": file_question(file)}
    if parameters:
        record["parameters"] = parameter_table(file, texts)
    return record


# --- runs ----------------------------------------------------------------------------------

def run(scenario: ScenarioLike, *, runs: int = 1000, seed: int = 1, set: Overrides = None,  # noqa: A002
        workers: int | None = None, chunk_size: int | None = None, executor: str = "local",
        scheduler: str | None = None, out: PathLike | None = None, resume: bool = False,
        overwrite: bool = False, timeseries: bool = True, target_precision: float | None = None, max_runs: int | None = None,
        precision_for: Sequence[str] | None = None, plots: bool = True, lazy: bool = False,
        progress: Progress | None = None, notice: Notice | None = None) -> ResultSet:
    """Run a scenario ``runs`` times (replication i's random streams are seeded from ``seed``, ``i`` and each stream's name)
    and return its :class:`~sim.experiment.results.ResultSet`.

    Without ``out`` the run is held in memory. With ``out`` it is written there chunk by
    chunk (resumable with ``resume=True``), with ``summary.csv`` and (if ``plots``) the
    figures (an interrupted run there is finished with ``resume=True``, or replaced only with
    ``overwrite=True``); ``lazy=True`` then leaves the outcome table on disk and reads a column when
    asked (for runs too large for memory). ``target_precision`` (0.01 = 1%) grows the run
    ``runs`` replications at a time until the 95% half-width of each mean in
    ``precision_for`` (default: the headline outcomes) is under that share of the mean, up
    to ``max_runs`` (default 100 x ``runs``). ``executor`` is ``"local"`` (a process pool of
    ``workers``) or ``"dask"`` (``scheduler`` an address, or a LocalCluster).

    A run that cannot fit (its plan, or its tables in memory or on ``out``'s disk) is refused
    with :class:`sim.experiment.sizes.SizeError` before anything starts, saying what it would take;
    ``notice(text)`` is told the same of a long run before it starts (see :mod:`sim.experiment.sizes`).

    >>> res = run("scenarios/baseline.yaml", runs=20, seed=1, workers=1)
    >>> len(res.outcomes), res.manifest.seed
    (20, 1)
    """
    check_executor(executor)
    if runs < 1:
        raise UsageError(f"{{runs}} must be at least 1 (got {runs})", options=("runs",))
    if target_precision is None and (max_runs is not None or precision_for):
        raise UsageError("{max_runs} and {precision_for} go with {target_precision}",
                         options=("max_runs", "precision_for", "target_precision"))
    if target_precision is not None and not 0 < target_precision <= 1:
        raise UsageError(f"{{target_precision}} is a share of the mean, above 0 and at most 1 (got {target_precision})",
                         options=("target_precision",))
    watched = list(precision_for or HEADLINE)
    _refuse_unknown_outcomes("precision_for", watched)
    cap = (max_runs or 100 * runs) if target_precision else runs
    if cap < runs:
        raise UsageError(f"{{max_runs}} ({cap}) must be at least {{runs}} ({runs}), the first check point",
                         options=("max_runs", "runs"))
    scn = _scenario(scenario, set)
    _check_run_size(scn, runs=runs, cap=cap, workers=workers, chunk_size=chunk_size, seed=seed,
                    timeseries=timeseries, out=out, target_precision=target_precision, lazy=lazy, notice=notice)
    if out is None:
        if resume:
            raise UsageError("{resume} needs {out}: the folder of the interrupted run", options=("resume", "out"))
        return simulate(scn, runs=cap, seed=seed, workers=workers, chunk_size=chunk_size, progress=progress,
                        executor=executor, scheduler=scheduler, provenance=provenance(scn), timeseries=timeseries,
                        target_precision=target_precision, check_every=runs, precision_columns=watched)
    folder = RunFolder(out)
    with folder.locked(create=not resume):  # no other run may replace the tables before they are reported on
        run_to_folder(scn, folder, runs=cap, seed=seed, workers=workers, chunk_size=chunk_size,
                      resume=resume, overwrite=overwrite, timeseries=timeseries, progress=progress,
                      executor=executor, scheduler=scheduler, target_precision=target_precision,
                      check_every=runs, precision_columns=watched,
                      provenance=provenance(scn, parameters=True))
        res, _ = report_folder(out, plots=plots)
        return res if lazy else ResultSet.open(out)


def _check_run_size(scn: Scenario, *, runs: int, cap: int, workers: int | None, chunk_size: int | None,
                    seed: int, timeseries: bool, out: PathLike | None, target_precision: float | None,
                    lazy: bool, notice: Notice | None) -> None:
    """Refuse a run that cannot fit, before its folder is touched; tell ``notice`` of a long one."""
    from .experiment.runner import chunk_size_for, default_workers

    n = max(1, workers or default_workers())
    first = min(cap, runs) if target_precision else cap  # a precision run's chunks fit its check step
    size = min(chunk_size_for(first, n, chunk_size), first)
    chunks = math.ceil(cap / size) + (math.ceil(cap / runs) if target_precision else 0)
    sizes.check(sizes.run_size(scn, runs=cap, chunks=chunks, workers=n, timeseries=timeseries,
                               out=out, in_memory=out is None or not lazy, seed=seed,
                               capped=target_precision is not None), notice)


def check_executor(executor: str) -> None:
    if executor not in EXECUTORS:
        raise UsageError(f"{{executor}}: must be one of {', '.join(EXECUTORS)} (got {executor!r})",
                         options=("executor",))


def open(folder: PathLike, **columns: Any) -> ResultSet | Sweep:  # noqa: A001 - sim.open, as promised
    """Read back what ``sim run`` (a :class:`ResultSet`) or ``sim sweep`` (a :class:`Sweep`)
    wrote. Keyword arguments go to :meth:`ResultSet.open` (``outcome_columns``,
    ``timeseries_columns``, ``lazy``)."""
    path = Path(folder)
    manifest = path / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(f"{path} is not a results folder (no manifest.json): give a folder "
                                "sim run or sim sweep wrote")
    if Manifest.read(manifest).kind == "sweep":
        from .experiment.sweeps import Sweep

        return Sweep.open(path)
    return ResultSet.open(path, **columns)


def _is_stored(item: ResultSet | ScenarioLike) -> bool:
    return isinstance(item, ResultSet) or (not isinstance(item, Scenario) and Path(item).is_dir())


def _stored(item: ResultSet | PathLike, **columns: Any) -> ResultSet:
    if isinstance(item, ResultSet):
        return item
    opened = open(item, **columns)
    if not isinstance(opened, ResultSet):
        raise UsageError(f"{item} holds a sweep, not a run")
    return opened


def compare(reference: ResultSet | ScenarioLike, *others: ResultSet | ScenarioLike,
            labels: Sequence[str] | None = None, outcomes: Sequence[str] | None = None,
            runs: int | None = None, seed: int | None = None, workers: int | None = None,
            on_run: Callable[[str, int, int, list[str]], None] | None = None,
            progress: Progress | None = None) -> Comparison:
    """Compare runs replication by replication against ``reference`` (common random numbers).

    Each item is a :class:`ResultSet`, a results folder, or a scenario (file or loaded);
    scenarios are run with the seed and replication count of the first run given (else
    ``seed`` and ``runs``, default 1 and 1000), and scenario files with that run's (or a
    loaded reference scenario's) ``--set`` overrides, so that a file is compared with the
    reference as it was run (a horizon of 30 years against 30 years). ``labels`` name them
    (default: the scenario names, or the folder and file names). ``on_run(label, runs, seed,
    overrides)`` is told before each scenario is run, and ``progress(n)`` as each batch of
    its n replications finishes. Raises :class:`sim.analysis.pairing.PairingError` for runs that
    cannot be paired: other seeds or replications, or another horizon or start date. A run
    that does not share a value the reference set with ``--set`` is compared, with a line in
    the result's ``notes`` saying so.
    The result's ``table`` has one row per outcome and compared run; ``plot`` draws them.
    """
    from .analysis.pairing import Comparison, unshared_overrides
    from .analysis.pairing import compare as paired_table

    items = [reference, *others]
    if len(items) < 2:
        raise UsageError("compare needs at least two runs or scenarios")
    names = _unique(list(labels) if labels is not None else [_label(i) for i in items])
    if len(names) != len(items):
        raise UsageError(f"{len(names)} labels for {len(items)} runs")
    opened = {i: _stored(item) for i, item in enumerate(items) if _is_stored(item)}  # type: ignore[arg-type]
    first = next(iter(opened.values()), None)
    seed = seed if seed is not None else (first.seed if first else 1)
    runs = runs if runs is not None else (first.runs if first else 1000)
    inherited = _overrides_of(first if first is not None else reference)
    _refuse_unknown_outcomes("outcomes", outcomes or ())  # before anything runs
    results = []
    for i, (item, name) in enumerate(zip(items, names, strict=True)):
        if i in opened:
            results.append(opened[i])
            continue
        given = [] if isinstance(item, Scenario) else inherited
        if on_run:
            on_run(name, runs, seed, given)
        results.append(run(item, runs=runs, seed=seed, workers=workers, set=given,  # type: ignore[arg-type]
                           progress=progress))
    absent = [c for c in outcomes or () if c not in results[0].outcomes.columns]
    if absent:
        raise UsageError(f"{{outcomes}}: {', '.join(absent)} not among the results (their commodities: "
                         f"{', '.join(results[0].scenario.commodities)})", options=("outcomes",))
    table = paired_table(results[0], results[1:], outcomes=outcomes, labels=names)
    notes = [n for b, name in zip(results[1:], names[1:], strict=True)
             if (n := unshared_overrides(results[0], b, (names[0], name)))]
    return Comparison(dict(zip(names, results, strict=True)), table, notes)


def _refuse_unknown_outcomes(option: str, names: Sequence[str]) -> None:
    unknown = [c for c in names if not is_outcome(c)]
    if unknown:
        raise UsageError(f"{{{option}}}: no outcome {', '.join(unknown)}; outcomes: {', '.join(REPORT_OUTCOMES)} "
                         "(<commodity> a commodity, <project> a project of the scenario)", options=(option,))


def _overrides_of(item: ResultSet | ScenarioLike) -> list[str]:
    """The ``--set`` overrides a run (as its manifest records them) or a loaded scenario was made with."""
    if isinstance(item, ResultSet):
        return list(item.manifest.overrides)
    if isinstance(item, Scenario):
        return list(item.origin.overrides) if item.origin else []
    return []


def _label(item: ResultSet | ScenarioLike) -> str:
    if isinstance(item, ResultSet | Scenario):
        return item.name or "scenario"
    path = Path(item)
    return path.name if path.is_dir() else path.stem


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


# --- exploring the parameter space ----------------------------------------------------------

Vary = Mapping[str, Any] | Sequence[str] | None


def factors_of(vary: Vary) -> list[Factor]:
    """Factors from ``{"path": [v1, v2]}`` / ``{"path": {"low": a, "high": b}}`` or from
    ``"PATH=LOW:HIGH"`` / ``"PATH=V1,V2"`` strings (as ``--vary``); later ones replace earlier."""
    if not vary:
        return []
    from .experiment.sweeps import make_factor, parse_vary

    made = ([make_factor(k, v) for k, v in vary.items()] if isinstance(vary, Mapping)
            else [parse_vary(v) for v in ([vary] if isinstance(vary, str) else vary)])
    return list({f.path: f for f in made}.values())


def sweep(scenario: ScenarioLike, vary: Vary = None, *, design: str | None = None, samples: int | None = None,
          levels: int | None = None, runs: int | None = None, seed: int | None = None, set: Overrides = None,  # noqa: A002
          workers: int | None = None, executor: str = "local", scheduler: str | None = None,
          name: str | None = None, out: PathLike | None = None, resume: bool = False, overwrite: bool = False,
          plots: bool = True, progress: Progress | None = None, expect: Progress | None = None,
          notice: Notice | None = None) -> Sweep:
    """Run a scenario at every point of a design over ``vary``, with common random numbers.

    ``scenario`` is a scenario (file or loaded) or a sweep file (a YAML file with
    ``scenario:`` and ``vary:``); arguments given here override the sweep file's.
    ``design`` is ``"grid"`` (every combination; ranges get ``levels`` values, default 5),
    ``"lhs"`` or ``"sobol"`` (``samples`` points). ``runs`` replications per point (default
    1000), root seed ``seed`` (default 1) at every point. With ``out``, the sweep is written
    there as it goes, chunk by chunk, and at the end its tables, summary and (if ``plots``)
    figures; an interrupted sweep there is finished with ``resume=True`` (the same
    arguments), or replaced only with ``overwrite=True``. ``expect(total)`` is told the
    number of replications once the design is made; ``progress(n)`` as each batch of n
    finishes. A sweep that cannot fit is refused before it starts, and ``notice(text)`` is
    told what a long one will take (see :mod:`sim.experiment.sizes`).

    >>> sw = sweep("scenarios/baseline.yaml", {"shocks.security.rate_factor": [1, 2]}, runs=10, workers=1)
    >>> list(sw.points.columns)
    ['point', 'shocks.security.rate_factor']
    """
    check_executor(executor)
    if resume and out is None:
        raise UsageError("resume needs out: the folder of the interrupted sweep")
    from .experiment.sweeps import design_size, make_design, run_sweep

    spec = _sweep_file(scenario)
    found = {f.path: f for f in factors_of(spec.vary if spec else None)}
    found.update({f.path: f for f in factors_of(vary)})
    design = design or (spec.design if spec else "grid")
    samples = samples or (spec.samples if spec else None)
    levels = levels or (spec.levels if spec else 5)
    seed = seed if seed is not None else (spec.seed if spec else 1)
    runs = runs or (spec.runs if spec else 1000)
    file, base = (spec.scenario, override_texts(spec.set)) if spec else _file_and_overrides(scenario)
    _check_sweep_size(file, base + override_texts(set), runs=runs, workers=workers, out=out, seed=seed,
                      notice=notice, points=design_size(list(found.values()), design, samples=samples, levels=levels))
    points = make_design(list(found.values()), design, samples=samples, levels=levels, seed=seed)
    if expect:
        expect(len(points) * runs)
    return run_sweep(file, points, runs=runs, seed=seed, overrides=base + override_texts(set), workers=workers,
                     executor=executor, scheduler=scheduler, progress=progress, name=sweep_name(scenario, name),
                     design={"design": design, "samples": samples, "levels": levels,
                             "vary": {f.path: list(f.values) or [f.low, f.high] for f in found.values()}},
                     out=out, resume=resume, overwrite=overwrite, plots=plots)


def _check_sweep_size(file: PathLike, overrides: list[str], *, points: int, runs: int, workers: int | None,
                      out: PathLike | None, seed: int, notice: Notice | None, what: str = "sweep",
                      loaded: tuple[Scenario, float] | None = None) -> None:
    """Refuse a sweep (or a sensitivity design) that cannot fit; tell ``notice`` of a long one.
    ``loaded`` is its scenario and the seconds loading it took, if already loaded. Small
    sweeps are not sized: they always fit."""
    if points * runs < sizes.PROBE_FROM:
        return
    from .experiment.runner import chunk_size_for, default_workers

    scn, loading = loaded or _timed_load(file, overrides)
    n = max(1, workers or default_workers())
    size = min(chunk_size_for(points * runs, n, None), runs)
    sizes.check(sizes.sweep_size(scn, points=points, runs=runs, chunks=points * math.ceil(runs / size), workers=n,
                                 out=out, seed=seed, seconds_per_point=loading, what=what), notice)


def _timed_load(file: PathLike, overrides: list[str]) -> tuple[Scenario, float]:
    began = time.perf_counter()
    scn = load_scenario(file, overrides)
    return scn, time.perf_counter() - began


def sweep_name(scenario: ScenarioLike, name: str | None = None) -> str:
    """The name a sweep of ``scenario`` (a scenario or a sweep file) goes by: ``name`` if
    given, else the sweep file's ``name:``, else the file's stem and ``-sweep``."""
    if name:
        return name
    spec = _sweep_file(scenario)
    if spec and spec.name:
        return spec.name
    file = _file_and_overrides(scenario)[0]  # a sweep file's own path, if it is one
    return f"{Path(file).stem}-sweep"


def _sweep_file(scenario: ScenarioLike) -> SweepFile | None:
    """The sweep file ``scenario`` names, if it names one rather than a scenario."""
    from .experiment.sweeps import is_sweep_file, load_sweep_file

    if isinstance(scenario, Scenario) or not is_sweep_file(scenario):
        return None
    return load_sweep_file(scenario)


def _file_and_overrides(scenario: ScenarioLike) -> tuple[str, list[str]]:
    return _origin(scenario) if isinstance(scenario, Scenario) else (os.fspath(scenario), [])


def sensitivity(scenario: ScenarioLike, vary: Vary, *, method: str = "sobol", samples: int = 64, runs: int = 100,
                seed: int = 1, outcomes: Sequence[str] | None = None, set: Overrides = None,  # noqa: A002
                workers: int | None = None, executor: str = "local", scheduler: str | None = None,
                out: PathLike | None = None, resume: bool = False, overwrite: bool = False, plots: bool = True,
                progress: Progress | None = None, expect: Progress | None = None,
                notice: Notice | None = None) -> Sensitivity:
    """Global sensitivity (SALib) of the outcomes to the ranges in ``vary``.

    ``method`` ``"sobol"``: first- and total-order indices with 95% bootstrap intervals, from
    N(D+2) points (``samples`` N a power of two, D ranges). ``"morris"``: elementary effects
    mu* and sigma from N(D+1) points. Each point is a sweep point of ``runs`` replications;
    ``outcomes`` are outcome columns or summary rows such as ``"P(stalled)"``. The result's
    ``indices`` table, ``notes`` on reliability, ``sweep`` (the design's runs) and
    ``plot()`` (the tornado chart); with ``out``, all of it is written there, the design's
    runs as they go, as a sweep's are: an interrupted analysis is finished with
    ``resume=True`` (the same options), or replaced only with ``overwrite=True``. A design
    that cannot fit is refused before it starts, and ``notice(text)`` is told what a long
    one will take (see :mod:`sim.experiment.sizes`).
    """
    from .analysis.gsa import METHODS, SENSITIVITY_QUANTITIES, design_size, run_sensitivity
    from .analysis.gsa import design as sensitivity_design

    check_executor(executor)
    if resume and out is None:
        raise UsageError("{resume} needs {out}: the folder of the interrupted analysis", options=("resume", "out"))
    if method not in METHODS:
        raise UsageError(f"{{method}}: must be one of {', '.join(METHODS)} (got {method!r})", options=("method",))
    found = factors_of(vary)
    file, base = _file_and_overrides(scenario)
    scn, loading = _timed_load(file, base + override_texts(set))
    _check_sweep_size(file, [], points=design_size(found, method, samples), runs=runs, workers=workers, out=None,
                      seed=seed, notice=notice, what="sensitivity analysis", loaded=(scn, loading))
    points = sensitivity_design(found, method, samples, seed)  # refuses a bad design before anything runs
    if expect:
        expect(len(points) * runs)
    result = run_sensitivity(file, found, method=method, samples=samples, runs=runs, seed=seed,
                             overrides=base + override_texts(set),
                             quantities=list(outcomes or SENSITIVITY_QUANTITIES), workers=workers,
                             executor=executor, scheduler=scheduler, progress=progress,
                             name=f"{scn.name}-{method}", scenario_name=sensitivity_name(file, scn),
                             out=out, resume=resume, overwrite=overwrite, plots=False)
    if out is not None:
        result.write(out, plots=plots, sweep=False)  # the sweep is there already
    return result


def sensitivity_name(file: PathLike, scn: Scenario) -> str:
    """The scenario's name in a sensitivity analysis's title and default folder."""
    return scn.name or Path(file).stem


def discover(results: ResultSet | Sweep | PathLike | Any, where: str, *, outcome: str | None = None,
             inputs: Sequence[str] | None = None, max_depth: int = 4, min_support: float = 0.05) -> Any:
    """Scenario discovery: boxes of the drawn inputs (and a sweep's factors) where ``where``
    holds (``"phase3_year > 15"``, or ``"> 15"`` with ``outcome``; ``"stalled == true"``).

    ``results`` is a run, a sweep, a results folder or an outcome table. Returns a
    :class:`sim.analysis.discovery.Discovery`: ``boxes`` with coverage, density and support,
    ``table()``, ``plot()``, ``write(folder)``.
    """
    import pandas as pd

    from .analysis.discovery import discover as find_boxes
    from .analysis.discovery import load_outcomes, parse_condition
    from .experiment.sweeps import Sweep

    condition = parse_condition(where, outcome)
    if isinstance(results, pd.DataFrame):
        table, label = results, "outcomes"
    elif isinstance(results, ResultSet | Sweep):
        table = results.outcomes if isinstance(results.outcomes, pd.DataFrame) else results.outcomes.to_frame()
        label = results.name
    else:
        table, manifest = load_outcomes(results)
        label = manifest.name or (manifest.scenario or {}).get("name") or Path(results).name
    found = find_boxes(table, condition, inputs=inputs, max_depth=max_depth, min_support=min_support)
    found.name = label
    return found


def report(results: ResultSet | PathLike, compare_with: Sequence[ResultSet | PathLike] = (), *,
           out: PathLike = "report.html", format: str | None = None,  # noqa: A002
           labels: Sequence[str] | None = None, on_run: Callable[[str, int, int, list[str]], None] | None = None,
           progress: Progress | None = None, step: Callable[[str], None] | None = None) -> Path:
    """Write a report of a run (and its paired comparison with ``compare_with``) that reads
    without running anything: one self-contained HTML file (``format="html"``, images
    embedded), or Markdown (``"md"``) with its figures in a folder beside it. The format
    follows ``out``'s suffix unless given. Scenario files in ``compare_with`` are run first
    (``on_run`` and ``progress`` as for :func:`compare`); ``step(text)`` is told what the
    report is doing as it goes. Returns the path written."""
    from .present.reports import write_report

    fmt = format or ("md" if Path(out).suffix.lower() in (".md", ".markdown") else "html")
    if fmt not in ("html", "md"):
        raise UsageError(f"{{format}}: must be html or md (got {fmt!r})", options=("format",))
    kept = {"outcome_columns": REPORT_OUTCOMES, "timeseries_columns": REPORT_SERIES, "lazy": True}
    main = _stored(results, **kept)
    others = [_stored(o, **kept) if _is_stored(o) else o for o in compare_with]
    cmp = compare(main, *others, labels=labels, on_run=on_run, progress=progress) if others else None
    return write_report(main, cmp, Path(out), fmt, step)


__all__ = ["compare", "discover", "load_scenario", "open", "report", "run", "sensitivity", "sweep"]
