"""Net reclassification improvement (NRI) and integrated discrimination improvement (IDI) of a
new risk model over an old one, for a right-censored outcome at a fixed horizon ``t``.

Risk direction: ``risk_old`` / ``risk_new`` are predicted probabilities of the event (death) by
``t`` (``1 - S_hat(t)``): HIGHER = WORSE. A positive NRI / IDI favours the new model.

Censoring: inverse probability of censoring weights (IPCW; Uno, Tian, Cai, Kohane & Wei 2013).
*Cases* died by ``t`` (``T_i <= t``, event), *controls* were followed beyond ``t``
(``T_i > t``); patients censored at or before ``t`` get weight 0 and the others are re-weighted:

* case weight ``1 / G(T_i-)``, control weight ``1 / G(t)``, with ``G`` the Kaplan-Meier
  estimate of the censoring distribution, ``G(u) = prod_{c_j <= u} (1 - c_j / (n_j - d_j))``
  (``c_j`` censorings, ``d_j`` deaths, ``n_j`` at risk at time ``u_j``: a death tied with a
  censoring comes first, as in the Kaplan-Meier estimate of survival). With this convention the
  weights reproduce Kaplan-Meier exactly: ``sum(case weights) / n = 1 - S_KM(t)`` and
  ``sum(control weights) / n = S_KM(t)``.

Measures (weighted proportions ``P_w`` and means ``E_w``; Pencina, D'Agostino & Steyerberg
2011 for the definitions):

* **continuous NRI** (``NRI(>0)``): "up" = ``risk_new > risk_old``, "down" = ``risk_new <
  risk_old``; ``NRI_events = P_w(up | case) - P_w(down | case)``, ``NRI_nonevents =
  P_w(down | control) - P_w(up | control)``, ``NRI = NRI_events + NRI_nonevents`` (in [-2, 2]);
* **categorical NRI**: the same with "up" / "down" = a move to a higher / lower risk category,
  categories cut at the user's ``categories`` (e.g. ``[0.2, 0.5]``: < 20%, 20-50%, >= 50%);
* **IDI** ``= [E_w(risk_new | case) - E_w(risk_new | control)] - [E_w(risk_old | case) -
  E_w(risk_old | control)]``, the gain in discrimination slope.

Confidence intervals: nonparametric bootstrap (patients resampled with replacement, ``G``
re-estimated in each resample), percentile interval; resamples without a case or a control
are skipped and counted (``n_failed``). Seeded: the same ``seed`` gives the same CI.

References
----------
Pencina MJ, D'Agostino RB Sr, Steyerberg EW. Extensions of net reclassification improvement
calculations to measure usefulness of new biomarkers. Stat Med 2011;30:11-21.
Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS. Evaluating the added predictive
ability of a new marker. Stat Med 2008;27:157-72.
Uno H, Tian L, Cai T, Kohane IS, Wei LJ. A unified inference procedure for a class of measures
to assess improvement in risk prediction systems with survival data. Stat Med
2013;32:2430-42.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome
from hcc_nomogram.stats.decision_curve import check_risk_probability
from hcc_nomogram.stats.survival import step_at

CONTINUOUS = ("nri", "nri_events", "nri_nonevents", "idi", "slope_new", "slope_old")
CATEGORICAL = ("nri_categorical", "nri_categorical_events", "nri_categorical_nonevents")


@dataclass(frozen=True)
class ReclassificationResult:
    """NRI / IDI of ``risk_new`` over ``risk_old`` at ``horizon`` with bootstrap CIs.

    ``estimates`` / ``ci_lower`` / ``ci_upper`` map each measure (:data:`CONTINUOUS`, plus
    :data:`CATEGORICAL` when categories were given; ``slope_*`` = discrimination slopes) to
    its value. Counts: ``n_events`` deaths by the horizon, ``n_event_free`` followed beyond
    it, ``n_censored`` censored at or before it (weight 0).
    """

    horizon: float
    n: int
    n_events: int
    n_event_free: int
    n_censored: int
    estimates: dict[str, float]
    ci_lower: dict[str, float]
    ci_upper: dict[str, float]
    categories: tuple[float, ...] = ()
    n_bootstrap: int = 0
    n_failed: int = 0
    seed: int = 0
    alpha: float = 0.05
    method: str = field(default="ipcw")

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: measure, estimate, ci_lower, ci_upper and the counts."""
        return pd.DataFrame(
            [
                dict(
                    measure=m,
                    estimate=v,
                    ci_lower=self.ci_lower[m],
                    ci_upper=self.ci_upper[m],
                    horizon=self.horizon,
                    n=self.n,
                    n_events=self.n_events,
                    n_event_free=self.n_event_free,
                    n_censored=self.n_censored,
                    n_bootstrap=self.n_bootstrap,
                    n_failed=self.n_failed,
                )
                for m, v in self.estimates.items()
            ]
        )


