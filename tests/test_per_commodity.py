"""Results per commodity and per project: each commodity's output, exports, value added and
China share, and each project's capital and first production, adding up to the programme's
totals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import baseline
from sim.experiment.runner import run_many


@pytest.mark.check("invariant", source="conservation: the programme's totals are the sums of its commodities'",
                   tolerance="1e-9 relative, every replication")
def test_the_commodities_add_up_to_the_totals(base, figure):
    tables = run_many(base, runs=12, seed=5, workers=1)
    o, ts = tables.outcomes, tables.timeseries
    goods = list(base.commodities)
    for total, family in (("cumulative_export_value_usd", "{}_exports_usd"),
                          ("domestic_value_added_usd", "{}_domestic_value_added_usd")):
        parts = sum(o[family.format(c)] for c in goods)
        np.testing.assert_allclose(parts, o[total], rtol=1e-9, err_msg=total)
    for c in goods:
        yearly = ts.groupby("replication")[f"production_{c}"].sum()
        np.testing.assert_allclose(o[f"{c}_output"].to_numpy(), yearly.to_numpy(), rtol=1e-9, err_msg=c)
        exports = o[f"{c}_exports_usd"]
        share = o[f"{c}_domestic_value_added_share"]
        np.testing.assert_allclose(share[exports > 0] * exports[exports > 0],
                                   o[f"{c}_domestic_value_added_usd"][exports > 0], rtol=1e-9)
        assert share[exports == 0].isna().all()
        assert o[f"{c}_china_processed_share"].dropna().between(0, 1).all()
    re_share = float(o["rare_earths_domestic_value_added_share"].mean())
    total_share = float(o["domestic_value_added_share"].mean())
    figure(f"rare earths' value-added share {re_share:.1%} against the programme's {total_share:.1%} "
           f"(copper {float(o['copper_exports_usd'].sum() / o['cumulative_export_value_usd'].sum()):.0%} of exports)")
    assert math.isfinite(re_share) and re_share > total_share


def test_a_comparison_answers_for_one_commodity_when_asked(base):
    from sim import api
    from sim.errors import UsageError

    cmp = api.compare(base, base.model_copy(update={"name": "same"}), runs=6, seed=2, workers=1,
                      outcomes=["rare_earths_domestic_value_added_share", "npv_usd"])
    assert list(cmp.table["outcome"]) == ["npv_usd", "rare_earths_domestic_value_added_share"]
    assert list(cmp.table["label"])[1] == "Domestic value-added share: rare earths"
    with pytest.raises(UsageError, match="lithium_exports_usd not among the results"):
        api.compare(base, base, runs=2, seed=2, workers=1, outcomes=["lithium_exports_usd"])
    with pytest.raises(UsageError, match="no outcome nonsense"):
        api.compare(base, base, runs=2, seed=2, workers=1, outcomes=["nonsense"])


@pytest.mark.check("invariant", source="conservation: the programme's capital is the sum of its projects' "
                   "(no refinery)", tolerance="1e-9 relative, every replication")
def test_the_projects_capital_adds_up_and_first_production_is_when_output_starts(figure):
    """With no refinery (its gates off), the projects' capital is the programme's; a project
    producing at the start produced first at year 0; a switched-off project has no columns."""
    sc = baseline(processing__refinery__enabled=False, program__phase2__require_refinery_financing=False,
                  program__phase3__require_refinery_running=False, projects__antimony__enabled=False)
    o = run_many(sc, runs=12, seed=4, workers=1).outcomes
    keys = list(sc.projects)
    assert "antimony" not in keys and not any(c.startswith("antimony_first") for c in o.columns)
    np.testing.assert_allclose(sum(o[f"{k}_capex_usd"] for k in keys), o["capex_usd"], rtol=1e-9)
    assert (o["pilot_first_production_year"] == 0).all()
    reko = o["reko_diq_first_production_year"]
    figure(f"Reko Diq's first production at year {reko.median():.2f} at the median (plan 3.25, end-2028); "
           f"its capital USD {o['reko_diq_capex_usd'].mean() / 1e9:.1f}bn on average (plan 9.0bn for two phases)")
    assert reko.dropna().between(0, sc.horizon_years).all()
    assert reko.notna().all()  # in construction at the start: it comes within 25 years in every one here


def test_the_printed_summary_adds_the_controlled_commodities_shares(base):
    from sim.model.outputs import HEADLINE, headline

    rows = headline(base)
    money = ("state_take_usd", "investor_npv_usd")
    assert rows[: len(HEADLINE) + 2] == HEADLINE + money
    assert rows[len(HEADLINE) + 2:] == ("rare_earths_domestic_value_added_share", "rare_earths_china_processed_share",
                                        "antimony_domestic_value_added_share", "antimony_china_processed_share")
    no_controls = base.model_copy(update={"shocks": base.shocks.model_copy(update={
        "refining": base.shocks.refining.model_copy(update={"groups": {}})})})
    assert headline(no_controls) == HEADLINE + money
