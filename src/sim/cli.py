"""The ``sim`` command: run, validate and trace scenarios from the shell.

A thin layer over the Python API: it parses arguments, calls :func:`sim.load_scenario`,
:func:`sim.run` and friends, and prints. A bad scenario exits with status 2 and one line
per problem (``FILE:LINE: dotted.path: what is wrong (got VALUE)``), never a traceback.
"""

from __future__ import annotations

import csv
import re
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import api
from .engine import run_replication
from .errors import ScenarioError, UsageError
from .outputs import HEADLINE, display
from .reference import parameter_table
from .reports import number as _number
from .reports import unit as _unit
from .results import ResultSet
from .runner import ExecutorError
from .sampling import uncertain_inputs
from .schema import Scenario
from .store import Plan, RunFolder, RunFolderError, planned_runs, saved_runs

if TYPE_CHECKING:
    import pandas as pd

    from .gsa import Sensitivity
    from .sweeps import Sweep

REFUSED = (UsageError, RunFolderError, ExecutorError, OSError)
"""Errors the commands print on one line (exit 2) instead of a traceback."""

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Scenario simulation of Pakistan's critical-minerals and rare-earth ramp-up.")
out = Console()
err = Console(stderr=True)

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override a scenario value, e.g. --set shocks.security.enabled=false (value read as YAML). Repeatable.")]
SeedOption = Annotated[int, typer.Option(min=0, help="Root seed; replication i uses SeedSequence(seed, spawn_key=(i,)).")]


def _refuse(exc: ScenarioError) -> typer.Exit:
    """Print a scenario's problems, one line each; returns the exit (status 2) to raise."""
    for problem in exc.problems:
        typer.echo(problem.format(), err=True)
    return typer.Exit(2)


_FLAGS = re.compile(r"(?<![\w.-])(runs|max_runs|target_precision|precision_for|executor|method|format|set)(?=[ :(,]|$)")
"""Parameter names of the Python API as they appear in its messages, to be shown as flags."""


def _fail(exc: BaseException) -> typer.Exit:
    """Print a refused call on one line; returns the exit (status 2) to raise. The API's own
    checks name its parameters (max_runs); here they are the options (--max-runs)."""
    if isinstance(exc, ScenarioError):
        return _refuse(exc)
    text = str(exc)
    if type(exc) is UsageError:
        text = _FLAGS.sub(lambda m: "--" + m[1].replace("_", "-"), text)
    typer.echo(text, err=True)
    return typer.Exit(2)


def _resume_command(words: list[str], options: dict[str, Any]) -> str:
    """The command that finishes an interrupted run or sweep: ``words``, then each option
    that was given (a list repeats the option, True is a bare flag; numbers are written in
    full, so the resumed plan matches), then ``--resume``."""
    again = list(words)
    for flag, value in options.items():
        if value is None or value is False:
            continue
        if value is True:
            again.append(flag)
        else:
            values = value if isinstance(value, list | tuple) else [value]
            again += [a for v in values for a in (flag, repr(v) if isinstance(v, float) else str(v))]
    return shlex.join([*again, "--resume"])


def _interrupted(kind: str, folder: Path, again: str) -> typer.Exit:
    """Say what an interrupted run or sweep saved (as its manifest lists it) and how to
    finish it; returns the exit (status 130) to raise."""
    try:
        manifest = RunFolder(folder).read_manifest() or {}
        saved = f"{saved_runs(manifest):,} of {planned_runs(manifest):,}" if "plan" in manifest else "no"
    except RunFolderError:
        saved = "no"
    typer.echo(f"Interrupted: {saved} replications are saved in {folder}/. Finish the {kind} with:\n"
               f"  {again}", err=True)
    return typer.Exit(130)


def _notice(quiet: bool) -> Any:
    """What the API tells of a long job before it starts (its size and time), printed to
    standard error unless ``quiet``."""
    return None if quiet else (lambda text: err.print(text, highlight=False, soft_wrap=True))


