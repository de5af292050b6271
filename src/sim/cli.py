"""The ``sim`` command: run, validate and trace scenarios from the shell.

A thin layer over the Python API: it parses arguments, calls :func:`sim.load_scenario`,
:func:`sim.run` and friends, and prints. A bad scenario exits with status 2 and one line
per problem (``FILE:LINE: dotted.path: what is wrong (got VALUE)``), never a traceback.
"""

from __future__ import annotations

import csv
import functools
import shlex
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from . import api
from .errors import ScenarioError, UsageError
from .experiment.executors import ExecutorError
from .experiment.results import ResultSet
from .experiment.runner import Plan
from .experiment.store import RunFolder, RunFolderError
from .model.engine import run_replication
from .model.outputs import HEADLINE, display, headline, number, unit
from .model.sampling import uncertain_inputs
from .scenario.reference import parameter_table
from .scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from .analysis.gsa import Sensitivity
    from .experiment.sweeps import Sweep

REFUSED = (UsageError, RunFolderError, ExecutorError, OSError)
"""Errors the commands print on one line (exit 2) instead of a traceback."""

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Scenario simulation of Pakistan's critical-minerals and rare-earth ramp-up.")
out = Console()
err = Console(stderr=True)

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override a scenario value, e.g. --set shocks.security.enabled=false (value read as YAML). Repeatable.")]
SeedOption = Annotated[int, typer.Option(min=0, help="Root seed; replication i's streams are seeded by the hash of (seed, i, stream name).")]


