"""The ex-China market: a closed form, directions an analyst can trust, and bad input."""

from __future__ import annotations

from itertools import pairwise

import pytest

from conftest import BASELINE, baseline
from sim.errors import ScenarioError
from sim.model.market import Clearing
from sim.scenario.files import load_scenario

LEVELS = {"open": 0, "licensing": 1, "restricted": 2, "embargo": 3}


def _market(**changes: object) -> Clearing:
    spec = baseline().commodities["rare_earths"].market
    assert spec is not None
    return Clearing(spec.model_copy(update=changes))


@pytest.mark.check("analytic", source="closed form: linear demand and supply, one step",
                   tolerance="1e-12 relative")
def test_one_step_clears_at_the_linear_formula(figure):
    """Demand a - b r and supply c + d r, with a = 1 + e_d, b = e_d (shares of demand),
    c = x0 (1 - cut) + k (1 - e_s) + q, d = k e_s, clear at r = (a - c) / (b + d)."""
    m = _market(china_export_share=0.9, other_supply_share=0.08, demand_elasticity=0.2, supply_elasticity=0.3)
    cut, q = 0.3, 0.01
    m.step(0.0, 0.0, LEVELS["restricted"], q * float(m.demand0))
    a, b = 1 + 0.2, 0.2
    c, d = 0.9 * (1 - cut) + 0.08 * (1 - 0.3) + q, 0.08 * 0.3
    figure(f"ratio {m.ratio:.6f} against (a - c) / (b + d) = {(a - c) / (b + d):.6f}")
    assert m.ratio == pytest.approx((a - c) / (b + d), rel=1e-12)


def _path(market: Clearing, levels: list[int], years: float = 8.0, dt: float = 0.25) -> list[float]:
    ratios, t = [], 0.0
    for i in range(int(years / dt)):
        market.step(t, dt, levels[min(i, len(levels) - 1)], 0.0)
        ratios.append(market.ratio)
        t += dt
    return ratios


@pytest.mark.check("metamorphic", source="partial equilibrium: a deeper cut never lowers the ex-China price",
                   tolerance="every step of an 8-year path, 1e-12")
def test_a_deeper_cut_never_lowers_the_ex_china_price(figure):
    paths = [_path(_market(), [level]) for level in range(4)]
    for shallower, deeper in pairwise(paths):
        assert all(b >= a - 1e-12 for a, b in zip(shallower, deeper, strict=True))
    figure("first-step ratio " + ", ".join(f"{p[0]:.2f}" for p in paths) + " from open to embargo")


@pytest.mark.check("metamorphic", source="partial equilibrium: more elastic demand never gives a higher spike",
                   tolerance="peak ratio, 1e-12")
def test_more_elastic_demand_never_gives_a_higher_spike(figure):
    peaks = [max(_path(_market(demand_elasticity=e), [LEVELS["embargo"]])) for e in (0.05, 0.09, 0.2, 0.5, 1.0)]
    figure("embargo peak ratio " + ", ".join(f"{p:.2f}" for p in peaks) + " at e_d 0.05 to 1.0")
    assert all(b <= a + 1e-12 for a, b in pairwise(peaks))


@pytest.mark.check("metamorphic", source="partial equilibrium: more non-Chinese capacity never raises the spike",
                   tolerance="every step, 1e-12")
def test_more_capacity_outside_china_never_raises_the_price(figure):
    paths = [_path(_market(other_supply_share=k), [LEVELS["restricted"]]) for k in (0.04, 0.08, 0.2, 0.5)]
    for less, more in pairwise(paths):
        assert all(b <= a + 1e-12 for a, b in zip(less, more, strict=True))
    figure("restricted first-step ratio " + ", ".join(f"{p[0]:.2f}" for p in paths) + " at capacity 0.04 to 0.5")


@pytest.mark.check("metamorphic", source="partial equilibrium: lifting controls never raises the ex-China price",
                   tolerance="every step after the lift, 1e-12")
def test_lifting_controls_never_raises_the_ex_china_price(figure):
    held = _path(_market(), [LEVELS["embargo"]] * 32)
    lifted = _path(_market(), [LEVELS["embargo"]] * 8 + [LEVELS["licensing"]] * 24)
    assert all(b <= a + 1e-12 for a, b in zip(held, lifted, strict=True))
    figure(f"ratio after 8 years {held[-1]:.2f} held, {lifted[-1]:.2f} lifted after 2")


