"""What a run's or sweep's folder says about itself: its manifest, typed and versioned.

``manifest.json`` is how a folder is known. It says what the folder holds (a run or a
sweep, still running or complete), how the work was planned (enough to refuse a resume
that asks for something else), which chunks are saved and the hash of each shard, and
where the numbers came from: the resolved scenario and its hash, the model code's hash,
the seed, the scenario file with its overrides and the question it asks, the library
versions, the machine and the wall time. A results set held in memory carries the same
record, so a run written later says what a run read back says.

:class:`Manifest` declares every field once, with its type; the folder's writers
(:mod:`sim.experiment.store`, :mod:`sim.experiment.sweeps`) and readers (results, reports, the command line)
go through it instead of reading keys by hand. Each manifest is written with
:data:`MANIFEST_VERSION`. A folder from before the version was recorded (version 1) is
read as it is: every field it lacks takes its default, and a field this version does not
know (one a newer version wrote) is kept, not dropped. A manifest that is not a JSON
object of this shape is refused as damaged, in one line.

The plan is stored as the fields of :class:`sim.experiment.runner.Plan` (a run) or
:class:`sim.experiment.sweeps.SweepPlan` (a sweep) and read back through them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import damaged
from ..scenario.schema import Scenario

MANIFEST_VERSION = 2
"""Written into every new manifest. 1: folders from before the version was recorded."""

DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "simpy", "PyYAML", "pydantic", "matplotlib", "typer", "rich",
                "SALib", "scikit-learn")
"""The libraries whose versions a manifest records."""

MODEL_SOURCES = ("model/*.py", "scenario/distributions.py")
"""The modules that turn (scenario, seed, index) into a replication's numbers (with the
column declarations of ``model/``, which a replication fills)."""


def scenario_digest(scenario: Scenario) -> str:
    """sha256 of the resolved scenario as canonical JSON."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def model_digest() -> str:
    """sha256 of the source of :data:`MODEL_SOURCES`: it changes whenever the code that
    computes a replication does, so a run is not resumed with different model code."""
    home = Path(__file__).parent.parent
    h = hashlib.sha256()
    for path in sorted(f for pattern in MODEL_SOURCES for f in home.glob(pattern)):
        h.update(path.relative_to(home).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    return {"python": sys.version.split()[0], "pakmin-sim": _version("pakmin-sim"),
            **{p: _version(p) for p in DEPENDENCIES}}


class Manifest(BaseModel):
    """The record of a run or sweep. Every field has a default, so an older folder's manifest
    reads with what it lacks left unset. It can also be read as a mapping
    (``res.manifest["seed"]``, ``"precision" in res.manifest``), where an unset field
    counts as absent."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    version: int = 1
    kind: Literal["run", "sweep"] = "run"
    status: Literal["running", "complete", "damaged"] = "complete"
    """``damaged``: never written; what a folder's unreadable manifest is read as, to replace it."""

    # What was run.
    scenario_name: str | None = None
    scenario_sha256: str | None = None
    model_sha256: str | None = None
    scenario: dict[str, Any] | None = None
    seed: int | None = None
    runs: int | None = None
    """Replications kept (per point, for a sweep)."""
    plan: dict[str, Any] | None = None
    timeseries: bool = True
    """Whether the yearly series were kept."""

    # Where it came from.
    scenario_file: str | None = None
    overrides: list[str] = Field(default_factory=list)
    question: str | None = None
    """The scenario file's top comment: the question it asks."""
    parameters: list[Any] | None = None
    """Every parameter with the source written beside it (a run written to a folder)."""

    # How it ran.
    workers: int | None = None
    chunk_size: int | None = None
    wall_seconds: float | None = None
    events_per_replication: float | None = None
    created_utc: str | None = None
    platform: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    chunks_resumed: int = 0
    precision: dict[str, Any] | None = None
    """What a run with a target precision reached (see :func:`sim.experiment.runner.precision_record`)."""

    # While it runs: what is saved.
    chunks_done: list[tuple[int, ...]] = Field(default_factory=list)
    """``(start, stop)`` of each saved chunk; ``(point, start, stop)`` in a sweep."""
    shard_sha256: dict[str, str] = Field(default_factory=dict)
    events_per_chunk: dict[str, float] = Field(default_factory=dict)
    precision_segments: dict[str, Any] | None = None

    # A sweep's.
    name: str | None = None
    points: int | None = None
    horizon_years: int | None = None
    horizons: dict[int, int] = Field(default_factory=dict)
    """Each point's horizon, where the design varies it."""
    design: dict[str, Any] = Field(default_factory=dict)
    factors: list[str] = Field(default_factory=list)

    @classmethod
    def of_run(cls, scenario: Scenario, *, seed: int, runs: int, workers: int, chunk_size: int,
               wall_seconds: float, events_per_replication: float, **more: Any) -> Manifest:
        """The record of finished replications of ``scenario``, made now on this machine;
        ``more`` sets other fields."""
        return cls(version=MANIFEST_VERSION, scenario_name=scenario.name, scenario_sha256=scenario_digest(scenario),
                   model_sha256=model_digest(), seed=seed, runs=runs, workers=workers, chunk_size=chunk_size,
                   wall_seconds=round(wall_seconds, 3), events_per_replication=events_per_replication,
                   created_utc=datetime.now(UTC).isoformat(timespec="seconds"), platform=platform.platform(),
                   versions=versions(), scenario=scenario.model_dump(mode="json"), **more)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """A folder's ``manifest.json``; one that is not a manifest (truncated, say) is
        refused as damaged, in one line."""
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise damaged(path, "not valid JSON", exc) from None
        return cls.of_data(data, path)

    @classmethod
    def of_data(cls, data: Any, path: Path) -> Manifest:
        """The manifest ``data`` (as read from ``path``) holds; refused as damaged if it is not one."""
        if not isinstance(data, dict):
            raise damaged(path, "not a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise damaged(path, f"{where}: {first['msg']}") from None

    @classmethod
    def of(cls, record: Manifest | dict[str, Any]) -> Manifest:
        """``record`` as a manifest: itself, or the manifest a mapping holds."""
        return record if isinstance(record, Manifest) else cls.model_validate(record)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)

    def saved_runs(self) -> int:
        """Replications the manifest lists as saved."""
        return sum(done[-1] - done[-2] for done in self.chunks_done)

    def planned_runs(self) -> int:
        """Replications the run or sweep was planned to make in all."""
        plan = self.plan or {}
        return int(plan.get("runs", 0)) * int(plan.get("points", 1))

    # --- read as a mapping, as earlier versions' manifests were ------------------------------

    def _value(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        return (self.model_extra or {}).get(key)

    def __getitem__(self, key: str) -> Any:
        value = self._value(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._value(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._value(key) is not None
