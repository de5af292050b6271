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

from .api import compare, discover, load_scenario, open, report, run, sensitivity, sweep  # noqa: A004
from .errors import Problem, ScenarioError, UsageError
from .results import ResultSet

__all__ = ["Problem", "ResultSet", "ScenarioError", "UsageError", "compare", "discover", "load_scenario", "open",
           "report", "run", "sensitivity", "sweep"]
__version__ = "0.1.0"
