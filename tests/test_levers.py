"""Policy levers: each moves outcomes the way its mechanism says (paired runs, common
random numbers, so differences come from the lever, not from noise)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from conftest import PRICE_TAKER, SCENARIOS, baseline, deterministic
from sim.experiment.runner import run_many
from sim.model.engine import run_replication
from sim.scenario.files import load_scenario

RUNS = 60


def _pair(path=None, **lever):
    changed = load_scenario(path, {k.replace("__", "."): v for k, v in lever.items()}) if path \
        else baseline(**lever)
    a = run_many(load_scenario(path), runs=RUNS, seed=5, workers=1).outcomes if path else _baseline_runs()
    b = run_many(changed, runs=RUNS, seed=5, workers=1).outcomes
    return a, b


@functools.cache
def _baseline_runs():
    """The baseline side of the paired lever checks, run once for all. Not to be changed by the caller."""
    return run_many(baseline(), runs=RUNS, seed=5, workers=1).outcomes


@pytest.mark.check("metamorphic", source="seed 002: 30% local equity and community participation in security",
                   tolerance="incidents down at least 20%, downtime down")
def test_local_equity_and_community_participation_mean_fewer_attacks_on_the_sector(figure):
    a, b = _pair(levers__local_equity_share=0.3, levers__community_participation=1.0)
    figure(f"incidents {a.security_incidents.mean():.1f} -> {b.security_incidents.mean():.1f}; "
           f"downtime {a.downtime_days.mean():.0f} -> {b.downtime_days.mean():.0f} site-days ({RUNS} pairs)")
    assert b.security_incidents.mean() < 0.8 * a.security_incidents.mean()
    assert b.downtime_days.mean() < a.downtime_days.mean()


@pytest.mark.check("metamorphic", source="seed 004: effective security risk management; spending lowers the hit probability at a cost",
                   tolerance="fewer incidents; NPV lower in every run when no attack can hit")
def test_security_spending_buys_fewer_hits_at_a_cost(figure):
    a, b = _pair(levers__security_spending=3.0)
    assert b.security_incidents.mean() < a.security_incidents.mean()
    # The cost alone: with no attack able to hit, spending only lowers NPV, in every run.
    calm = {"shocks.security.hit_probability": 0.0}
    a0 = run_many(load_scenario(SCENARIOS / "baseline.yaml", calm), runs=20, seed=5, workers=1).outcomes
    b0 = run_many(load_scenario(SCENARIOS / "baseline.yaml", {**calm, "levers.security_spending": 3.0}),
                  runs=20, seed=5, workers=1).outcomes
    assert (b0.npv_usd < a0.npv_usd).all()
    figure(f"incidents {a.security_incidents.mean():.1f} -> {b.security_incidents.mean():.1f} at 3x spending; "
           f"NPV -USD {(a0.npv_usd - b0.npv_usd).mean() / 1e6:.0f}m when nothing can hit")


@pytest.mark.check("metamorphic", source="seeds 002, 004: a domestic processing mandate",
                   tolerance="mean domestic value added up, mean China share down")
def test_a_processing_mandate_raises_domestic_value_added_and_cuts_china_dependence(figure):
    a, b = _pair(levers__processing_mandate=1.0)
    figure(f"domestic value added USD {a.domestic_value_added_usd.mean() / 1e9:.2f}bn -> "
           f"{b.domestic_value_added_usd.mean() / 1e9:.2f}bn; China share "
           f"{a.china_processed_share.mean():.1%} -> {b.china_processed_share.mean():.1%}")
    assert b.domestic_value_added_usd.mean() > a.domestic_value_added_usd.mean()
    assert b.china_processed_share.mean() < a.china_processed_share.mean()


def _trace_times(scn, source, words):
    log = run_replication(scn, seed=1, replication=0, trace=True).log
    return [(t, text) for t, s, text in log if s == source and words in text]


@pytest.mark.check("metamorphic", source="seeds 002, 004: technology-transfer terms; China's 2023 ban on exporting separation technology",
                   tolerance="ramp-up x0.6 (1%); no change under a Chinese ban (1e-9)")
def test_technology_transfer_speeds_the_refinery_only_with_a_partner_able_to_supply_it(figure):
    def design_years(extra):
        [(_, text)] = _trace_times(deterministic(extra), "refinery", "commissioned")
        return float(text.rsplit("in ", 1)[1].split(" yr")[0])

    plain = design_years({})
    figure(f"refinery to design in {plain:.2f} yr, {design_years({'levers.technology_transfer': 1.0}):.2f} yr with transfer")
    assert design_years({"levers.technology_transfer": 1.0}) == pytest.approx(plain * 0.6, rel=0.01)
    banned = {"processing.refinery.technology_partner": "china", "shocks.refining.enabled": True,
              "shocks.refining.technology_ban_lift_per_year": 0.0}
    assert design_years({**banned, "levers.technology_transfer": 1.0}) == pytest.approx(
        design_years(banned), rel=1e-9)
    a, b = _pair(levers__technology_transfer=1.0)
    assert b.domestic_value_added_usd.mean() > a.domestic_value_added_usd.mean()


@pytest.mark.check("metamorphic", source="seeds 002, 004: a unified national framework with one-window approvals",
                   tolerance="permitting x0.6 exactly; rare-earth output up on average")
def test_a_unified_framework_shortens_permitting(figure):
    """One-window approvals cut permitting and bring rare-earth output forward. Total export
    value is not a sound test of it: a site that opens sooner is also exposed to attacks
    sooner, and the attacks' knock to confidence can outweigh a small mine's revenue."""
    def permitting(extra):
        scn = deterministic({"governance.enabled": False, **extra})
        ends = dict((text, t) for t, text in _trace_times(scn, "rare_earth", "complete"))
        return ends["permitting complete"] - ends["feasibility complete"]

    assert permitting({"levers.unified_framework": True}) == pytest.approx(0.6 * permitting({}))
    figure(f"rare-earth permitting {permitting({}):.2f} yr -> {permitting({'levers.unified_framework': True}):.2f} yr")
    a = run_many(baseline(), runs=RUNS, seed=5, workers=1).timeseries
    b = run_many(baseline(levers__unified_framework=True), runs=RUNS, seed=5, workers=1).timeseries
    made_a = a.groupby("replication").production_rare_earths.sum()
    made_b = b.groupby("replication").production_rare_earths.sum()
    figure(f"rare-earth output over the horizon {made_a.mean():,.0f} t -> {made_b.mean():,.0f} t")
    assert made_b.mean() > made_a.mean()


@pytest.mark.check("metamorphic", source="seed 003: a reserve verification programme to JORC / NI 43-101",
                   tolerance="Phase 2 earlier on average; no later in over 90% of pairs whose resources are confirmed")
def test_a_verification_programme_brings_phase_2_forward(figure):
    """Verification comes sooner and counts for more. It also brings bad news sooner: where a
    resource is downgraded, the earlier knock to confidence can delay Phase 2, so the
    pair-by-pair relation is checked where both resources are confirmed."""
    a, b = _pair(levers__verification_programme=True)
    floor = float(baseline().resources.downgrade_below)
    confirmed = ((a["projects.rare_earth.resource_factor"] >= floor)
                 & (a["projects.antimony.resource_factor"] >= floor))
    no_later = b.phase2_year <= a.phase2_year + 1e-9
    figure(f"mean Phase 2 at {a.phase2_year.mean():.2f} yr -> {b.phase2_year.mean():.2f} yr; no later in "
           f"{no_later[confirmed].mean():.0%} of {int(confirmed.sum())} confirmed pairs, "
           f"{no_later[~confirmed].mean():.0%} of the others")
    assert confirmed.sum() >= 10
    assert no_later[confirmed].mean() > 0.9
    assert b.phase2_year.mean() < a.phase2_year.mean()


@pytest.mark.check("metamorphic", source="seed 002: treaty-based rather than personality-driven deals",
                   tolerance="mean duties down; rate path identical")
def test_a_treaty_makes_the_exemption_safer_and_leaves_the_rate_path_alone(figure):
    a, b = _pair(levers__deal_basis="treaty")
    figure(f"duties USD {a.tariff_cost_usd.mean() / 1e6:.0f}m -> {b.tariff_cost_usd.mean() / 1e6:.0f}m")
    assert b.tariff_cost_usd.mean() < a.tariff_cost_usd.mean()
    # Without the deal's goodwill (which shipments build, and which a withdrawn exemption
    # slows by diverting them), the treaty touches only the exemption, never the rate path.
    unlinked = {"shocks__tariff__deal_goodwill_usd": 0.0}
    ta = run_many(baseline(**unlinked), runs=20, seed=5, workers=1).timeseries
    tb = run_many(baseline(**unlinked, levers__deal_basis="treaty"), runs=20, seed=5, workers=1).timeseries
    assert (ta.us_tariff_rate.to_numpy() == tb.us_tariff_rate.to_numpy()).all()


@pytest.mark.check("metamorphic", source="seed 004: strategic stockpiles of critical minerals for supply-chain resilience",
                   tolerance="value lost without room > USD 5m on average, in over 80% of runs")
def test_stockpiles_absorb_an_export_cut_off(figure):
    """A one-year Chinese embargo with no other outlet for rare earths and antimony: with room
    to hold two years of output the stock waits and sells at full value afterwards; with half
    a month of room it is dumped at a distress discount. At given prices (controls that
    withhold nothing from the ex-China markets): the embargo's own price spike outside China
    would otherwise make selling during it pay."""
    cut_off = {
        "shocks.refining.escalate_per_year": 0.0, "shocks.refining.relax_per_year": 0.0,
        "shocks.refining.price_jump_per_step": 0.0, **PRICE_TAKER,
        "shocks.refining.scheduled": [{"date": "2035-01-01", "regime": "embargo", "scope": ["rare_earths", "antimony"]},
                                      {"date": "2036-01-01", "regime": "licensing", "scope": ["rare_earths", "antimony"]}],
        "processing.routing.rare_earths": {"china": 1.0}, "processing.routing.antimony": {"china": 1.0},
        "processing.foreign_capacity.us": {}, "processing.foreign_capacity.other": {"copper": 1e7, "gold": 1e8},
        "processing.refinery.enabled": False, "program.phase2.require_refinery_financing": False,
        "program.phase3.require_refinery_running": False,
        "investment.enabled": False,  # without the refinery, the small mines are seldom worth building
    }
    roomy = run_many(load_scenario(SCENARIOS / "baseline.yaml", {**cut_off, "levers.stockpile_months": 24}),
                     runs=RUNS, seed=5, workers=1).outcomes
    tight = run_many(load_scenario(SCENARIOS / "baseline.yaml", {**cut_off, "levers.stockpile_months": 0.5}),
                     runs=RUNS, seed=5, workers=1).outcomes
    lost = roomy.cumulative_export_value_usd - tight.cumulative_export_value_usd
    figure(f"24 months of room keeps USD {lost.mean() / 1e6:.0f}m more than half a month")
    assert lost.mean() > 5e6  # antimony at China's own price (about USD 11k/t) is worth less than at Rotterdam's
    assert (lost > 0).mean() > 0.8  # prices still move between dumping and selling later


@pytest.mark.check("metamorphic", source="seed 004: digital output tracking against illegal extraction",
                   tolerance="mean exports up")
def test_output_tracking_recovers_revenue_lost_to_illegal_extraction(figure):
    a, b = _pair(levers__output_tracking=1.0)
    figure(f"exports +USD {(b.cumulative_export_value_usd - a.cumulative_export_value_usd).mean() / 1e6:.0f}m")
    assert b.cumulative_export_value_usd.mean() > a.cumulative_export_value_usd.mean()


@pytest.mark.check("metamorphic", source="U.S. NdPr floor of USD 110/kg (July 2025 MP Materials arrangement)",
                   tolerance="exports never lower; value added and duties unchanged (1e-9)")
def test_a_us_price_floor_lifts_the_value_of_us_bound_rare_earths(figure):
    """NdPr starts at USD 88/kg, below a USD 110/kg floor: U.S.-bound product earns more, but
    the top-up is a price support: neither domestic value added nor dutiable value changes.
    With the tariff's goodwill unlinked from mineral exports: linked, the floor's extra
    U.S.-bound value earns the deal goodwill, which can move the tariff's path itself."""
    unlinked = {"shocks__tariff__deal_goodwill_usd": 0.0}
    a = run_many(baseline(**unlinked), runs=RUNS, seed=5, workers=1).outcomes
    b = run_many(baseline(**unlinked, commodities__rare_earths__us_price_floor_usd=110000),
                 runs=RUNS, seed=5, workers=1).outcomes
    figure(f"exports +USD {(b.cumulative_export_value_usd - a.cumulative_export_value_usd).mean() / 1e6:.0f}m; "
           "value added and duties unchanged")
    assert (b.cumulative_export_value_usd >= a.cumulative_export_value_usd - 1e-3).all()
    assert b.cumulative_export_value_usd.mean() > a.cumulative_export_value_usd.mean()
    np.testing.assert_allclose(b.domestic_value_added_usd, a.domestic_value_added_usd, rtol=1e-9)
    np.testing.assert_allclose(b.tariff_cost_usd, a.tariff_cost_usd, rtol=1e-9)


