"""Calibration of predicted survival at a horizon beyond grouped RMSE: slope, calibration-in-
the-large, and a smoothed calibration curve with ICI / E50 / E90 (Austin, Harrell & van
Klaveren 2020).

Inputs are the predicted survival ``S_hat(t*)`` of each patient at the horizon ``t*`` and the
patient's right-censored outcome. Predicted *risk* is ``1 - S_hat(t*)`` (HIGHER = WORSE); the
transform used throughout is ``cll = log(-log S_hat(t*))`` = cloglog of the predicted risk,
which for a Cox model is ``log H0(t*) + lp``: higher cll = higher predicted risk.

* **Calibration slope** (:func:`calibration_slope`): coefficient of ``cll`` in a Cox model of
  the outcome with follow-up censored at ``t*``. 1 = ideal; < 1: predictions too extreme
  (over-fitting, typical on validation data); > 1: too moderate.
* **Calibration-in-the-large** (:func:`calibration_in_the_large`): observed risk by
  Kaplan-Meier, ``O = 1 - KM(t*)``, against the mean predicted risk ``E``; reported as the
  ratio ``O/E`` (1 = ideal, > 1: the model under-predicts risk) with the CI
  ``exp(log(O/E) +/- z SE)``, ``SE = se_Greenwood(KM(t*)) / O`` (delta method, as Debray et al.
  2017 / McLernon et al. 2023), and as the intercept ``log(O/E)`` (0 = ideal).
* **Smoothed calibration curve** (:func:`smooth_calibration`): the observed risk of each
  patient is ``1 - S_cal(t* | cll)`` from a Cox model of the outcome (full follow-up) on a
  restricted cubic spline of ``cll`` with 3 knots (Harrell's ``rcs``, knots and basis as
  ``Hmisc::rcspline.eval``: :func:`rcs_knots`, :func:`rcs_basis`), Breslow baseline. Then
  ``|observed - predicted|`` over patients gives **ICI** (mean), **E50** (median), **E90**
  (90th percentile) and **Emax**. The curve is drawn on a grid of predicted risk with a
  percentile bootstrap band (patients resampled, model refitted, knots kept). With fewer than
  3 distinct knots (a nomogram with one binary factor) the model is linear in ``cll``.

Checked against R (``survival::coxph``/``survfit(ctype = 1)``, ``Hmisc::rcspline.eval``) in
``tests/reference/test_r_calibration.py``.

References
----------
Austin PC, Harrell FE Jr, van Klaveren D. Graphical calibration curves and the integrated
calibration index (ICI) for survival models. Stat Med 2020;39:2714-42.
Crowson CS, Atkinson EJ, Therneau TM. Assessing calibration of prognostic risk scores. Stat
Methods Med Res 2016;25:1692-706.
Debray TPA et al. A guide to systematic review and meta-analysis of prediction model
performance. BMJ 2017;356:i6460.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from hcc_nomogram.errors import HccNomogramError, SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome
from hcc_nomogram.stats.cox import CoxFit, fit_cox
from hcc_nomogram.stats.survival import event_probability_at

logger = logging.getLogger(__name__)

_CLIP = 1e-12  # predicted survival is clipped into [_CLIP, 1 - _CLIP] before log(-log S)


def _check_inputs(time, event, predicted_survival, horizon):
    time, event = check_survival_outcome(time, event)
    s = np.asarray(predicted_survival, dtype=float)
    if s.shape != time.shape or not np.all(np.isfinite(s)) or np.any((s < 0) | (s > 1)):
        raise SurvivalDataError(
            "predicted_survival must be one probability in [0, 1] per patient "
            f"(shape {s.shape} vs {time.shape}). Potential fix: pass the model's S(t*) column."
        )
    if not horizon > 0:
        raise SurvivalDataError(f"horizon must be > 0, got {horizon!r}.")
    return time, event, s


def complementary_log_log(predicted_survival) -> np.ndarray:
    """``log(-log S)``: cloglog of the predicted risk ``1 - S`` (higher = higher risk)."""
    s = np.clip(np.asarray(predicted_survival, dtype=float), _CLIP, 1 - _CLIP)
    return np.log(-np.log(s))


# --- restricted cubic splines (Harrell) -------------------------------------------------------
def rcs_knots(x, n_knots: int = 3) -> np.ndarray:
    """Knots of ``Hmisc::rcspline.eval(x, nk = n_knots)``.

    Quantiles (R type 7) at ``0.1, 0.5, 0.9`` for 3 knots (``0.05 .. 0.95`` for 4-6); with
    fewer than 100 values the outer knots are the 5th smallest and 5th largest value; with
    ``n_unique - 2 <= n_knots`` the interior unique values. (Hmisc's adjustment for a heavily
    tied end value, ``fractied``, is not reproduced: it needs >= 5 % of patients at the
    extreme and < 5 % at every other value.) Fewer than 3 distinct knots are returned as they
    are; :func:`smooth_calibration` then uses a linear term.
    """
    x = np.asarray(x, dtype=float)
    uniq = np.unique(x)
    if uniq.size - 2 <= n_knots:
        return uniq[1:-1]
    outer = 0.1 if n_knots == 3 else 0.05 if n_knots <= 6 else 0.025
    knots = np.quantile(x, np.linspace(outer, 1 - outer, n_knots))
    if x.size < 100:
        xs = np.sort(x)
        knots[0], knots[-1] = xs[4], xs[-5]
    return np.unique(knots)


def rcs_basis(x, knots) -> np.ndarray:
    """``[x, spline terms]`` of ``Hmisc::rcspline.eval(x, knots, inclx = TRUE)`` (norm = 2):
    each term ``(x - k_j)+^3 - (x - k_{K-1})+^3 (k_K - k_j)/(k_K - k_{K-1})
    + (x - k_K)+^3 (k_{K-1} - k_j)/(k_K - k_{K-1})``, divided by ``(k_K - k_1)^2``."""
    x = np.asarray(x, dtype=float)
    k = np.asarray(knots, dtype=float)
    cols = [x]
    if k.size >= 3:
        kd = (k[-1] - k[0]) ** (2 / 3)

        def cube(c):
            return np.maximum((x - c) / kd, 0.0) ** 3

        for kj in k[:-2]:
            cols.append(
                cube(kj)
                + ((k[-2] - kj) * cube(k[-1]) - (k[-1] - kj) * cube(k[-2])) / (k[-1] - k[-2])
            )
    return np.column_stack(cols)


# --- slope and calibration-in-the-large -------------------------------------------------------
@dataclass(frozen=True)
class CalibrationSlope:
    """The slope, its SE and the Wald ``1 - alpha`` CI ``slope +/- z SE``."""

    slope: float
    se: float
    ci_lower: float
    ci_upper: float
    alpha: float = 0.05


def calibration_slope(
    time, event, predicted_survival, horizon: float, alpha: float = 0.05
) -> CalibrationSlope:
    """The slope (SE, Wald CI): Cox coefficient of ``log(-log S_hat(t*))``, follow-up censored at
    ``horizon`` (1 = ideal). Raises :class:`ModelFitError` when the predictions are constant."""
    time, event, s = _check_inputs(time, event, predicted_survival, horizon)
    fit = fit_cox(
        np.minimum(time, horizon),
        event & (time <= horizon),
        pd.DataFrame({"cll": complementary_log_log(s)}),
        engine="numpy",
    )
    slope, se = float(fit.coef[0]), float(fit.se[0])
    z = stats.norm.ppf(1 - alpha / 2)
    return CalibrationSlope(slope, se, float(slope - z * se), float(slope + z * se), alpha)


@dataclass(frozen=True)
class CalibrationInTheLarge:
    """Observed (Kaplan-Meier) vs mean predicted risk at the horizon."""

    observed_risk: float
    observed_risk_se: float
    mean_predicted_risk: float
    oe_ratio: float
    oe_ci_lower: float
    oe_ci_upper: float

    @property
    def intercept(self) -> float:
        """``log(O/E)``: 0 = ideal, > 0: the model under-predicts risk."""
        return float(np.log(self.oe_ratio))


def calibration_in_the_large(
    time, event, predicted_survival, horizon: float, alpha: float = 0.05
) -> CalibrationInTheLarge:
    """O/E ratio of risk at ``horizon`` with its delta-method CI (see module docstring).
    ``NaN`` when the follow-up ends before the horizon."""
    time, event, s = _check_inputs(time, event, predicted_survival, horizon)
    expected = float(np.mean(1 - s))
    observed, se = event_probability_at(time, event, horizon)
    if not np.isfinite(observed):
        return CalibrationInTheLarge(np.nan, np.nan, expected, np.nan, np.nan, np.nan)
    oe = observed / expected if expected > 0 else np.nan
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * se / observed if observed > 0 else np.inf
    lo, hi = (oe * np.exp(-half), oe * np.exp(half)) if np.isfinite(half) else (np.nan, np.nan)
    return CalibrationInTheLarge(observed, se, expected, float(oe), float(lo), float(hi))


# --- smooth calibration curve -----------------------------------------------------------------
@dataclass(frozen=True)
class SmoothCalibrationResult:
    """ICI / E50 / E90 / Emax of ``|observed - predicted|`` risk over patients, the spline
    model's knots, and ``curve``: predicted_risk, observed_risk, ci_lower, ci_upper."""

    horizon: float
    n: int
    ici: float
    e50: float
    e90: float
    emax: float
    knots: tuple[float, ...]
    observed_risk: np.ndarray = field(repr=False)
    curve: pd.DataFrame = field(repr=False)
    n_bootstrap: int = 0
    n_failed: int = 0
    model: str = "rcs"  # "rcs" (restricted cubic spline) or "linear" (too few distinct values)


