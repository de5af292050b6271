"""One replication against closed forms, invariants and the sources' nominal timeline."""

from __future__ import annotations

import functools
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from conftest import PRICE_TAKER, SCENARIOS, SHOCKS_OFF, baseline, deterministic
from sim.experiment.runner import run_many
from sim.model.engine import run_replication
from sim.model.sampling import realize
from sim.model.streams import Streams
from sim.model.world import World
from sim.scenario.files import load_scenario

H = 25


def _times(log, source, words):
    return [t for t, s, text in log if s == source and words in text]


def _tri_mean(lo, mode, hi):
    return (lo + mode + hi) / 3


@pytest.mark.check("analytic", source="closed form: every duration at its mean, shocks off, sigma 0 ramps",
                   tolerance="1e-6 relative")
def test_fixed_durations_give_the_closed_form_timeline(base, figure):
    # Pilot exports of USD 20m instead of 50m: at China's own antimony price (controls off,
    # so no ex-China premium) the baseline's USD 50m takes the pilot past the two years.
    scn = deterministic({"construction.enabled": True, "program.phase2.min_cumulative_exports_usd": 20e6})
    rep = run_replication(scn, seed=5, replication=0, trace=True)
    log = rep.log
    rd = base.projects["reko_diq"].phases
    # Reko Diq Phase 1: 3.25 yr left, times the mean schedule overrun.
    p1 = 3.25 * rd[0].schedule_overrun.mean()
    assert _times(log, "reko_diq", "Phase 1 (45 Mtpa): commissioned") == [pytest.approx(p1)]
    # Phase 2: eligible when Phase 1 produces (after 2029-01-01), lead, then build x overrun.
    fid2 = max(p1, scn.years(scn.projects["reko_diq"].phases[1].earliest_start)) + _tri_mean(0.25, 0.5, 1)
    assert _times(log, "reko_diq", "Phase 2 (90 Mtpa): financing closed") == [pytest.approx(fid2)]
    p2 = fid2 + _tri_mean(2.5, 3, 4) * rd[1].schedule_overrun.mean()
    assert _times(log, "reko_diq", "Phase 2 (90 Mtpa): commissioned") == [pytest.approx(p2)]
    # The refinery closes financing after its lead time (confidence at the reference: no stretch).
    fid = _tri_mean(1.5, 2.2, 3)
    assert _times(log, "refinery", "financing closed") == [pytest.approx(fid)]
    # Phase 2 of the programme: the last of min time (2 yr), verification (2.0 yr for antimony),
    # refinery financing, pilot exports of USD 20m (reached within the first 2 yr).
    assert rep.outcome["phase2_year"] == pytest.approx(max(2.0, 2.0, fid))
    assert rep.outcome["phase3_year"] >= rep.outcome["phase2_year"] + 5.0 - 1e-9

    # Copper output over the horizon, in closed form: pilot at design for its life, Reko Diq's
    # two phases on the linear ramp of class 2 (its median time, from its start share, sigma 0).
    cls = scn.ramp_up_classes[2]

    def ramped(start, years=float(cls.median_years), s0=float(cls.start_fraction)):
        return (H - start) - years * (1 - s0) / 2

    pilot_years = min(H, float(scn.projects["pilot"].life_years))  # the pilot closes at the end of its life
    copper = 2000 * pilot_years + 240_000 * ramped(p1) + 220_000 * ramped(p2)
    figure(f"Reko Diq commissioned at {p1:.3f} and {p2:.3f} yr; copper over {H} yr "
           f"{rep.series['production_copper'].sum() / 1e6:.4f} Mt (closed form {copper / 1e6:.4f})")
    assert rep.series["production_copper"].sum() == pytest.approx(copper, rel=1e-9)


@pytest.mark.check("analytic", source="the plan: Reko Diq first production end-2028 (miningreporters.com 2025-01), planned capex",
                   tolerance="0.01 yr; 1e-9 relative")
