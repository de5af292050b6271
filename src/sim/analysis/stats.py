"""Summaries of Monte Carlo output: what a run's replications say, and how sure we are of it.

Each replication of a run is one independent draw of the programme's future, so every
headline number is an estimate from a finite sample. Two kinds of uncertainty are reported
and they must not be confused. The spread of outcomes across replications (the percentiles
p5 ... p95) is the uncertainty of the modelled world itself: it does not shrink as more
replications are run. The Monte Carlo standard error (MCSE) of a mean is the sampling error
of the simulation: the sample standard deviation divided by the square root of the number of
replications. It does shrink, as one over the square root of n, and the interval
mean +/- 1.96 MCSE says how far the reported mean might move if the run were repeated with
other seeds. A mean whose MCSE is large next to the differences being compared needs more
replications, not more interpretation.

Probabilities (of reaching a phase by a given year, of stalling) are proportions of all
replications. Their standard error is the binomial sqrt(p(1 - p) / n), and their interval is
the Wilson score interval, which stays inside [0, 1] and behaves sensibly when p is near 0
or 1, where the plain normal interval collapses to a point.

The years at which Phase 2 and Phase 3 are reached are right-censored: a replication that has
not reached a phase by the end of the horizon records NaN, meaning only "later than the
horizon, if ever". Averaging the reached years alone is biased towards early arrivals, and
dropping the NaN rows hides how many never arrived. The summary therefore reports the
reached years with their count ``n`` next to the probability rows computed over all
replications, and :func:`survival` gives the Kaplan-Meier estimate of the probability that a
phase has not yet been reached at each time, which uses the censored replications correctly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..model import outputs

Z95 = 1.959963984540054
"""Two-sided 95% standard normal quantile."""

PERCENTILES: tuple[int, ...] = (5, 10, 25, 50, 75, 90, 95)
"""Percentiles reported by :func:`describe` and :func:`summarize`."""

FAN_PERCENTILES: tuple[int, ...] = (5, 25, 50, 75, 95)
"""Percentiles reported per year by :func:`fan`."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "quantity",
    "n",
    "mean",
    "mcse",
    "ci95_low",
    "ci95_high",
    *(f"p{q}" for q in PERCENTILES),
)
"""Columns of the table returned by :func:`summarize`."""

PHASE_COLUMNS: dict[int, str] = {2: "phase2_year", 3: "phase3_year"}
"""Outcome column holding the year each phase was reached (NaN if not within the horizon)."""

_NOT_SUMMARISED = frozenset({"replication", "events"})


def as_float_array(values: object) -> np.ndarray:
    """``values`` as a 1-D float array: booleans become 0/1, missing values (None, NA) NaN."""
    if isinstance(values, pd.DataFrame):
        raise TypeError("expected one column of values, got a DataFrame")
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        series = pd.Series(values)
    else:
        array = np.asarray(values)
        if array.dtype.kind in "biuf":
            return array.astype("float64", copy=False).ravel()
        series = pd.Series(array.ravel())
    return series.to_numpy(dtype="float64", na_value=np.nan)


def mcse(values: object) -> float:
    """Monte Carlo standard error of the mean: sample sd / sqrt(n), NaN ignored; NaN if n < 2."""
    x = as_float_array(values)
    return _mcse_of_present(x[~np.isnan(x)])


def _mcse_of_present(x: np.ndarray) -> float:
    """:func:`mcse` of a float array already free of NaN (no copy made)."""
    if x.size < 2:
        return math.nan
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


def describe(values: object) -> dict[str, float]:
    """Mean, its MCSE and 95% interval, and percentiles of ``values``, ignoring NaN.

    Keys: ``n`` (non-missing count), ``mean``, ``mcse`` (sample sd / sqrt(n), NaN if n < 2),
    ``ci95_low`` and ``ci95_high`` (mean -/+ 1.96 MCSE) and ``p5, p10, p25, p50, p75, p90,
    p95`` (linear interpolation between order statistics, as ``numpy.percentile``).
    Booleans count as 0/1. With no non-missing values every statistic is NaN and ``n`` is 0.
    """
    x = as_float_array(values)
    x = x[~np.isnan(x)]
    n = int(x.size)
    result: dict[str, float] = {"n": n}
    if n == 0:
        result.update(mean=math.nan, mcse=math.nan, ci95_low=math.nan, ci95_high=math.nan)
        result.update({f"p{q}": math.nan for q in PERCENTILES})
        return result
    mean = float(np.mean(x))
    se = _mcse_of_present(x)
    result.update(mean=mean, mcse=se, ci95_low=mean - Z95 * se, ci95_high=mean + Z95 * se)
    # x is this function's own copy: the percentiles may sort it in place (no second copy).
    for q, value in zip(PERCENTILES, np.percentile(x, PERCENTILES, overwrite_input=True), strict=True):
        result[f"p{q}"] = float(value)
    return result


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / n``; (NaN, NaN) if n == 0."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    # The bounds are exactly 0 at p = 0 and exactly 1 at p = 1; avoid rounding residue there.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return (low, high)


