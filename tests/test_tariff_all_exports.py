"""The reciprocal tariff on everything Pakistan sells to the United States, and the deal
that links it to the mineral partnership (seeds 000, 001)."""

from __future__ import annotations

import math

import pytest

from conftest import baseline
from sim.experiment.runner import run_many

RUNS = 60


@pytest.mark.check("analytic", source="closed form: a fixed 19% rate on exports growing at 3% a year",
                   tolerance="1e-9 relative")
def test_duties_on_all_exports_match_the_closed_form_at_a_fixed_rate(figure):
    scn = baseline(shocks__tariff__changes_per_year=0.0)
    out = run_many(scn, runs=3, seed=2, workers=1).outcomes
    t = scn.shocks.tariff
    rate, e0, g, k = 0.19, float(t.goods_exports_usd), math.log1p(float(t.goods_exports_growth_per_year)), float(t.goods_trade_elasticity)
    goods = rate * e0 * (math.exp(g * scn.horizon_years) - 1) / g * (1 + rate) ** -k
    expected = goods + out.tariff_cost_usd
    figure(f"USD {goods / 1e9:.2f}bn on other goods over {scn.horizon_years} years, plus the mineral duties")
    assert out.us_duties_all_exports_usd.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)


@pytest.mark.check("metamorphic", source="seeds 000, 001: minerals offered to avoid tariffs on all exports",
                   tolerance="mean paired difference, 60 replications")
def test_goodwill_earned_by_shipments_lowers_the_rate_and_the_duties_on_all_exports(figure):
    linked = run_many(baseline(), runs=RUNS, seed=4, workers=1)
    unlinked = run_many(baseline(shocks__tariff__deal_goodwill_usd=0.0), runs=RUNS, seed=4, workers=1)
    rate_a = unlinked.timeseries.us_tariff_rate.mean()
    rate_b = linked.timeseries.us_tariff_rate.mean()
    duties = (linked.outcomes.us_duties_all_exports_usd - unlinked.outcomes.us_duties_all_exports_usd).mean()
    figure(f"mean reciprocal rate {rate_a:.1%} -> {rate_b:.1%}; duties on all exports {duties / 1e9:+.2f}bn")
    assert rate_b < rate_a
    assert duties < 0


def test_policy_reversals_spend_the_goodwill():
    """More reversals in Pakistan, more of the goodwill spent: the rate is higher on average."""
    calm = run_many(baseline(governance__reversals_per_year=0.0), runs=RUNS, seed=4, workers=1).timeseries
    stormy = run_many(baseline(governance__reversals_per_year=0.5, shocks__tariff__reversal_goodwill_loss=1.0),
                      runs=RUNS, seed=4, workers=1).timeseries
    assert stormy.us_tariff_rate.mean() > calm.us_tariff_rate.mean()
