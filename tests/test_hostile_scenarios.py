"""Hostile scenario files: nothing is accepted that then breaks.

A mutation harness. Every value of a scenario (every leaf of the file, every list item,
every parameter of a distribution, and every field the file leaves at its default) is
replaced in turn by a hostile value: non-finite and extreme numbers, a 400-digit integer,
the wrong kind of value, odd dates and dates in other formats, and distributions with
hostile parameters. Each mutated scenario must either be refused when it is loaded, with a
:class:`~sim.errors.ScenarioError` of one-line problems (never another exception), or run:
two replications that finish with every outcome finite (NaN only where the outcome's
documentation says it can be), a bounded number of events, and event dates the trace and
the report can print.

The default suite runs a seeded sample of the mutations of a small scenario and of the
baseline, and the commands a user runs (validate, run, trace, report) on a few accepted
ones; ``pytest -m slow`` runs every mutation of both (about 15 minutes on one core).
"""

from __future__ import annotations

import copy
import math
import random
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from conftest import BASELINE
from sim.analysis import stats
from sim.cli import app
from sim.errors import ScenarioError
from sim.model.engine import run_replication
from sim.model.outputs import OUTCOMES, TIMESERIES, declaration
from sim.scenario.distributions import Dist, parse_number
from sim.scenario.files import resolve_document, validate_document
from sim.scenario.schema import EVENT_BUDGET, Scenario

SMALL = Path(__file__).parent / "data" / "small.yaml"

BIG = int("9" * 400)
NAN, INF = math.nan, math.inf

HOSTILE: dict[str, Any] = {
    # numbers
    "nan": NAN, "inf": INF, "-inf": -INF, "1e308": 1e308, "-1e308": -1e308, "5e-324": 5e-324,
    "0": 0, "-1": -1, "-0.5": -0.5, "2": 2, "30": 30, "1e12": 1e12, "400 digits": BIG, "-400 digits": -BIG,
    # the wrong kind of value
    "text": "lots", "empty text": "", "list": [1, 2], "mapping": {"a": 1}, "true": True, "null": None,
    # dates
    "0001-01-01": date(1, 1, 1), "9999-12-31": date(9999, 12, 31), "2024-02-29": date(2024, 2, 29),
    "2199-12-31": date(2199, 12, 31), "2025/10/02": "2025/10/02", "02-10-2025": "02-10-2025",
    "9 Oct 2025": "9 Oct 2025", "datetime": datetime(2025, 10, 2, 12, 30),
    # distributions with hostile parameters
    "uniform to inf": {"dist": "uniform", "low": 0, "high": INF},
    "uniform from nan": {"dist": "uniform", "low": NAN, "high": 1},
    "uniform low > high": {"dist": "uniform", "low": 1, "high": 0},
    "uniform to 1e308": {"dist": "uniform", "low": 0, "high": 1e308},
    "uniform tiny": {"dist": "uniform", "low": 5e-324, "high": 1e-323},
    "triangular to inf": {"dist": "triangular", "low": 0, "mode": 0.5, "high": INF},
    "pert huge lamb": {"dist": "pert", "low": 0, "mode": 0.5, "high": 1, "lamb": 1e308},
    "pert tiny lamb": {"dist": "pert", "low": 0, "mode": 0.5, "high": 1, "lamb": 5e-324},
    "normal huge sd": {"dist": "normal", "mean": 0.5, "sd": 1e308, "low": 0, "high": 1},
    "normal far mean": {"dist": "normal", "mean": 1e308, "sd": 1, "low": 0, "high": 1},
    "normal untruncated": {"dist": "normal", "mean": 0.5, "sd": 0.1},
    "lognormal huge sigma": {"dist": "lognormal", "median": 0.5, "sigma": 1e308, "low": 0.1, "high": 1},
    "lognormal far median": {"dist": "lognormal", "median": 1e308, "sigma": 1, "low": 0.1, "high": 1},
    "lognormal tiny median": {"dist": "lognormal", "median": 5e-324, "sigma": 1, "low": 0.1, "high": 1},
    "lognormal huge": {"dist": "lognormal", "median": 1e300, "sigma": 100},
    "beta huge a": {"dist": "beta", "a": 1e308, "b": 1},
    "beta tiny a and b": {"dist": "beta", "a": 5e-324, "b": 5e-324},
    "choice inf weight": {"dist": "choice", "values": [0, 1], "weights": [INF, 1]},
    "choice huge weights": {"dist": "choice", "values": [0, 1], "weights": [1e308, 1e308]},
    "choice tiny weights": {"dist": "choice", "values": [0, 1], "weights": [5e-324, 5e-324]},
    "choice nan value": {"dist": "choice", "values": [NAN, 1]},
    "fixed nan": {"dist": "fixed", "value": NAN},
    "unknown family": {"dist": "gamma", "a": 1},
}
"""Every hostile value, by the name a failure report gives it."""