def ipcw_weights(time, event, horizon: float) -> np.ndarray:
    """IPCW weight of each patient at ``horizon`` (see module docstring): ``1/G(T_i-)`` for a
    death by the horizon, ``1/G(horizon)`` beyond it, 0 for a censoring at or before it."""
    time, event = check_survival_outcome(time, event)
    return _weights(time, event, float(horizon))


def _censoring_survival(time: np.ndarray, event: np.ndarray):
    """Distinct times and ``G`` just after each (deaths before censorings at ties)."""
    uniq, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event.astype(float), minlength=uniq.size)
    c = np.bincount(inv, weights=(~event).astype(float), minlength=uniq.size)
    at_risk = np.cumsum(np.bincount(inv, minlength=uniq.size)[::-1])[::-1].astype(float)
    left = at_risk - d
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(c > 0, 1.0 - c / np.where(left > 0, left, 1.0), 1.0)
    return uniq, np.cumprod(factor)


def _weights(time: np.ndarray, event: np.ndarray, horizon: float) -> np.ndarray:
    uniq, g = _censoring_survival(time, event)
    # G(u-) at a death time u: the product over censoring times strictly before u
    idx_before = np.searchsorted(uniq, time, side="left") - 1
    g_before = np.where(idx_before >= 0, g[np.clip(idx_before, 0, None)], 1.0)
    g_h = step_at(uniq, g, horizon)[0]  # G(horizon), right-continuous
    case = event & (time <= horizon)
    control = time > horizon
    w = np.zeros(time.shape[0])
    with np.errstate(divide="ignore"):
        w[case] = 1.0 / g_before[case]
    if control.any():
        w[control] = 1.0 / g_h
    return w