def _load(path: Path, overrides: list[str] | None) -> Scenario:
    try:
        return api.load_scenario(path, overrides or [])
    except ScenarioError as exc:
        raise _refuse(exc) from None


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    runs: Annotated[int, typer.Option(min=1, help="Number of replications.")] = 1000,
    seed: SeedOption = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")] = None,
    chunk_size: Annotated[int | None, typer.Option(min=1, help="Replications per chunk of work (and per shard on disk).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default: results/<scenario name>).")] = None,
    overrides: SetOption = None,
    executor: Annotated[str, typer.Option(help="Where chunks run: local (a process pool on this machine) or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://HOST:8786 (implies --executor dask); without it, --executor dask starts a LocalCluster.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in --out: only its missing chunks are run. Give the same scenario, --set, --seed and --runs; the run keeps its own chunk size and --no-timeseries.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start anew in an --out that holds an interrupted run, discarding what it saved (without this, such a folder is refused).")] = False,
    timeseries: Annotated[bool, typer.Option("--timeseries/--no-timeseries", help="Keep the yearly time series (--no-timeseries keeps outcomes only, for very large runs).")] = True,
    target_precision: Annotated[float | None, typer.Option(min=1e-6, max=1, help="Run until the 95% interval half-width of each headline mean is under this share of the mean (0.01 = 1%), checking every --runs replications, up to --max-runs.")] = None,
    max_runs: Annotated[int | None, typer.Option(min=1, help="Cap on replications with --target-precision (default 100 x --runs).")] = None,
    precision_for: Annotated[list[str] | None, typer.Option(help="Outcome whose mean --target-precision watches (default: the headline outcomes). Repeatable.")] = None,
    plots: Annotated[bool, typer.Option(help="Write plots.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
) -> None:
    """Run a scenario many times and write outcome distributions.

    Each chunk of replications is saved as it finishes, so an interrupted run (Ctrl-C, a
    crash, a killed job) can be finished later with --resume. With --target-precision the
    run grows --runs replications at a time until its means are that precise.
    """
    scn = _load(scenario, overrides)
    target = out_dir or Path("results") / (scn.name or scenario.stem)
    cap = (max_runs or 100 * runs) if target_precision else runs
    bar = _LazyProgress(cap, quiet)
    try:
        with bar:
            res = api.run(scn, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size, out=target,
                          resume=resume, overwrite=overwrite, timeseries=timeseries, executor=executor, scheduler=scheduler,
                          target_precision=target_precision, max_runs=max_runs, precision_for=precision_for,
                          plots=plots, lazy=True, progress=bar.advance, notice=_notice(quiet))
    except REFUSED as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        again = _resume_command(["sim", "run", str(scenario)], {
            "--out": target, "--seed": seed, "--runs": runs, "--target-precision": target_precision,
            "--max-runs": cap if target_precision else None, "--precision-for": precision_for,
            "--set": overrides, "--workers": workers, "--executor": executor if executor != "local" else None,
            "--scheduler": scheduler, "--no-plots": not plots, "--quiet": quiet})
        raise _interrupted("run", target, again) from None
    if not quiet:
        _print_summary(res, res.summary())
        m = res.manifest
        chunks = len(Plan(**m["plan"]).chunks()) if "plan" in m else 0
        resumed = (f" ({m['chunks_resumed']} of {chunks} chunks were already done)"
                   if resume and m.get("chunks_resumed") else "")
        out.print(f"{m['runs']} replications in {m['wall_seconds']:.1f} s on {m['workers']} worker(s), "
                  f"{m['events_per_replication']:.0f} events per replication{resumed}.", soft_wrap=True)
    if "precision" in res.manifest:
        _print_precision(res.manifest["precision"])
    out.print(f"Results written to {target}/", highlight=False, soft_wrap=True)


def _print_precision(record: dict) -> None:
    from .precision import describe_widths

    widths = record["relative_half_widths"]
    worst = sorted(widths, key=lambda k: -widths[k])
    if record["met"]:
        out.print(f"Target precision \u00b1{record['target']:.2%} met at {record['runs']:,} replications "
                  f"(checked every {record['check_every']:,}); widest: {describe_widths(widths, worst[:3])}.",
                  highlight=False, soft_wrap=True)
    else:
        behind = [k for k in worst if not widths[k] < record["target"]]
        out.print(f"Target precision \u00b1{record['target']:.2%} not met by the cap of {record['max_runs']:,} "
                  f"replications; still wider: {describe_widths(widths, behind)}. Raise --max-runs, or "
                  "watch fewer means with --precision-for.", highlight=False, soft_wrap=True)


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
             overrides: SetOption = None) -> None:
    """Check scenario files; exit 2 if any has a problem."""
    bad = 0
    for f in files:
        try:
            scn = api.load_scenario(f, overrides or [])
        except ScenarioError as exc:
            bad += 1
            _refuse(exc)
            continue
        n = len(uncertain_inputs(scn))  # type: ignore[arg-type]
        out.print(f"{f}: ok ({n} uncertain inputs)", highlight=False)
    if bad:
        raise typer.Exit(2)


