"""Calibration: the model against published statistics, each with its source and tolerance."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import baseline
from sim.model.projects import draw_ramp
from sim.model.ramp import integrate


@pytest.fixture(scope="module")
def class2_curves():
    """20,000 generic class-2 projects commissioned at t = 0, drawn by the model's own code
    (sampling error on a share: about 0.3 points)."""
    world = SimpleNamespace(scenario=baseline())
    rng = np.random.default_rng(2023)
    return [draw_ramp(world, 2, rng, 0.0) for _ in range(20000)]  # type: ignore[arg-type]


def test_ramp_up_time_matches_soutex(class2_curves):
    """Soutex (SME 2023): average 2.5 years to design output, 30% within 1 year, about 10%
    still short after 4 years. A lognormal cannot meet all three (with 30% within a year and
    a mean of 2.5, 17% would be short at 4 years); the fit trades them off and gives a mean
    of 2.25 yr, 30% within a year and 13.5% short after 4 years.
    Tolerances: mean 2.5 +/- 0.3 yr; 30% +/- 5 points; 10% +/- 5 points."""
    years = np.array([c.years_to_design for c in class2_curves])
    assert years.mean() == pytest.approx(2.5, abs=0.3)
    assert (years <= 1.0).mean() == pytest.approx(0.30, abs=0.05)
    assert (years > 4.0).mean() == pytest.approx(0.10, abs=0.05)


def test_first_year_output_is_mostly_below_70_percent_of_design(class2_curves):
    """World Bank (1970s): in year 1, 60% of mines and 70% of plants produced below 70% of
    design. Tolerance: the share lies in [0.55, 0.80]."""
    first_year = np.array([integrate(c, 0.0, 1.0) for c in class2_curves])
    assert 0.55 <= (first_year < 0.7).mean() <= 0.80


def test_novel_process_class_leaves_a_quarter_short_of_design():
    """McCarthy & Ward (1999): about a quarter of projects never reach design; the baseline
    gives that share to class 4 (novel process). Tolerance: 0.25 +/- 0.04."""
    world = SimpleNamespace(scenario=baseline())
    rng = np.random.default_rng(1999)
    plateaus = np.array([draw_ramp(world, 4, rng, 0.0).plateau for _ in range(4000)])  # type: ignore[arg-type]
    assert (plateaus < 1.0).mean() == pytest.approx(0.25, abs=0.04)


def test_antimony_spike_under_chinese_controls():
    """Argus (Rotterdam): USD 11.7-12.1k/t in early 2024, 59.5-61k in June 2025: about 5x in
    18 months, under China's antimony controls of 15 Sep 2024 and its U.S.-specific ban of
    3 Dec 2024 (two steps). Start at the long-run level in January 2024, apply the two steps,
    read the median price in June 2025. Tolerance: 5x within a factor of 1.4 (log +/- 0.34).
    Instantaneous jumps overshoot at the end of 2024 (about 6x against 3.3x observed): the
    fit is to the 18-month figure the sources give."""
    import math

    from sim.model.market import Market

    scn = baseline()
    antimony = scn.commodities["antimony"].model_copy(update={"price_usd": 12000.0,
                                                               "long_run_price_usd": 12000.0})
    jump = float(scn.shocks.refining.price_jump_per_step)
    ratios = []
    week = 1 / 52
    for seed in range(1500):
        market = Market({"antimony": antimony}, np.random.default_rng(seed))
        t = 0.0
        for step_at in (0.70, 0.92, 1.45):  # 15 Sep 2024, 3 Dec 2024, June 2025
            while t + week <= step_at:
                market.step(week)
                t += week
            if step_at < 1.45:
                market.jump(jump)
        ratios.append(market.price["antimony"] / 12000.0)
    median = float(np.median(ratios))
    assert abs(math.log(median / 5.0)) < 0.34, median