def test_without_overruns_everything_is_built_to_plan(base, figure):
    """Construction overruns off: Reko Diq Phase 1 produces on the announced date (end-2028),
    and the capital spent is exactly the planned capex of what was built."""
    scn = deterministic()
    assert not scn.construction.enabled
    rep = run_replication(scn, seed=5, replication=0, trace=True)
    assert _times(rep.log, "reko_diq", "Phase 1 (45 Mtpa): commissioned") == [
        pytest.approx(scn.years(date(2028, 12, 31)), abs=0.01)]
    planned = sum(float(ph.capex_usd) for key, p in base.projects.items() for ph in p.phases
                  if _times(rep.log, key, f"{ph.label}: commissioned"))
    assert _times(rep.log, "refinery", "commissioned")
    planned += float(base.processing.refinery.capex_usd)
    first = _times(rep.log, "reko_diq", "Phase 1 (45 Mtpa): commissioned")[0]
    figure(f"first production at {first:.3f} yr; capex USD {rep.outcome['capex_usd'] / 1e9:.3f}bn "
           f"(planned {planned / 1e9:.3f}bn)")
    assert rep.outcome["capex_usd"] == pytest.approx(planned, rel=1e-9)


@pytest.mark.check("analytic", source="closed form: outages Poisson(4/yr) of 10 days, overlaps merged",
                   tolerance="4 standard errors and 5% relative")
def test_poisson_outages_lose_the_expected_time(figure):
    """Outages at rate lam with fixed length d, overlaps merged: a site is down
    1 - exp(-lam * min(t, d)) of the time at t; only the pilot site exists, and it runs on
    through the horizon."""
    lam, days = 4.0, 10.0
    d = days / 365.25
    far = {f"projects.{p}.stage": "exploration" for p in ("rare_earth", "antimony", "reko_diq")}
    far.update({f"projects.{p}.exploration_years": 40 for p in ("rare_earth", "antimony", "reko_diq")})
    scn = deterministic({"infrastructure.enabled": True, "infrastructure.outages_per_site_year": lam,
                         "infrastructure.outage_days": days, "projects.pilot.life_years": 100, **far})
    runs = 300
    lost = np.empty(runs)
    for i in range(runs):
        rep = run_replication(scn, seed=11, replication=i)
        lost[i] = rep.outcome["downtime_days"] / 365.25
        # Exactly the lost time is missing from the pilot's antimony output.
        assert rep.series["production_antimony"].sum() == pytest.approx(500 * (H - lost[i]), rel=1e-9)
    expected = H - ((1 - math.exp(-lam * d)) / lam + (H - d) * math.exp(-lam * d))
    se = lost.std(ddof=1) / math.sqrt(runs)
    figure(f"mean time lost {lost.mean():.4f} yr (closed form {expected:.4f}, se {se:.4f})")
    assert abs(lost.mean() - expected) < 4 * se
    assert lost.mean() == pytest.approx(expected, rel=0.05)


@pytest.mark.check("invariant", source="conservation: produced = processed + stockpiled; exports by destination add up",
                   tolerance="1e-9 relative")
def test_volume_is_conserved_and_flows_are_consistent(base, figure):
    for i in range(4):
        streams = Streams(3, i)
        realized, _ = realize(base, streams)
        world = World(realized, streams)
        world.run()
        L = world.ledger
        for c in base.commodities:
            produced = sum(L.production[c])
            assert produced == pytest.approx(L.processed[c] + L.stock[c], rel=1e-9, abs=1e-6)
        y = {k: np.asarray(v) for k, v in L.year.items()}
        by_destination = y["export_value_us_usd"] + y["export_value_china_usd"] + y["export_value_other_usd"]
        np.testing.assert_allclose(by_destination, y["export_value_usd"], rtol=1e-9)
        assert sum(L.year["export_value_usd"]) == pytest.approx(L.total_exports, rel=1e-9)
    figure("4 baseline replications: every commodity balances to 1e-9")


