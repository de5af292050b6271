"""Uncertain inputs: the distributions a scenario may give instead of a fixed number.

Any numeric parameter in a scenario may be a plain number or a mapping such as
``{dist: triangular, low: 2, mode: 3, high: 4.5}``. A distribution is sampled once per
replication, by inverse transform: the replication's seed and the parameter's dotted path
give a uniform number ``u`` (see :mod:`sim.model.streams`), and ``dist.ppf(u)`` gives the value.
Sampling by the inverse CDF keeps each parameter's draw independent of every other
parameter, so adding an uncertain input never shifts the draws of the others, and the
same replication of two scenarios sees the same quantile of a shared input (common random
numbers).

The families are the ones analysts use for elicited and fitted quantities: ``uniform``,
``triangular``, ``pert`` (beta-PERT), ``normal``, ``lognormal`` (by median and log-sd),
``beta`` (optionally scaled to ``[low, high]``) and ``choice`` (a discrete set with
weights). ``normal`` and ``lognormal`` accept ``low``/``high`` to truncate them, which a
bounded parameter requires. ``fixed`` is accepted and read as the plain number.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, ClassVar

from scipy import special
from scipy.special import cython_special


@dataclass(frozen=True)
class Dist:
    """A one-dimensional distribution, sampled by its inverse CDF."""

    kind: ClassVar[str] = ""

    def __float__(self) -> float:
        raise TypeError(f"{self.describe()} has not been sampled: realize the scenario first")

    def ppf(self, u: float) -> float:  # pragma: no cover - every family overrides
        raise NotImplementedError

    def support(self) -> tuple[float, float]:  # pragma: no cover
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dist": self.kind}
        out.update({k: v for k, v in asdict(self).items() if v is not None})
        return out

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.to_dict().items() if k != "dist")
        return f"{self.kind}({args})"


@dataclass(frozen=True)
class Uniform(Dist):
    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def ppf(self, u: float) -> float:
        return self.low + u * (self.high - self.low)

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


@dataclass(frozen=True)
class Triangular(Dist):
    low: float
    mode: float
    high: float
    kind: ClassVar[str] = "triangular"

    def ppf(self, u: float) -> float:
        a, c, b = self.low, self.mode, self.high
        width = b - a
        if width == 0:
            return a
        cut = (c - a) / width
        if u < cut:
            return a + math.sqrt(u * width * (c - a))
        return b - math.sqrt((1.0 - u) * width * (b - c))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


@dataclass(frozen=True)
class Pert(Dist):
    """Beta-PERT: a beta on [low, high] with the given mode; ``lamb`` sets the peakedness."""

    low: float
    mode: float
    high: float
    lamb: float = 4.0
    kind: ClassVar[str] = "pert"

    def _ab(self) -> tuple[float, float]:
        width = self.high - self.low
        a = 1.0 + self.lamb * (self.mode - self.low) / width
        b = 1.0 + self.lamb * (self.high - self.mode) / width
        return a, b

    def ppf(self, u: float) -> float:
        a, b = self._ab()
        return self.low + (self.high - self.low) * float(special.betaincinv(a, b, u))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def mean(self) -> float:
        return (self.low + self.lamb * self.mode + self.high) / (self.lamb + 2.0)


class _TruncatedNormal(Dist):
    """What a normal and a lognormal share: bounds ``low`` and ``high`` (either may be
    None), standardised by :meth:`_z`, and the standard normal CDF at them (an infinite
    bound exactly 0 or 1), computed once per distribution, not at every draw."""

    low: float | None
    high: float | None

    def _z(self, x: float | None, default: float) -> float:  # pragma: no cover - both families override
        raise NotImplementedError

    @cached_property
    def _cdf_bounds(self) -> tuple[float, float]:
        return (float(special.ndtr(self._z(self.low, -math.inf))),
                float(special.ndtr(self._z(self.high, math.inf))))


def _ndtri(p: float) -> float:
    """The standard normal quantile of ``p``: scipy's ``ndtri`` called on one number (its
    scalar entry point, the same function as the array one at a third of the cost a call)."""
    return float(cython_special.ndtri(p))


def _truncated_u(u: float, cdf_low: float, cdf_high: float) -> float:
    return cdf_low + u * (cdf_high - cdf_low)


def _log_mass(a: float, b: float) -> float:
    """log(Phi(b) - Phi(a)) for a < b, from the tail nearer to both (no cancellation)."""
    if a > 0:  # both in the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
        a, b = -b, -a
    high, low = float(special.log_ndtr(b)), float(special.log_ndtr(a))
    return high + math.log1p(-math.exp(low - high)) if low < high else -math.inf


@dataclass(frozen=True)
class Normal(_TruncatedNormal):
    mean_: float
    sd: float
    low: float | None = None
    high: float | None = None
    kind: ClassVar[str] = "normal"

    def _z(self, x: float | None, default: float) -> float:
        return default if x is None else (x - self.mean_) / self.sd

    def ppf(self, u: float) -> float:
        lo, hi = self._cdf_bounds
        x = self.mean_ + self.sd * _ndtri(_truncated_u(u, lo, hi))
        low, high = self.support()
        return min(max(x, low), high)

    def support(self) -> tuple[float, float]:
        return (-math.inf if self.low is None else self.low,
                math.inf if self.high is None else self.high)

    def mean(self) -> float:
        if self.low is None and self.high is None:
            return self.mean_
        a, b = self._z(self.low, -math.inf), self._z(self.high, math.inf)
        log_mass = _log_mass(a, b)
        pdf = lambda z: 0.0 if math.isinf(z) else math.exp(-0.5 * z * z - log_mass) / math.sqrt(2 * math.pi)  # noqa: E731
        return self.mean_ + self.sd * (pdf(a) - pdf(b))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["mean"] = out.pop("mean_")
        return out


@dataclass(frozen=True)
class LogNormal(_TruncatedNormal):
    """Lognormal given by its median and the standard deviation of its logarithm."""

    median: float
    sigma: float
    low: float | None = None
    high: float | None = None
    kind: ClassVar[str] = "lognormal"

    def _z(self, x: float | None, default: float) -> float:
        if x is None:
            return default
        if x <= 0:
            return -math.inf
        return (math.log(x) - math.log(self.median)) / self.sigma

    def ppf(self, u: float) -> float:
        lo, hi = self._cdf_bounds
        z = _ndtri(_truncated_u(u, lo, hi))
        try:
            x = self.median * math.exp(self.sigma * z)
        except OverflowError:  # far beyond the upper truncation, which clips it below
            x = math.inf
        low, high = self.support()
        return min(max(x, low), high)

    def support(self) -> tuple[float, float]:
        return (0.0 if self.low is None else self.low,
                math.inf if self.high is None else self.high)

    def mean(self) -> float:
        """The mean, in closed form: exp(mu + s^2/2) times the share of a normal shifted by
        s^2 between the truncation points, over the share of the unshifted one (computed
        from log tail areas, so that far truncations keep their digits)."""
        mu, s = math.log(self.median), self.sigma
        if self.low is None and self.high is None:
            return math.exp(mu + 0.5 * s * s)
        a, b = self._z(self.low, -math.inf), self._z(self.high, math.inf)
        return math.exp(mu + 0.5 * s * s + _log_mass(a - s, b - s) - _log_mass(a, b))


@dataclass(frozen=True)
class Beta(Dist):
    a: float
    b: float
    low: float = 0.0
    high: float = 1.0
    kind: ClassVar[str] = "beta"

    def ppf(self, u: float) -> float:
        return self.low + (self.high - self.low) * float(special.betaincinv(self.a, self.b, u))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)


@dataclass(frozen=True)
class Choice(Dist):
    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    kind: ClassVar[str] = "choice"

    def _cumulative(self) -> list[float]:
        w = self.weights or tuple(1.0 for _ in self.values)
        total = sum(w)
        acc, out = 0.0, []
        for x in w:
            acc += x / total
            out.append(acc)
        return out

    def ppf(self, u: float) -> float:
        cum = self._cumulative()
        return self.values[min(bisect_right(cum, u), len(self.values) - 1)]

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def mean(self) -> float:
        w = self.weights or tuple(1.0 for _ in self.values)
        return sum(v * x for v, x in zip(self.values, w, strict=True)) / sum(w)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dist": self.kind, "values": list(self.values)}
        if self.weights is not None:
            out["weights"] = list(self.weights)
        return out


# --- parsing -------------------------------------------------------------------------

_FIELDS: dict[str, tuple[type[Dist], tuple[str, ...], tuple[str, ...]]] = {
    # kind: (class, required keys, optional keys)
    "uniform": (Uniform, ("low", "high"), ()),
    "triangular": (Triangular, ("low", "mode", "high"), ()),
    "pert": (Pert, ("low", "mode", "high"), ("lamb",)),
    "normal": (Normal, ("mean", "sd"), ("low", "high")),
    "lognormal": (LogNormal, ("median", "sigma"), ("low", "high")),
    "beta": (Beta, ("a", "b"), ("low", "high")),
    "choice": (Choice, ("values",), ("weights",)),
}
KINDS = ("fixed", *_FIELDS)


def _number(kind: str, key: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"{kind}: '{key}' must be a number, not {_shown(raw)}")
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{kind}: '{key}' must be a finite number, not {_shown(raw)}")
    return value


def _shown(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_number(raw: object) -> float | Dist:
    """A plain number, or a distribution mapping, as it comes from YAML; raises ValueError."""
    if isinstance(raw, bool):
        raise ValueError("expected a number or a distribution, not true/false")
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            raise ValueError("too large a number: far beyond any admissible value") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number (.nan and .inf are not allowed)")
        return value
    if isinstance(raw, Dist):
        return raw
    if not isinstance(raw, dict):
        raise ValueError("expected a number or a distribution such as "
                         "{dist: triangular, low: 2, mode: 3, high: 4}")
    return _parse_dist(raw)


def _parse_dist(raw: dict[str, Any]) -> float | Dist:
    kind = raw.get("dist")
    if kind not in KINDS:
        raise ValueError(f"'dist' must be one of {', '.join(KINDS)}, not {_shown(kind)}")
    if kind == "fixed":
        extra = set(raw) - {"dist", "value"}
        if extra or "value" not in raw:
            raise ValueError("fixed takes exactly one key, 'value'")
        return _number("fixed", "value", raw["value"])
    cls, required, optional = _FIELDS[kind]
    missing = [k for k in required if k not in raw]
    unknown = sorted(set(raw) - {"dist", *required, *optional})
    if missing:
        raise ValueError(f"{kind} needs {', '.join(required)}; missing {', '.join(missing)}")
    if unknown:
        allowed = ", ".join((*required, *optional))
        raise ValueError(f"{kind} takes {allowed}; unknown {', '.join(unknown)}")
    if kind == "choice":
        return _parse_choice(raw)
    args = {k: _number(kind, k, raw[k]) for k in (*required, *optional) if k in raw}
    _check_shape(kind, args)
    if kind == "normal":
        args["mean_"] = args.pop("mean")
    return _usable(cls(**args))


_PROBES = (0.0, 1e-12, 0.5, 1.0 - 1e-12, 1.0)
"""Quantiles at which a distribution is tried before it is accepted."""


def _usable(dist: Dist) -> Dist:
    """``dist`` if its quantiles and mean can be computed as finite numbers, else ValueError.

    Parameters that are each finite can still defeat the arithmetic (a truncation that holds
    none of a normal, a lognormal with sigma 1e308): such a distribution is refused here,
    where the file names it, instead of giving NaN in a replication."""
    lo, hi = dist.support()
    if isinstance(dist, Normal | LogNormal) and (dist.low is not None or dist.high is not None):
        a, b = dist._z(dist.low, -math.inf), dist._z(dist.high, math.inf)
        if _log_mass(a, b) < math.log(1e-9):
            raise ValueError(f"{dist.kind}: the range [{lo:g}, {hi:g}] holds almost none of the "
                             "distribution (less than 1e-9 of it): move it, or its mean or median")
    try:
        ends = math.isfinite(lo) and math.isfinite(hi)  # else a bounded field refuses it anyway
        values = [dist.ppf(u) for u in _PROBES if ends or 0 < u < 1] + [dist.mean()]
    except (ArithmeticError, ValueError):
        values = [math.nan]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{dist.kind}: these parameters cannot be sampled (its quantiles or "
                         "mean are not finite numbers); use less extreme ones")
    return dist


def _check_shape(kind: str, a: dict[str, float]) -> None:
    if kind == "uniform" and not a["low"] < a["high"]:
        raise ValueError("uniform needs low < high")
    if kind in ("triangular", "pert") and not (a["low"] <= a["mode"] <= a["high"] and a["low"] < a["high"]):
        raise ValueError(f"{kind} needs low <= mode <= high and low < high")
    if kind == "pert" and a.get("lamb", 4.0) <= 0:
        raise ValueError("pert needs lamb > 0")
    if kind == "normal" and a["sd"] <= 0:
        raise ValueError("normal needs sd > 0")
    if kind == "lognormal" and (a["median"] <= 0 or a["sigma"] <= 0):
        raise ValueError("lognormal needs median > 0 and sigma > 0")
    if kind == "beta" and (a["a"] <= 0 or a["b"] <= 0):
        raise ValueError("beta needs a > 0 and b > 0")
    if kind == "beta" and not a.get("low", 0.0) < a.get("high", 1.0):
        raise ValueError("beta needs low < high")
    if "low" in a and "high" in a and kind in ("normal", "lognormal") and not a["low"] < a["high"]:
        raise ValueError(f"{kind} needs low < high")


def _parse_choice(raw: dict[str, Any]) -> Dist:
    values = raw["values"]
    if not isinstance(values, list) or not values:
        raise ValueError("choice needs a non-empty list of values")
    vals = tuple(_number("choice", "values", v) for v in values)
    weights = raw.get("weights")
    if weights is None:
        return Choice(vals)
    if not isinstance(weights, list) or len(weights) != len(vals):
        raise ValueError("choice weights must be a list as long as values")
    w = tuple(_number("choice", "weights", x) for x in weights)
    if any(x < 0 for x in w) or not 0 < sum(w) < math.inf:
        raise ValueError("choice weights must be non-negative with a positive, finite sum")
    return _usable(Choice(vals, w))


def draw(value: float | Dist, rng: Any) -> float:
    """A number as it is, or one draw from a distribution with ``rng``."""
    return value.ppf(float(rng.random())) if isinstance(value, Dist) else float(value)


def dump_number(value: float | Dist) -> float | dict[str, Any]:
    return value.to_dict() if isinstance(value, Dist) else value
