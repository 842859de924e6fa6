"""Kaplan-Meier estimates, median survival with CI, log-rank test, between-group Cox HR.

* :func:`kaplan_meier`: product-limit estimate with Greenwood variance and the log(-log)
  ("exponential Greenwood") pointwise CI, as lifelines and R ``survfit(conf.type="log-log")``.
  The median and its CI follow R/lifelines: the median is the first time with
  ``S(t) <= 0.5``; its lower / upper limits are the first times the lower / upper CI band
  reaches 0.5 (``NaN`` = not reached, reported as "NR").
* :func:`event_probability_at`: ``1 - S_KM(t)``, the Kaplan-Meier probability of the event by a
  horizon, with its Greenwood SE (decision curves, calibration-in-the-large).
* :func:`logrank_test`: k-group log-rank test (``statsmodels.duration.survfunc.survdiff``).

References
----------
Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics 1982.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import survdiff

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome


@dataclass(frozen=True)
class KaplanMeierResult:
    """``table``: time, n_at_risk, n_events, n_censored, survival, ci_lower, ci_upper."""

    table: pd.DataFrame
    median: float
    median_ci_lower: float
    median_ci_upper: float
    n: int
    n_events: int
    alpha: float = 0.05

    def survival_at(self, times) -> np.ndarray:
        """S(t) (right-continuous step function; 1 before the first event)."""
        return step_at(self.table["time"].to_numpy(), self.table["survival"].to_numpy(), times)

    def std_err_at(self, times) -> np.ndarray:
        """Greenwood standard error of S(t): ``S(t) sqrt(sum d / (n (n - d)))`` (R
        ``summary(survfit)$std.err``); 0 before the first event, inf once S(t) = 0."""
        tab = self.table
        n, d = tab["n_at_risk"].to_numpy(float), tab["n_events"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            gw = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf))
            se = np.where(np.isfinite(gw), tab["survival"].to_numpy() * np.sqrt(gw), np.inf)
        t = tab["time"].to_numpy()
        times = np.atleast_1d(np.asarray(times, dtype=float))
        return np.where(times < t[0], 0.0, step_at(t, se, times))

    def ci_at(self, times) -> tuple[np.ndarray, np.ndarray]:
        t = self.table["time"].to_numpy()
        return (
            step_at(t, self.table["ci_lower"].to_numpy(), times),
            step_at(t, self.table["ci_upper"].to_numpy(), times),
        )


def step_at(t: np.ndarray, s: np.ndarray, times) -> np.ndarray:
    """Right-continuous step function with values ``s`` at sorted ``t``, read at ``times``
    (1 before ``t[0]``)."""
    times = np.atleast_1d(np.asarray(times, dtype=float))
    idx = np.searchsorted(t, times, side="right") - 1
    return np.where(idx >= 0, s[np.clip(idx, 0, None)], 1.0)


def _first_below(t: np.ndarray, s: np.ndarray, level: float = 0.5) -> float:
    hit = np.flatnonzero(s <= level + 1e-12)
    return float(t[hit[0]]) if hit.size else float("nan")


def kaplan_meier(time, event, alpha: float = 0.05) -> KaplanMeierResult:
    """Kaplan-Meier estimate of S(t) with log(-log) CI and median (CI) survival.

    A single patient is a valid (if uninformative) curve: small risk groups must not fail.
    """
    time, event = check_survival_outcome(time, event, min_patients=1)
    uniq = np.unique(time)
    n_risk = np.array([(time >= t).sum() for t in uniq], dtype=float)
    d = np.array([(event & (time == t)).sum() for t in uniq], dtype=float)
    c = np.array([(~event & (time == t)).sum() for t in uniq], dtype=float)
    surv = np.cumprod(1.0 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n_risk > d, d / (n_risk * (n_risk - d)), np.inf))
        z = stats.norm.ppf(1 - alpha / 2)
        # exponential Greenwood: CI on log(-log S)
        log_s = np.log(surv)
        se_loglog = np.sqrt(gw) / np.abs(log_s)
        lo = np.exp(-np.exp(np.log(-log_s) + z * se_loglog))
        hi = np.exp(-np.exp(np.log(-log_s) - z * se_loglog))
    lo = np.where(surv >= 1.0, 1.0, np.where(surv <= 0, 0.0, lo))
    hi = np.where(surv >= 1.0, 1.0, np.where(surv <= 0, 0.0, hi))
    lo = np.nan_to_num(lo, nan=0.0)
    hi = np.nan_to_num(hi, nan=1.0)
    table = pd.DataFrame(
        {
            "time": uniq,
            "n_at_risk": n_risk.astype(int),
            "n_events": d.astype(int),
            "n_censored": c.astype(int),
            "survival": surv,
            "ci_lower": lo,
            "ci_upper": hi,
        }
    )
    return KaplanMeierResult(
        table=table,
        median=_first_below(uniq, surv),
        median_ci_lower=_first_below(uniq, lo),
        median_ci_upper=_first_below(uniq, hi),
        n=len(time),
        n_events=int(event.sum()),
        alpha=alpha,
    )


def event_probability_at(time, event, horizon: float) -> tuple[float, float]:
    """``1 - S_KM(horizon)`` and its Greenwood SE; ``(NaN, NaN)`` when there is no patient or
    the follow-up ends before ``horizon``, ``(0, 0)`` when no patient has the event."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    if time.size == 0 or time.max() < horizon:
        return float("nan"), float("nan")
    if not event.any():
        return 0.0, 0.0
    km = kaplan_meier(time, event)
    return float(1.0 - km.survival_at(horizon)[0]), float(km.std_err_at(horizon)[0])


@dataclass(frozen=True)
class LogRankResult:
    statistic: float
    df: int
    p_value: float
    groups: tuple


def logrank_test(time, event, group) -> LogRankResult:
    """k-sample log-rank test (chi-square with k-1 df) of survival across ``group``."""
    time, event = check_survival_outcome(time, event)
    group = np.asarray(group)
    if group.shape[0] != time.shape[0]:
        raise SurvivalDataError(f"group has {group.shape[0]} values, outcome has {time.shape[0]}.")
    levels = tuple(pd.unique(group))
    if len(levels) < 2:
        raise SurvivalDataError(
            f"log-rank test needs at least 2 groups, got {list(levels)}. Potential fix: check "
            "the grouping column (e.g. the cohort or risk-group cut-off)."
        )
    codes = pd.Categorical(group, categories=levels).codes
    chisq, _ = survdiff(time, event.astype(float), codes)
    df = len(levels) - 1
    # P from the survival function: survdiff's 1 - cdf underflows to 0 for large statistics
    return LogRankResult(float(chisq), df, float(stats.chi2.sf(chisq, df)), levels)


def format_median(km: KaplanMeierResult, digits: int = 1) -> str:
    """``"12.3 (10.1-15.0)"``; a limit not reached prints as "NR"."""

    def f(v):
        return "NR" if not np.isfinite(v) else f"{v:.{digits}f}"

    return f"{f(km.median)} ({f(km.median_ci_lower)}-{f(km.median_ci_upper)})"
