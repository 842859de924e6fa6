"""Calibration slope, calibration-in-the-large and the smoothed calibration curve (ICI, E50,
E90, Emax) against R on ``pbc``: a Cox model fitted on the odd rows predicts S(t*) for the even
rows (``calibration_pbc.csv``, t* = 1825 and 3000 days). Reference: ``ref_calibration.json``
from ``survival::coxph`` (slope), ``summary(survfit)`` (KM and Greenwood SE), and
``coxph(Surv(time, event) ~ Hmisc::rcspline.eval(cll, nk = 3, inclx = TRUE))`` with
``survfit(ctype = 1)`` (Breslow baseline) for the observed risk of each patient, as in Austin,
Harrell & van Klaveren (2020). ``rms::cph`` + ``survest`` (Efron-type baseline) is recorded too
and agrees to ~1e-3."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hcc_nomogram.errors import ModelFitError, SurvivalDataError
from hcc_nomogram.stats.calibration_smooth import (
    calibration_in_the_large,
    calibration_slope,
    complementary_log_log,
    rcs_knots,
    smooth_calibration,
)

from .r_reference import csv, reference_json

REFS = reference_json("ref_calibration.json")
IDS = [f"{r['label']}-{r['horizon']}" for r in REFS]


def _case(ref):
    d = csv("calibration_pbc.csv").iloc[: ref["n"]]  # first 80 rows: the n < 100 knot rule
    return d["time"], d["event"], d[f"surv_{ref['horizon']}"], ref["horizon"]


@pytest.mark.parametrize("ref", REFS, ids=IDS)
def test_knots_and_slope_match_r(ref):
    time, event, s, h = _case(ref)
    np.testing.assert_allclose(rcs_knots(complementary_log_log(s)), ref["knots"], rtol=1e-12)
    res = calibration_slope(time, event, s, h)
    slope, se = res.slope, res.se
    # same Efron likelihood maximised by two Newton-Raphson codes: 1e-7 relative
    assert slope == pytest.approx(ref["slope"], rel=1e-7)
    assert se == pytest.approx(ref["slope_se"], rel=1e-7)


@pytest.mark.parametrize("ref", REFS, ids=IDS)
def test_calibration_in_the_large_matches_r_kaplan_meier(ref):
    time, event, s, h = _case(ref)
    citl = calibration_in_the_large(time, event, s, h)
    assert citl.observed_risk == pytest.approx(1 - ref["km_surv"], rel=1e-12)
    assert citl.observed_risk_se == pytest.approx(ref["km_std_err"], rel=1e-10)
    assert citl.mean_predicted_risk == pytest.approx(ref["mean_predicted_risk"], rel=1e-12)
    # O/E and its CI written out from the R numbers (delta method on log O/E)
    o, e = 1 - ref["km_surv"], ref["mean_predicted_risk"]
    half = stats.norm.ppf(0.975) * ref["km_std_err"] / o
    assert citl.oe_ratio == pytest.approx(o / e, rel=1e-10)
    assert (citl.oe_ci_lower, citl.oe_ci_upper) == pytest.approx(
        (o / e * np.exp(-half), o / e * np.exp(half)), rel=1e-10
    )
    assert citl.intercept == pytest.approx(np.log(o / e), rel=1e-10)


@pytest.mark.parametrize("ref", REFS, ids=IDS)
def test_smooth_curve_and_ici_match_r(ref):
    time, event, s, h = _case(ref)
    res = smooth_calibration(time, event, s, h, n_bootstrap=0)
    # spline Cox fit agrees with R's to ~1e-9; observed risks inherit it: 1e-7 absolute
    np.testing.assert_allclose(res.observed_risk, ref["observed_risk"], atol=1e-7)
    for key in ("ici", "e50", "e90", "emax"):
        assert getattr(res, key) == pytest.approx(ref[key], abs=1e-7), key
        # rms::cph/survest uses the Efron-type baseline instead of Breslow's: close, not equal
        if f"{key}_rms" in ref:
            assert getattr(res, key) == pytest.approx(ref[f"{key}_rms"], abs=2e-3), key
    assert res.model == "rcs" and res.n == ref["n"]


def test_bootstrap_band_brackets_the_curve_and_is_seeded():
    ref = REFS[0]
    time, event, s, h = _case(ref)
    a = smooth_calibration(time, event, s, h, n_bootstrap=40, seed=3)
    b = smooth_calibration(time, event, s, h, n_bootstrap=40, seed=3)
    np.testing.assert_array_equal(a.curve.to_numpy(), b.curve.to_numpy())
    c = a.curve
    assert (c["ci_lower"] <= c["ci_upper"]).all()
    inside = (c["ci_lower"] <= c["observed_risk"]) & (c["observed_risk"] <= c["ci_upper"])
    assert inside.mean() > 0.9  # percentile band around the full-data curve
    assert c["predicted_risk"].is_monotonic_increasing


def test_perfectly_calibrated_predictions_have_small_ici():
    """Survival drawn from the predicted model itself: slope ~1, O/E ~1, ICI small."""
    rng = np.random.default_rng(0)
    n, h = 2000, 12.0
    lp = rng.normal(size=n)
    hazard0 = 0.05  # exponential baseline: S(t | lp) = exp(-0.05 t e^lp)
    t = rng.exponential(1 / (hazard0 * np.exp(lp)))
    c = rng.uniform(6, 40, n)
    time, event = np.minimum(t, c), (t <= c).astype(int)
    s = np.exp(-hazard0 * h * np.exp(lp))
    res = calibration_slope(time, event, s, h)
    slope, se = res.slope, res.se
    assert abs(slope - 1) < 3 * se
    citl = calibration_in_the_large(time, event, s, h)
    assert citl.oe_ci_lower < 1 < citl.oe_ci_upper
    res = smooth_calibration(time, event, s, h, n_bootstrap=0)
    assert res.ici < 0.02
    # miscalibrated by doubling every predicted risk's hazard: ICI grows, O/E drops below 1
    s_bad = s**2
    assert smooth_calibration(time, event, s_bad, h, n_bootstrap=0).ici > 3 * res.ici
    assert calibration_in_the_large(time, event, s_bad, h).oe_ci_upper < 1


def test_few_distinct_predictions_fall_back_to_linear_and_constant_raises():
    rng = np.random.default_rng(1)
    n = 120
    group = rng.integers(0, 2, n)
    time = rng.exponential(np.where(group == 1, 10, 30))
    event = np.ones(n, int)
    s = np.where(group == 1, 0.3, 0.7)  # one binary factor: two distinct predictions
    res = smooth_calibration(time, event, s, 12.0, n_bootstrap=0)
    assert res.model == "linear" and res.knots == ()
    assert np.isfinite(res.ici)
    with pytest.raises(ModelFitError, match="constant"):
        smooth_calibration(time, event, np.full(n, 0.5), 12.0, n_bootstrap=0)
    with pytest.raises(SurvivalDataError, match="probability"):
        calibration_slope(time, event, np.full(n, 1.5), 12.0)