def nan_documented(name: str, table: tuple) -> bool:
    """Whether the column's declaration (or its family's) says when it is NaN (a phase not
    reached, say)."""
    found = declaration(name, table)
    return found is not None and "NaN" in found[0].meaning

SECONDS_PER_MUTANT = 30
"""A mutated scenario whose two replications take longer than this has run away."""

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutant:
    file: Path
    path: Path_
    hostile: str
    value: Any = field(default=None, compare=False)

    @classmethod
    def of(cls, file: Path, path: Path_, hostile: str) -> Mutant:
        return cls(file, path, hostile, HOSTILE[hostile])

    @property
    def name(self) -> str:
        return f"{self.file.name}: {'.'.join(map(str, self.path))} = {self.hostile}"


def targets(scenario: BaseModel, data: dict) -> dict[Path_, dict[str, float]]:
    """Every value a scenario file could set, with the bounds the schema gives it: each
    field of each section (whether the file sets it or leaves the default), each key of a
    mapping, each list item, and each parameter of a distribution as the file writes it."""
    found: dict[Path_, dict[str, float]] = {}

    def walk(node: Any, raw: Any, path: Path_, bounds: dict[str, float]) -> None:
        if isinstance(node, BaseModel):
            for name, field in type(node).model_fields.items():
                extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
                inner = {k: float(v) for k, v in extra.items() if k in ("ge", "le")}  # type: ignore[arg-type]
                found[(*path, name)] = inner
                walk(getattr(node, name), raw.get(name) if isinstance(raw, dict) else None, (*path, name), inner)
        elif isinstance(node, dict):
            for key, value in node.items():
                found[(*path, str(key))] = bounds
                walk(value, raw.get(str(key), raw.get(key)) if isinstance(raw, dict) else None, (*path, str(key)),
                     bounds)
        elif isinstance(node, list | tuple) and not isinstance(node, Dist):
            for i, value in enumerate(node):
                found[(*path, i)] = bounds
                walk(value, raw[i] if isinstance(raw, list) and i < len(raw) else None, (*path, i), bounds)
        elif isinstance(node, Dist) and isinstance(raw, dict):
            found.update({(*path, key): {} for key in raw if key != "dist"})

    walk(scenario, data, (), {})
    return found


def mutants(file: Path) -> list[Mutant]:
    """Every hostile value at every target, and each bounded target at each of its bounds
    (the largest and smallest values the schema admits)."""
    data, _ = resolve_document(file)
    scenario = validate_document(copy.deepcopy(data), {}, str(file))
    found = []
    for path, bounds in targets(scenario, data).items():
        found += [Mutant.of(file, path, name) for name in HOSTILE]
        found += [Mutant(file, path, f"its bound {k} {v:g}", v) for k, v in bounds.items()]
    return found


_DOCUMENTS: dict[Path, tuple[dict, dict]] = {}


def document(file: Path) -> tuple[dict, dict]:
    if file not in _DOCUMENTS:
        _DOCUMENTS[file] = resolve_document(file)
    return _DOCUMENTS[file]


def mutated(mutant: Mutant) -> dict:
    data = copy.deepcopy(document(mutant.file)[0])
    node: Any = data
    for key in mutant.path[:-1]:
        node = node[key] if isinstance(node, list) else node.setdefault(key, {})
    node[mutant.path[-1]] = copy.deepcopy(mutant.value)
    return data


