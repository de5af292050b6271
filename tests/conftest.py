"""Shared fixtures: the shipped baseline, and variants of it built with overrides."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from sim.model.sampling import dotted, uncertain_inputs
from sim.scenario.files import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
SHOCKS_OFF = {
    "shocks.security.enabled": False,
    "shocks.refining.enabled": False,
    "shocks.tariff.enabled": False,
    "governance.enabled": False,
    "construction.enabled": False,
}

PRICE_TAKER = {f"commodities.{c}.market.export_cut": {"open": 0.0, "licensing": 0.0, "restricted": 0.0, "embargo": 0.0}
               for c in ("rare_earths", "antimony")}
"""Overrides under which China's controls withhold nothing from the ex-China markets, so they
never clear above China's price: Pakistan sells rare earths and antimony at given prices,
a price-taker as it is for copper and gold."""


def baseline(**overrides: object) -> Scenario:
    """The baseline scenario with dotted-path overrides (keys use __ for dots)."""
    return load_scenario(BASELINE, {k.replace("__", "."): v for k, v in overrides.items()})


def hears_ctrl_c() -> None:
    """A child process's ``preexec_fn``: Ctrl-C (SIGINT) at its default, so the child turns
    it into KeyboardInterrupt even when the suite runs as a background job, which a shell
    starts with SIGINT ignored (and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_after(n_chunks: int):
    """A progress callback that raises KeyboardInterrupt (as Ctrl-C would) once ``n_chunks``
    chunks have been saved."""
    seen: list[int] = []

    def progress(k: int) -> None:
        seen.append(k)
        if len(seen) == n_chunks:
            raise KeyboardInterrupt

    return progress


def deterministic(extra: dict[str, object] | None = None) -> Scenario:
    """Baseline with every distribution at its mean, shocks and outages off, flat prices."""
    base = load_scenario(BASELINE, dict(SHOCKS_OFF))
    fixed: dict[str, object] = {dotted(p): float(d.mean()) for p, d in uncertain_inputs(base)}
    fixed.update(SHOCKS_OFF)
    fixed["infrastructure.enabled"] = False
    fixed["levers.illegal_extraction_share"] = 0.0
    for c, spec in base.commodities.items():
        fixed[f"commodities.{c}.volatility"] = 0.0
        fixed[f"commodities.{c}.long_run_price_usd"] = float(spec.price_usd)
    for k in base.ramp_up_classes:
        fixed[f"ramp_up_classes.{k}.sigma"] = 0.0
    fixed.update(extra or {})
    return load_scenario(BASELINE, fixed)


@pytest.fixture(scope="session")
def base() -> Scenario:
    return load_scenario(BASELINE)
