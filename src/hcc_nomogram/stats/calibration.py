"""Calibration at fixed horizons, time-dependent AUC and the integrated Brier score.

* :func:`calibration_at_horizon`: patients are split into ``n_groups`` quantile groups of
  predicted survival ``S(t*)``; per group the mean predicted survival is compared with the
  observed Kaplan-Meier survival at ``t*`` (with its log(-log) CI), as in the calibration
  curves of R ``rms::calibrate`` (grouped, ``u = t*``) / the paper's Fig. 4.
  ``RMSE = sqrt(mean_g (observed_g - predicted_g)^2)`` over groups with an estimable KM.
* :func:`time_dependent_auc` and :func:`integrated_brier` wrap
  :func:`sksurv.metrics.cumulative_dynamic_auc` / :func:`sksurv.metrics.integrated_brier_score`;
  the **training** cohort provides the censoring distribution (IPCW), and horizons outside the
  follow-up of either cohort are dropped with a note instead of raising.

Risk direction: ``risk`` arguments are HIGHER = WORSE; ``predicted_survival`` is a probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sksurv.metrics import cumulative_dynamic_auc, integrated_brier_score
from sksurv.util import Surv

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome
from hcc_nomogram.stats.survival import kaplan_meier


def quantile_groups(values, n_groups: int) -> np.ndarray:
    """Group index 1..n_groups by quantiles of ``values`` (ties broken by order: equal sizes)."""
    values = np.asarray(values, dtype=float)
    if n_groups < 1 or n_groups > len(values):
        raise SurvivalDataError(f"n_groups must be in 1..{len(values)}, got {n_groups}.")
    ranks = pd.Series(values).rank(method="first").to_numpy()
    return np.ceil(ranks * n_groups / len(values)).astype(int)


@dataclass(frozen=True)
class GroupedCalibration:
    """``table``: one row per predicted-risk group; ``rmse`` over the estimable groups."""

    table: pd.DataFrame
    rmse: float


@dataclass(frozen=True)
class IntegratedBrier:
    """Integrated Brier score over ``[t_start, t_end]`` (NaN when the interval is empty)."""

    ibs: float
    t_start: float
    t_end: float


def calibration_at_horizon(  # noqa: PLR0913  outcome, prediction, horizon; settings keyword-only
    time, event, predicted_survival, horizon: float, *, n_groups: int = 3, min_group: int = 5
) -> GroupedCalibration:
    """Grouped calibration of predicted survival at ``horizon``.

    Returns a :class:`GroupedCalibration`; its ``table`` has one row per group (lowest
    predicted survival = group 1): n, n_events, mean_predicted, observed, observed_ci_lower,
    observed_ci_upper, estimable. A group whose follow-up ends before ``horizon`` (or with
    < ``min_group`` patients) has ``observed = NaN``, ``estimable = False``, and no RMSE share.
    """
    time, event = check_survival_outcome(time, event)
    pred = np.asarray(predicted_survival, dtype=float)
    if pred.shape != time.shape or not np.all(np.isfinite(pred)):
        raise SurvivalDataError(
            "predicted_survival must be finite, one value per patient "
            f"(shape {pred.shape} vs {time.shape})."
        )
    groups = quantile_groups(pred, n_groups)
    rows = []
    for g in range(1, n_groups + 1):
        m = groups == g
        obs = lo = hi = np.nan
        ok = bool(m.sum() >= min_group and time[m].max() >= horizon and event[m].any())
        if ok:
            km = kaplan_meier(time[m], event[m])
            obs = float(km.survival_at(horizon)[0])
            lo_, hi_ = km.ci_at(horizon)
            lo, hi = float(lo_[0]), float(hi_[0])
        rows.append(
            (horizon, g, int(m.sum()), int(event[m].sum()), float(pred[m].mean()), obs, lo, hi, ok)
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "horizon",
            "group",
            "n",
            "n_events",
            "mean_predicted",
            "observed",
            "observed_ci_lower",
            "observed_ci_upper",
            "estimable",
        ],
    )
    ok = table["estimable"].to_numpy()
    diff = (table["observed"] - table["mean_predicted"]).to_numpy()[ok]
    rmse = float(np.sqrt(np.mean(diff**2))) if diff.size else float("nan")
    return GroupedCalibration(table, rmse)


def usable_horizons(time_train, time_test, horizons) -> tuple[list[float], list[str]]:
    """Horizons strictly inside the follow-up of the test cohort and before the last training
    time (IPCW needs the censoring survival there); notes for the dropped ones."""
    time_train = np.asarray(time_train, dtype=float)
    time_test = np.asarray(time_test, dtype=float)
    keep, notes = [], []
    for h in horizons:
        if time_test.min() < h < time_test.max() and h < time_train.max():
            keep.append(float(h))
        else:
            notes.append(
                f"horizon {h:g} outside follow-up (test {time_test.min():g}-{time_test.max():g}, "
                f"training max {time_train.max():g}): not evaluated"
            )
    return keep, notes


def time_dependent_auc(  # noqa: PLR0913  training and test outcomes, as R timeROC / sksurv
    time_train, event_train, time_test, event_test, risk_test, *, horizons
) -> pd.DataFrame:
    """Cumulative/dynamic AUC(t) (Uno's IPCW, censoring from the training cohort).

    Rows: horizon, auc (NaN for a horizon outside follow-up), note.
    """
    y_train = Surv.from_arrays(np.asarray(event_train, bool), np.asarray(time_train, float))
    y_test = Surv.from_arrays(np.asarray(event_test, bool), np.asarray(time_test, float))
    keep, notes = usable_horizons(time_train, time_test, horizons)
    rows = []
    auc = {}
    if keep:
        values, _ = cumulative_dynamic_auc(y_train, y_test, np.asarray(risk_test, float), keep)
        auc = dict(zip(keep, values))
    for h in map(float, horizons):
        note = next((n for n in notes if n.startswith(f"horizon {h:g} ")), "")
        rows.append((h, float(auc.get(h, np.nan)), note))
    return pd.DataFrame(rows, columns=["horizon", "auc", "note"])


def integrated_brier(  # noqa: PLR0913  training and test outcomes, as R pec / sksurv
    time_train, event_train, time_test, event_test, survival_fn, *, t_max: float, n_grid: int = 50
) -> IntegratedBrier:
    """Integrated Brier score over an even grid from the 10th percentile of test follow-up to
    ``min(t_max, 90th percentile of test follow-up, last training time)``.

    ``survival_fn(times) -> (n_test, len(times))`` predicted survival. Returns an
    :class:`IntegratedBrier`.
    """
    time_test = np.asarray(time_test, float)
    time_train = np.asarray(time_train, float)
    t0 = float(np.percentile(time_test, 10))
    t1 = float(min(t_max, np.percentile(time_test, 90), time_train.max() * 0.999))
    if not t1 > t0:
        return IntegratedBrier(float("nan"), t0, t1)
    grid = np.linspace(t0, t1, n_grid)
    y_train = Surv.from_arrays(np.asarray(event_train, bool), time_train)
    y_test = Surv.from_arrays(np.asarray(event_test, bool), time_test)
    ibs = integrated_brier_score(y_train, y_test, survival_fn(grid), grid)
    return IntegratedBrier(float(ibs), t0, t1)