@pytest.mark.check("invariant", source="determinism: a replication is a pure function of (scenario, seed, index)",
                   tolerance="exact")
def test_same_seed_same_replication(figure):
    scn = baseline()
    a = run_replication(scn, 9, 4)
    b = run_replication(scn, 9, 4)
    assert a.outcome == pytest.approx(b.outcome, nan_ok=True)
    for k in a.series:
        np.testing.assert_array_equal(a.series[k], b.series[k])
    figure(f"replication 4 twice: {len(a.series)} series identical; replication 5 differs")
    assert run_replication(scn, 9, 5).outcome != a.outcome


# --- metamorphic checks: paired runs with common random numbers ----------------------

RUNS = 120


def _paired(overrides_on=None, overrides_off=None, seed=21):
    on = (run_many(baseline(**overrides_on), runs=RUNS, seed=seed, workers=1).outcomes if overrides_on
          else _baseline_runs(seed))
    off = run_many(baseline(**(overrides_off or {})), runs=RUNS, seed=seed, workers=1).outcomes
    return on, off


@functools.cache
def _baseline_runs(seed: int) -> pd.DataFrame:
    """The baseline side of the paired checks, run once for all that share it. Not to be
    changed by the caller."""
    return run_many(baseline(), runs=RUNS, seed=seed, workers=1).outcomes


def _se_of_difference(a, b):
    return float(np.std(a - b, ddof=1) / math.sqrt(len(a)))


@pytest.mark.check("metamorphic", source="monotone: removing attacks cannot lower exports (paired, common random numbers)",
                   tolerance="mean paired difference > 0")
def test_switching_security_off_never_lowers_exports(figure):
    on, off = _paired(overrides_off={"shocks__security__enabled": False})
    diff = off.cumulative_export_value_usd - on.cumulative_export_value_usd
    figure(f"exports +USD {diff.mean() / 1e9:.2f}bn on average without attacks ({RUNS} pairs)")
    assert diff.mean() > 0
    assert off.security_incidents.sum() == 0


@pytest.mark.slow  # about 12 s; make validate runs it
@pytest.mark.check("metamorphic", source="monotone: removing attacks cannot raise stalling (security-escalation scenario)",
                   tolerance="stalled count off <= on")
def test_switching_security_off_never_raises_stalling(figure):
    """In the escalation scenario, where programmes do stall."""
    path = SCENARIOS / "security_escalation.yaml"
    on = run_many(load_scenario(path), runs=RUNS, seed=21, workers=1).outcomes
    off = run_many(load_scenario(path, {"shocks.security.enabled": False}), runs=RUNS, seed=21,
                   workers=1).outcomes
    figure(f"stalled {int(on.stalled.sum())} of {RUNS} with attacks, {int(off.stalled.sum())} without")
    assert on.stalled.sum() > 0
    assert off.stalled.sum() <= on.stalled.sum()


@pytest.mark.check("metamorphic", source="monotone: without U.S. tariffs no duty is paid and exports do not fall",
                   tolerance="zero duty; mean difference >= -2 standard errors")
def test_switching_tariffs_off_gives_zero_tariff_cost_and_no_lower_exports(figure):
    on, off = _paired(overrides_off={"shocks__tariff__enabled": False})
    figure(f"duties USD {on.tariff_cost_usd.mean() / 1e6:.1f}m on average with tariffs, "
           f"{off.tariff_cost_usd.max():.0f} without")
    assert (off.tariff_cost_usd == 0).all()
    assert on.tariff_cost_usd.mean() > 0
    diff = off.cumulative_export_value_usd - on.cumulative_export_value_usd
    assert diff.mean() >= -2 * _se_of_difference(off.cumulative_export_value_usd, on.cumulative_export_value_usd)


@pytest.mark.check("metamorphic", source="monotone: without China's controls (prices and premium held) exports and China's share do not fall",
                   tolerance="mean paired difference > 0")
