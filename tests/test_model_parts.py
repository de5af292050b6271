"""The parts of the world, each against a closed form or an invariant."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import baseline
from sim.model.confidence import Confidence
from sim.model.draws import Draws
from sim.model.hazard import VaryingRatePoisson
from sim.model.processing import allocate
from sim.model.ramp import RampCurve, integrate
from sim.model.security import monthly_attack_counts

# --- ramp-up --------------------------------------------------------------------------


@pytest.mark.check("analytic", source="closed form: the integral of a linear ramp is a trapezoid",
                   tolerance="1e-12 relative")
def test_ramp_integral_is_the_trapezoid(figure):
    curve = RampCurve(start=1.0, years_to_design=2.0, start_fraction=0.2, plateau=0.9)
    # Before start: nothing. During ramp: linear from 0.18 to 0.9. After: 0.9 flat.
    assert integrate(curve, 0.0, 1.0) == 0.0
    assert integrate(curve, 1.0, 3.0) == pytest.approx(2.0 * (0.18 + 0.9) / 2)
    assert integrate(curve, 3.0, 5.0) == pytest.approx(1.8)
    whole = integrate(curve, 0.0, 5.0)
    parts = sum(integrate(curve, a, a + 0.37) for a in np.arange(0.0, 5.0, 0.37))
    assert whole == pytest.approx(parts - integrate(curve, 5.0, 5.18), rel=1e-12)
    assert curve.time_to_reach(0.54) == pytest.approx(2.0)
    figure(f"ramp 0.18 -> 0.9 over 2 yr integrates to {integrate(curve, 1.0, 3.0):.4f} (trapezoid 1.08)")
    assert math.isinf(curve.time_to_reach(0.95))


def test_ramp_integral_with_a_suspension_window():
    curve = RampCurve.built()
    assert integrate(curve, 0.0, 4.0, [2.0, 2.5], [1.0, 0.0, 1.0]) == pytest.approx(3.5)
    # A climbing curve, its factor changing inside the climb and where it starts, against
    # a fine midpoint sum (exact on each linear piece; off by a cell at the jump at start).
    ramp = RampCurve(start=1.0, years_to_design=2.0, start_fraction=0.2, plateau=0.9)
    cuts, factors = [1.0, 1.5, 2.5, 3.5], [1.0, 0.0, 0.5, 1.0, 0.25]
    edges = np.linspace(0.0, 4.0, 200_001)
    mid = 0.5 * (edges[1:] + edges[:-1])
    tau = np.clip(mid - ramp.start, 0.0, None)
    level = np.where(mid < ramp.start, 0.0, ramp.plateau * np.where(
        tau >= ramp.years_to_design, 1.0, ramp.start_fraction + (1 - ramp.start_fraction) * tau / ramp.years_to_design))
    factor = np.asarray(factors)[np.searchsorted(cuts, mid, side="right")]
    expected = float(np.sum(level * factor) * (edges[1] - edges[0]))
    assert integrate(ramp, 0.0, 4.0, cuts, factors) == pytest.approx(expected, abs=1e-4)
    # Without cuts, the same curve with a factor of one throughout.
    assert integrate(ramp, 0.0, 4.0) == pytest.approx(integrate(ramp, 0.0, 4.0, [], [1.0]), rel=1e-15)


# --- routing conserves volume --------------------------------------------------------

shares_st = st.fixed_dictionaries({r: st.floats(0, 1) for r in ("domestic", "china", "us", "other")}).filter(
    lambda s: sum(s.values()) > 0).map(lambda s: {k: v / sum(s.values()) for k, v in s.items()})
capacity_st = st.fixed_dictionaries({r: st.floats(0, 1e6) for r in ("domestic", "china", "us", "other")})


@pytest.mark.check("invariant", source="conservation: what is routed plus what is stocked equals supply plus old stock",
                   tolerance="1e-9 relative, 300 random cases (hypothesis)")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(supply=st.floats(0, 1e6), stock=st.floats(0, 1e6), shares=shares_st, capacity=capacity_st)
def test_allocation_conserves_volume_and_respects_capacity(figure, supply, stock, shares, capacity):
    if not figure.recorded:
        figure("volume balances and no route exceeds its capacity in every generated case")
    flows, new_stock = allocate(supply, stock, shares, capacity)
    assert sum(flows.values()) + new_stock == pytest.approx(supply + stock, rel=1e-9, abs=1e-6)
    assert new_stock >= 0
    for r, q in flows.items():
        assert -1e-9 <= q <= capacity[r] * (1 + 1e-12) + 1e-9


def test_allocation_without_limits_follows_the_shares():
    flows, stock = allocate(100.0, 0.0, {"domestic": 0.5, "us": 0.5}, dict.fromkeys(
        ("domestic", "china", "us", "other"), math.inf))
    assert flows == {"domestic": 50.0, "china": 0.0, "us": 50.0, "other": 0.0}
    assert stock == 0.0


# --- confidence -------------------------------------------------------------------------


def _confidence(**changes: float) -> tuple[Confidence, list[tuple[float, object]], list[bool]]:
    spec = baseline().confidence.model_copy(update=changes)
    scheduled: list[tuple[float, object]] = []
    stalled: list[bool] = []
    return Confidence(spec, 5, lambda t, f: scheduled.append((t, f)), lambda: stalled.append(True)), scheduled, stalled


@pytest.mark.check("analytic", source="closed form: c(t) = c0 - d exp(-k (t - t0)) after a drop d",
                   tolerance="1e-6 relative")
def test_confidence_recovers_exponentially_from_a_drop(figure):
    c, _, _ = _confidence(initial=0.6, recovery_per_year=0.5)
    c.drop(1.0, 0.2)
    figure(f"level {c.level(4.0):.4f} three years after a 0.2 drop (closed form {0.6 - 0.2 * math.exp(-1.5):.4f})")
    for t in (1.0, 2.0, 4.0):
        assert c.level(t) == pytest.approx(0.6 - 0.2 * math.exp(-0.5 * (t - 1.0)))
    c.gain(2.0, 0.1)
    assert c.level(2.0) == pytest.approx(0.7 - 0.2 * math.exp(-0.5))


def test_confidence_stall_is_scheduled_only_if_it_stays_below_the_floor():
    c, scheduled, stalled = _confidence(initial=0.5, recovery_per_year=1.0, stall_floor=0.2,
                                        stall_after_years=2.0)
    c.drop(0.0, 0.35)  # dips to 0.15, back over 0.2 after ln(0.35/0.3) = 0.15 yr: no stall
    assert scheduled == []
    c2, scheduled2, stalled2 = _confidence(initial=0.15, stall_floor=0.2, stall_after_years=2.0)
    # Below the floor from the start: the clock runs from t = 0, and a later drop keeps it.
    assert [t for t, _ in scheduled2] == [2.0]
    c2.drop(1.0, 0.01)
    assert [t for t, _ in scheduled2] == [2.0, 2.0]
    scheduled2[0][1]()
    assert stalled2 == []  # superseded by the later check
    scheduled2[1][1]()
    assert stalled2 == [True]
    assert stalled == []


def test_financing_delay_and_risk_premium_follow_confidence():
    c, _, _ = _confidence(initial=0.3, reference=0.5, financing_delay_per_unit=2.0, risk_premium=0.08)
    assert c.financing_delay_factor(0.0) == pytest.approx(1.4)
    assert c.risk_premium(0.0) == pytest.approx(0.08 * 0.7)


# --- Poisson machinery ------------------------------------------------------------------


def _count_events(rates: tuple[float, float], switch_at: float, horizon: float, seed: int) -> int:
    env = simpy.Environment()
    state = {"rate": rates[0], "n": 0}
    proc = VaryingRatePoisson(env, Draws(np.random.default_rng(seed), "exponential"), lambda: state["rate"],
                              lambda: state.__setitem__("n", state["n"] + 1))

    def switch():
        yield env.timeout(switch_at)
        state["rate"] = rates[1]
        proc.rate_changed()

    env.process(switch())
    env.run(until=horizon)
    return state["n"]


@pytest.mark.check("analytic", source="closed form: a Poisson process with a rate switching 2 -> 10 /yr at year 5 has mean and variance 60 over 10 yr",
                   tolerance="mean within 4 standard errors; variance 25%")
def test_varying_rate_poisson_has_the_integrated_mean(figure):
    counts = np.array([_count_events((2.0, 10.0), 5.0, 10.0, s) for s in range(400)])
    expected = 2.0 * 5.0 + 10.0 * 5.0  # 60
    se = math.sqrt(expected / len(counts))
    figure(f"mean {counts.mean():.2f}, variance {counts.var():.1f} over 400 runs (closed form 60)")
    assert abs(counts.mean() - expected) < 4 * se
    assert counts.var() == pytest.approx(expected, rel=0.25)  # Poisson: variance = mean


# --- security -----------------------------------------------------------------------------


@pytest.mark.check("calibration", source="PICSS via wionews.com: at least 170 attacks in Balochistan in 2023; monthly counts jump several-fold (pakistantoday.com.pk, dawn.com/news/1856563)",
                   tolerance="170 a year +/- 8%; monthly variance over 3x the mean")
def test_balochistan_attack_process_matches_2023_level_and_clusters(figure):
    """PICSS: about 170 attacks in 2023; monthly counts overdispersed (variance >> mean)."""
    spec = baseline().shocks.security.provinces["balochistan"]
    rng = np.random.default_rng(2023)
    counts = monthly_attack_counts(spec, rng, 12 * 400)
    per_year = counts.reshape(-1, 12).sum(axis=1)
    figure(f"{per_year.mean():.0f} attacks a year; monthly variance/mean {counts.var() / counts.mean():.1f} (400 years)")
    assert per_year.mean() == pytest.approx(170, rel=0.08)
    assert counts.var() / counts.mean() > 3.0


# --- governance -------------------------------------------------------------------------


@pytest.mark.check("analytic", source="closed form: compound Poisson mean r T m",
                   tolerance="5% relative, 3,000 draws")
def test_dispute_delays_have_their_compound_poisson_mean(figure):
    """Disputes at rate r over a permitting time T, each adding a delay of mean m:
    expected added delay r T m."""
    from sim.model.governance import dispute_delay
    from sim.model.streams import Streams

    scn = baseline(governance__disputes_per_year=2.0,
                   governance__dispute_delay_years={"dist": "uniform", "low": 0.2, "high": 0.6})
    delays = []
    for i in range(3000):
        delays.append(dispute_delay(scn, Streams(1, i), "x", 1.5)[1])
    expected = 2.0 * 1.5 * 0.4
    figure(f"mean added delay {np.mean(delays):.3f} yr (closed form {expected:.3f})")
    assert np.mean(delays) == pytest.approx(expected, rel=0.05)
    off = baseline(governance__enabled=False)
    assert dispute_delay(off, Streams(1, 0), "x", 1.5) == (0, 0.0)


@pytest.mark.parametrize("drops", [[(0.3, 0.2)], [(0.2, 0.9), (1.7, 0.4)], [(0.5, 0.05), (0.6, 0.05), (2.9, 1.5)]])
def test_risk_premium_is_integrated_exactly_over_each_year(drops):
    """The premium over each model year, integrated in closed form through drops, gains and
    the clipping of the level at 0 and 1, against a fine midpoint rule on the level itself."""
    c, _, _ = _confidence(initial=0.6, ceiling=1.0, recovery_per_year=1.3, risk_premium=0.05)
    events = sorted([(t, "drop", x) for t, x in drops] + [(1.2, "gain", 0.5), (3.5, "gain", -0.3)])
    pieces = []  # (start, end, frozen copy of the state) for the reference quadrature
    last = 0.0
    for t, kind, amount in events:
        pieces.append((last, t, (c.fundamental, c.transient, c.since)))
        (c.drop if kind == "drop" else c.gain)(t, amount)
        last = t
    pieces.append((last, 5.0, (c.fundamental, c.transient, c.since)))
    got = c.premium_years(5.0)
    want = [0.0] * 5
    n = 4000
    for start, end, (f, x, s) in pieces:
        cuts = [start, *(float(k) for k in range(1, 5) if start < k < end), end]
        for a, b in zip(cuts, cuts[1:], strict=False):  # each within one model year
            dt = (b - a) / n
            for i in range(n):
                t = a + (i + 0.5) * dt
                level = min(1.0, max(0.0, f + x * math.exp(-1.3 * (t - s))))
                want[int(a)] += 0.05 * (1.0 - level) * dt
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9)