@pytest.mark.check("metamorphic", source="Reko Diq's IFC / ADB / US EXIM package: development finance shortens lead times",
                   tolerance="mean Phase 2 earlier")
def test_development_finance_brings_financing_and_phase_2_forward(figure):
    a, b = _pair(levers__financing_lead_factor=0.6)
    figure(f"mean Phase 2 at {a.phase2_year.mean():.2f} yr -> {b.phase2_year.mean():.2f} yr")
    assert b.phase2_year.mean() < a.phase2_year.mean()


@pytest.mark.check("metamorphic", source="Reko Diq's 2019 award (USD 5.976bn); seed 002 on treaty-based deals",
                   tolerance="awards up, exports down with frequent reversals; awards down under a treaty; zero when off")
def test_policy_reversals_cost_awards_and_treaties_make_them_rarer(figure):
    frequent = {"governance__reversals_per_year": 0.5}
    a, b = _pair(**frequent)  # a: baseline rate, b: frequent reversals
    figure(f"mean awards USD {a.arbitration_awards_usd.mean() / 1e9:.2f}bn -> "
           f"{b.arbitration_awards_usd.mean() / 1e9:.2f}bn at 0.5 reversals/yr")
    assert b.arbitration_awards_usd.mean() > a.arbitration_awards_usd.mean()
    assert b.cumulative_export_value_usd.mean() < a.cumulative_export_value_usd.mean()
    personality = run_many(baseline(**frequent), runs=RUNS, seed=5, workers=1).outcomes
    treaty = run_many(baseline(**frequent, levers__deal_basis="treaty"), runs=RUNS, seed=5,
                      workers=1).outcomes
    assert treaty.arbitration_awards_usd.mean() < personality.arbitration_awards_usd.mean()
    off = run_many(baseline(governance__enabled=False), runs=10, seed=5, workers=1).outcomes
    assert (off.arbitration_awards_usd == 0).all()