@pytest.mark.check("metamorphic", source="the spike fades as demand substitutes and capacity outside China arrives",
                   tolerance="ratio lower after 8 years than at the first step of an embargo held throughout")
def test_an_embargo_spike_fades_for_stated_reasons(figure):
    m = _market()
    ratios = _path(m, [LEVELS["embargo"]], years=15)
    figure(f"embargo held: ratio {ratios[0]:.2f} at once, {ratios[31]:.2f} after 8 years, {ratios[-1]:.2f} after 15; "
           f"demand left {m.demand:.2f}, capacity outside China {m.capacity:.2f} of reference demand")
    assert ratios[31] < ratios[0] and ratios[-1] < ratios[31]
    assert m.demand < 1 and m.capacity > 0.08


@pytest.mark.parametrize(("override", "words"), [
    ({"commodities.rare_earths.market.demand_elasticity": -0.1}, "must be >= 0"),
    ({"commodities.rare_earths.market.china_export_share": 0, "commodities.rare_earths.market.other_supply_share": 0},
     "no supply can reach the ex-China market"),
    ({"commodities.rare_earths.non_china_premium_usd": 30000}, "set by the cleared market"),
])
def test_bad_market_input_is_refused(override, words):
    with pytest.raises(ScenarioError) as err:
        load_scenario(BASELINE, override)
    assert words in str(err.value), str(err.value)


@pytest.mark.check(
    "holdout",
    source="China's 2010-11 rare-earth export quotas, not used in fitting: exports 43,900 t REO in 2009 "
           "(39,813 t in 2010 'a 9.3% slide', WSJ / Reuters 2011), 16,900 t in 2011 (China Daily 2012), "
           "actual exports 2.2x the official figure (State Council white paper 2012); supply outside China "
           "about 6,000 t in 2011 against ex-China demand near 50,000 t (Kingsnorth, IMCOA, via Mining "
           "Weekly); Nd oxide export price about USD 260/kg late 2011 (Lynas, via mining.com) against "
           "1.15-1.20 M yuan/t in China (Reuters, 23 Sep 2011): a ratio of 1.4-1.65, 1.2-1.45 net of "
           "China's 15% export tax; NdPr FOB 65-70 against 293-300 k yuan/t in Oct 2014 (Argus)",
    tolerance="directions: the ex-China price rises above China's under the cut and the gap narrows "
              "over three years with the cut held; the size is reported, not asserted")
def test_the_2010_11_quota_episode_held_out(figure):
    """The baseline's rare-earth market (its fitted elasticities and responses) with 2010's
    structure: China's exports 88% of what reached the ex-China market, other supply 12%, no
    growth. The cut is bracketed by what the sources allow: 0.62 from the official export
    figures (16,900 t against 43,900 t) and 0.16 if actual exports were 2.2 times them."""
    ratios = {}
    for cut in (0.16, 0.62):
        m = _market(china_export_share=0.88, other_supply_share=0.12, demand_growth_per_year=0.0,
                    export_cut=baseline().commodities["rare_earths"].market.export_cut.model_copy(
                        update={"restricted": cut}))
        ratios[cut] = _path(m, [LEVELS["restricted"]], years=3.25)
    low, high = ratios[0.16], ratios[0.62]
    observed = (1.2, 1.45)  # Nd oxide late 2011, net of the export tax
    verdict = ("within" if observed[0] <= low[0] and high[0] <= observed[1] else
               "above" if low[0] > observed[1] else "below" if high[0] < observed[0] else "across")
    figure(f"ex-China over China's price at once {low[0]:.2f} (cut 0.16) to {high[0]:.2f} (cut 0.62), "
           f"after three years {low[12]:.2f} to {high[12]:.2f}; observed for Nd oxide late 2011 "
           f"{observed[0]}-{observed[1]} net of the export tax: the first-year gap lies {verdict} it")
    assert min(low[0], high[0]) > 1.0
    assert low[12] < low[0] and high[12] < high[0]