@app.command()
def params(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    overrides: SetOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or markdown.")] = "table",
) -> None:
    """List every parameter after extends and --set: value, unit, range, source or assumption."""
    if fmt not in ("table", "csv", "markdown"):
        typer.echo(f"--format: must be table, csv or markdown (got {fmt!r})", err=True)
        raise typer.Exit(2)
    _load(scenario, overrides)  # reports problems and exits 2 on a bad scenario
    rows = parameter_table(scenario, overrides or [])
    columns = ("path", "value", "unit", "range", "source")
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif fmt == "markdown":
        typer.echo("| " + " | ".join(columns) + " |")
        typer.echo("|" + "---|" * len(columns))
        for r in rows:
            typer.echo("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in columns) + " |")
    else:
        table = Table(title=f"Parameters of {scenario}", title_justify="left", box=box.SIMPLE_HEAD)
        for c in columns:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*(str(r[c]) for c in columns))
        out.print(table)


@app.command()
def compare(
    runs_or_scenarios: Annotated[list[Path], typer.Argument(
        metavar="A B [C ...]", help="Results folders (written by sim run) or scenario files; the first is the reference.")],
    runs: Annotated[int | None, typer.Option(min=1, help="Replications for scenario files (default: those of the first results folder, else 1000).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed for scenario files (default: that of the first results folder, else 1).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes for scenario files (default: all cores).")] = None,
    out_csv: Annotated[Path | None, typer.Option("--out", help="Also write the comparison table to this CSV file.")] = None,
    plots_dir: Annotated[Path | None, typer.Option("--plots", help="Write overlaid distributions and survival curves (distributions.png, phase_survival.png) to this folder.")] = None,
) -> None:
    """Compare runs replication by replication against the first (common random numbers).

    For each outcome: the mean of B - A with its 95% interval, and the share of replications
    in which B does better. Runs must share their seed and replications; scenario files are
    run with the seed and replication count of the first results folder given (or --seed and
    --runs).
    """
    def running(label: str, n: int, s: int) -> None:
        err.print(f"running {label} ({n} replications, seed {s}) ...", highlight=False)

    labels = [p.name if p.is_dir() else p.stem for p in runs_or_scenarios]
    try:
        result = api.compare(*runs_or_scenarios, labels=labels, runs=runs, seed=seed, workers=workers,
                             on_run=running)
    except (*REFUSED, ScenarioError, KeyError) as exc:
        raise _fail(exc) from None
    table = result.table
    if out_csv:
        table.to_csv(out_csv, index=False)
    for name, rows in table.groupby("b", sort=False):
        shown = Table(title=f"B = {name} against A = {table['a'].iloc[0]}: {int(rows['pairs'].max())} "
                            "paired replications", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, collapse_padding=True)
        for col in ("outcome", "unit", "mean A", "mean B", "B - A (95% interval)", "P(B better)"):
            shown.add_column(col, justify="left" if col in ("outcome", "unit") else "right")
        for r in rows.itertuples():
            o = r.outcome
            shown.add_row(o, _unit(o), _number(o, r.mean_a), _number(o, r.mean_b),
                          f"{_number(o, r.difference)} ({_number(o, r.ci95_low)}, {_number(o, r.ci95_high)})",
                          f"{r.p_b_better:.2f}")
        out.print(shown)
    out.print("B - A: mean paired difference over the replications where both have a value. "
              "P(B better): share of replications in which B does better (earlier phases, fewer "
              "incidents and costs, more exports, value added and NPV).", highlight=False)
    if out_csv:
        out.print(f"Comparison written to {out_csv}", highlight=False)
    if plots_dir:
        from .plots import save

        save(result.plot.distributions(HEADLINE), plots_dir / "distributions.png")
        save(result.plot.survival(), plots_dir / "phase_survival.png")
        out.print(f"Plots written to {plots_dir}/", highlight=False)


