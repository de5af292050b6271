"""A run's results: the tables, their summary, their provenance, and how they are stored.

A :class:`ResultSet` holds the outcome table (one row per replication, then one column per
uncertain input, named by its dotted path), the time series (one row per replication and
year), and the manifest (the resolved scenario and its hash, seed, runs, workers, versions,
wall time, mean events per replication), so that any replication can be replayed.

On disk a run is a folder: ``outcomes.parquet``, ``timeseries.parquet`` (unless the run
kept outcomes only), ``summary.csv``, ``manifest.json`` and ``plots/``. Every file is
written under a temporary name and renamed into place. The command line writes the
tables shard by shard as the run goes (see :mod:`sim.store`); :meth:`ResultSet.write`
writes a run held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import stats
from .outputs import OUTCOMES
from .schema import Scenario

DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "simpy", "PyYAML", "pydantic", "matplotlib", "typer", "rich")


def scenario_digest(scenario: Scenario) -> str:
    """sha256 of the resolved scenario as canonical JSON."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    return {"python": sys.version.split()[0], "pakmin-sim": _version("pakmin-sim"),
            **{p: _version(p) for p in DEPENDENCIES}}


def make_manifest(scenario: Scenario, *, seed: int, runs: int, workers: int, chunk_size: int,
                  wall_seconds: float, events_per_replication: float) -> dict[str, Any]:
    return {
        "scenario_name": scenario.name,
        "scenario_sha256": scenario_digest(scenario),
        "seed": seed,
        "runs": runs,
        "workers": workers,
        "chunk_size": chunk_size,
        "wall_seconds": round(wall_seconds, 3),
        "events_per_replication": events_per_replication,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "versions": versions(),
        "scenario": scenario.model_dump(mode="json"),
    }


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


@dataclass
class ResultSet:
    scenario: Scenario
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.scenario.name or "scenario"

    @property
    def horizon_years(self) -> int:
        return self.scenario.horizon_years

    def summary(self) -> pd.DataFrame:
        return stats.summarize(self.outcomes, self.horizon_years)

    def write(self, out_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """Write the run into ``out_dir`` (created if needed); returns the files written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("outcomes.parquet", self.outcomes), ("timeseries.parquet", self.timeseries)):
            if name == "timeseries.parquet" and frame.empty:
                continue
            atomic_write(out / name, lambda p, f=frame: f.to_parquet(p, index=False))
            written.append(out / name)
        text = json.dumps(self.manifest, indent=2, default=str)
        atomic_write(out / "manifest.json", lambda p: p.write_text(text))
        written.append(out / "manifest.json")
        return written + self.write_reports(out, plots=plots)

    def write_reports(self, out_dir: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """Write what is derived from the tables: ``summary.csv`` and, if asked, ``plots/``
        (the fan charts need the time series, and are left out without it)."""
        out = Path(out_dir)
        atomic_write(out / "summary.csv", lambda p: self.summary().to_csv(p, index=False))
        written = [out / "summary.csv"]
        if plots:
            from .plots import write_plots

            written += write_plots(self.outcomes, self.timeseries, self.horizon_years,
                                   scenario=self.name, out_dir=out / "plots")
        return written

    @classmethod
    def open(cls, folder: str | os.PathLike[str], *, outcome_columns: Sequence[str] | None = None,
             timeseries_columns: Sequence[str] | None = None) -> ResultSet:
        """Read a run folder written by :meth:`write` or by ``sim run``; optionally only some
        columns of each table (an empty list skips the table), which keeps memory small for
        very large runs."""
        path = Path(folder)
        manifest = json.loads((path / "manifest.json").read_text())
        scenario = Scenario.model_validate(manifest["scenario"])
        if manifest.get("status", "complete") != "complete":
            raise FileNotFoundError(f"{path} holds an unfinished run: finish it with "
                                    "sim run ... --resume")
        series = path / "timeseries.parquet"
        outcomes = read_columns(path / "outcomes.parquet", outcome_columns)
        timeseries = (read_columns(series, timeseries_columns)
                      if series.exists() and timeseries_columns != [] else pd.DataFrame())
        return cls(scenario, outcomes, timeseries, manifest)


REPORT_OUTCOMES = tuple(c.name for c in OUTCOMES)
"""The outcome columns the summary, the printed table and the plots read."""
REPORT_SERIES = ("replication", "year", "export_value_usd", "domestic_value_added_usd")
"""The time-series columns the fan charts read."""


def read_columns(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A Parquet table read one column at a time (only ``columns`` it has, or all): the peak
    is the table plus one column, not the two copies a whole-table conversion makes."""
    source = pq.ParquetFile(path)
    names = source.schema_arrow.names
    chosen = names if columns is None else [c for c in columns if c in names]
    data = {}
    for name in chosen:
        column = source.read(columns=[name]).column(0)
        data[name] = (column.to_pandas() if pa.types.is_dictionary(column.type)
                      else column.to_numpy(zero_copy_only=False))
    return pd.DataFrame(data, copy=False)