def _table(title: str | None, columns: list[tuple[str, str]], rows: list[list[str]], *,
           console: Console | None = None, **options: Any) -> Table | None:
    """A table of text cells fitted to the terminal's width without breaking a word or a
    name: each column is at least as wide as its longest word (a dotted path or a number is
    one word), and the room left goes to the columns with the longest text, which wrap
    between words. ``columns`` are (heading, justify). Returns None if even the longest
    words do not fit side by side (the caller then lays the table out otherwise)."""
    console = console or out
    settings = {"title": title, "title_justify": "left", "box": box.SIMPLE_HEAD, "pad_edge": False,
                "collapse_padding": True, **options}
    probe = Table(**settings)
    for heading, _ in columns:
        probe.add_column(heading, width=1)
    overhead = Measurement.get(console, console.options, probe).maximum - len(columns)
    cells = [[heading, *(row[i] for row in rows)] for i, (heading, _) in enumerate(columns)]
    need = [max((len(w) for c in col for w in c.split()), default=1) for col in cells]
    # what a column wants is set by its cells: a heading wraps to their width
    want = [max(n, max((len(line) for c in col[1:] for line in c.splitlines()), default=1))
            for n, col in zip(need, cells, strict=True)]
    room = console.width - overhead
    if sum(need) > room:
        return None
    widths = _share_out(room, need, want, cells)
    table = Table(**settings)
    for (heading, justify), width in zip(columns, widths, strict=True):
        table.add_column(heading, justify=justify, width=width, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    return table


def _share_out(room: int, need: list[int], want: list[int], cells: list[list[str]]) -> list[int]:
    """Column widths within ``room``, each at least its ``need``: the room is given where it
    saves the most wrapped lines per character (the table is as short as it can be), and
    what is left to the columns still short of what they ``want``. ``cells`` are the
    columns of text, heading first."""
    words = [[[len(w) for w in line.split()] for line in cell.splitlines() or [""]] for cell in (c for col in cells
                                                                                               for c in col)]
    rows = len(cells[0]) if cells else 0
    shaped = [words[i * rows:(i + 1) * rows] for i in range(len(cells))]

    @functools.cache
    def lines(column: int, width: int) -> np.ndarray:
        counts = []
        for cell in shaped[column]:
            total = 0
            for line in cell:
                used, total = -1, total + 1
                for n in line:
                    if used + 1 + n > width and used >= 0:
                        total, used = total + 1, n
                    else:
                        used += 1 + n
            counts.append(total)
        return np.asarray(counts, dtype=int)

    def height(ws: list[int]) -> int:
        """The table's height in lines, then (to break ties) the lines of all its cells."""
        if not rows:
            return 0
        counts = np.array([lines(c, w) for c, w in enumerate(ws)])
        return int(counts.max(axis=0).sum()) * 10_000 + int(counts.sum())

    widths, spare = list(need), room - sum(need)
    while spare > 0:
        now, best = height(widths), None
        for c in range(len(widths)):
            longest = max(len(line) for cell in cells[c] for line in cell.splitlines() or [""])
            for w in range(widths[c] + 1, min(widths[c] + spare, longest) + 1):
                gain = now - height([*widths[:c], w, *widths[c + 1:]])
                if gain > 0 and (best is None or gain / (w - widths[c]) > best[0]):
                    best = (gain / (w - widths[c]), c, w)
        if best is None:
            break
        _, c, w = best
        spare -= w - widths[c]
        widths[c] = w
    for c in sorted(range(len(widths)), key=lambda i: want[i] - widths[i]):  # the rest, smallest gap first
        grow = min(spare, max(0, want[c] - widths[c]))
        widths[c] += grow
        spare -= grow
    return widths


def _say(text: str) -> None:
    """A line of prose, wrapped between words at the terminal's width."""
    out.print(text, highlight=False)


def _refuse(exc: ScenarioError) -> typer.Exit:
    """Print a scenario's problems, one line each; returns the exit (status 2) to raise."""
    for problem in exc.problems:
        typer.echo(problem.format(), err=True)
    return typer.Exit(2)


_FLAG_OF = {"outcomes": "--outcome"}
"""The options whose flag is not the API's parameter name written ``--like-this``."""


def _flag(name: str) -> str:
    """The command line's flag for a parameter of the Python API (``max_runs``: ``--max-runs``)."""
    return _FLAG_OF.get(name, "--" + name.replace("_", "-"))


def _fail(exc: BaseException) -> typer.Exit:
    """Print a refused call on one line; returns the exit (status 2) to raise. The API's own
    checks name its parameters (max_runs); here they are the options (--max-runs)."""
    if isinstance(exc, ScenarioError):
        return _refuse(exc)
    typer.echo(exc.naming(_flag) if isinstance(exc, UsageError) else str(exc), err=True)
    return typer.Exit(2)


def _resume_command(ctx: typer.Context, folder: Path) -> str:
    """The command that finishes the interrupted run, sweep or analysis of the command now
    running: the command as it was typed (each argument and option given, in the command's
    order; numbers written in full, so the resumed plan matches), with ``--out`` the folder
    it wrote to, then ``--resume``."""
    words = ["sim", str(ctx.info_name)]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name) if param.name else None
        if source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params[str(param.name)]
        if param.param_type_name != "option":
            words.append(str(value))
            continue
        flag = param.opts[0]
        if flag in ("--out", "--resume", "--overwrite"):
            continue
        if getattr(param, "is_flag", False):
            words += [flag] if value else param.secondary_opts[:1]
            continue
        values = value if param.multiple else [value]
        words += [a for v in values for a in (flag, repr(v) if isinstance(v, float) else str(v))]
    return shlex.join([*words, "--out", str(folder), "--resume"])


def _interrupted(kind: str, folder: Path, again: str) -> typer.Exit:
    """Say what an interrupted run or sweep saved (as its manifest lists it) and how to
    finish it; returns the exit (status 130) to raise."""
    try:
        manifest = RunFolder(folder).read_manifest()
        saved = (f"{manifest.saved_runs():,} of {manifest.planned_runs():,}" if manifest and manifest.plan
                 else "no")
    except RunFolderError:
        saved = "no"
    typer.echo(f"Interrupted: {saved} replications are saved in {folder}/. Finish the {kind} with:\n"
               f"  {again}", err=True)
    return typer.Exit(130)