WorkersOption = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")]
ExecutorOption = Annotated[str, typer.Option(help="Where chunks run: local or dask.")]
SchedulerOption = Annotated[str | None, typer.Option(help="Address of a running Dask scheduler (implies --executor dask).")]
VaryOption = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="PATH=LOW:HIGH|V1,V2,...",
    help="A value to vary: a range (LOW:HIGH) or listed values (V1,V2,..., each read as YAML). Repeatable.")]


@app.command()
def sweep(
    target: Annotated[Path, typer.Argument(help="Scenario YAML file, or a sweep file (a YAML file with scenario: and vary:).")],
    vary: VaryOption = None,
    design: Annotated[str | None, typer.Option(help="grid (every combination; ranges get --levels values), lhs (Latin hypercube) or sobol (scrambled Sobol); default grid.")] = None,
    samples: Annotated[int | None, typer.Option(min=1, help="Points of an lhs or sobol design.")] = None,
    levels: Annotated[int | None, typer.Option(min=2, help="Values per range in a grid (default 5).")] = None,
    runs: Annotated[int | None, typer.Option(min=1, help="Replications per point (default 1000).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed, the same at every point (common random numbers); it also seeds the design (default 1).")] = None,
    overrides: SetOption = None,
    workers: WorkersOption = None,
    executor: ExecutorOption = "local",
    scheduler: SchedulerOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default: results/<name>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted sweep in --out: only its missing chunks are run. Give the same options.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start anew in an --out that holds an interrupted sweep, discarding what it saved.")] = False,
    plots: Annotated[bool, typer.Option(help="Write plots.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Run a scenario at many points of its parameter space, with common random numbers.

    Writes points.parquet (point and factor values), outcomes.parquet (every replication
    with its point and factor values), summary.csv (the run summary per point) and plots:
    each outcome against each factor, and a heatmap over the first two. Each chunk of
    replications is saved as it finishes, so an interrupted sweep can be finished with --resume.
    """
    bar = _LazyProgress(None, quiet)
    try:
        folder = out_dir or Path("results") / api.sweep_name(target)
        with bar:
            result = api.sweep(target, vary, design=design, samples=samples, levels=levels, runs=runs, seed=seed,
                               set=overrides, workers=workers, executor=executor, scheduler=scheduler,
                               out=folder, resume=resume, overwrite=overwrite, plots=plots,
                               progress=bar.advance, expect=bar.expect, notice=_notice(quiet))
    except (*REFUSED, ScenarioError) as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        again = _resume_command(["sim", "sweep", str(target)], {
            "--vary": vary, "--design": design, "--samples": samples, "--levels": levels, "--runs": runs,
            "--seed": seed, "--set": overrides, "--out": folder, "--workers": workers,
            "--executor": executor if executor != "local" else None, "--scheduler": scheduler,
            "--no-plots": not plots, "--quiet": quiet})
        raise _interrupted("sweep", folder, again) from None
    if not quiet:
        _print_sweep(result)
        m = result.manifest
        resumed = f" ({m['chunks_resumed']} chunks were already done)" if m.get("chunks_resumed") else ""
        out.print(f"{len(result.points)} points x {m['runs']} replications in {m['wall_seconds']:.1f} s on "
                  f"{m['workers']} worker(s){resumed}.", highlight=False)
    out.print(f"Sweep written to {folder}/", highlight=False, soft_wrap=True)


_SWEEP_SHOWN = ("P(phase3 by year 15)", "P(stalled)", "cumulative_export_value_usd", "npv_usd")


def _print_sweep(result: Sweep, limit: int = 30) -> None:
    summary = result.summary()
    shown = [q for q in _SWEEP_SHOWN if q in set(summary["quantity"])]
    means = summary.pivot_table(index="point", columns="quantity", values="mean", sort=True)
    table = Table(title=f"{result.name}: mean per point ({len(result.points)} points, "
                        f"{result.manifest['runs']} replications each, seed {result.manifest['seed']})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("point", justify="right")
    for f in result.factors:
        table.add_column(f.rsplit(".", 1)[-1], justify="right", overflow="fold")
    for q in shown:
        table.add_column(f"{q} ({_unit(q).strip()})" if not q.startswith("P(") else q, justify="right")
    for row in result.points.head(limit).itertuples(index=False):
        cells = [str(row[0]), *(f"{v:.4g}" if isinstance(v, float) else str(v).lower() for v in row[1:])]
        cells += [f"{means.at[row[0], q]:.3f}" if q.startswith("P(") else _number(q, means.at[row[0], q])
                  for q in shown]
        table.add_row(*cells)
    out.print(table)
    if len(result.points) > limit:
        out.print(f"... {len(result.points) - limit} more points in summary.csv", highlight=False)


@app.command()
def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    vary: VaryOption = None,
    method: Annotated[str, typer.Option(help="sobol (first- and total-order indices) or morris (elementary effects, cheaper).")] = "sobol",
    samples: Annotated[int, typer.Option(min=2, help="Base sample N: sobol runs N(D+2) points (N a power of two), morris N(D+1) (N trajectories), for D varied inputs.")] = 64,
    runs: Annotated[int, typer.Option(min=1, help="Replications per point; each point's outcome is their mean.")] = 100,
    seed: SeedOption = 1,
    outcome: Annotated[list[str] | None, typer.Option(help="Outcome column or summary row to analyse, e.g. npv_usd or 'P(stalled)'. Repeatable (default: five headline quantities).")] = None,
    overrides: SetOption = None,
    workers: WorkersOption = None,
    executor: ExecutorOption = "local",
    scheduler: SchedulerOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default: results/<scenario>-<method>).")] = None,
    plots: Annotated[bool, typer.Option(help="Write the tornado chart.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Global sensitivity of the outcomes to the varied inputs (SALib Sobol or Morris).

    Writes indices.csv (one row per outcome and input), the design's points and outcomes
    (as a sweep), and plots/tornado.png. Says so when the sample is too small for the
    intervals to mean anything.
    """
    try:
        with _LazyProgress(None, quiet) as bar:
            result = api.sensitivity(scenario, vary, method=method, samples=samples, runs=runs, seed=seed,
                                     outcomes=outcome, set=overrides, workers=workers, executor=executor,
                                     scheduler=scheduler, progress=bar.advance, expect=bar.expect,
                                     notice=_notice(quiet))
        folder = out_dir or Path("results") / f"{result.scenario_name}-{method}"
        result.write(folder, plots=plots)
    except (*REFUSED, ScenarioError) as exc:
        raise _fail(exc) from None
    _print_indices(result)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(f"Sensitivity written to {folder}/", highlight=False, soft_wrap=True)


def _print_indices(result: Sensitivity) -> None:
    sobol = result.method == "sobol"
    for quantity, rows in result.indices.groupby("quantity", sort=False):
        rows = rows.sort_values("ST" if sobol else "mu_star", ascending=False)
        unit = "" if sobol else f", in {display(str(quantity)).unit}"
        table = Table(title=f"{quantity}: {'Sobol indices' if sobol else 'Morris elementary effects'}{unit} "
                            f"({len(result.points)} points)", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, collapse_padding=True)
        table.add_column("input", overflow="fold")
        heads = ("S1", "S1 ±95%", "ST", "ST ±95%") if sobol else ("mu*", "mu* ±95%", "sigma")
        for h in heads:
            table.add_column(h, justify="right")
        for r in rows.itertuples(index=False):
            cells = ((r.S1, r.S1_conf, r.ST, r.ST_conf) if sobol else
                     (r.mu_star, r.mu_star_conf, r.sigma))
            shown = [f"{v:.3f}" for v in cells] if sobol else [_number(str(quantity), float(v)) for v in cells]
            table.add_row(r.factor, *shown)
        out.print(table)


@app.command()
def discover(
    results: Annotated[Path, typer.Argument(help="Folder written by sim run or sim sweep.")],
    where: Annotated[str, typer.Option(help="Condition on the outcome: '> 15', '== true', or whole: 'phase3_year > 15'.")],
    outcome: Annotated[str | None, typer.Option(help="Outcome column the condition is on, e.g. phase3_year or stalled.")] = None,
    inputs: Annotated[list[str] | None, typer.Option("--input", help="Input to search over (default: every drawn input and sweep factor that varies). Repeatable.")] = None,
    max_depth: Annotated[int, typer.Option(min=1, max=8, help="Most limits along one box (the tree's depth).")] = 4,
    min_support: Annotated[float, typer.Option(min=0.001, max=0.5, help="Smallest share of all cases a box may hold.")] = 0.05,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default: RESULTS/discovery).")] = None,
    plots: Annotated[bool, typer.Option(help="Write plots/discovery.png.")] = True,
) -> None:
    """Scenario discovery: the boxes of input space where the condition holds most often.

    A classification tree (CART) over the drawn inputs (and a sweep's factors); each box is
    printed with its coverage (share of the cases of interest inside it), density (share of
    the cases inside it that are of interest) and support (share of all cases inside it).
    A phase year never reached counts as later than any year. Writes boxes.csv and
    plots/discovery.png.
    """
    try:
        found = api.discover(results, where, outcome=outcome, inputs=inputs, max_depth=max_depth,
                             min_support=min_support)
        folder = out_dir or results / "discovery"
        found.write(folder, plots=plots)
    except REFUSED as exc:
        raise _fail(exc) from None
    n, hits = len(found.interest), int(found.interest.sum())
    out.print(f"{found.name}: {hits:,} of {n:,} cases meet {found.condition} (base rate {found.base_rate:.1%}); "
              f"searched {len(found.inputs.columns)} inputs.", highlight=False, soft_wrap=True)
    if found.boxes:
        for i, b in enumerate(found.boxes, 1):
            out.print(f"\nBox {i}: coverage {b.coverage:.0%}, density {b.density:.0%}, support {b.support:.0%} "
                      f"({b.of_interest:,} of {b.cases:,} cases inside meet it)", highlight=False)
            for name_, limit in b.limits.items():
                out.print(f"  {limit.describe(name_)}", highlight=False, soft_wrap=True)
        out.print()
        coverage, density = found.union()
        if len(found.boxes) > 1:
            out.print(f"All boxes together: coverage {coverage:.0%}, density {density:.0%}.", highlight=False)
    else:
        out.print("No box holds the condition more often than the base rate: these inputs do not explain it "
                  "(try --min-support lower, or a sweep over the levers you suspect).", highlight=False)
    top = found.importance[found.importance >= 0.005].head(5)
    if len(top):
        out.print("Inputs the tree split on, by importance: "
                  + ", ".join(f"{k} ({v:.2f})" for k, v in top.items()), highlight=False, soft_wrap=True)
    out.print(f"Discovery written to {folder}/", highlight=False, soft_wrap=True)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="Folder written by sim run.")],
    compare_with: Annotated[list[Path] | None, typer.Option("--compare", metavar="RUN_OR_SCENARIO", help="Another run (folder) or scenario file to compare with, replication by replication. Repeatable.")] = None,
    out_file: Annotated[Path, typer.Option("--out", help="File to write (default: RESULTS/report.html, or report.md with --format md).")] = None,  # type: ignore[assignment]
    fmt: Annotated[str | None, typer.Option("--format", help="html (one self-contained file) or md (Markdown, figures in a folder beside it); default from --out's suffix.")] = None,
) -> None:
    """Write a report of a run for readers who will not run code.

    The question and the scenario in plain words, headline numbers with intervals, the
    phase-timing survival curves, fan charts, comparison tables (with --compare), every
    parameter with its source, and the provenance (seed, versions, scenario hash).
    """
    target = out_file or results / ("report.md" if fmt == "md" else "report.html")
    labels = [p.name if p.is_dir() else p.stem for p in (results, *(compare_with or []))]
    try:
        written = api.report(results, list(compare_with or []), out=target, format=fmt, labels=labels)
    except (*REFUSED, ScenarioError, KeyError) as exc:
        raise _fail(exc) from None
    out.print(f"Report written to {written}", highlight=False, soft_wrap=True)


