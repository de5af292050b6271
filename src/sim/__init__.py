"""Scenario simulation of Pakistan's critical-minerals and rare-earth ramp-up.

A discrete-event Monte Carlo model: scenario files (YAML) describe projects, processing
routes, the three-phase national programme and three families of shocks (security,
China's refining and export controls, U.S. tariffs); each replication walks the programme
on a SimPy clock; many replications give distributions of phase timing, export value,
domestic value added and China dependency.

    import sim
    scn = sim.load_scenario("scenarios/baseline.yaml", set={"horizon_years": 30})
    res = sim.run(scn, runs=2000, seed=1)            # or sim.open("results/baseline")
    res.outcomes, res.timeseries, res.summary()      # tidy pandas DataFrames
    res.plot.fan("export_value_usd"); res.plot.survival(); res.plot.hist("npv_usd")
    sim.compare(res_a, res_b); sim.sweep(...); sim.sensitivity(...); sim.discover(...)
    sim.report(res, out="report.html")

The functions are those of :mod:`sim.api`; the ``sim`` command calls the same ones.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers; at run time names load on first use
    from .api import compare, discover, load_scenario, open, report, run, sensitivity, sweep  # noqa: A004
    from .errors import Problem, ScenarioError, UsageError
    from .experiment.results import ResultSet

# Where each public name lives. They are imported on first use (PEP 562), so that importing
# one module of the package (as a worker process does with the engine) does not load the
# plotting, reporting and sensitivity libraries behind the API.
_HOMES = {**dict.fromkeys(("compare", "discover", "load_scenario", "open", "report", "run",
                           "sensitivity", "sweep"), "api"),
          **dict.fromkeys(("Problem", "ScenarioError", "UsageError"), "errors"),
          "ResultSet": "experiment.results"}

__all__ = ["Problem", "ResultSet", "ScenarioError", "UsageError", "compare", "discover", "load_scenario", "open",
           "report", "run", "sensitivity", "sweep"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__"})


__version__ = "0.1.0"