def test_switching_refining_controls_off_never_lowers_exports_at_given_prices(figure):
    """At given prices: China's controls also raise the ex-China prices of rare earths and
    antimony (the antimony spike), which raises the value of what Pakistan sells outside
    China; without that price channel (controls that withhold nothing from the ex-China
    markets, only Chinese processing from Pakistani feed), lifting them never hurts."""
    no_jump = {k.replace(".", "__"): v for k, v in PRICE_TAKER.items()}
    on, off = _paired(overrides_on=no_jump, overrides_off={**no_jump, "shocks__refining__enabled": False})
    diff = off.cumulative_export_value_usd - on.cumulative_export_value_usd
    figure(f"exports +USD {diff.mean() / 1e9:.2f}bn without controls; China share "
           f"{on.china_processed_share.mean():.1%} -> {off.china_processed_share.mean():.1%}")
    assert diff.mean() > 0
    assert off.china_processed_share.mean() >= on.china_processed_share.mean()


@pytest.mark.check("metamorphic", source="monotone: doubling every attack rate",
                   tolerance="incidents and downtime up, exports not up")
def test_more_attacks_never_make_outcomes_better_on_average(figure):
    sec = baseline().shocks.security.provinces
    doubled = {f"shocks__security__provinces__{p}__attacks_per_year__{level}": 2 * float(getattr(s.attacks_per_year, level))
               for p, s in sec.items() for level in ("calm", "elevated", "crisis")}
    on, worse = _paired(overrides_off=doubled)
    figure(f"incidents {on.security_incidents.mean():.1f} -> {worse.security_incidents.mean():.1f}; "
           f"exports USD {on.cumulative_export_value_usd.mean() / 1e9:.1f}bn -> "
           f"{worse.cumulative_export_value_usd.mean() / 1e9:.1f}bn")
    assert worse.security_incidents.mean() > on.security_incidents.mean()
    assert worse.downtime_days.mean() > on.downtime_days.mean()
    assert worse.cumulative_export_value_usd.mean() <= on.cumulative_export_value_usd.mean()


def test_rate_factor_is_the_same_as_multiplying_every_attack_rate():
    """The what-if lever shocks.security.rate_factor = 2 gives exactly the run with every rate doubled."""
    sec = baseline().shocks.security.provinces
    doubled = {f"shocks__security__provinces__{p}__attacks_per_year__{level}": 2 * float(getattr(s.attacks_per_year, level))
               for p, s in sec.items() for level in ("calm", "elevated", "crisis")}
    by_rates = run_many(baseline(**doubled), runs=8, seed=4, workers=1).outcomes
    by_factor = run_many(baseline(shocks__security__rate_factor=2.0), runs=8, seed=4, workers=1).outcomes
    pd.testing.assert_frame_equal(by_rates, by_factor, check_exact=True)
    assert by_factor.security_incidents.sum() > 0


@pytest.mark.check("metamorphic", source="monotone: a higher U.S. reciprocal rate, 10% to 200%",
                   tolerance="duties never lower in any paired run")
def test_higher_reciprocal_tariff_never_lowers_tariff_cost(figure):
    """Across the schema's whole range (diversion saturates, so duties paid keep rising)."""
    exempt_gone = {"shocks__tariff__exemption_active": False, "shocks__tariff__changes_per_year": 0.0,
                   "shocks__tariff__restore_per_year": 0.0}
    costs = [run_many(baseline(**exempt_gone, shocks__tariff__initial_rate=rate), runs=30, seed=21,
                      workers=1).outcomes.tariff_cost_usd for rate in (0.1, 0.29, 0.5, 1.0, 2.0)]
    figure("mean duties USD " + ", ".join(f"{c.mean() / 1e6:.0f}m" for c in costs)
           + " at 10%, 29%, 50%, 100%, 200%")
    for low, high in zip(costs, costs[1:], strict=False):
        assert (high >= low - 1e-6).all()
        assert high.mean() > low.mean()


# --- the sources' timeline ------------------------------------------------------------


