"""A run folder on disk, written as the run goes: shards, a manifest, a lock, and resume.
(A sweep's folder works the same way, one set of chunks per point: see :mod:`sim.experiment.sweeps`.)

A long run must survive being stopped. Each chunk of replications is written as its own
pair of Parquet shards as soon as it finishes (``shards/outcomes-<start>-<stop>.parquet``
and the matching ``timeseries`` shard), each under a temporary name, flushed to disk and
renamed into place; then the chunk is added to ``manifest.json``, itself replaced
atomically. A chunk counts as done only once the manifest lists it, so a run killed at
any moment (even by SIGKILL) leaves a folder whose listed shards are whole.

``sim run ... --resume`` reads the manifest, refuses a different scenario, seed, run
count or model code, and runs only the chunks not yet listed. When every chunk is in, the
shards are streamed in replication order into ``outcomes.parquet`` and
``timeseries.parquet`` (one shard in memory at a time, written under a temporary name and
renamed), the manifest is marked complete, and only then are the shards removed: a run
stopped at any point of this can still be resumed. A run with a target precision (see
:mod:`sim.experiment.precision`) plans its chunks up to its cap, judges each check point as the
replications below it come in, and stops at the first that meets the target: only the
chunks below it are kept. While a run writes to a folder it holds an exclusive lock on
``.lock``; a second run on the same folder is refused rather than interleaved. The lock
belongs to the process, so a killed run leaves no stale lock behind.

Damage by other means is detected, never deepened. Each shard's sha256 is recorded in the
manifest as it is listed; a resume checks every listed shard against it (in folders from
before hashes, against the replications of its range) and refuses, naming the shard, before
it builds on one or removes anything. A manifest that says complete is believed only if its
tables are whole. A manifest or table that cannot be read is refused in one line by every
reader, and ``--overwrite`` replaces a folder of ours whatever state it is in. Temporary
files a killed writer left are removed once the lock is held.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RunFolderError, damaged
from ..model.outputs import HEADLINE
from ..scenario.schema import Scenario
from .executors import executor_for
from .manifest import MANIFEST_VERSION, Manifest, model_digest, scenario_digest
from .precision import PrecisionWatch
from .results import atomic_write, describe_differences, scenario_differences
from .runner import (
    Chunk,
    Plan,
    Progress,
    assemble,
    default_workers,
    kept_chunks,
    run_manifest,
    run_plan,
)

try:  # POSIX file locks; elsewhere runs are not protected against a second writer
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MANIFEST = "manifest.json"
SHARDS = "shards"
PLOTS = "plots"
TABLES = ("outcomes", "timeseries")


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _shard_name(table: str, start: int, stop: int, point: int | None = None) -> str:
    at = "" if point is None else f"-p{point:06d}"
    return f"{table}{at}-{start:09d}-{stop:09d}.parquet"


_SHARD_FILE = re.compile(r"^\.?(outcomes|timeseries)(-p\d{6})?-\d{9}-\d{9}\.parquet(\.tmp-\d+)?$")
"""A shard's name (or the temporary name it is written under): the only files a run removes
from ``shards/``."""

OWN_FILES = (MANIFEST, *(f"{t}.parquet" for t in (*TABLES, "points")), "summary.csv", "summary_labelled.csv")
"""The files a run or sweep writes at the top of its folder (with ``plots/`` and ``shards/``)."""

_TEMPORARY = re.compile(r"^\.(" + "|".join(re.escape(f) for f in OWN_FILES) + r")\.tmp-\d+$")
"""The temporary name one of :data:`OWN_FILES` is written under (see ``atomic_write``): left
behind only by a process killed while writing it."""


@dataclass(frozen=True)
class Held:
    """What a folder holds or is about to hold, as far as replacing it goes: a run of one
    resolved scenario (its digest) or a sweep of one set of points (their digest)."""

    kind: str
    digest: str | None
    scenario: dict[str, Any] | None = None

    @classmethod
    def of(cls, manifest: Manifest) -> Held:
        plan = manifest.plan or {}
        if manifest.kind == "sweep":
            return cls("sweep", plan.get("points_sha256"))
        return cls("run", manifest.scenario_sha256 or plan.get("scenario_sha256"), manifest.scenario)


class RunFolder:
    """The folder of one run; use :meth:`locked` around anything that writes to it."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.shards = self.path / SHARDS
        self.manifest_path = self.path / MANIFEST
        self._lock_fh: Any = None

    # --- locking --------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, create: bool = True) -> Iterator[RunFolder]:
        """Hold the folder's lock for the block (again within a block that holds it: the
        outer block keeps it until it ends). Without ``create``, a missing folder is refused
        (there is nothing to resume) rather than made."""
        if self._lock_fh is not None:
            yield self
            return
        if not create and not self.path.is_dir():
            raise RunFolderError(f"nothing to resume in {self.path}: there is no such folder "
                                 "(run without --resume to start anew)")
        self.path.mkdir(parents=True, exist_ok=True)
        fh = open(self.path / ".lock", "a+")  # noqa: SIM115 - held for the whole block
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise RunFolderError(
                        f"{self.path} is being written by another run ({holder}); wait for it "
                        "to finish or choose another --out") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            self._lock_fh = fh
            yield self
        finally:
            self._lock_fh = None
            fh.close()

    # --- the manifest -----------------------------------------------------------------------

    def read_manifest(self, damaged_ok: bool = False) -> Manifest | None:
        """The folder's manifest; None if it has none. A ``manifest.json`` that this package
        did not write is refused, not read as a run's. One that cannot be read (truncated,
        say) in a folder that is ours (it holds shards or tables of ours) is damaged:
        refused in one line, or with ``damaged_ok`` (to replace it) read as a manifest whose
        status is ``damaged``."""
        if not self.manifest_path.exists():
            return None
        try:
            data = json.loads(self.manifest_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None  # not JSON at all: cut short, or not a manifest
        if data is None and self._looks_ours():
            if damaged_ok:
                return Manifest(status="damaged")
            raise damaged(self.manifest_path, "not a whole manifest")
        if not isinstance(data, dict) or not {"plan", "scenario_sha256", "kind"} & set(data):
            raise RunFolderError(f"{self.path} holds a manifest.json that is not a run's or a sweep's: "
                                 "choose another --out")
        try:
            return Manifest.of_data(data, self.manifest_path)
        except RunFolderError:
            if damaged_ok:
                return Manifest(status="damaged")
            raise

    def _looks_ours(self) -> bool:
        """Whether the folder holds what only a run or sweep of this package leaves: shards or
        its tables. (Not ``.lock``: any attempt to write here makes one.)"""
        return self.shards.is_dir() or any((self.path / f"{t}.parquet").exists() for t in (*TABLES, "points"))

    def write_manifest(self, manifest: Manifest) -> None:
        text = manifest.to_json()
        atomic_write(self.manifest_path, lambda p: p.write_text(text))

    # --- starting and resuming ----------------------------------------------------------------

    def clear(self, overwrite: bool = False, replacing: Held | None = None) -> None:
        """Remove what an earlier run or sweep left here. An interrupted one (with chunks
        saved) is not thrown away unless ``overwrite`` says so; nor is a finished one, unless
        what will be written (``replacing``) is the same kind of thing of the same resolved
        scenario (a run) or the same points (a sweep): ``make run`` may be run again, but a
        run with other settings does not silently take the place of the results already there."""
        held = self.read_manifest(damaged_ok=overwrite)
        if held and held.status == "complete" and replacing and not overwrite:
            self._refuse_replacing(held, replacing)
        if held and held.status == "running" and held.chunks_done and not overwrite:
            raise RunFolderError(
                f"{self.path} holds an interrupted {held.kind} ({held.saved_runs():,} of "
                f"{held.planned_runs():,} replications saved): finish it with --resume, or start "
                "anew with --overwrite")
        if held is None:  # not a results folder: refuse to write among someone else's files
            others = sorted(f.name for f in self.path.iterdir() if not f.name.startswith("."))
            if others:
                shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
                raise RunFolderError(f"{self.path} is not empty and holds no run or sweep ({shown}): "
                                     "choose a new or empty --out")
        for name in OWN_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        shutil.rmtree(self.path / PLOTS, ignore_errors=True)  # the figures of the run that was here
        self.clear_shards()
        self.clear_temporaries()

    def clear_temporaries(self) -> None:
        """Remove the temporary files a killed writer left at the top of the folder (the
        caller holds the lock, so no writer is using them)."""
        if self.path.is_dir():
            for f in self.path.iterdir():
                if _TEMPORARY.match(f.name):
                    with contextlib.suppress(FileNotFoundError):
                        f.unlink()

    def _refuse_replacing(self, held: Manifest, new: Held) -> None:
        old = Held.of(held)
        if old.kind == new.kind and old.digest == new.digest:
            return
        if old.kind != new.kind:
            why = f"a finished {old.kind}, and this is a {new.kind}"
        elif new.kind == "sweep":
            why = "a finished sweep of other points (scenario, --set, --vary or design)"
        else:
            name = held.scenario_name or "a scenario"
            given = held.overrides
            made = f"{name}" + (f" with --set {' '.join(given)}" if given else "")
            found = scenario_differences(held.scenario or {}, new.scenario or {})
            differ = f"; it differs from this run's in {describe_differences(found, 'that run', 'this one')}" \
                if found else ""
            why = f"a finished run of {made} ({held.runs or 0:,} replications){differ}"
        raise RunFolderError(f"{self.path} holds {why}. Choose another --out, or replace it with --overwrite.")

    def start(self, scenario: Scenario, plan: Plan, timeseries: bool, overwrite: bool = False) -> Manifest:
        """A fresh run: clear what an earlier run left here (see :meth:`clear`), record the plan."""
        self.clear(overwrite, Held("run", plan.scenario_sha256, scenario.model_dump(mode="json")))
        manifest = Manifest(version=MANIFEST_VERSION, status="running", plan=plan.__dict__, timeseries=timeseries,
                            scenario_name=scenario.name, scenario=scenario.model_dump(mode="json"))
        self.write_manifest(manifest)
        return manifest

    def resume(self, scenario: Scenario, seed: int, runs: int,
               precision: tuple[float | None, int | None, list[str]] = (None, None, [])
               ) -> tuple[Manifest, Plan]:
        """The manifest and plan of an interrupted run, checked against what is asked
        (``precision``: target, check step and watched columns of a precision run)."""
        manifest = self.read_manifest()
        if manifest is not None and manifest.kind == "sweep":
            raise RunFolderError(f"{self.path} holds a sweep, not a run: resume it with sim sweep ... --resume")
        if manifest is None or manifest.plan is None:
            raise RunFolderError(f"nothing to resume in {self.path}: it holds no interrupted run "
                                 "(run without --resume to start one)")
        plan = Plan(**manifest.plan)
        self.check_model(plan.model_sha256, "run")
        asked = {"scenario": scenario_digest(scenario), "seed": seed, "runs": runs, "precision": list(precision)}
        held = {"scenario": plan.scenario_sha256, "seed": plan.seed, "runs": plan.runs,
                "precision": [plan.target_precision, plan.check_every, plan.precision_columns]}
        differ = [k for k in asked if asked[k] != held[k]]
        if "precision" in differ and "runs" in differ:
            differ.remove("runs")  # a precision run's runs are its cap: said by the precision options
        if differ:
            capped = plan.target_precision is not None
            what = {"scenario": "a different resolved scenario (file, extends or --set)",
                    "seed": f"seed {held['seed']} (this command asks for {asked['seed']})",
                    "runs": (f"a cap of {held['runs']} replications (this command asks for --max-runs "
                             f"{asked['runs']})" if capped else
                             f"{held['runs']} runs (this command asks for {asked['runs']})"),
                    "precision": (f"--target-precision {plan.target_precision:g} checked every "
                                  f"{plan.check_every} (--runs) up to {plan.runs} (--max-runs), "
                                  f"watching {', '.join(plan.precision_columns)}"
                                  if capped else "no --target-precision")}
            raise RunFolderError(
                f"cannot resume {self.path}: the run there has "
                + " and ".join(what[k] for k in differ)
                + ". Resume with the same scenario, --set, --seed and --runs (and precision options), "
                "or choose another --out.")
        return manifest, plan

    def check_model(self, held: str | None, kind: str) -> None:
        """Refuse to resume a run or sweep (``kind``) begun by other model code (``held``, its
        hash; None in folders from before it was recorded)."""
        if held not in (None, model_digest()):
            raise RunFolderError(
                f"cannot resume {self.path}: its {kind} was started by a different version of the "
                "model code, and its replications would not match the rest. Start it anew with "
                "--overwrite, or finish it with the version that started it.")

    # --- shards ---------------------------------------------------------------------------

    def clear_shards(self) -> None:
        """Remove the shards (and ``shards/``, once nothing else is in it)."""
        if self.shards.exists():
            for f in self.shards.iterdir():
                if _SHARD_FILE.match(f.name):
                    f.unlink()
            with contextlib.suppress(OSError):
                self.shards.rmdir()

    def shard(self, table: str, start: int, stop: int, point: int | None = None) -> Path:
        """The shard of ``table`` for replications ``start .. stop - 1`` (of a sweep's ``point``)."""
        return self.shards / _shard_name(table, start, stop, point)

    def write_chunk(self, manifest: Manifest, chunk: Chunk, timeseries: bool,
                    point: int | None = None) -> None:
        """Write the chunk's shards, then list it in the manifest as done: ``[start, stop]``,
        or ``[point, start, stop]`` for a chunk of a sweep's point."""
        self.shards.mkdir(exist_ok=True)
        outcomes, series = assemble([chunk])
        frames = {"outcomes": outcomes, "timeseries": series} if timeseries else {"outcomes": outcomes}
        hashes = manifest.shard_sha256
        for table, frame in frames.items():
            path = self.shard(table, chunk.start, chunk.stop, point)
            atomic_write(path, lambda p, f=frame: f.to_parquet(p, index=False))
            hashes[path.name] = file_sha256(path)
        key = (chunk.start, chunk.stop) if point is None else (point, chunk.start, chunk.stop)
        manifest.chunks_done = sorted({*manifest.chunks_done, key})
        self.write_manifest(manifest)

    def verify_chunks(self, manifest: Manifest, tables: Sequence[str]) -> None:
        """Check every chunk the manifest lists as done against what is on disk before
        anything builds on it: each of its shards is there, and holds what was written (the
        hash recorded when it was written; in a folder from before hashes were recorded, the
        replications of its range). A shard that fails is refused in one line naming it,
        and nothing is removed."""
        hashes = manifest.shard_sha256
        for key in manifest.chunks_done:
            point, (start, stop) = (None, key) if len(key) == 2 else (key[0], key[1:])
            for table in tables:
                path = self.shard(table, start, stop, point)
                if not path.exists():
                    raise damaged(path, "a shard the manifest lists as saved is missing")
                recorded = hashes.get(path.name)
                if recorded is not None and recorded != file_sha256(path):
                    raise damaged(path, "its content is not what was written there")
                if recorded is None and table == "outcomes":
                    try:
                        reps = pq.read_table(path, columns=["replication"]).column(0).to_pylist()
                    except (pa.ArrowException, KeyError):
                        raise damaged(path, "not a whole shard") from None
                    if reps != list(range(start, stop)):
                        raise damaged(path, f"it does not hold replications {start} to {stop - 1}")

    def check_before_resuming(self, manifest: Manifest, finished: Sequence[str],
                              shards: Sequence[str]) -> None:
        """Before a resume builds on what the folder holds: remove what a killed writer left,
        then check the ``finished`` tables a complete manifest promises, or else the
        ``shards`` of every chunk it lists as saved."""
        self.clear_temporaries()
        if manifest.status == "running":
            self.verify_chunks(manifest, shards)
        else:
            self.verify_tables(finished)

    def verify_tables(self, tables: Sequence[str]) -> None:
        """Check that the finished tables a complete manifest promises are whole Parquet files."""
        for table in tables:
            path = self.path / f"{table}.parquet"
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException):
                raise damaged(path, "a table the manifest says is finished is missing or not whole") from None

    def compact(self, chunks: list[tuple[int, int]], tables: tuple[str, ...]) -> None:
        """Stream the shards, in replication order, into one Parquet file per table. The
        shards stay until the manifest says the run is complete (:meth:`clear_shards`)."""
        for table in tables:
            paths = [self.shard(table, a, b) for a, b in chunks]

            def write(tmp: Path, paths: list[Path] = paths) -> None:
                write_row_groups(tmp, (pq.read_table(shard) for shard in paths))

            atomic_write(self.path / f"{table}.parquet", write)
        # Arrow keeps freed buffers in its own pool; hand them back, or the summary that
        # follows (numpy, another allocator) would stack its peak on top of them.
        pa.default_memory_pool().release_unused()