@pytest.mark.check("analytic", source="Reko Diq's 2019 award (USD 5.976bn on USD 5.5bn of Phase 1 capex) for an expropriation; a halt's damage is the loss it causes",
                   tolerance="an expropriation's award is 1.09 x the planned capex of the project's first phase, to 1e-9; a halt's award, its margin lost and carrying cost, is smaller on average")
def test_arbitration_awards_are_sized_on_the_loss(figure):
    """Every reversal goes to arbitration. Taken for good, a site's award is the project's
    value, sized like Reko Diq's; halted and resumed, it is the delay's damage: the margin
    lost over the halt and the carrying cost of the capital sunk, smaller on average for
    every site. (A long halt of Reko Diq at full output still costs billions: USD 3-4bn of
    margin a year.)"""
    from sim.model.engine import run_replication

    def awards(taken: float) -> tuple[list[tuple[float, float]], dict[str, list[float]]]:
        scn = baseline(governance__reversals_per_year=0.3, governance__arbitration_probability=1.0,
                       governance__expropriation_probability=taken)
        capex = {k: float(p.phases[0].capex_usd) for k, p in scn.projects.items()}
        found, per_site = [], {}
        for i in range(30):
            rep = run_replication(scn, seed=8, replication=i, trace=True)
            notes = [text for _, src, text in rep.log if src == "governance"]
            taken_keys = [text.split()[3] for text in notes if "for good" in text]
            for text in notes:
                if "arbitration award over" in text:
                    per_site.setdefault(text.split()[3].rstrip(":"), []).append(float(text.split("USD ")[1].rstrip("bn")))
            expected = sum(float(scn.governance.award_share_of_capex) * capex[k] for k in taken_keys)
            found.append((rep.outcome["arbitration_awards_usd"], expected))
        return found, per_site

    seized, by_seizure = awards(1.0)
    for got, expected in seized:
        assert got == pytest.approx(expected, rel=1e-9)
    _, by_halt = awards(0.0)
    # Site by site (a site taken leaves the pool, so pooled means mix different sites).
    # The pilot, built before the start at no capital in the scenario, is awarded nothing when taken.
    mean = {k: (sum(by_halt[k]) / len(by_halt[k]), sum(v) / len(v)) for k, v in by_seizure.items()
            if k in by_halt and k != "pilot"}
    figure("mean award for a site halted and resumed against one taken (USD bn, 30 replications at 0.3 reversals "
           "a year): " + "; ".join(f"{k} {h:.3f} against {t:.3f}" for k, (h, t) in mean.items()))
    assert len(mean) >= 3
    for k, (halt, taken) in mean.items():
        assert 0 <= halt < taken, k