def default_folder(name: str, overrides: list[str] | None) -> Path:
    """Where a run or sweep goes without ``--out``: ``results/<name>``, or, with ``--set``
    overrides, ``results/<name>+<n>-overrides`` (the folder's name says the run is not the
    scenario file as written, so ``results/<name>`` keeps the file's own results)."""
    n = len(overrides or [])
    return Path("results") / (f"{name}+{n}-override{'s' if n > 1 else ''}" if n else name)


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
    ctx: typer.Context,
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
    target = out_dir or default_folder(scn.name or scenario.stem, overrides)
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
        raise _interrupted("run", target, _resume_command(ctx, target)) from None
    if not quiet:
        _print_summary(res, res.summary())
        m = res.manifest
        chunks = len(Plan(**m.plan).chunks()) if m.plan else 0
        resumed = (f" ({m.chunks_resumed} of {chunks} chunks were already done)"
                   if resume and m.chunks_resumed else "")
        out.print(f"{m.runs or 0:,} replications in {m.wall_seconds or 0:.1f} s on {m.workers} worker(s), "
                  f"{m.events_per_replication or 0:.0f} events per replication{resumed}.", soft_wrap=True)
    if res.manifest.precision:
        _print_precision(res.manifest.precision)
    out.print(f"Results written to {target}/", highlight=False, soft_wrap=True)


def _print_precision(record: dict) -> None:
    from .present.reports import precision_note

    _say(precision_note(record))


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
    grep: Annotated[str | None, typer.Option(metavar="TEXT", help="Only the parameters whose path, value or source contains TEXT (case-insensitive).")] = None,
) -> None:
    """List every parameter after extends and --set: value, unit, range, source or assumption.

    The table groups the parameters by section (commodities.copper, projects.reko_diq, ...);
    csv and markdown give one row per parameter, by its full dotted path.
    """
    if fmt not in ("table", "csv", "markdown"):
        typer.echo(f"--format: must be table, csv or markdown (got {fmt!r})", err=True)
        raise typer.Exit(2)
    _load(scenario, overrides)  # reports problems and exits 2 on a bad scenario
    every = parameter_table(scenario, overrides or [])
    rows = every if grep is None else [r for r in every if any(
        grep.casefold() in str(r[c]).casefold() for c in ("path", "value", "source"))]
    if not rows:
        typer.echo(f"no parameter of {scenario} has {grep!r} in its path, value or source "
                   f"({len(every)} parameters)", err=True)
        raise typer.Exit(1)
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
        counted = f"{len(rows)} of {len(every)} match {grep!r}" if grep is not None else f"{len(rows)}"
        _print_parameters(f"Parameters of {scenario} ({counted})", rows)


def _print_parameters(title: str, rows: list[dict[str, str]]) -> None:
    """Parameters grouped by section, the section's path above its rows, so that each row
    names only its last part: four columns (parameter, value with its unit, range, source)
    where they fit side by side, else two (parameter; value, range and source below it)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        section, _, leaf = r["path"].rpartition(".")
        groups.setdefault(section, []).append({**r, "leaf": leaf})

    def value(r: dict[str, str]) -> str:
        return r["value"] + (f" {r['unit']}" if r["unit"] not in ("", "-") else "")

    wide = [[r["leaf"], value(r), r["range"], r["source"]] for g in groups.values() for r in g]
    heads = [("parameter", "left"), ("value", "left"), ("range", "left"), ("source", "left")]
    fitted = _table(None, heads, wide, show_edge=False)
    if fitted is not None:
        widths = [c.width for c in fitted.columns]

        def cells(r: dict[str, str]) -> list[str]:
            return [r["leaf"], value(r), r["range"], r["source"]]
    else:
        heads = [("parameter", "left"), ("value, range and source", "left")]

        def cells(r: dict[str, str]) -> list[str]:
            limits = f" (range {r['range']})" if r["range"] else ""
            return [r["leaf"], f"{value(r)}{limits}\n{r['source']}"]

        fitted = _table(None, heads, [cells(r) for g in groups.values() for r in g], show_edge=False)
        widths = [c.width for c in fitted.columns] if fitted is not None else [None] * len(heads)
    _say(title)
    for i, (section, members) in enumerate(groups.items()):
        if i:
            out.print()
        table = Table(title=section or "scenario", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, show_header=i == 0, show_edge=False, pad_edge=False,
                      collapse_padding=True)
        for (heading, justify), width in zip(heads, widths, strict=True):
            table.add_column(heading, justify=justify, width=width, overflow="fold")  # type: ignore[arg-type]
        for r in members:
            table.add_row(*cells(r))
        out.print(table)


def _announcer(bar: _LazyProgress) -> Callable[[str, int, int, list[str]], None]:
    """What ``sim compare`` and ``sim report`` say before running a scenario file: its name,
    size and seed, and the first run's --set overrides it is run with; the bar restarts."""
    def running(label: str, n: int, s: int, given: list[str]) -> None:
        bar.close()
        also = f", with the first run's {' '.join('--set ' + t for t in given)}" if given else ""
        err.print(f"running {label} ({n:,} replications, seed {s}{also}) ...", highlight=False, soft_wrap=True)
        bar.restart(n)
    return running