@app.command()
def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replication: Annotated[int, typer.Option(min=0, help="Replication index to replay.")] = 0,
    seed: SeedOption = 1,
    overrides: SetOption = None,
) -> None:
    """Print the event log of one replication (the same one a run with this seed produced)."""
    scn = _load(scenario, overrides)
    rep = run_replication(scn, seed, replication, trace=True)
    table = Table(title=f"{scn.name}: replication {replication}, seed {seed}", title_justify="left")
    for col in ("year", "date", "source", "event"):
        table.add_column(col, no_wrap=col != "event")
    for t, source, text in rep.log or []:
        day = scn.date_at(t)
        table.add_row(f"{t:7.3f}", day.isoformat(), source, text)
    out.print(table)
    if rep.inputs:
        inputs = Table(title="Drawn inputs", title_justify="left")
        inputs.add_column("parameter")
        inputs.add_column("value", justify="right")
        for name, value in rep.inputs.items():
            inputs.add_row(name, f"{value:.4g}")
        out.print(inputs)
    outcome = Table(title="Outcome", title_justify="left")
    outcome.add_column("outcome")
    outcome.add_column("value", justify="right")
    outcome.add_column("unit")
    for name, value in rep.outcome.items():
        outcome.add_row(name, _number(name, value), "" if isinstance(value, bool) else _unit(name))
    out.print(outcome)


