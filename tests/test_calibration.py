"""Calibration: the model against published statistics, each with its source and tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import baseline
from sim.model.projects import draw_ramp
from sim.model.ramp import integrate


@pytest.fixture(scope="module")
def class2_curves():
    """20,000 generic class-2 projects commissioned at t = 0, drawn by the model's own code
    (sampling error on a share: about 0.3 points)."""
    rng = np.random.default_rng(2023)
    scenario = baseline()
    return [draw_ramp(scenario, 2, rng, 0.0) for _ in range(20000)]


@pytest.mark.check("calibration", source="Soutex (SME 2023): mean 2.5 yr to design output, 30% within 1 yr, 10% short after 4 yr",
                   tolerance="mean +/- 0.3 yr; shares +/- 5 points")
def test_ramp_up_time_matches_soutex(class2_curves, figure):
    """Soutex (SME 2023): average 2.5 years to design output, 30% within 1 year, about 10%
    still short after 4 years. A lognormal cannot meet all three (with 30% within a year and
    a mean of 2.5, 17% would be short at 4 years); the fit trades them off and gives a mean
    of 2.25 yr, 30% within a year and 13.5% short after 4 years.
    Tolerances: mean 2.5 +/- 0.3 yr; 30% +/- 5 points; 10% +/- 5 points."""
    years = np.array([c.years_to_design for c in class2_curves])
    figure(f"mean {years.mean():.2f} yr; {(years <= 1.0).mean():.1%} within 1 yr; "
           f"{(years > 4.0).mean():.1%} short after 4 yr (20,000 class-2 projects)")
    assert years.mean() == pytest.approx(2.5, abs=0.3)
    assert (years <= 1.0).mean() == pytest.approx(0.30, abs=0.05)
    assert (years > 4.0).mean() == pytest.approx(0.10, abs=0.05)


@pytest.mark.check("calibration", source="World Bank (1970s): in year 1, 60% of mines and 70% of plants below 70% of design",
                   tolerance="share in [0.55, 0.80]")
def test_first_year_output_is_mostly_below_70_percent_of_design(class2_curves, figure):
    """World Bank (1970s): in year 1, 60% of mines and 70% of plants produced below 70% of
    design. Tolerance: the share lies in [0.55, 0.80]."""
    first_year = np.array([integrate(c, 0.0, 1.0) for c in class2_curves])
    figure(f"{(first_year < 0.7).mean():.1%} below 70% of design in year 1")
    assert 0.55 <= (first_year < 0.7).mean() <= 0.80


@pytest.mark.check("calibration", source="McCarthy & Ward (1999): a quarter of projects never reach design",
                   tolerance="0.25 +/- 0.04")
def test_novel_process_class_leaves_a_quarter_short_of_design(figure):
    """McCarthy & Ward (1999): about a quarter of projects never reach design; the baseline
    gives that share to class 4 (novel process). Tolerance: 0.25 +/- 0.04."""
    rng = np.random.default_rng(1999)
    scenario = baseline()
    plateaus = np.array([draw_ramp(scenario, 4, rng, 0.0).plateau for _ in range(4000)])
    figure(f"{(plateaus < 1.0).mean():.1%} of class-4 projects never reach design (4,000 draws)")
    assert (plateaus < 1.0).mean() == pytest.approx(0.25, abs=0.04)


@pytest.mark.check("calibration", source="Argus (Rotterdam): antimony USD 59.5-61k/t in June 2025, under China's controls of 15 Sep and 3 Dec 2024",
                   tolerance="within 15% of USD 60k/t (fitted: the short-run demand elasticity)")
def test_antimony_spike_under_chinese_controls(figure):
    """The ex-China antimony market from January 2024, China's price held at the baseline's
    USD 10.8k/t: licences from 15 Sep 2024 (licensing), the U.S.-specific ban from 3 Dec
    2024 (restricted), read in June 2025. The short-run demand elasticity is fitted to this
    one figure. Not fitted, and not matched: the end of 2024 (USD 39.5-40k/t observed), which
    the model overshoots, because its price clears at once where the real market drew on
    inventories and contracts for months."""
    from sim.model.market import Clearing

    scn = baseline()
    china_price = float(scn.commodities["antimony"].price_usd)
    market = Clearing(scn.commodities["antimony"].market)
    t, week = 0.0, 1 / 52
    at_end_2024 = math.nan
    while t < 1.45:
        market.step(t, week, 0 if t < 0.70 else 1 if t < 0.92 else 2, 0.0)
        if abs(t - 1.0) < week / 2:
            at_end_2024 = market.ratio * china_price
        t += week
    june_2025 = market.ratio * china_price
    figure(f"ex-China price USD {june_2025 / 1e3:.1f}k/t in June 2025 (observed 59.5-61k); "
           f"USD {at_end_2024 / 1e3:.1f}k/t at the end of 2024 (observed 39.5-40k, not fitted)")
    assert abs(june_2025 / 60000 - 1) < 0.15, june_2025


@pytest.mark.check("calibration", source="seed 002: non-Chinese rare-earth premiums of up to USD 30/kg; NdPr USD 88/kg (Aug 2025)",
                   tolerance="premium within USD 25-35/kg at the start, under licensing (fitted: the licensing cut)")
def test_rare_earth_premium_under_licensing(figure):
    from sim.model.market import Clearing

    scn = baseline()
    spec = scn.commodities["rare_earths"]
    market = Clearing(spec.market)
    market.step(0.0, 0.0, 1, 0.0)
    premium = (market.ratio - 1) * float(spec.price_usd) / 1000
    figure(f"non-Chinese premium USD {premium:.1f}/kg under licensing")
    assert 25 <= premium <= 35


# --- construction delays and cost overruns ----------------------------------------------

LARGE_USD = 1e9  # McKinsey's size class


def _built_things(scn):
    """(label, planned capex, stage at the start, schedule overrun, cost overrun) of every
    phase still to be built and of the refinery."""
    for key, p in scn.projects.items():
        for i, ph in enumerate(p.phases):
            if not (p.stage == "operating" and i == 0):
                yield f"{key} {ph.label}", float(ph.capex_usd), p.stage, ph.schedule_overrun, ph.cost_overrun
    r = scn.processing.refinery
    yield "refinery", float(r.capex_usd), "study", r.schedule_overrun, r.cost_overrun


@pytest.fixture(scope="module")
def overrun_draws():
    """20,000 draws of each overrun, by the sampler's inverse-CDF path (sampling error on a
    mean: about 0.003 for the smaller class, 0.006 for the large one)."""
    scn = baseline()
    u = np.random.default_rng(2024).random(20000)
    return [(label, capex, stage, np.array([s.ppf(x) for x in u]),
             np.array([c.ppf(x) for x in np.random.default_rng(2011).random(20000)]))
            for label, capex, stage, s, c in _built_things(scn)]


@pytest.mark.check("calibration", source="Bertisen & Davis 2008 (as reported): capital estimates of a bankable feasibility study overran by 14% on average",
                   tolerance="mean cost +14% +/- 2 points; mean time within +10% to +25%")
def test_a_project_past_its_feasibility_study_overruns_like_its_estimate(overrun_draws, figure):
    """Every phase of a project in construction under a completed feasibility study (Reko
    Diq's two phases) draws the uncertainty left in the study's estimate, not the average of
    all large projects from first study to completion (McKinsey 2024: +79% on cost, +52% on
    time from the initial budget). Its schedule (+15% at the median) is an assumption, set by
    the reported slip of first production into 2029."""
    built = [d for d in overrun_draws if d[2] == "construction"]
    assert built
    for label, _, _, time, cost in built:
        figure(f"{label}: time +{time.mean() - 1:.0%}, cost +{cost.mean() - 1:.0%}, {(cost < 1).mean():.0%} under budget")
    for label, _, _, time, cost in built:
        assert cost.mean() == pytest.approx(1.14, abs=0.02), label
        assert 1.10 <= time.mean() <= 1.25, label


@pytest.mark.check("calibration", source="AMC / Bullock 2011: average capital overrun 26%, 20% of projects beat plan; "
                   "McKinsey 2024: typical delays 20-30%",
                   tolerance="cost mean +26% +/- 3 points, under budget 20% +/- 5 points; time mean in [+20%, +30%]")
def test_smaller_projects_overrun_like_amc_and_typical_delays(overrun_draws, figure):
    """Every phase and plant under USD 1bn: capital overruns of 26% on average with a fifth
    under budget, and delays of 20-30%."""
    small = [d for d in overrun_draws if d[1] < LARGE_USD]
    assert small
    for label, _, _, time, cost in small:
        figure(f"{label}: time +{time.mean() - 1:.0%}, cost +{cost.mean() - 1:.0%}, "
               f"{(cost < 1).mean():.0%} under budget")
    for label, _, _, time, cost in small:
        assert cost.mean() == pytest.approx(1.26, abs=0.03), label
        assert (cost < 1).mean() == pytest.approx(0.20, abs=0.05), label
        assert 1.20 <= time.mean() <= 1.30, label


@pytest.mark.check("calibration", source="McKinsey 2024: 83% of major mining projects over budget or late",
                   tolerance="more than half; the 83% is reported, not fitted")
def test_most_large_projects_are_late_or_over_budget(overrun_draws, figure):
    """Among the phases of USD 1bn or more, most run late or over budget. The model's overruns
    are drawn independently, so the share is above McKinsey's 83%; it is reported, not fitted."""
    shares = [((time > 1) | (cost > 1)).mean() for _, capex, _, time, cost in overrun_draws if capex >= LARGE_USD]
    figure(f"{min(shares):.0%} late or over budget" if f"{min(shares):.0%}" == f"{max(shares):.0%}"
           else f"{min(shares):.0%} to {max(shares):.0%} late or over budget")
    assert min(shares) > 0.5


@pytest.mark.check("analytic", source="closed form: build 3.25 yr x median schedule overrun 1.15 (lognormal)",
                   tolerance="+/- 0.6 yr (about 2.5 standard errors of a median of 100 runs)")
def test_overruns_reach_reko_diq_first_production(figure):
    """With only overruns on, Reko Diq Phase 1's first production has the median of 3.25 yr
    times its overrun; the plan's end-2028 date (3.25 yr) is met in few runs."""
    from conftest import SHOCKS_OFF
    from sim.model.engine import run_replication

    scn = baseline(**{**{k.replace(".", "__"): v for k, v in SHOCKS_OFF.items()},
                      "construction__enabled": True, "infrastructure__enabled": False})
    expected = 3.25 * float(scn.projects["reko_diq"].phases[0].schedule_overrun.ppf(0.5))
    when = []
    for i in range(100):
        rep = run_replication(scn, seed=52, replication=i, trace=True)
        when += [t for t, src, text in rep.log
                 if src == "reko_diq" and "Phase 1 (45 Mtpa): commissioned" in text]
    when = np.array(when)
    figure(f"median first production at {np.median(when):.2f} yr (closed form {expected:.2f}); "
           f"{(when <= 3.25 + 1e-9).mean():.0%} of runs by end-2028")
    assert len(when) == 100
    assert np.median(when) == pytest.approx(expected, abs=0.6)