# --- what the levers cost ----------------------------------------------------------------------

def _calm(**lever: object):
    """Paired runs in which no attack can hit, so a security lever buys nothing and shows its
    cost alone; distress off, so a cost cannot move a mine onto care and maintenance."""
    calm = {"shocks__security__hit_probability": 0.0, "distress__enabled": False}
    a = run_many(baseline(**calm), runs=20, seed=5, workers=1).outcomes
    b = run_many(baseline(**calm, **lever), runs=20, seed=5, workers=1).outcomes
    return a, b


@pytest.mark.check("metamorphic", source="issue: each lever carries its cost, booked to whoever pays it",
                   tolerance="with nothing to buy: lever cost up, NPV and investors' NPV down in every run; local equity moves money from investors to local holders and leaves the programme's NPV and the state take unchanged (1e-9)")
def test_levers_cost_what_they_cost_whoever_pays(figure):
    a, community = _calm(levers__community_participation=1.0)
    assert (a.lever_cost_usd == 0).all()
    assert (community.lever_cost_usd > 0).all() and (community.npv_usd < a.npv_usd).all()
    assert (community.investor_npv_usd < a.investor_npv_usd).all()
    _, equity = _calm(levers__local_equity_share=0.3)
    assert (equity.investor_npv_usd < a.investor_npv_usd).all() and (equity.lever_cost_usd > 0).all()
    np.testing.assert_allclose(equity.npv_usd, a.npv_usd, rtol=1e-9)
    np.testing.assert_allclose(equity.state_take_usd, a.state_take_usd, rtol=1e-9)
    _, verified = _calm(levers__verification_programme=True)
    cost = float(baseline().levers.costs.verification_programme_usd)
    np.testing.assert_allclose(verified.lever_cost_usd, cost, rtol=1e-9)
    figure(f"community programmes USD {community.lever_cost_usd.mean() / 1e9:.2f}bn over 25 years (NPV "
           f"-USD {(a.npv_usd - community.npv_usd).mean() / 1e9:.2f}bn); 30% carried local equity costs the investors "
           f"USD {(a.investor_npv_usd - equity.investor_npv_usd).mean() / 1e9:.2f}bn of NPV; the verification "
           f"programme USD {cost / 1e6:.0f}m")