def _print_summary(res: ResultSet, summary: pd.DataFrame) -> None:
    summary = summary.set_index("quantity")
    table = Table(title=f"{res.name}: {len(res.outcomes)} replications, seed {res.manifest['seed']}",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for col in ("mean", "±MCSE", "P5", "median", "P95"):
        table.add_column(col, justify="right", no_wrap=True)
    for name in HEADLINE:
        if name not in summary.index:
            continue
        row = summary.loc[name]
        table.add_row(name, _unit(name), *(_number(name, row[c]) for c in ("mean", "mcse", "p5", "p50", "p95")))
    out.print(table)
    probs = Table(title="Probabilities (phase years above describe the replications that reached the phase)",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    probs.add_column("event", no_wrap=True)
    probs.add_column("probability", justify="right")
    probs.add_column("95% interval", justify="right", no_wrap=True)
    for name, row in summary.iterrows():
        if str(name).startswith("P("):
            probs.add_row(str(name), f"{row['mean']:.3f}", f"{row['ci95_low']:.3f} - {row['ci95_high']:.3f}")
    out.print(probs)


class _LazyProgress:
    """A progress bar that appears only once a run has taken more than a couple of seconds;
    used as a context manager around the work, it is gone when the work ends."""

    def __init__(self, total: int | None, quiet: bool):
        self.total, self.quiet = total, quiet
        self.done = 0
        self.began = time.monotonic()
        self.bar: Progress | None = None
        self.task = None

    def advance(self, n: int) -> None:
        self.done += n
        if self.quiet or not err.is_terminal:
            return
        if self.bar is None and time.monotonic() - self.began > 2.0:
            self.bar = Progress(TextColumn("replications"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("run", total=self.total, completed=self.done)
        elif self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done)

    def expect(self, total: int) -> None:
        """Learn the total once the work is planned."""
        self.total = total

    def __enter__(self) -> _LazyProgress:
        return self

    def __exit__(self, *_: object) -> None:
        """Take the bar off the screen, however the work ended."""
        if self.bar is not None:
            self.bar.stop()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