@pytest.mark.check("calibration", source="seed 004: Phase 1 2-3 yr, Phase 2 5-7 more, Phase 3 after about a decade",
                   tolerance="medians: Phase 2 in [2, 3], Phase 3 in [7, 11], Phase 2 lasting [5, 7.5] yr")
def test_shocks_off_walk_the_nominal_timeline(figure):
    """Seed 004: Phase 1 (demonstration) 2-3 years, Phase 2 (scaling) 5-7 more, Phase 3
    "after a decade". The windows do not quite add up (2-3 + 5-7 ends by year 10), so the
    baseline sits at the seam: Phase 2 may last up to half a year past 7 (tolerance)."""
    out = run_many(baseline(**{k.replace(".", "__"): v for k, v in SHOCKS_OFF.items()}),
                   runs=200, seed=8, workers=1).outcomes
    figure(f"median Phase 2 at {out.phase2_year.median():.2f} yr, Phase 3 at {out.phase3_year.median():.2f} yr, "
           f"Phase 2 lasting {(out.phase3_year - out.phase2_year).median():.2f} yr (200 runs)")
    assert 2.0 <= out.phase2_year.median() <= 3.0
    assert 7.0 <= out.phase3_year.median() <= 11.0
    assert 5.0 <= (out.phase3_year - out.phase2_year).median() <= 7.5
    assert not out.stalled.any()


@pytest.mark.check("calibration", source="experts cited in seed 003: at least a decade before substantial impact",
                   tolerance="median Phase 3 >= 10 yr")
def test_baseline_shocks_put_substantial_impact_a_decade_away(figure):
    """Experts cited in seed 003: at least a decade before substantial impact."""
    out = run_many(baseline(), runs=200, seed=8, workers=1).outcomes
    figure(f"median Phase 3 at {out.phase3_year.median():.2f} yr; "
           f"{(out.phase3_year <= 10).mean():.0%} of runs by year 10 (200 runs)")
    assert out.phase3_year.median() >= 10.0


# --- details the review asked to pin down ----------------------------------------------


def test_incident_and_outage_lengths_are_drawn_per_event():
    rep = run_replication(baseline(), seed=2, replication=3, trace=True)
    outages = {text for _, source, text in rep.log if source == "infrastructure"}
    lengths = {text.rsplit(": ", 1)[1] for text in outages}
    assert len(lengths) > 5
    assert "infrastructure.outage_days" not in rep.inputs


@pytest.mark.check("analytic", source="closed form: P(restored within 25 yr at 0.5/yr) = 1 - exp(-12.5)",
                   tolerance="every one of 60 runs")
def test_a_withdrawn_exemption_is_restored_at_its_rate(figure):
    scn = baseline(shocks__tariff__exemption_active=False, shocks__tariff__changes_per_year=0.0,
                   shocks__tariff__restore_per_year=0.5)
    restored = [any("exemption restored" in text for _, _, text in
                    run_replication(scn, seed=4, replication=i, trace=True).log) for i in range(60)]
    figure(f"restored in {sum(restored)} of 60 runs")
    # P(restored within 25 years at 0.5/yr) = 1 - exp(-12.5), essentially 1.
    assert all(restored)


@pytest.mark.check("invariant", source="consistency: the yearly phase series against the phase-entry years",
                   tolerance="exact, 40 runs")
def test_yearly_phase_agrees_with_phase_years(figure):
    scn = baseline()
    for i in range(40):
        rep = run_replication(scn, seed=6, replication=i)
        for k, phase in enumerate(rep.series["phase"], start=1):
            expected = 1 + sum(1 for p in ("phase2_year", "phase3_year")
                               if rep.outcome[p] == rep.outcome[p] and rep.outcome[p] <= k)
            assert phase == expected, (i, k)
        assert all(isinstance(rep.outcome[p], float) for p in ("phase2_year", "phase3_year"))
    figure("40 runs x 25 years agree")