class RanAway(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def stop(*_: object) -> None:
        raise RanAway

    before = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def judge(mutant: Mutant) -> tuple[str, Scenario | None]:
    """("refused" | "ran" | "failed: why", the scenario if it loaded)."""
    data = mutated(mutant)
    try:
        scn = validate_document(data, document(mutant.file)[1], str(mutant.file))
    except ScenarioError as exc:
        lines = [p.format() for p in exc.problems]
        if not lines or any("\n" in ln or not ln.strip() or ln.count("(got") > 1 for ln in lines):
            return f"failed: refused without one-line problems (each naming its value once): {lines!r}", None
        return "refused", None
    except Exception as exc:  # noqa: BLE001 - the point is to catch any other exception
        return f"failed: {type(exc).__name__} while loading: {exc}", None
    assert isinstance(scn, Scenario)
    try:
        with time_limit(SECONDS_PER_MUTANT):
            reps = [run_replication(scn, 1, i, trace=i == 0) for i in (0, 1)]
    except RanAway:
        return f"failed: two replications ran for more than {SECONDS_PER_MUTANT} s", scn
    except Exception as exc:  # noqa: BLE001 - EventBudgetError included: a run must not need it
        return f"failed: {type(exc).__name__} in a replication: {exc}", scn
    for rep in reps:
        for name, value in rep.outcome.items():
            if isinstance(value, float) and not math.isfinite(value) and not (
                    math.isnan(value) and nan_documented(name, OUTCOMES)):
                return f"failed: outcome {name} is {value}", scn
        for name, values in rep.series.items():
            bad = [v for v in values if not math.isfinite(v)
                   and not (math.isnan(v) and nan_documented(name, TIMESERIES))]
            if bad:
                return f"failed: series {name} holds {bad[0]}", scn
        if rep.outcome["events"] > EVENT_BUDGET:
            return f"failed: {rep.outcome['events']:,} events in a replication", scn
    try:
        for t, _, _ in reps[0].log or []:
            scn.date_at(t)
        scn.date_at(scn.horizon_years)
    except (ValueError, OverflowError) as exc:
        return f"failed: event dates cannot be printed: {exc}", scn
    try:
        summary = stats.summarize(pd.DataFrame([r.outcome for r in reps]), scn.horizon_years)
    except Exception as exc:  # noqa: BLE001 - warnings are errors here: an overflow counts
        return f"failed: {type(exc).__name__} in the summary: {exc}", scn
    numbers = summary.select_dtypes("number").to_numpy().ravel()
    if any(math.isinf(v) for v in numbers):
        return "failed: an infinite number in the summary", scn
    return "ran", scn


def tally(items: list[Mutant]) -> tuple[Counter, list[str], list[Mutant]]:
    """How many were refused and ran, every failure, and the mutants that ran."""
    counts: Counter = Counter()
    failures, accepted = [], []
    for m in items:
        verdict, _ = judge(m)
        counts[verdict.split(":")[0]] += 1
        if verdict.startswith("failed"):
            failures.append(f"{m.name}: {verdict}")
        elif verdict == "ran":
            accepted.append(m)
    return counts, failures, accepted


def sample(file: Path, n: int, seed: int = 15) -> list[Mutant]:
    """``n`` mutants, every hostile value among them (so every kind is tried each time)."""
    everything = mutants(file)
    rng = random.Random(seed)
    by_value: dict[str, list[Mutant]] = {}
    for m in everything:
        by_value.setdefault(" ".join(m.hostile.split()[:3]), []).append(m)
    picked = [rng.choice(group) for group in by_value.values()]
    chosen = set(picked)
    rest = [m for m in everything if m not in chosen]
    return picked + rng.sample(rest, max(0, n - len(picked)))


@pytest.mark.parametrize("file,n", [(SMALL, 400), (BASELINE, 150)], ids=["small", "baseline"])
def test_a_sample_of_hostile_values_is_refused_or_runs_cleanly(file, n):
    counts, failures, _ = tally(sample(file, n))
    assert not failures, f"{len(failures)} of {sum(counts.values())} mutants broke:\n" + "\n".join(failures)
    assert counts["refused"] and counts["ran"]


@pytest.mark.slow
@pytest.mark.parametrize("file", [SMALL, BASELINE], ids=["small", "baseline"])
def test_every_hostile_value_is_refused_or_runs_cleanly(file):
    counts, failures, _ = tally(mutants(file))
    print(f"{file.name}: {dict(counts)}")
    assert not failures, f"{len(failures)} of {sum(counts.values())} mutants broke:\n" + "\n".join(failures)


def _commands_work(m: Mutant, tmp_path: Path, data: dict | None = None) -> None:
    """validate, run (two replications), trace and report on the mutated file, as a user
    would: each exits 0 without an exception, and summary.csv holds no infinity."""
    folder = tmp_path / f"m{abs(hash(m.name))}"
    folder.mkdir()
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data or mutated(m), sort_keys=False))
    cli = CliRunner()
    out = folder / "run"
    for args in (["validate", str(path)],
                 ["run", str(path), "--runs", "2", "--workers", "1", "--no-plots", "--quiet", "--out", str(out)],
                 ["trace", str(path)],
                 ["report", str(out)]):
        done = cli.invoke(app, args)
        assert done.exit_code == 0 and done.exception is None, (m.name, args[0], done.output, done.exception)
    summary = pd.read_csv(out / "summary.csv")
    assert not summary.isin([math.inf, -math.inf]).any().any(), m.name