@app.command()
def compare(
    runs_or_scenarios: Annotated[list[Path], typer.Argument(
        metavar="A B [C ...]", help="Results folders (written by sim run) or scenario files; the first is the reference.")],
    runs: Annotated[int | None, typer.Option(min=1, help="Replications for scenario files (default: those of the first results folder, else 1000).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed for scenario files (default: that of the first results folder, else 1).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes for scenario files (default: all cores).")] = None,
    out_csv: Annotated[Path | None, typer.Option("--out", help="Also write the comparison table to this CSV file.")] = None,
    plots_dir: Annotated[Path | None, typer.Option("--plots", help="Write the paired differences, the distributions and the survival curves (differences.png, distributions.png, phase_survival.png) to this folder.")] = None,
    outcome: Annotated[list[str] | None, typer.Option(help="Compare this outcome (repeatable; default: the programme's totals), e.g. rare_earths_domestic_value_added_share for one commodity's.")] = None,
) -> None:
    """Compare runs replication by replication against the first (common random numbers).

    For each outcome: the mean of B - A with its 95% interval, and the shares of replications
    in which B does better, the same (a tie) and worse. Runs must share their seed and
    replications; scenario files are run with the seed, replication count and --set
    overrides of the first results folder given (or --seed and --runs).
    """
    bar = _LazyProgress(None, quiet=False)

    running = _announcer(bar)

    labels = [p.name if p.is_dir() else p.stem for p in runs_or_scenarios]
    try:
        with bar:
            result = api.compare(*runs_or_scenarios, labels=labels, runs=runs, seed=seed, workers=workers,
                                 outcomes=outcome or None, on_run=running, progress=bar.advance)
    except (*REFUSED, ScenarioError, KeyError) as exc:
        raise _fail(exc) from None
    table = result.table
    if out_csv:
        table.to_csv(out_csv, index=False)
    _print_comparison(result)
    if out_csv:
        out.print(f"Comparison written to {out_csv}", highlight=False, soft_wrap=True)
    if plots_dir:
        from .present.plots import save

        save(result.plot.differences(HEADLINE), plots_dir / "differences.png")
        save(result.plot.distributions(HEADLINE), plots_dir / "distributions.png")
        save(result.plot.survival(), plots_dir / "phase_survival.png")
        out.print(f"Plots written to {plots_dir}/", highlight=False, soft_wrap=True)


