"""Distributions: inverse CDFs against scipy.stats, parsing, and bounds in the schema."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.scenario.distributions import Choice, parse_number

U = np.linspace(0.001, 0.999, 57)


class Truncated:
    """A scipy distribution restricted to [low, high] (scipy has no generic truncation)."""

    def __init__(self, dist, low, high):
        self.dist, self.low, self.high = dist, low, high
        self.a, self.b = dist.cdf(low), dist.cdf(high)

    def ppf(self, u):
        return self.dist.ppf(self.a + np.asarray(u) * (self.b - self.a))

    def mean(self):
        return self.dist.expect(lb=self.low, ub=self.high, conditional=True)


CASES = [
    ({"dist": "uniform", "low": 2, "high": 5}, stats.uniform(2, 3)),
    ({"dist": "triangular", "low": 1, "mode": 2, "high": 4}, stats.triang(1 / 3, loc=1, scale=3)),
    ({"dist": "pert", "low": 0, "mode": 1, "high": 4}, stats.beta(2, 4, loc=0, scale=4)),
    ({"dist": "normal", "mean": 3, "sd": 0.5}, stats.norm(3, 0.5)),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": -0.5, "high": 2},
     stats.truncnorm(-0.5, 2, loc=0, scale=1)),
    ({"dist": "lognormal", "median": 2, "sigma": 0.4}, stats.lognorm(0.4, scale=2)),
    ({"dist": "lognormal", "median": 1.4, "sigma": 0.4, "low": 0.5, "high": 5},
     Truncated(stats.lognorm(0.4, scale=1.4), 0.5, 5)),
    ({"dist": "beta", "a": 2, "b": 5}, stats.beta(2, 5)),
    ({"dist": "beta", "a": 2, "b": 5, "low": 1, "high": 3}, stats.beta(2, 5, loc=1, scale=2)),
]


@pytest.mark.check("analytic", source="scipy.stats inverse CDFs and means",
                   tolerance="1e-9 on 57 quantiles; mean 1e-3 relative")
@pytest.mark.parametrize(("spec", "reference"), [
    pytest.param(spec, ref, id=",".join(f"{k}={v}" for k, v in spec.items())) for spec, ref in CASES])
def test_ppf_matches_scipy(spec, reference, figure):
    dist = parse_number(spec)
    got = np.array([dist.ppf(u) for u in U])
    figure(f"largest quantile difference {np.max(np.abs(got - reference.ppf(U))):.1e}; "
           f"mean {dist.mean():.4f} (scipy {float(reference.mean()):.4f})")
    np.testing.assert_allclose(got, reference.ppf(U), rtol=1e-9, atol=1e-9)
    assert dist.mean() == pytest.approx(reference.mean(), rel=1e-3)
    lo, hi = dist.support()
    assert lo <= got.min() and got.max() <= hi


def test_choice_draws_in_proportion_to_weights():
    dist = parse_number({"dist": "choice", "values": [0.1, 0.19, 0.29], "weights": [1, 2, 1]})
    assert isinstance(dist, Choice)
    draws = np.array([dist.ppf(u) for u in (np.arange(4000) + 0.5) / 4000])
    assert (draws == 0.19).mean() == pytest.approx(0.5, abs=1e-3)
    assert dist.mean() == pytest.approx((0.1 + 0.38 + 0.29) / 4)


def test_fixed_and_plain_numbers_are_numbers():
    assert parse_number(3) == 3.0
    assert parse_number({"dist": "fixed", "value": 2.5}) == 2.5


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"dist": "uniform", "low": 5, "high": 2}, "low < high"),
        ({"dist": "triangular", "low": 1, "mode": 5, "high": 4}, "low <= mode <= high"),
        ({"dist": "normal", "mean": 0, "sd": -1}, "sd > 0"),
        ({"dist": "gamma", "k": 1}, "'dist' must be one of"),
        ({"dist": "uniform", "low": 1}, "missing high"),
        ({"dist": "uniform", "low": 1, "high": 2, "mode": 1.5}, "unknown mode"),
        ({"dist": "choice", "values": []}, "non-empty"),
        ({"dist": "choice", "values": [1, 2], "weights": [1]}, "as long as values"),
        ({"dist": "uniform", "low": "a", "high": 2}, "must be a number"),
        (True, "not true/false"),
        ("abc", "expected a number"),
    ],
)
def test_bad_distributions_say_what_is_wrong(spec, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        parse_number(spec)


def test_unsampled_distribution_refuses_to_be_a_number():
    dist = parse_number({"dist": "uniform", "low": 0, "high": 1})
    with pytest.raises(TypeError, match="not been sampled"):
        float(dist)
    assert math.isfinite(dist.mean())


@pytest.mark.parametrize(("spec", "reference"), [
    pytest.param(spec, ref, id=",".join(f"{k}={v}" for k, v in spec.items())) for spec, ref in CASES])
def test_means_are_exact(spec, reference):
    """Means in closed form (the truncated lognormal's too), as the routing rule needs: shares
    drawn from distributions must have means summing to 1 within 1e-6."""
    assert parse_number(spec).mean() == pytest.approx(float(reference.mean()), rel=1e-9)


BIG = int("9" * 400)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"dist": "uniform", "low": 0, "high": math.inf}, "'high' must be a finite number"),
        ({"dist": "uniform", "low": math.nan, "high": 1}, "'low' must be a finite number"),
        ({"dist": "uniform", "low": 0, "high": BIG}, "'high' must be a finite number"),
        ({"dist": "choice", "values": [0, 1], "weights": [math.inf, 1]}, "'weights' must be a finite number"),
        ({"dist": "choice", "values": [0, 1], "weights": [1e308, 1e308]}, "positive, finite sum"),
        ({"dist": "normal", "mean": 1e308, "sd": 1, "low": 0, "high": 1}, "holds almost none"),
        ({"dist": "normal", "mean": 0.5, "sd": 1e308, "low": 0, "high": 1}, "holds almost none"),
        ({"dist": "lognormal", "median": 0.5, "sigma": 1e308, "low": 0.1, "high": 1}, "holds almost none"),
        ({"dist": "lognormal", "median": 5e-324, "sigma": 1, "low": 0.1, "high": 1}, "holds almost none"),
        ({"dist": "lognormal", "median": 1e300, "sigma": 100}, "cannot be sampled"),
        (math.nan, "finite number"),
        (-math.inf, "finite number"),
        (BIG, "too large"),
    ],
)
def test_parameters_that_defeat_the_arithmetic_are_refused(spec, words):
    """Each parameter finite is not enough: a truncation that holds none of the distribution,
    or a sigma so large that its mean overflows, is refused where the file names it."""
    with pytest.raises(ValueError, match=words):
        parse_number(spec)


@pytest.mark.parametrize("spec", [
    {"dist": "beta", "a": 1e308, "b": 1},
    {"dist": "beta", "a": 5e-324, "b": 5e-324},
    {"dist": "pert", "low": 0, "mode": 0.5, "high": 1, "lamb": 1e308},
    {"dist": "lognormal", "median": 1, "sigma": 30, "low": 0.5, "high": 2},
    {"dist": "lognormal", "median": 1e-200, "sigma": 300, "low": 0.5, "high": 2},
    {"dist": "choice", "values": [0, 1], "weights": [5e-324, 5e-324]},
])
def test_extreme_but_usable_parameters_give_finite_draws_within_the_support(spec):
    dist = parse_number(spec)
    lo, hi = dist.support()
    draws = [dist.ppf(u) for u in (0.0, *U, 1.0)]
    assert all(math.isfinite(x) and lo <= x <= hi for x in draws)
    assert math.isfinite(dist.mean())


def test_a_bad_parameter_names_its_value_once():
    with pytest.raises(ValueError) as caught:
        parse_number({"dist": "uniform", "low": "a", "high": 2})
    assert "(got" not in str(caught.value) and "not 'a'" in str(caught.value)