def test_the_commands_work_on_accepted_odd_dates(tmp_path):
    """A start on 29 February near the end of the admitted range, and a schedule date in
    year 1: validate, run, trace and report all work."""
    m = Mutant(SMALL, ("start_date",), "29 February 2196", date(2196, 2, 29))
    assert judge(m)[0] == "ran"
    data = mutated(m)
    data["shocks"]["tariff"]["schedule"][0]["date"] = date(1, 1, 1)
    _commands_work(m, tmp_path, data)


@pytest.mark.slow
def test_the_commands_work_on_a_sample_of_accepted_mutants(tmp_path):
    _, _, accepted = tally(sample(SMALL, 400, seed=16))
    for m in random.Random(16).sample(accepted, min(25, len(accepted))):
        _commands_work(m, tmp_path)


# --- the holes found by hand, one test each, and the rules that close them -----------------

def _problems(overrides: dict) -> list[str]:
    from sim.scenario.files import load_scenario

    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, overrides)
    return [p.format() for p in caught.value.problems]


@pytest.mark.parametrize("path", ["shocks.tariff.schedule", "shocks.refining.scheduled"])
@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_a_non_finite_date_in_a_schedule_is_refused(path, value):
    entry = {"date": value, "rate": 0.3} if "tariff" in path else {"date": value, "regime": "restricted", "scope": ["rare_earths"]}
    lines = _problems({path: [entry]})
    assert len(lines) == 1 and f"{path}.0.date: not a finite number" in lines[0]


def test_a_non_finite_earliest_start_and_weight_are_refused():
    lines = _problems({"projects.reko_diq.phases.1.earliest_start": NAN,
                       "shocks.tariff.new_rate_weights": [1, INF, 1]})
    assert [ln.split(": ", 2)[1] for ln in lines] == ["projects.reko_diq.phases.1.earliest_start",
                                                      "shocks.tariff.new_rate_weights.1"]


@pytest.mark.parametrize("path", ["horizon_years", "discount_rate", "projects.reko_diq.phases.0.capex_usd"])
def test_an_integer_of_hundreds_of_digits_is_refused_in_one_line(path):
    (line,) = _problems({path: BIG})
    assert "a number of 400 digits is far too large" in line


@pytest.mark.parametrize(("path", "value", "words"), [
    ("start_date", date(9999, 12, 31), "from 1900-01-01 to 2200-12-31"),
    ("market.step_years", 1e-300, ">= 0.02"),
    ("commodities.copper.price_usd", 1e308, "<= 1e9"),
    ("commodities.copper.long_run_price_usd", 5e-324, ">= 0.01"),
    ("projects.reko_diq.phases.0.capex_usd", 1e308, "<= 1e13"),
    ("projects.reko_diq.phases.0.opex_usd_per_year", 1e308, "<= 1e12"),
    ("projects.reko_diq.phases.0.output.copper", 1e308, "<= 1e12"),
    ("shocks.security.severity.minor", 1e308, "<= 1e6"),
    ("shocks.security.provinces.balochistan.trend_per_year", 0.5, "268,337-fold over the 25-year horizon"),
])
def test_magnitudes_beyond_anything_real_are_refused(path, value, words):
    (line,) = _problems({path: value})
    assert words in line


