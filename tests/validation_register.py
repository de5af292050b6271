"""The validation register: the tests that check the model against the world.

A test marked ``@pytest.mark.check(kind, source=..., tolerance=...)`` is one entry of the
register. It takes the ``figure`` fixture and records, in words, the figure the current
model gives (``figure(f"mean {m:.2f} yr")``); a check that records nothing fails. The kinds:

- ``analytic``: the model against a closed-form result;
- ``invariant``: a property every run must have (volume conserved, determinism);
- ``metamorphic``: the direction in which an input must move an output (a shock switched
  off never lowers exports; a lever helps what it is meant to help);
- ``calibration``: the model against a published statistic, with its source;
- ``holdout``: the model against a historical episode it was *not* fitted to, an
  independent test of what the calibration fixed (the figure says where it misses).

Pytest loads this module as a plugin (``-p validation_register`` in ``pyproject.toml``).
``make test`` runs the checks with the rest of the suite. ``make validate`` runs only them
(``pytest -m check --validation-report docs/validation.md``) and writes the register as a
Markdown document: what each check tests, its source, tolerance, figure and result.
"""

from __future__ import annotations

import inspect
import platform
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

KINDS = {
    "analytic": "Closed-form results",
    "invariant": "Invariants",
    "metamorphic": "Metamorphic relations (monotone effects of shocks and levers)",
    "calibration": "Calibration against published statistics",
    "holdout": "History held out of the calibration",
}

_ENTRY = pytest.StashKey["Entry"]()


@dataclass
class Entry:
    nodeid: str
    name: str
    doc: str
    kind: str
    source: str
    tolerance: str
    figures: list[str] = field(default_factory=list)
    result: str = "not run"


class Figure:
    """Records what a check measured; call it with a short phrase per figure."""

    def __init__(self, entry: Entry | None):
        self._entry = entry
        self.recorded: list[str] = []

    def __call__(self, text: str) -> None:
        self.recorded.append(text)
        if self._entry is not None:
            self._entry.figures.append(text)


@pytest.fixture
def figure(request: pytest.FixtureRequest):
    return Figure(request.node.stash.get(_ENTRY, None))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--validation-report", metavar="PATH", default=None,
                     help="Write the validation register (the tests marked 'check') to PATH.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "check(kind, source, tolerance): an entry of the validation register; "
                   f"kind is one of {', '.join(KINDS)}")


_PROPER = {"reko": "Reko", "diq": "Diq", "mckinsey": "McKinsey", "amc": "AMC", "soutex": "Soutex",
           "chinese": "Chinese", "china": "China", "us": "U.S.", "poisson": "Poisson",
           "balochistan": "Balochistan", "scipy": "scipy", "ppf": "inverse CDF"}


def _words(name: str) -> str:
    """A test's name as a sentence: test_more_attacks_... -> More attacks ..."""
    base, _, param = name.partition("[")
    words = [_PROPER.get(w, w) for w in base.removeprefix("test_").split("_")]
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    return f"{text} [{param}" if param else text


def _summary(func: object) -> str:
    doc = inspect.getdoc(func) or ""
    return " ".join(doc.split("\n\n")[0].split())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        marker = item.get_closest_marker("check")
        if marker is None:
            continue
        kind = marker.args[0] if marker.args else marker.kwargs.get("kind")
        source, tolerance = marker.kwargs.get("source"), marker.kwargs.get("tolerance")
        if kind not in KINDS or not source or not tolerance:
            problems.append(f"{item.nodeid}: check needs a kind ({', '.join(KINDS)}), "
                            "a source and a tolerance")
            continue
        if "figure" not in getattr(item, "fixturenames", ()):
            problems.append(f"{item.nodeid}: a check must take the 'figure' fixture")
            continue
        item.stash[_ENTRY] = Entry(item.nodeid, _words(item.name),
                                   _summary(getattr(item, "function", None)),
                                   kind, source, tolerance)
    if problems:
        raise pytest.UsageError("\n".join(problems))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    entry = item.stash.get(_ENTRY, None)
    if entry is None:
        return
    report = outcome.get_result()
    if report.when == "call" and report.passed and not entry.figures:
        report.outcome = "failed"
        report.longrepr = "a check must record the figure it measured: call figure(...)"
    if report.skipped:
        entry.result = "skipped"
    elif report.failed:
        entry.result = "FAIL"
    elif report.when == "call" and entry.result == "not run":
        entry.result = "pass"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--validation-report")
    if not path:
        return
    entries = [item.stash[_ENTRY] for item in session.items if _ENTRY in item.stash]
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not entries \
            or any(e.result == "not run" for e in entries):
        # An interrupted or broken run would leave a misleading page: keep the old one.
        session.config.get_terminal_writer().line(
            f"validation report not written: the run did not complete (exit status {int(exitstatus)})")
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(render(entries), encoding="utf-8")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(entries: list[Entry]) -> str:
    passed = sum(e.result == "pass" for e in entries)
    out = [
        "# Validation",
        "",
        "Every check of the model against the world: closed-form results, invariants, "
        "metamorphic relations (the direction in which a shock or lever must move an outcome), "
        "calibration against published statistics on mines, plants, security and prices, and "
        "history held out of the calibration. Each is a test "
        "in `tests/`, marked `check`, and runs in `make test`. This page is written by "
        "`make validate`, which runs only these tests; every figure below is what the current "
        "model gave in that run, with fixed seeds.",
        "",
        f"**{passed} of {len(entries)} checks pass.** "
        f"Python {platform.python_version()}, numpy {_version('numpy')}, "
        f"simpy {_version('simpy')}.",
        "",
    ]
    for kind, title in KINDS.items():
        rows = [e for e in entries if e.kind == kind]
        if not rows:
            continue
        out += [f"## {title}", "",
                "| Check | Source | Tolerance | Current figure | Result |",
                "|---|---|---|---|---|"]
        for e in rows:
            what = f"**{_cell(e.name)}**" + (f"<br>{_cell(e.doc)}" if e.doc else "")
            what += f"<br>`{e.nodeid}`"
            figures = "; ".join(e.figures) or "-"
            out.append(f"| {what} | {_cell(e.source)} | {_cell(e.tolerance)} | "
                       f"{_cell(figures)} | {e.result} |")
        out.append("")
    return textwrap.dedent("\n".join(out)).rstrip() + "\n"


def _version(name: str) -> str:
    from importlib.metadata import version
    return version(name)