def _fit_smooth(time, event, cll, knots) -> CoxFit:
    basis = rcs_basis(cll, knots)
    return fit_cox(time, event, pd.DataFrame(basis), engine="numpy")


def _observed_risk(fit: CoxFit, cll, knots, horizon: float) -> np.ndarray:
    lp = rcs_basis(cll, knots) @ fit.coef
    return 1.0 - fit.survival(lp, [horizon])[:, 0]


def smooth_calibration(  # noqa: PLR0913  keyword-only settings with R-like defaults
    time,
    event,
    predicted_survival,
    horizon: float,
    *,
    n_knots: int = 3,
    n_bootstrap: int = 200,
    seed: int = 0,
    grid_size: int = 50,
    alpha: float = 0.05,
) -> SmoothCalibrationResult:
    """Smoothed calibration of ``predicted_survival`` (S_hat at ``horizon``) and ICI / E50 / E90.

    The curve is evaluated on ``grid_size`` predicted risks between the 1st and 99th
    percentile of the patients' predicted risk; its ``1 - alpha`` band is the percentile
    interval over ``n_bootstrap`` resamples (0: no band). Raises :class:`ModelFitError` when
    the predictions take a single value (no curve can be fitted).
    """
    time, event, s = _check_inputs(time, event, predicted_survival, horizon)
    cll = complementary_log_log(s)
    knots = rcs_knots(cll, n_knots)
    if knots.size < 3:
        knots = np.array([])
    fit = _fit_smooth(time, event, cll, knots)
    observed = _observed_risk(fit, cll, knots, horizon)
    diff = np.abs(observed - (1 - s))
    risk_grid = np.linspace(*np.quantile(1 - s, [0.01, 0.99]), grid_size)
    cll_grid = complementary_log_log(1 - risk_grid)
    curve = pd.DataFrame(
        {
            "predicted_risk": risk_grid,
            "observed_risk": _observed_risk(fit, cll_grid, knots, horizon),
        }
    )

    def refit(idx):  # the curve refitted on one resample (knots fixed)
        return _observed_risk(
            _fit_smooth(time[idx], event[idx], cll[idx], knots), cll_grid, knots, horizon
        )

    boot, failed = _bootstrap_curves(
        refit, time.size, cll_grid.size, n_bootstrap=n_bootstrap, seed=seed
    )
    if boot.shape[0] >= 2:
        curve["ci_lower"] = np.quantile(boot, alpha / 2, axis=0)
        curve["ci_upper"] = np.quantile(boot, 1 - alpha / 2, axis=0)
    else:
        curve["ci_lower"] = curve["ci_upper"] = np.nan
    return SmoothCalibrationResult(
        horizon=float(horizon),
        n=int(time.size),
        ici=float(np.mean(diff)),
        e50=float(np.median(diff)),
        e90=float(np.quantile(diff, 0.9)),
        emax=float(np.max(diff)),
        knots=tuple(map(float, knots)),
        observed_risk=observed,
        curve=curve,
        n_bootstrap=n_bootstrap,
        n_failed=failed,
        model="rcs" if knots.size else "linear",
    )


def _bootstrap_curves(refit, n: int, grid_size: int, *, n_bootstrap: int, seed: int):
    """``refit(idx)`` (a curve of ``grid_size`` points) over ``n_bootstrap`` resamples of the
    ``n`` patients; a resample whose fit fails is counted, not used."""
    rng = np.random.default_rng(seed)
    curves, failed = [], 0
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        try:
            curves.append(refit(idx))
        except HccNomogramError:
            failed += 1
    if failed:
        logger.warning("smooth calibration: %d of %d resamples failed", failed, n_bootstrap)
    return np.array(curves).reshape(len(curves), grid_size), failed