def proportion(flags: object, quantity: str) -> dict[str, float | str]:
    """One summary row for the share of true ``flags`` (missing values are left out of n).

    ``mean`` is the proportion p, ``mcse`` the binomial sqrt(p(1 - p) / n), the 95% interval
    the Wilson score interval; the percentile cells are NaN.
    """
    x = as_float_array(flags)
    x = x[~np.isnan(x)]
    n = int(x.size)
    successes = float(np.count_nonzero(x))
    p = successes / n if n else math.nan
    se = math.sqrt(p * (1.0 - p) / n) if n else math.nan
    low, high = wilson_interval(successes, n)
    row: dict[str, float | str] = {
        "quantity": quantity,
        "n": n,
        "mean": p,
        "mcse": se,
        "ci95_low": low,
        "ci95_high": high,
    }
    row.update({f"p{q}": math.nan for q in PERCENTILES})
    return row


def paired_difference(a: object, b: object, *, better: str = "higher",
                      nan_is_never: bool = False) -> dict[str, float]:
    """Replication-by-replication comparison of one outcome between two runs of the same
    replications (same seed and replication indices, hence common random numbers).

    ``mean`` is the mean of the paired differences ``b - a`` over the replications where both
    are known (``n`` of them), with its MCSE (sd of the differences / sqrt(n)) and 95%
    interval. Pairing removes the noise both runs share, so the interval is usually far
    narrower than the two runs' own intervals suggest. ``p_b_better`` is the share of all
    replications in which B is strictly better than A (by ``better``: "higher" or "lower"),
    with its Wilson interval, and ``p_tie`` the share with equal values. With
    ``nan_is_never`` (phase years: NaN means not reached within the horizon) a missing value
    counts as later than any year for the better/tie shares; otherwise pairs with a missing
    value are left out of them too.
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower' (got {better!r})")
    x, y = as_float_array(a), as_float_array(b)
    if x.shape != y.shape:
        raise ValueError(f"paired outcomes must have the same length ({x.size} and {y.size})")
    known = ~np.isnan(x) & ~np.isnan(y)
    d = y[known] - x[known]
    n = int(d.size)
    mean = float(np.mean(d)) if n else math.nan
    se = mcse(d)
    if nan_is_never:
        x, y = np.where(np.isnan(x), np.inf, x), np.where(np.isnan(y), np.inf, y)
        pairs = x.size
    else:
        x, y, pairs = x[known], y[known], n
    wins = int(np.count_nonzero(y > x if better == "higher" else y < x))
    ties = int(np.count_nonzero(y == x))
    low, high = wilson_interval(wins, pairs)
    return {"n": n, "mean": mean, "mcse": se, "ci95_low": mean - Z95 * se,
            "ci95_high": mean + Z95 * se, "pairs": pairs,
            "p_b_better": wins / pairs if pairs else math.nan, "p_b_better_low": low,
            "p_b_better_high": high, "p_tie": ties / pairs if pairs else math.nan}


def default_summary_columns(outcomes: pd.DataFrame) -> list[str]:
    """The outcome columns :func:`summarize` describes when not told which.

    Every numeric column of :data:`sim.model.outputs.OUTCOMES` present in ``outcomes``, in contract
    order, except the bookkeeping columns ``replication`` and ``events`` and the flags
    (``stalled`` is reported as the ``P(stalled)`` row instead).
    """
    chosen = []
    for name, column in outputs.members(outputs.OUTCOMES, outcomes.columns):
        if name in _NOT_SUMMARISED or column.unit == "bool":
            continue
        dtype = outcomes.dtypes[name]
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            chosen.append(name)
    return chosen


def summarize(
    outcomes: pd.DataFrame,
    horizon_years: float,
    columns: Sequence[str] | None = None,
    by_years: Iterable[float] = (5, 10, 15, 20),
) -> pd.DataFrame:
    """Tidy summary of an outcome table: one row per quantity, columns :data:`SUMMARY_COLUMNS`.

    First one row per column in ``columns`` (default :func:`default_summary_columns`) from
    :func:`describe`. In a phase-year row, ``n`` counts the replications that reached the
    phase and ``mean`` (with its MCSE and interval) is their mean; the percentiles are those
    of :func:`time_percentiles`, over all replications (the median is the Kaplan-Meier median
    of the survival curve). Then the probability rows, over all replications:
    ``P(phase2 by year Y)`` and ``P(phase3 by year Y)`` for each Y in ``by_years`` not beyond
    ``horizon_years`` (a replication with NaN has not reached the phase), and a row
    ``P(<flag>)`` for each flag (``P(stalled)``, ``P(care_and_maintenance)``), each present
    only if its outcome column is.
    """
    names = default_summary_columns(outcomes) if columns is None else list(columns)
    missing = [name for name in names if name not in outcomes.columns]
    if missing:
        raise KeyError(f"columns not in the outcome table: {', '.join(missing)}")
    rows: list[dict[str, float | str]] = []
    for name in names:
        row: dict[str, float | str] = {"quantity": name, **describe(outcomes[name])}
        if name in PHASE_COLUMNS.values():
            row.update(time_percentiles(outcomes[name], horizon_years))
        rows.append(row)
    years = sorted(float(y) for y in by_years if float(y) <= horizon_years)
    for phase, phase_column in PHASE_COLUMNS.items():
        if phase_column not in outcomes.columns:
            continue
        reached_at = as_float_array(outcomes[phase_column])
        for year in years:
            label = f"P(phase{phase} by year {year:g})"
            # NaN (not reached within the horizon) compares False: counted as not reached.
            with np.errstate(invalid="ignore"):
                rows.append(proportion(reached_at <= year, label))
    for name, column in outputs.members(outputs.OUTCOMES, outcomes.columns):
        if column.unit == "bool":  # a flag: the share of replications in which it is true
            rows.append(proportion(outcomes[name], f"P({name})"))
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return table.astype({"n": "int64"}) if len(table) else table


def survival(
    times: object,
    horizon_years: float,
    censor_times: object | None = None,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier survival of "time until the phase is reached", with pointwise intervals.

    ``times`` holds one entry per replication: the year the phase was reached, or NaN if it
    was not reached. A NaN replication is right-censored at ``horizon_years``, or at its entry
    of ``censor_times`` when that array (same length as ``times``) is given, for replications
    observed for a shorter time. A reached time later than the horizon is treated as censored
    at the horizon.

    Returns columns ``time, survival, ci_low, ci_high``: the estimate is computed with
    ``scipy.stats.ecdf`` on ``scipy.stats.CensoredData`` and read from its ``sf``; the interval
    is its Greenwood ("linear") confidence interval. The curve starts at time 0 with survival
    1 and runs to the last observed time (the horizon, unless every replication is censored
    earlier through ``censor_times``), so that it draws as a step function: the survival at
    time t is the value in the last row whose time is <= t (phases reached at time 0 give two
    rows at time 0, the second holding S(0) < 1). If every replication reached the phase the estimate drops to 0 and
    is held there to the horizon; the interval is undefined at 0 (nobody left at risk), so
    those ``ci_low``/``ci_high`` cells are NaN. If no replication reached the phase the curve
    is 1 from 0 to the horizon; with no replications at all the frame is empty.
    """
    t = as_float_array(times)
    if censor_times is None:
        c = np.full(t.shape, float(horizon_years))
    else:
        c = as_float_array(censor_times)
        if c.shape != t.shape:
            raise ValueError("censor_times must have one entry per entry of times")
        c = np.where(np.isnan(c), float(horizon_years), c)
    horizon = float(horizon_years)
    reached = ~np.isnan(t) & (t <= horizon)
    uncensored = t[reached]
    right = np.minimum(np.where(np.isnan(t), c, np.minimum(t, horizon)), horizon)[~reached]
    columns = ["time", "survival", "ci_low", "ci_high"]
    if uncensored.size + right.size == 0:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in columns})
    if np.any(uncensored < 0) or np.any(right < 0):
        raise ValueError("times and censoring times must not be negative")

    from scipy import stats as _scipy_stats  # imported on use: it takes a second to load

    result = _scipy_stats.ecdf(_scipy_stats.CensoredData(uncensored=uncensored, right=right))
    sf = result.sf
    time = np.asarray(sf.quantiles, dtype=float)
    surv = np.asarray(sf.probabilities, dtype=float)
    if uncensored.size:
        with warnings.catch_warnings():
            # Greenwood's variance is undefined once everyone at risk has had the event.
            warnings.filterwarnings(
                "ignore", "The confidence interval is undefined", RuntimeWarning
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                interval = sf.confidence_interval(confidence_level)
        low = np.asarray(interval.low.probabilities, dtype=float)
        high = np.asarray(interval.high.probabilities, dtype=float)
    else:
        low = np.ones_like(surv)
        high = np.ones_like(surv)

    if time[0] > 0 or surv[0] < 1:
        time, surv = np.r_[0.0, time], np.r_[1.0, surv]
        low, high = np.r_[1.0, low], np.r_[1.0, high]
    if time[-1] < horizon and surv[-1] == 0:
        time, surv = np.r_[time, horizon], np.r_[surv, surv[-1]]
        low, high = np.r_[low, low[-1]], np.r_[high, high[-1]]
    return pd.DataFrame({"time": time, "survival": surv, "ci_low": low, "ci_high": high})


def fan(timeseries: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per-year mean and percentiles of ``column`` across replications: a fan chart's data.

    Returns columns ``year, mean, p5, p25, p50, p75, p95``, one row per year in ascending
    order; NaN values are ignored, and a year where every value is NaN has NaN statistics.
    """
    for name in ("year", column):
        if name not in timeseries.columns:
            raise KeyError(f"column {name!r} not in the time-series table")
    values = pd.DataFrame({"year": timeseries["year"], "value": as_float_array(timeseries[column])})
    grouped = values.groupby("year", sort=True)["value"]
    table = grouped.quantile([q / 100 for q in FAN_PERCENTILES]).unstack()
    table.columns = [f"p{q}" for q in FAN_PERCENTILES]
    table.insert(0, "mean", grouped.mean())
    return table.reset_index()


def input_correlations(
    outcomes: pd.DataFrame, outcome: str, inputs: Sequence[str] | None = None
) -> pd.DataFrame:
    """Spearman rank correlation of each sampled input with one outcome, strongest first.

    ``inputs`` defaults to every numeric column whose name is a dotted path (the sampled
    scenario inputs an outcome table carries). Rows with the outcome or the input missing are
    left out pairwise. Returns columns ``input, n, spearman``; the correlation is NaN where
    either side is constant or fewer than 3 pairs remain.
    """
    if outcome not in outcomes.columns:
        raise KeyError(f"column {outcome!r} not in the outcome table")
    if inputs is None:
        inputs = [
            name
            for name in outcomes.columns
            if "." in str(name) and pd.api.types.is_numeric_dtype(outcomes[name].dtype)
        ]
    from scipy import stats as _scipy_stats  # imported on use: it takes a second to load

    y_all = as_float_array(outcomes[outcome])
    rows = []
    for name in inputs:
        x_all = as_float_array(outcomes[name])
        keep = ~np.isnan(x_all) & ~np.isnan(y_all)
        n = int(np.count_nonzero(keep))
        rho = math.nan
        if n >= 3:
            rx = _scipy_stats.rankdata(x_all[keep]) - (n + 1) / 2
            ry = _scipy_stats.rankdata(y_all[keep]) - (n + 1) / 2
            denominator = math.sqrt(float(np.dot(rx, rx)) * float(np.dot(ry, ry)))
            if denominator > 0:
                rho = float(np.dot(rx, ry)) / denominator
        rows.append({"input": name, "n": n, "spearman": rho})
    table = pd.DataFrame(rows, columns=["input", "n", "spearman"])
    order = table["spearman"].abs().sort_values(ascending=False, na_position="last").index
    return table.loc[order].reset_index(drop=True)


def time_percentiles(times: object, horizon_years: float) -> dict[str, float]:
    """Percentiles of the time to reach a phase over **all** replications, a replication that
    did not reach it within the horizon counting as later than any year: ``p50`` is the time
    by which half of all replications had reached the phase, NaN if fewer than half did.

    This is the one definition of "median time to Phase N" used everywhere (summary, printed
    table, report, plots). It equals the Kaplan-Meier median of :func:`survival`
    (:func:`median_time`) because every replication is observed to the same horizon, so the
    Kaplan-Meier estimate is the empirical distribution of all replications; the percentiles
    are read from that step function (the first time at which the share reached is at least
    q%), not interpolated between replications. The median of the replications that reached
    the phase alone is earlier (it leaves out the latest arrivals) and is not reported."""
    t = as_float_array(times)
    t = np.where(np.isnan(t) | (t > float(horizon_years)), np.inf, t)
    if t.size == 0:
        return {f"p{q}": math.nan for q in PERCENTILES}
    values = np.percentile(t, PERCENTILES, method="inverted_cdf")
    return {f"p{q}": float(v) if math.isfinite(v) else math.nan
            for q, v in zip(PERCENTILES, values, strict=True)}


def median_time(curve: pd.DataFrame) -> float:
    """First time at which a :func:`survival` curve is at or below one half; NaN if never.
    Equal to the ``p50`` of :func:`time_percentiles` of the same replications."""
    # The Kaplan-Meier product lands a hair above 0.5 where exactly half have reached it.
    below = curve.loc[curve["survival"] <= 0.5 + 1e-9, "time"]
    return float(below.iloc[0]) if len(below) else math.nan