def _print_comparison(result: Any) -> None:
    """Per compared run: one sentence saying what it found, then its table (outcomes in
    words, B - A with its 95% interval, better / tie / worse); the shares explained once."""
    from .analysis.pairing import SHARES_EXPLAINED, labelled_table

    findings = result.findings()
    table = labelled_table(result.table, sep="/")  # "62/30/8%": one word, so it never wraps
    raw = result.table
    columns = [(c, "left" if c in ("outcome", "unit") else "right") for c in table.columns if c != "compared"]
    for (pair, rows), b in zip(table.groupby("compared", sort=False), dict.fromkeys(raw["b"]), strict=True):
        pairs = int(raw.loc[raw["b"] == b, "pairs"].max())
        out.print()
        _say(findings[b])
        _print_table(f"B = {pair.replace(' against ', ' against A = ')}: {pairs:,} paired replications",
                     columns, rows.drop(columns="compared").to_numpy().tolist())
    _say("B - A: the mean paired difference over the replications where both have a value, with its 95% "
         f"interval. {SHARES_EXPLAINED}")
    for note in result.notes:
        _say(f"Note: {note}")


WorkersOption = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")]
ExecutorOption = Annotated[str, typer.Option(help="Where chunks run: local or dask.")]
SchedulerOption = Annotated[str | None, typer.Option(help="Address of a running Dask scheduler (implies --executor dask).")]
VaryOption = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="PATH=LOW:HIGH|V1,V2,...",
    help="A value to vary: a range (LOW:HIGH) or listed values (V1,V2,..., each read as YAML). Repeatable.")]


