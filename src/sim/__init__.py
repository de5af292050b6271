"""Scenario simulation of Pakistan's critical-minerals and rare-earth ramp-up.

A discrete-event Monte Carlo model: scenario files (YAML) describe projects, processing
routes, the three-phase national programme and three families of shocks (security,
China's refining and export controls, U.S. tariffs); each replication walks the programme
on a SimPy clock; many replications give distributions of phase timing, export value,
domestic value added and China dependency.

    import sim
    scn = sim.load_scenario("scenarios/baseline.yaml", {"horizon_years": 30})
    res = sim.run(scn, runs=2000, seed=1)
    res.outcomes, res.timeseries, res.summary()
"""

from .errors import Problem, ScenarioError
from .results import ResultSet
from .runner import simulate as run
from .scenario import load_scenario

open = ResultSet.open  # noqa: A001 - sim.open(folder) reads a run back, as the API promises

__all__ = ["Problem", "ResultSet", "ScenarioError", "load_scenario", "open", "run"]
__version__ = "0.1.0"
