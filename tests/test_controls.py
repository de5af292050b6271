"""China's export controls act group by group, on the commodities each group covers.

An embargo on rare-earth feed must leave copper and gold alone: no route, no volume and no
value of either changes in any paired replication, once the channels through which the
model lets any shock reach copper are closed: the regime's knock to investor confidence,
which stretches the financing of Reko Diq's Phase 2, and the investors' value test, by
which the embargo's rare-earth prices move when the rare-earth mine is financed and so the
milestones that build that confidence.
"""

from __future__ import annotations

import pytest

from conftest import BASELINE
from sim.errors import ScenarioError
from sim.model.sampling import realize
from sim.model.streams import Streams
from sim.model.world import World
from sim.scenario.files import load_scenario

EMBARGO_ON_RARE_EARTHS = [{"date": "2025-10-09", "regime": "restricted", "scope": ["rare_earths"]},
                          {"date": "2027-01-01", "regime": "embargo", "scope": ["rare_earths"]}]


def _world(overrides: dict[str, object], replication: int) -> World:
    scenario = load_scenario(BASELINE, overrides)
    streams = Streams(11, replication)
    realized, _ = realize(scenario, streams)
    world = World(realized, streams)
    world.run()
    return world


@pytest.mark.check("metamorphic", source="issue: controls by commodity; paired replications, seed 11",
                   tolerance="1e-9 relative on every copper and gold flow")
def test_a_rare_earth_embargo_changes_no_copper_or_gold_flow(figure):
    """The controls act on the rare earths' routes and prices alone. The channels through
    which any change of the rare earths' value reaches the rest of the world are closed, so
    what is compared is the direct one: confidence knocked by a regime step, the investment
    decisions, the programme's export gates (an embargo's price spike outside China lifts
    rare-earth exports, which can open Phase 2 sooner) and the tariff deal's goodwill (which
    U.S.-bound rare earths earn)."""
    quiet = {"confidence.regime_step_drop": 0.0, "investment.enabled": False,
             "program.phase2.min_cumulative_exports_usd": 0.0, "program.phase3.min_export_rate_usd": 0.0,
             "shocks.tariff.deal_goodwill_usd": 0.0}
    embargo = {**quiet, "shocks.refining.scheduled": EMBARGO_ON_RARE_EARTHS}
    moved_rare_earths = 0
    for i in range(12):
        base, shocked = _world(quiet, i), _world(embargo, i)
        for c in ("copper", "gold"):
            assert shocked.ledger.routed[c] == pytest.approx(base.ledger.routed[c], rel=1e-9, abs=1e-6), (c, i)
            assert shocked.ledger.exports_of[c] == pytest.approx(base.ledger.exports_of[c], rel=1e-9, abs=1e-3), (c, i)
        moved_rare_earths += shocked.ledger.routed["rare_earths"][1] < base.ledger.routed["rare_earths"][1] - 1e-9
        assert shocked.refining.regime("rare_earths") in ("embargo", "restricted", "licensing", "open")
    # The embargo did bite where it should: less rare-earth feed went through China.
    assert moved_rare_earths >= 6
    figure(f"copper and gold flows identical in 12 of 12 pairs; less rare-earth feed to China in {moved_rare_earths} of 12")


def test_each_group_holds_its_own_regime():
    w = _world({"shocks.refining.escalate_per_year": 0.0, "shocks.refining.relax_per_year": 0.0,
                "shocks.refining.scheduled": [{"date": 0.5, "regime": "embargo", "scope": ["antimony"]}]}, 0)
    assert w.refining.regime("antimony") == "embargo"
    assert w.refining.regime("rare_earths") == "licensing"
    assert w.refining.china_open["antimony"] == 0.0
    assert w.refining.china_open["copper"] == w.refining.china_open["gold"] == 1.0
    assert 0 < w.refining.china_open["rare_earths"] < 1


@pytest.mark.parametrize(("override", "words"), [
    ({"shocks.refining.groups.rare_earths.commodities": ["neodymium"]}, "unknown commodity"),
    ({"shocks.refining.groups.antimony.commodities": ["rare_earths"]}, "already controlled by group"),
    ({"shocks.refining.random_scope": ["tungsten"]}, "unknown control group"),
    ({"shocks.refining.random_scope": []}, "must not be empty"),
    ({"shocks.refining.scheduled": [{"date": "2027-01-01", "regime": "embargo", "scope": []}]}, "must not be empty"),
    ({"shocks.refining.scheduled": [{"date": "2027-01-01", "regime": "embargo", "scope": ["copper"]}]}, "unknown control group"),
])
def test_a_control_scope_that_names_nothing_real_is_refused(override, words):
    with pytest.raises(ScenarioError) as err:
        load_scenario(BASELINE, override)
    assert words in str(err.value), str(err.value)


@pytest.mark.check("metamorphic", source="issue: under an embargo, product routed to China is stranded or diverted at a cost",
                   tolerance="at given prices, without a refinery, other outlets short: rare-earth export value lower on average and in at least 90% of 40 pairs; no value added")
def test_an_embargo_diverts_rare_earths_at_a_cost_and_adds_no_value_without_a_refinery(figure):
    """Where the other outlets are short (no U.S. route, 500 t a year elsewhere), what China
    refuses is stockpiled and, past the stockpile's room, sold at a distress discount.
    Where another route has room at no discount, diversion costs nothing in this model
    (and escapes China's discount): the cost of an embargo is set by the outlets assumed.
    A pair can gain where the stock, held, sells later at a higher price. Distress and
    governance are off: a mine on care and maintenance through the embargo, or taken by a
    policy reversal before it, loses nothing to it. So is the investors' value test: without
    the refinery the small mines are seldom worth building."""
    from conftest import PRICE_TAKER
    from sim.experiment.runner import run_many

    no_refinery = {"processing.refinery.enabled": False, "program.phase2.require_refinery_financing": False,
                   "program.phase3.require_refinery_running": False, "confidence.regime_step_drop": 0.0,
                   "shocks.refining.escalate_per_year": 0.0, "shocks.refining.relax_per_year": 0.0,
                   "processing.routing.rare_earths": {"china": 0.6, "other": 0.4},
                   "processing.foreign_capacity.us": {"antimony": 2000}, "distress.enabled": False,
                   "governance.enabled": False, "investment.enabled": False, **PRICE_TAKER}

    def rare_earths(overrides: dict[str, object]) -> tuple:
        tables = run_many(load_scenario(BASELINE, overrides), runs=40, seed=3, workers=1)
        value = tables.timeseries.groupby("replication").export_value_rare_earths_usd.sum()
        return value, tables.outcomes.domestic_value_added_usd

    base, base_added = rare_earths(no_refinery)
    shocked, shocked_added = rare_earths({**no_refinery, "shocks.refining.scheduled": EMBARGO_ON_RARE_EARTHS})
    lost = base - shocked
    figure(f"rare-earth exports USD {base.mean() / 1e6:.0f}m -> {shocked.mean() / 1e6:.0f}m over 25 years; "
           f"lower in {(lost > 1e-6).mean():.0%} of 40 pairs; value added {shocked_added.max():.0f}")
    assert (lost > 0).mean() >= 0.9
    assert lost.mean() > 0
    assert (base_added == 0).all() and (shocked_added == 0).all()
