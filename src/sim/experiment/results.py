"""A run's results: the tables, their summary, their provenance, and how they are stored.

A :class:`ResultSet` holds the outcome table (one row per replication, then one column per
uncertain input, named by its dotted path), the time series (one row per replication and
year), and the manifest (the resolved scenario and its hash, the model code's hash, seed,
runs, workers, versions, wall time, mean events per replication), so that any replication
can be replayed.

On disk a run is a folder: ``outcomes.parquet``, ``timeseries.parquet`` (unless the run
kept outcomes only), ``summary.csv`` (raw names and units, for scripts) with
``summary_labelled.csv`` beside it (the same rows in words and shown units, for people),
``manifest.json`` and ``plots/``. Every file is written under a temporary name and renamed
into place. The command line writes the tables shard by shard as the run goes (see
:mod:`sim.experiment.store`); :meth:`ResultSet.write` writes a run held in memory.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..analysis import stats
from ..errors import RunFolderError, damaged
from ..model.outputs import OUTCOMES, TIMESERIES, declaration, headline
from ..present.tables import headline_table, labelled_summary
from ..scenario.schema import Scenario
from .manifest import Manifest

if TYPE_CHECKING:
    from ..present.plots import RunPlots

def scenario_differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two resolved scenarios (as :meth:`Scenario.model_dump` gives them, or as a
    manifest records them) differ: ``(dotted path, value in a, value in b)`` for each value
    that differs, mappings compared key by key and lists of one length item by item (a key
    one of them lacks reads None)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted({*a, *b}, key=str)
                for d in scenario_differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in scenario_differences(x, y, f"{path}.{i}" if path else str(i))]
    return [] if a == b else [(path, a, b)]


def describe_differences(found: list[tuple[str, Any, Any]], first: str, second: str, most: int = 4) -> str:
    """``found`` (from :func:`scenario_differences`) in words: "horizon_years (30 in h30, 25
    in hybrid_model), ..." for the first ``most``, and how many more."""
    def shown(value: Any) -> str:
        text = "not set" if value is None else json.dumps(value, default=str)
        return text if len(text) <= 40 else text[:37] + "..."

    words = [f"{path} ({shown(x)} in {first}, {shown(y)} in {second})" for path, x, y in found[:most]]
    more = f" and {len(found) - most} more" if len(found) > most else ""
    return ", ".join(words) + more


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` through ``write(tmp_path)`` under a temporary name, flush it to disk and
    rename it into place, so the path holds either the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def retire_manifest(folder: Path) -> None:
    """Before new tables are written over a finished run or sweep: remove its manifest, so
    that a write stopped half-way does not leave new tables under the old manifest. (The
    manifest of an unfinished one stays: it lists the shards a resume needs.)"""
    path = folder / "manifest.json"
    with contextlib.suppress(FileNotFoundError, RunFolderError):
        if Manifest.read(path).status == "complete":
            path.unlink()


LABELLED_SUMMARY = "summary_labelled.csv"
"""The run summary for people, beside ``summary.csv`` (see :func:`sim.present.tables.labelled_summary`)."""


@dataclass
class ResultSet:
    scenario: Scenario
    outcomes: pd.DataFrame | ParquetColumns
    timeseries: pd.DataFrame
    manifest: Manifest
    """The run's record (see :mod:`sim.experiment.manifest`); a mapping given here is read as one."""
    _summary: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.manifest = Manifest.of(self.manifest)

    @property
    def name(self) -> str:
        return self.scenario.name or "scenario"

    @property
    def horizon_years(self) -> int:
        return self.scenario.horizon_years

    @property
    def seed(self) -> int:
        return int(self.manifest.seed or 0)

    @property
    def runs(self) -> int:
        return len(self.outcomes)

    @property
    def plot(self) -> RunPlots:
        """The run's figures: ``res.plot.fan("export_value_usd")``, ``res.plot.survival()``,
        ``res.plot.hist("npv_usd")``; each returns a matplotlib Figure."""
        from ..present.plots import RunPlots

        return RunPlots(self)

    def summary(self, labels: bool = False) -> pd.DataFrame:
        """One row per outcome (mean, its Monte Carlo standard error and 95% interval,
        spread, percentiles) and per phase-timing probability; computed once, then kept.
        With ``labels``, the same for people: each quantity in words with the unit shown,
        the numbers scaled to it (USD bn, %), as in ``summary_labelled.csv``."""
        if self._summary is None:
            self._summary = stats.summarize(self.outcomes, self.horizon_years)
        if labels:
            return labelled_summary(self._summary)
        return self._summary.copy()

    def __repr__(self) -> str:
        return (f"<ResultSet {self.name}: {self.runs:,} replications, seed {self.manifest.seed}, "
                f"{'with' if not self.timeseries.empty else 'without'} time series>")

    def _repr_html_(self) -> str:
        return (f"<p><b>{html.escape(self.name)}</b>: {self.runs:,} replications, seed "
                f"{self.manifest.seed}. <code>.outcomes</code>, <code>.timeseries</code>, "
                f"<code>.summary()</code>, <code>.plot</code></p>" + headline_table(self.summary(), headline(self.scenario)).to_html(index=False))

    def write(self, out_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """Write the run into ``out_dir`` (created if needed); returns the files written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        retire_manifest(out)
        written = []
        outcomes = self.outcomes if isinstance(self.outcomes, pd.DataFrame) else self.outcomes.to_frame()
        for name, frame in (("outcomes.parquet", outcomes), ("timeseries.parquet", self.timeseries)):
            if name == "timeseries.parquet" and frame.empty:
                continue
            atomic_write(out / name, lambda p, f=frame: f.to_parquet(p, index=False))
            written.append(out / name)
        text = self.manifest.to_json()
        atomic_write(out / "manifest.json", lambda p: p.write_text(text))
        written.append(out / "manifest.json")
        return written + self.write_reports(out, plots=plots)

    def write_reports(self, out_dir: str | os.PathLike[str], *, plots: bool = True,
                      summary: pd.DataFrame | None = None) -> list[Path]:
        """Write what is derived from the tables: ``summary.csv`` (``summary`` if already
        computed; raw names and stored units, for scripts), ``summary_labelled.csv`` (the
        same rows for people: labels, shown units, scaled numbers) and, if asked, ``plots/``
        (the fan charts need the time series, and are left out without it)."""
        out = Path(out_dir)
        table = self.summary() if summary is None else summary
        self._summary = table
        labelled = labelled_summary(table)
        atomic_write(out / "summary.csv", lambda p: table.to_csv(p, index=False))
        atomic_write(out / LABELLED_SUMMARY, lambda p: labelled.to_csv(p, index=False))
        written = [out / "summary.csv", out / LABELLED_SUMMARY]
        if plots:
            from ..present.plots import write_plots

            written += write_plots(self.outcomes, self.timeseries, self.horizon_years,
                                   scenario=self.name, out_dir=out / "plots")
        return written

    @classmethod
    def open(cls, folder: str | os.PathLike[str], *, outcome_columns: Sequence[str] | None = None,
             timeseries_columns: Sequence[str] | None = None, lazy: bool = False) -> ResultSet:
        """Read a run folder written by :meth:`write` or by ``sim run``; optionally only some
        columns of each table (an empty list skips the table), which keeps memory small for
        very large runs. With ``lazy``, the outcomes stay on disk as :class:`ParquetColumns`
        and each column is read when the summary or a plot asks for it."""
        path = Path(folder)
        manifest = Manifest.read(path / "manifest.json")
        if manifest.kind != "run" or manifest.scenario is None:
            raise ValueError(f"{path} does not hold a run (its manifest is a {manifest.kind}'s)")
        scenario = Scenario.model_validate(manifest.scenario)
        if manifest.status != "complete":
            raise FileNotFoundError(f"{path} holds an unfinished run: finish it with "
                                    "sim run ... --resume")
        series = path / "timeseries.parquet"
        outcomes = (ParquetColumns(path / "outcomes.parquet", outcome_columns) if lazy
                    else read_columns(path / "outcomes.parquet", outcome_columns))
        timeseries = (read_columns(series, timeseries_columns)
                      if series.exists() and timeseries_columns != [] else pd.DataFrame())
        return cls(scenario, outcomes, timeseries, manifest)


REPORT_OUTCOMES = tuple(c.name for c in OUTCOMES)
"""The outcome columns the summary, the printed table and the plots read (a family's name
reads each of its members)."""
REPORT_SERIES = ("replication", "year", "export_value_usd", "domestic_value_added_usd")
"""The time-series columns the fan charts read."""


def report_folder(folder: str | os.PathLike[str], *, plots: bool = True) -> tuple[ResultSet, pd.DataFrame]:
    """Write ``summary.csv`` and ``plots/`` for the finished run in ``folder``; returns the
    run (its outcomes left on disk, as :class:`ParquetColumns`) and its summary. The outcome
    columns are read one at a time, so the table is never in memory whole (10^6 rows took
    about 100 MB more than 10^4; see ``benchmarks/results.md``)."""
    res = ResultSet.open(folder, outcome_columns=REPORT_OUTCOMES,
                         timeseries_columns=REPORT_SERIES if plots else [], lazy=True)
    summary = res.summary()
    res.write_reports(folder, plots=plots, summary=summary)
    return res, summary


class ParquetColumns:
    """An outcome table on disk, read one column at a time when asked for, and not kept.

    It offers what the summary and the plots use of a DataFrame (``columns``, ``dtypes``
    (from the file's schema), ``len()`` and ``table[name]``), so they run on a table of any
    length with one column in memory at a time; :meth:`to_frame` reads it all. The file is
    opened for each read and closed again.
    """

    def __init__(self, path: Path, columns: Sequence[str] | None = None):
        self.path = path
        source = parquet_file(path)
        self.columns = pd.Index(_present(source, columns))
        self.dtypes = pd.Series({c: _pandas_dtype(source.schema_arrow.field(c).type) for c in self.columns},
                                dtype=object)
        self._rows = source.metadata.num_rows

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self.columns:
            raise KeyError(name)
        return read_columns(self.path, [name])[name]

    def to_frame(self) -> pd.DataFrame:
        return read_columns(self.path, list(self.columns))


def _present(source: pq.ParquetFile, columns: Sequence[str] | None) -> list[str]:
    """The file's columns among ``columns`` (all of them if None), in the order asked for; a
    family's name (``<commodity>_exports_usd``) stands for each of its members the file has."""
    names = source.schema_arrow.names
    if columns is None:
        return list(names)
    found = []
    for wanted in columns:
        if "<" in wanted:
            found += [n for n in names if any((hit := declaration(n, table)) is not None and hit[0].name == wanted
                                              for table in (OUTCOMES, TIMESERIES))]
        elif wanted in names:
            found.append(wanted)
    return found


def _pandas_dtype(kind: pa.DataType) -> Any:
    try:
        return np.dtype(kind.to_pandas_dtype())
    except (NotImplementedError, TypeError):
        return np.dtype(object)


def read_columns(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A Parquet table read one column at a time (only ``columns`` it has, or all): the peak
    is the table plus one column, not the two copies a whole-table conversion makes."""
    source = parquet_file(path)
    data = {}
    try:
        for name in _present(source, columns):
            column = source.read(columns=[name]).column(0)
            data[name] = (column.to_pandas() if pa.types.is_dictionary(column.type)
                          else column.to_numpy(zero_copy_only=False))
    except pa.ArrowException as exc:
        raise damaged(path, "its data cannot be read", exc) from None
    return pd.DataFrame(data, copy=False)


def parquet_file(path: Path) -> pq.ParquetFile:
    """``path`` opened as Parquet; a file that is not a whole Parquet file (truncated, say)
    is refused as damaged, in one line."""
    try:
        return pq.ParquetFile(path)
    except pa.ArrowException as exc:
        raise damaged(path, "not a whole Parquet file", exc) from None