@pytest.mark.check("metamorphic", source="monotone: lower investor confidence slows financing",
                   tolerance="refinery financing at least 20% later")
def test_low_confidence_stretches_financing_lead_times(figure):
    calm = deterministic()
    gloomy = deterministic({"confidence.initial": 0.25, "confidence.stall_floor": 0.0})
    def fid(scn):
        log = run_replication(scn, seed=1, replication=0, trace=True).log
        return _times(log, "refinery", "financing closed")[0]
    # Confidence 0.25 below the reference 0.5: lead progresses at 1 / (1 + 2 x 0.25) at first.
    figure(f"refinery financing at {fid(calm):.2f} yr from confidence 0.5, {fid(gloomy):.2f} yr from 0.25")
    assert fid(gloomy) > fid(calm) * 1.2


# --- resource estimates and their verification ----------------------------------------


@pytest.mark.check("analytic", source="closed form: output runs at min(1, resource factor) of design",
                   tolerance="1e-9 relative")
def test_a_smaller_resource_scales_output_exactly(figure):
    """The antimony project on half its planned resource makes exactly half its output; the
    pilot's 500 t a year are untouched. (No downgrade penalty here, so timing is unchanged;
    distress and the investors' value test off, since the mine on half its ore pays full
    operating cost for half the sales.)"""
    def antimony(factor):
        scn = deterministic({"projects.antimony.resource_factor": factor, "resources.downgrade_below": 0.0,
                             "resources.abandon_below": 0.0, "distress.enabled": False,
                             "investment.enabled": False})
        return run_replication(scn, seed=3, replication=0).series["production_antimony"].sum()

    pilot = 500 * min(H, float(baseline().projects["pilot"].life_years))  # for the pilot's life
    full, half = antimony(1.0), antimony(0.5)
    figure(f"antimony project output {full - pilot:,.0f} t at the planned resource, {half - pilot:,.0f} t at half")
    assert full > pilot
    assert half - pilot == pytest.approx(0.5 * (full - pilot), rel=1e-9)
    assert antimony(2.0) == pytest.approx(full, rel=1e-9)  # a plant cannot beat its nameplate


@pytest.mark.check("metamorphic", source="seed 003: unverified claims; verification reveals the resource",
                   tolerance="a downgrade lowers confidence; below the abandon share nothing more is built")
def test_a_verified_downgrade_lowers_confidence_and_too_small_a_resource_is_not_built(figure):
    def run(factor, **extra):  # the investors' value test off: a 60% resource may not pay
        scn = deterministic({"projects.rare_earth.resource_factor": factor, "investment.enabled": False, **extra})
        return run_replication(scn, seed=3, replication=0, trace=True)

    good, poor, tiny = run(1.0), run(0.6), run(0.3)
    painless = run(0.6, **{"resources.downgrade_drop": 0.0})
    late = run(0.3, **{"projects.rare_earth.verification_years": 20.0})  # revealed after financing
    conf = {k: r.series["confidence"][4] for k, r in
            (("good", good), ("poor", poor), ("painless", painless), ("tiny", tiny))}
    built = {k: bool(_times(r.log, "rare_earth", "construction starts"))
             for k, r in (("good", good), ("poor", poor), ("tiny", tiny), ("late", late))}
    figure(f"confidence after 5 yr {conf['good']:.3f} (confirmed), {conf['poor']:.3f} (60%), "
           f"{conf['painless']:.3f} (60%, no downgrade drop), {conf['tiny']:.3f} (30%); built: {built}")
    assert conf["poor"] < conf["painless"]
    assert built == {"good": True, "poor": True, "tiny": False, "late": True}
    assert _times(tiny.log, "rare_earth", "too little to build on")
    assert tiny.outcome["capex_usd"] < good.outcome["capex_usd"]


@pytest.mark.check("metamorphic", source="monotone: a larger recoverable resource cannot lower exports (paired)",
                   tolerance="exports never lower in any of 60 paired runs")