def _categorise(risk: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Category index: 0 below ``cuts[0]``, k for ``cuts[k-1] <= risk < cuts[k]``."""
    return np.searchsorted(cuts, risk, side="right")


def _measures(  # noqa: PLR0913  the outcome, both risks, horizon and cuts
    time, event, old, new, *, horizon, cuts
) -> dict[str, float]:
    w = _weights(time, event, horizon)
    case = event & (time <= horizon)
    control = time > horizon
    if not case.any() or not control.any():
        raise SurvivalDataError(
            f"at horizon {horizon:g}: {int(case.sum())} death(s) by the horizon and "
            f"{int(control.sum())} patient(s) followed beyond it; NRI/IDI need both. "
            "Potential fix: choose a horizon inside the follow-up."
        )
    wc, wn = w[case], w[control]

    def p(mask, who, weights):
        return float(np.sum(weights * mask[who]) / np.sum(weights))

    def nri(up, down):
        ev = p(up, case, wc) - p(down, case, wc)
        ne = p(down, control, wn) - p(up, control, wn)
        return ev + ne, ev, ne

    out = dict(zip(("nri", "nri_events", "nri_nonevents"), nri(new > old, new < old)))

    def slope(r):
        return float(np.sum(wc * r[case]) / wc.sum() - np.sum(wn * r[control]) / wn.sum())

    out["slope_new"], out["slope_old"] = slope(new), slope(old)
    out["idi"] = out["slope_new"] - out["slope_old"]
    out = {m: out[m] for m in CONTINUOUS}
    if cuts is not None:
        c_old, c_new = _categorise(old, cuts), _categorise(new, cuts)
        out.update(zip(CATEGORICAL, nri(c_new > c_old, c_new < c_old)))
    return out


def check_risk_categories(categories) -> np.ndarray | None:
    """Cut points of the risk categories (increasing, strictly inside (0, 1)); None if empty."""
    if categories is None or len(categories) == 0:
        return None
    cuts = np.asarray(categories, dtype=float)
    if (
        cuts.ndim != 1
        or not np.all(np.isfinite(cuts))
        or cuts.min() <= 0
        or cuts.max() >= 1
        or np.any(np.diff(cuts) <= 0)
    ):
        raise SurvivalDataError(
            f"risk categories must be increasing cut points strictly between 0 and 1, got "
            f"{list(categories)}. Potential fix: e.g. [0.2, 0.5] for < 20%, 20-50%, >= 50%."
        )
    return cuts


def reclassification(  # noqa: PLR0913  outcome, two risks, horizon + keyword CIs
    time,
    event,
    risk_old,
    risk_new,
    horizon: float,
    *,
    categories=None,
    n_bootstrap: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> ReclassificationResult:
    """IPCW continuous NRI, IDI (and categorical NRI) of ``risk_new`` over ``risk_old``.

    Parameters
    ----------
    time, event : array-like, shape (n,)
        Follow-up time (>= 0) and event indicator (1 = death, 0 = censored).
    risk_old, risk_new : array-like, shape (n,)
        Predicted probability of death by ``horizon`` (HIGHER = WORSE) of the reference and
        the new model, same patients and order.
    horizon : float
        The time point ``t``.
    categories : sequence of float, optional
        Cut points of the risk categories for the categorical NRI (e.g. ``[0.2, 0.5]``).
    n_bootstrap : int
        Bootstrap resamples for the percentile CIs (0: no CI).
    seed : int
        Seed of the resampling.
    alpha : float
        ``1 - alpha`` confidence intervals.

    Returns
    -------
    ReclassificationResult
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    time, event = check_survival_outcome(time, event)
    n = time.shape[0]
    old = check_risk_probability(risk_old, n, "risk_old")
    new = check_risk_probability(risk_new, n, "risk_new")
    horizon = float(horizon)
    cuts = check_risk_categories(categories)
    est = _measures(time, event, old, new, horizon=horizon, cuts=cuts)
    rng = np.random.default_rng(seed)
    boot, failed = [], 0
    for _ in range(n_bootstrap):
        i = rng.integers(0, n, n)
        try:
            boot.append(_measures(time[i], event[i], old[i], new[i], horizon=horizon, cuts=cuts))
        except SurvivalDataError:
            failed += 1
    lo, hi = {}, {}
    for m in est:
        values = np.array([b[m] for b in boot])
        if values.size:
            lo[m], hi[m] = (float(q) for q in np.quantile(values, [alpha / 2, 1 - alpha / 2]))
        else:
            lo[m] = hi[m] = float("nan")
    return ReclassificationResult(
        horizon=horizon,
        n=n,
        n_events=int((event & (time <= horizon)).sum()),
        n_event_free=int((time > horizon).sum()),
        n_censored=int((~event & (time <= horizon)).sum()),
        estimates=est,
        ci_lower=lo,
        ci_upper=hi,
        categories=tuple(float(c) for c in cuts) if cuts is not None else (),
        n_bootstrap=n_bootstrap,
        n_failed=failed,
        seed=seed,
        alpha=alpha,
    )