ROW_GROUP_ROWS = 16_384
"""Rows per row group of a compacted table: few enough groups that reading one column of a
million-row table is quick, small enough that compacting holds little in memory."""


def write_row_groups(path: Path, parts: Iterable[pa.Table], rows: int = ROW_GROUP_ROWS) -> None:
    """Write ``parts`` (tables of one schema, in order) as one Parquet file at ``path``,
    gathering parts into row groups of at least ``rows`` rows (the last may be smaller); at
    most one group's parts are held at a time."""
    writer: pq.ParquetWriter | None = None
    pending: list[pa.Table] = []
    held = 0

    def flush() -> None:
        nonlocal held
        if pending:
            writer.write_table(pa.concat_tables(pending))  # type: ignore[union-attr]
            pending.clear()
            held = 0

    try:
        for part in parts:
            if writer is None:
                writer = pq.ParquetWriter(path, part.schema)
            pending.append(part.cast(writer.schema) if part.schema != writer.schema else part)
            held += part.num_rows
            if held >= rows:
                flush()
        flush()
    finally:
        if writer is not None:
            writer.close()


@dataclass
class StoredRun:
    """What :func:`run_to_folder` did."""

    manifest: Manifest
    chunks_run: int
    chunks_total: int


def run_to_folder(scenario: Scenario, out: str | os.PathLike[str] | RunFolder, *, runs: int, seed: int,
                  workers: int | None = None, chunk_size: int | None = None, resume: bool = False,
                  overwrite: bool = False, timeseries: bool = True, progress: Progress | None = None,
                  executor: str = "local", scheduler: str | None = None,
                  target_precision: float | None = None, check_every: int | None = None,
                  precision_columns: Sequence[str] = HEADLINE,
                  provenance: dict[str, Any] | None = None) -> StoredRun:
    """Run ``scenario`` into the folder ``out``, shard by shard, and compact the shards when
    all are in. With ``resume``, finish an interrupted run there instead of starting anew.
    Ctrl-C stops after the chunks already running and leaves the folder resumable. A fresh
    run refuses to replace an interrupted one unless ``overwrite``. ``out`` may be a
    :class:`RunFolder` whose lock the caller holds (to report on the run before letting go).

    With ``target_precision``, ``runs`` is a cap: the run is judged every ``check_every``
    replications and stops at the first check point where the 95% half-width of every mean
    in ``precision_columns`` is under ``target_precision`` times the mean (see
    :mod:`sim.experiment.precision`); the manifest's ``precision`` says what was reached. ``provenance``
    adds to the final manifest (where the scenario came from)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = max(1, workers or default_workers())
    folder = out if isinstance(out, RunFolder) else RunFolder(out)
    with folder.locked(create=not resume):
        began = time.perf_counter()
        if resume:
            precision = ((target_precision, check_every or runs, list(precision_columns)) if target_precision
                         else (None, None, []))
            manifest, plan = folder.resume(scenario, seed, runs, precision)
            timeseries = manifest.timeseries
            tables = TABLES if timeseries else ("outcomes",)
            folder.check_before_resuming(manifest, finished=tables, shards=tables)
            if manifest.status == "complete":
                folder.clear_shards()  # left by a run stopped just after it completed
                return StoredRun(manifest, 0, len(plan.chunks()))
        else:
            plan = Plan.new(scenario, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size,
                            target_precision=target_precision, check_every=check_every,
                            precision_columns=precision_columns)
            manifest = folder.start(scenario, plan, timeseries, overwrite)
        resumed = len(manifest.chunks_done)
        sink = FolderSink(folder, manifest, timeseries)
        watch = _watch(folder, plan, manifest)

        def store_judging() -> None:
            assert watch is not None
            manifest.precision_segments = watch.stored_segments()

        ran, stopped, run_now = run_plan(scenario, plan, executor_for(executor, workers, scheduler), sink,
                                         timeseries=timeseries, progress=progress, watch=watch,
                                         after_judging=store_judging)
        kept = kept_chunks(plan, ran)
        tables = TABLES if timeseries else ("outcomes",)
        folder.compact(kept, tables)
        final = run_manifest(scenario, plan, runs=ran, workers=workers, wall_seconds=time.perf_counter() - began,
                             events=sum(manifest.events_per_chunk[str(a)] for a, _ in kept),
                             timeseries=timeseries, chunks_resumed=resumed, watch=watch, stopped=stopped,
                             provenance=provenance)
        # The shards go only once the manifest says complete: a run stopped before that is
        # compacted again on resume, from the shards.
        folder.write_manifest(final)
        folder.clear_shards()
        return StoredRun(final, run_now, len(plan.chunks()))


@dataclass
class FolderSink:
    """Chunks written to a run's or sweep's folder as shards, each listed in the manifest as
    it is saved (see :meth:`RunFolder.write_chunk`): the chunks a resumed folder lists are
    held already. A sweep's shards (``points``) are named by point; a run's record each
    chunk's events, which the final manifest averages."""

    folder: RunFolder
    manifest: Manifest
    timeseries: bool
    points: bool = False

    def saved(self) -> set[tuple[int, int, int]]:
        return {(0, key[0], key[1]) if len(key) == 2 else (key[0], key[1], key[2]) for key in self.manifest.chunks_done}

    def save(self, point: int, chunk: Chunk) -> None:
        if not self.points:
            self.manifest.events_per_chunk[str(chunk.start)] = float(chunk.outcomes["events"].sum())
        self.folder.write_chunk(self.manifest, chunk, self.timeseries, point if self.points else None)


def _watch(folder: RunFolder, plan: Plan, manifest: Manifest) -> PrecisionWatch | None:
    """The precision watch of a run with a target, picking up a resumed run's judging: the
    moments of whole segments from the manifest, the chunks of unfinished ones from their
    shards."""
    if not plan.target_precision:
        return None
    watch = PrecisionWatch(plan.target_precision, plan.precision_columns, plan.check_points(),
                           manifest.precision_segments)
    for a, b in sorted(manifest.chunks_done):
        if watch.segment_of(a) not in watch.segments:
            shard = folder.shard("outcomes", a, b)
            watch.add(a, b, pq.read_table(shard, columns=plan.precision_columns).to_pandas())
    return watch