def test_a_larger_resource_never_lowers_exports(figure):
    """At given prices and without attacks. More of Pakistan's output outside China lowers
    the ex-China price it clears at (the market counts Pakistan's supply), so a larger
    resource can earn less where China's controls hold a premium up; and a site built on a
    larger resource is a target for longer, whose attacks knock the confidence that finances
    Reko Diq's second phase."""
    taker = {k.replace(".", "__"): v for k, v in PRICE_TAKER.items()}
    taker["shocks__security__enabled"] = False
    # A policy reversal that lands on a phase just financed halts its construction: a larger
    # resource, which lifts confidence and finances Reko Diq's Phase 2 a few days sooner, can
    # be caught that way where the smaller one is not (seed 9, replication 58: 3% less).
    taker["governance__enabled"] = False

    def outcomes(factor):
        return run_many(baseline(projects__rare_earth__resource_factor=factor,
                                 projects__antimony__resource_factor=factor, **taker),
                        runs=60, seed=9, workers=1).outcomes.cumulative_export_value_usd
    low, high = outcomes(0.5), outcomes(1.0)
    figure(f"exports USD {low.mean() / 1e9:.2f}bn at half the resource, {high.mean() / 1e9:.2f}bn at the plan")
    assert (high >= low - 1e-6).mean() == 1.0
    assert high.mean() > low.mean()


@pytest.mark.check("metamorphic", source="monotone: building to plan (no overruns) costs less and is no slower (paired)",
                   tolerance="capex lower on average and in over 75% of runs (a project past its feasibility study comes in under its estimate about one time in five); mean Phase 3 no later")
def test_switching_overruns_off_lowers_capex_and_brings_phase_3_no_later(figure):
    on, off = _paired(overrides_off={"construction__enabled": False})
    figure(f"capex USD {on.capex_usd.mean() / 1e9:.1f}bn -> {off.capex_usd.mean() / 1e9:.1f}bn, lower in "
           f"{(off.capex_usd < on.capex_usd).mean():.0%} of runs; mean Phase 3 "
           f"{on.phase3_year.mean():.2f} -> {off.phase3_year.mean():.2f} yr (finished runs)")
    assert (off.capex_usd < on.capex_usd).mean() > 0.75
    assert off.capex_usd.mean() < on.capex_usd.mean()
    assert off.phase3_year.mean() <= on.phase3_year.mean()


@pytest.mark.check("metamorphic", source="monotone: without power, water and logistics outages no site-day is lost to them (paired)",
                   tolerance="downtime never higher in any run; mean exports not lower")
def test_switching_outages_off_lowers_downtime_and_never_lowers_exports(figure):
    on, off = _paired(overrides_off={"infrastructure__enabled": False})
    figure(f"downtime {on.downtime_days.mean():.0f} -> {off.downtime_days.mean():.0f} site-days; exports "
           f"USD {on.cumulative_export_value_usd.mean() / 1e9:.2f}bn -> {off.cumulative_export_value_usd.mean() / 1e9:.2f}bn")
    assert (off.downtime_days <= on.downtime_days).all()
    assert off.cumulative_export_value_usd.mean() >= on.cumulative_export_value_usd.mean()


def test_world_at_runs_an_action_at_its_time_or_once_the_event_is_done():
    """``World.at`` runs an action at a later model time, and one whose time has passed
    after the event being handled, not inside it; each takes one simulation event."""

    def world() -> World:
        streams = Streams(3, 0)
        return World(realize(baseline(), streams)[0], streams)

    w, seen = world(), []

    def at_two() -> None:
        seen.append(("late", w.now))
        w.at(1.0, lambda: seen.append(("passed", w.now)))
        seen.append(("after it", w.now))

    w.at(2.0, at_two)
    w.after(0.5, lambda: seen.append(("after", w.now)))
    events = w.run()
    assert seen == [("after", 0.5), ("late", 2.0), ("after it", 2.0), ("passed", 2.0)]
    assert events == world().run() + 3