@app.command()
def sweep(
    ctx: typer.Context,
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
        folder = out_dir or default_folder(api.sweep_name(target), overrides)
        with bar:
            result = api.sweep(target, vary, design=design, samples=samples, levels=levels, runs=runs, seed=seed,
                               set=overrides, workers=workers, executor=executor, scheduler=scheduler,
                               out=folder, resume=resume, overwrite=overwrite, plots=plots,
                               progress=bar.advance, expect=bar.expect, notice=_notice(quiet))
    except (*REFUSED, ScenarioError) as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        raise _interrupted("sweep", folder, _resume_command(ctx, folder)) from None
    if not quiet:
        _print_sweep(result)
        m = result.manifest
        resumed = f" ({m.chunks_resumed} chunks were already done)" if m.chunks_resumed else ""
        out.print(f"{len(result.points):,} points x {m.runs or 0:,} replications in {m.wall_seconds or 0:.1f} s "
                  f"on {m.workers} worker(s){resumed}.", highlight=False)
    out.print(f"Sweep written to {folder}/", highlight=False, soft_wrap=True)


_SWEEP_SHOWN = ("P(phase3 by year 15)", "P(stalled)", "cumulative_export_value_usd", "npv_usd")


def _print_sweep(result: Sweep, limit: int = 30) -> None:
    """The mean of a few headline quantities at each point, factors and quantities in words."""
    summary = result.summary()
    shown = [q for q in _SWEEP_SHOWN if q in set(summary["quantity"])]
    means = summary.pivot_table(index="point", columns="quantity", values="mean", sort=True)
    columns = [("point", "right")]
    columns += [(display(f).label, "right") for f in result.factors]
    columns += [(f"{display(q).label} ({unit(q)})", "right") for q in shown]
    rows = []
    for row in result.points.head(limit).itertuples(index=False):
        cells = [str(row[0]), *(f"{v:.4g}" if isinstance(v, float) else str(v).lower() for v in row[1:])]
        rows.append(cells + [number(q, means.at[row[0], q]) for q in shown])
    _print_table(f"{result.name}: mean per point ({len(result.points)} points, {result.manifest.runs} "
                 f"replications each, seed {result.manifest.seed})", columns, rows)
    if len(result.points) > limit:
        _say(f"... {len(result.points) - limit} more points in summary.csv")


@app.command()
def sensitivity(
    ctx: typer.Context,
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
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted analysis in --out: only its missing chunks are run. Give the same options.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start anew in an --out that holds an interrupted analysis, discarding what it saved.")] = False,
    plots: Annotated[bool, typer.Option(help="Write the tornado chart.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Global sensitivity of the outcomes to the varied inputs (SALib Sobol or Morris).

    Writes indices.csv (one row per outcome and input), the design's points and outcomes
    (as a sweep), and plots/tornado.png. Says so when the sample is too small for the
    intervals to mean anything. The design's runs are saved chunk by chunk as they finish,
    so an interrupted analysis can be finished with --resume.
    """
    folder = out_dir
    try:
        if folder is None:
            scn = api.load_scenario(scenario, set=overrides)
            folder = Path("results") / f"{api.sensitivity_name(scenario, scn)}-{method}"
        with _LazyProgress(None, quiet) as bar:
            result = api.sensitivity(scenario, vary, method=method, samples=samples, runs=runs, seed=seed,
                                     outcomes=outcome, set=overrides, workers=workers, executor=executor,
                                     scheduler=scheduler, out=folder, resume=resume, overwrite=overwrite,
                                     plots=plots, progress=bar.advance, expect=bar.expect, notice=_notice(quiet))
    except (*REFUSED, ScenarioError) as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        assert folder is not None
        raise _interrupted("analysis", folder, _resume_command(ctx, folder)) from None
    _print_indices(result)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(f"Sensitivity written to {folder}/", highlight=False, soft_wrap=True)


def _print_indices(result: Sensitivity) -> None:
    """One table per quantity: each varied input (in words, with its path) and its indices."""
    sobol = result.method == "sobol"
    for quantity, rows in result.indices.groupby("quantity", sort=False):
        rows = rows.sort_values("ST" if sobol else "mu_star", ascending=False)
        shown = display(str(quantity))
        in_unit = "" if sobol else f", in {shown.unit}"
        heads = ("S1", "S1 \u00b195%", "ST", "ST \u00b195%") if sobol else ("mu*", "mu* \u00b195%", "sigma")
        cells = []
        for r in rows.itertuples(index=False):
            values = (r.S1, r.S1_conf, r.ST, r.ST_conf) if sobol else (r.mu_star, r.mu_star_conf, r.sigma)
            text = [f"{v:.3f}" for v in values] if sobol else [number(str(quantity), float(v)) for v in values]
            cells.append([f"{display(r.factor).label}\n{r.factor}", *text])
        out.print()
        _print_table(f"{shown.label}: {'Sobol indices' if sobol else 'Morris elementary effects'}{in_unit} "
                     f"({len(result.points)} points)", [("input", "left"), *((h, "right") for h in heads)], cells)


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
    _say(f"{found.name}: {hits:,} of {n:,} cases meet {found.condition} (base rate {found.base_rate:.1%}); "
         f"searched {len(found.inputs.columns)} inputs.")
    if found.boxes:
        for i, b in enumerate(found.boxes, 1):
            out.print()
            _say(f"Box {i}: coverage {b.coverage:.0%}, density {b.density:.0%}, support {b.support:.0%} "
                 f"({b.of_interest:,} of {b.cases:,} cases inside meet it)")
            for name_, limit in b.limits.items():
                out.print(f"  {limit.describe(name_)}", highlight=False, soft_wrap=True)  # one name: not wrapped
        out.print()
        coverage, density = found.union()
        if len(found.boxes) > 1:
            _say(f"All boxes together: coverage {coverage:.0%}, density {density:.0%}.")
    else:
        _say("No box holds the condition more often than the base rate: these inputs do not explain it "
             "(try --min-support lower, or a sweep over the levers you suspect).")
    top = found.importance[found.importance >= 0.005].head(5)
    if len(top):
        _print_table("Inputs the tree split on, by importance", [("input", "left"), ("importance", "right")],
                     [[f"{display(str(k)).label}\n{k}", f"{v:.2f}"] for k, v in top.items()])
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
    bar = _LazyProgress(None, quiet=False)

    running = _announcer(bar)

    def step(text: str) -> None:
        bar.close()
        err.print(f"report: {text}", highlight=False)

    try:
        with bar:
            written = api.report(results, list(compare_with or []), out=target, format=fmt, labels=labels,
                                 on_run=running, progress=bar.advance, step=step)
    except (*REFUSED, ScenarioError, KeyError) as exc:
        raise _fail(exc) from None
    out.print(f"Report written to {written}", highlight=False, soft_wrap=True)


EVENT_KINDS: dict[str, str] = {
    "milestones": "the programme enters Phase 2 or 3, or stalls",
    "projects": "each project's stages, verification, financing, construction and commissioning",
    "refinery": "the domestic refinery's financing, construction and commissioning",
    "attacks": "security incidents that hit a site, a convoy or staff",
    "security-regime": "a province's security regime changes (calm, elevated, crisis)",
    "outages": "infrastructure outages at a site",
    "refining": "China's export-control regime changes, the separation-technology ban",
    "tariff": "the U.S. reciprocal rate and the critical-minerals exemption change",
    "governance": "policy reversals that halt a site, and arbitration awards",
    "market": "every price step: China's price and the price outside China of each commodity whose market clears (shown only when asked for)",
}
"""The kinds of event ``sim trace --only`` picks, with what each holds; a project's own key
(e.g. ``reko_diq``) picks that project's events."""
_SOURCE_KINDS = {"programme": "milestones", "refinery": "refinery", "security": "attacks",
                 "infrastructure": "outages", "refining": "refining", "tariff": "tariff", "governance": "governance",
                 "market": "market"}
HIDDEN_KINDS = ("market",)
"""Kinds of event ``sim trace`` shows only when ``--only`` names them (a quarterly price
step would otherwise bury the rest of the log)."""


def event_kind(source: str, projects: Any) -> str:
    """The kind (a key of :data:`EVENT_KINDS`) of an event logged by ``source``: a project's
    key, or the name of the part of the world that logged it (``security:<province>`` for a
    province's regime)."""
    if source in projects:
        return "projects"
    if source.startswith("security:"):
        return "security-regime"
    return _SOURCE_KINDS.get(source, source)


def _model_year(text: str | None, option: str, scn: Scenario) -> float | None:
    """A --from/--to value as years since the start: a model year (``5``, ``2.5``) or a date."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        day = date.fromisoformat(text)
    except ValueError:
        typer.echo(f"{option}: give a model year (e.g. 5) or a date YYYY-MM-DD (got {text!r})", err=True)
        raise typer.Exit(2) from None
    return scn.years(day)


@app.command()
def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replication: Annotated[int, typer.Option(min=0, help="Replication index to replay.")] = 0,
    seed: SeedOption = 1,
    overrides: SetOption = None,
    only: Annotated[str | None, typer.Option(metavar="KIND,...", help="Show only these kinds of event, comma-separated: " + ", ".join(EVENT_KINDS) + ", or a project's key (e.g. reko_diq).")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="YEAR|DATE", help="Show events from this model year (e.g. 5) or date (YYYY-MM-DD) on.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="YEAR|DATE", help="Show events up to this model year or date (YYYY-MM-DD).")] = None,
) -> None:
    """Print the event log of one replication (the same one a run with this seed produced),
    its drawn inputs and its outcome.

    The log holds every event: a project's stages, attacks, outages, regime changes, tariff
    changes, policy reversals. --only picks kinds of event, --from and --to a time window;
    the market's price steps show only with --only market.
    """
    scn = _load(scenario, overrides)
    kinds = [k.strip() for k in only.split(",") if k.strip()] if only is not None else None
    unknown = [k for k in kinds or [] if k not in EVENT_KINDS and k not in scn.projects]
    if kinds is not None and (unknown or not kinds):
        known = ", ".join(EVENT_KINDS) + "; or a project: " + ", ".join(scn.projects)
        typer.echo(f"--only: no kind of event {', '.join(map(repr, unknown)) or '(none given)'}; kinds: {known}",
                   err=True)
        raise typer.Exit(2)
    low, high = _model_year(start, "--from", scn), _model_year(end, "--to", scn)
    if low is not None and high is not None and low > high:
        typer.echo(f"--from ({start}) is after --to ({end})", err=True)
        raise typer.Exit(2)
    rep = run_replication(scn, seed, replication, trace=True)
    log = rep.log or []
    shown = [(t, source, text) for t, source, text in log
             if (event_kind(source, scn.projects) not in HIDDEN_KINDS if kinds is None
                 else event_kind(source, scn.projects) in kinds or source in kinds)
             and (low is None or t >= low) and (high is None or t <= high)]
    picked = [f"only {', '.join(kinds)}"] if kinds else []
    picked += [f"from {start}"] if start else []
    picked += [f"to {end}"] if end else []
    hidden = sum(event_kind(source, scn.projects) in HIDDEN_KINDS for _, source, _ in log) if kinds is None else 0
    if hidden:
        picked.append(f"{hidden:,} market steps hidden: --only market shows them")
    title = (f"{scn.name}: replication {replication}, seed {seed}: " + (
        f"{len(shown):,} of {len(log):,} logged events ({'; '.join(picked)})" if picked else f"{len(log):,} logged events"))
    rows = [[f"{t:.3f}", scn.date_at(t).isoformat(), source, text]
            for t, source, text in shown]
    _print_table(title, [("year", "right"), ("date", "left"), ("source", "left"), ("event", "left")], rows)
    if rep.inputs:
        _print_table("Drawn inputs", [("parameter", "left"), ("value", "right")],
                     [[name, f"{value:.4g}"] for name, value in rep.inputs.items()])
    _print_table("Outcome", [("outcome", "left"), ("value", "right"), ("unit", "left")],
                 [[display(name).label, number(name, value), "" if isinstance(value, bool) else unit(name)]
                  for name, value in rep.outcome.items()])


def _print_summary(res: ResultSet, summary: pd.DataFrame) -> None:
    """The headline outcomes (mean, its Monte Carlo standard error, percentiles) and the
    probabilities (with their 95% intervals), in words and the units people read."""
    from .present.tables import probability_table

    summary_rows = summary.set_index("quantity")
    rows = [[display(name).label, unit(name),
             *(number(name, summary_rows.loc[name, c]) for c in ("mean", "mcse", "p5", "p50", "p95"))]
            for name in headline(res.scenario) if name in summary_rows.index]
    columns = [("outcome", "left"), ("unit", "left"), ("mean", "right"), ("\u00b1MCSE", "right"), ("P5", "right"),
               ("median", "right"), ("P95", "right")]
    _print_table(f"{res.name}: {len(res.outcomes):,} replications, seed {res.manifest.seed}", columns, rows)
    probs = probability_table(summary)
    _print_table("Probabilities, over all replications", [("event", "left"), ("probability", "right"),
                                                          ("95% interval", "right")],
                 probs.astype(str).to_numpy().tolist())


def _print_table(title: str | None, columns: list[tuple[str, str]], rows: list[list[str]], **options: Any) -> None:
    """A fitted table (:func:`_table`) under its title, which wraps at the terminal's width
    rather than the table's."""
    if title:
        _say(title)
    table = _table(None, columns, rows, **options)
    if table is None:  # a terminal too narrow for the longest words: let them fold
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, **options)
        for heading, justify in columns:
            table.add_column(heading, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*row)
    out.print(table)


class _LazyProgress:
    """A progress bar that appears only once a run has taken more than a couple of seconds;
    used as a context manager around the work, it is gone when the work ends."""

    def __init__(self, total: int | None, quiet: bool):
        self.total, self.quiet = total, quiet
        self.done = 0
        self.began = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

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

    def close(self) -> None:
        """Take the bar off the screen (a later :meth:`advance` may bring a new one)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar, self.task = None, None

    def restart(self, total: int | None) -> None:
        """Count a new piece of work of ``total`` replications from zero."""
        self.close()
        self.total, self.done, self.began = total, 0, time.monotonic()

    def __enter__(self) -> _LazyProgress:
        return self

    def __exit__(self, *_: object) -> None:
        """Take the bar off the screen, however the work ended."""
        self.close()