def test_a_steep_trend_is_refused_over_a_long_horizon_and_allowed_over_a_short_one():
    (line,) = _problems({"horizon_years": 100, "shocks.security.provinces.balochistan.trend_per_year": 0.05})
    assert "148-fold over the 100-year horizon; at most 100-fold" in line
    from sim.scenario.files import load_scenario

    load_scenario(BASELINE, {"horizon_years": 40, "shocks.security.provinces.balochistan.trend_per_year": 0.05})


def test_every_number_in_the_schema_has_a_lower_and_an_upper_bound():
    """So that no accepted value is large (or small) enough to overflow the arithmetic; the
    parameter reference shows each range."""
    from sim.scenario.reference import parameter_rows

    numbers = [r for r in parameter_rows() if "number" in r["type"]]
    unbounded = [r["path"] for r in numbers if not (">" in r["range"] and "<" in r["range"])]
    assert numbers and not unbounded


@pytest.mark.parametrize(("text", "words"), [
    ("start_date=02/10/2025", "write a date as YYYY-MM-DD"),
    ("shocks.tariff.schedule=[{date: 2026/01/01, rate: 0.3}]", "write a date as YYYY-MM-DD"),
    ("shocks.tariff.schedule=[{date: 2026-13-01, rate: 0.3}]", "dates are written YYYY-MM-DD"),
    ("levers.local_equity_share=30", "a share is written as a fraction: 30% is 0.3"),
])
def test_messages_say_how_to_write_it(text, words):
    from sim.scenario.files import load_scenario

    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, [text])
    (line,) = [p.format() for p in caught.value.problems]
    assert words in line and line.count("(got") <= 1


def test_a_bad_distribution_parameter_is_shown_once():
    (line,) = _problems({"levers.output_tracking": {"dist": "uniform", "low": "x", "high": 1}})
    assert line.count("(got") == 1 and "'low' must be a number, not 'x'" in line


# --- routing shares: one rule for fixed and drawn shares -----------------------------------

ROUTE = "processing.routing.copper"


def test_fixed_and_drawn_shares_that_do_not_sum_to_one_are_refused_alike():
    (fixed,) = _problems({ROUTE: {"domestic": 0, "china": 1, "us": 0, "other": 1}})
    assert fixed.endswith(f"{ROUTE}: the shares must sum to 1 (got 2.0)")
    (drawn,) = _problems({ROUTE: {"china": {"dist": "uniform", "low": 0.8, "high": 1}, "other": 1}})
    assert drawn.endswith(f"{ROUTE}: the means of the shares must sum to 1 (got 1.9)")


def test_shares_that_could_all_be_zero_at_once_are_refused():
    (line,) = _problems({ROUTE: {"china": {"dist": "uniform", "low": 0, "high": 1},
                                 "other": {"dist": "uniform", "low": 0, "high": 1}}})
    assert "every share could be 0 in the same draw" in line


def test_drawn_shares_whose_means_sum_to_one_are_rescaled_in_every_replication():
    from sim.model.sampling import realize
    from sim.model.streams import Streams
    from sim.model.world import World
    from sim.scenario.files import load_scenario

    other = {"dist": "lognormal", "median": 0.6, "sigma": 0.2, "low": 0.4, "high": 0.9}
    china = 1 - parse_number(other).mean()  # fixed: the drawn share's mean and it sum to 1
    scn = load_scenario(BASELINE, {ROUTE: {"china": china, "other": other}})
    for i in range(5):
        streams = Streams(1, i)
        realized, drawn = realize(scn, streams)
        shares = World(realized, streams).ledger.shares("copper", True, 0.0)
        assert sum(shares) == pytest.approx(1)
        assert shares[1] == pytest.approx(china / (china + drawn[f"{ROUTE}.other"]))
