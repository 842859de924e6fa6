"""Cox fits vs lifelines (Efron ties) on the Rossi recidivism data; failure modes; PH test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import proportional_hazard_test

from hcc_nomogram.errors import ModelFitError, SurvivalDataError
from hcc_nomogram.stats.cox import (
    efron_loglik,
    fit_cox,
    proportional_hazards_test,
    univariate_cox,
)


@pytest.fixture(scope="module")
def rossi():
    d = load_rossi()
    return d, d.drop(columns=["week", "arrest"])


@pytest.fixture(scope="module")
def lifelines_fit(rossi):
    d, _ = rossi
    return CoxPHFitter().fit(d, "week", "arrest")  # Efron ties, as R coxph


@pytest.mark.parametrize("engine", ["statsmodels", "numpy"])
def test_coefficients_and_se_match_lifelines(rossi, lifelines_fit, engine):
    d, X = rossi
    fit = fit_cox(d["week"], d["arrest"], X, engine=engine)
    ref = lifelines_fit
    np.testing.assert_allclose(fit.coef, ref.params_[list(X.columns)].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(fit.se, ref.standard_errors_[list(X.columns)].to_numpy(), atol=1e-6)
    assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-6)
    s = fit.summary().set_index("covariate")
    np.testing.assert_allclose(s["p_value"], ref.summary.loc[list(X.columns), "p"], rtol=1e-5)
    np.testing.assert_allclose(
        s["hr_ci_lower"], ref.summary.loc[list(X.columns), "exp(coef) lower 95%"], rtol=1e-5
    )


def test_efron_loglik_matches_statsmodels_at_arbitrary_beta(rossi):
    from statsmodels.duration.hazard_regression import PHReg

    d, X = rossi
    beta = np.linspace(-0.2, 0.2, X.shape[1])
    m = PHReg(
        d["week"].to_numpy(float),
        X.to_numpy(float),
        status=d["arrest"].to_numpy(float),
        ties="efron",
    )
    ll, g, h = efron_loglik(
        d["week"].to_numpy(float), d["arrest"].to_numpy(bool), X.to_numpy(float), beta
    )
    assert ll == pytest.approx(m.loglike(beta), rel=1e-10)
    np.testing.assert_allclose(g, m.score(beta), rtol=1e-8)
    np.testing.assert_allclose(h, m.hessian(beta), rtol=1e-8)


def test_breslow_baseline_survival_is_a_decreasing_step(rossi):
    d, X = rossi
    fit = fit_cox(d["week"], d["arrest"], X[["fin", "age"]])
    s0 = fit.baseline_survival([0, 10, 20, 52])
    assert s0[0] == 1.0 and np.all(np.diff(s0) <= 0)
    # Breslow at the mean patient vs lifelines' baseline (lifelines centres covariates)
    ref = CoxPHFitter(baseline_estimation_method="breslow").fit(
        d[["week", "arrest", "fin", "age"]], "week", "arrest"
    )
    lp_mean = X[["fin", "age"]].mean().to_numpy() @ fit.coef
    ours = fit.survival([lp_mean], [52])[0, 0]
    theirs = ref.baseline_survival_.loc[:52].iloc[-1, 0]
    assert ours == pytest.approx(theirs, abs=5e-3)


def test_level_without_events_raises():
    rng = np.random.default_rng(0)
    t = rng.exponential(10, 60)
    e = np.ones(60)
    x = np.zeros(60)
    x[:8] = 1
    e[:8] = 0  # nobody with x = 1 dies
    with pytest.raises(ModelFitError, match="no events"):
        fit_cox(t, e, pd.DataFrame({"lvl[B]": x}))


def test_perfect_separation_raises():
    # continuous covariate perfectly ordering the deaths -> coefficient diverges
    t = np.arange(1, 31, dtype=float)
    e = np.ones(30)
    x = -t + np.r_[np.zeros(15), np.zeros(15)]
    with pytest.raises(ModelFitError):
        fit_cox(t, e, pd.DataFrame({"x": x}))


def test_constant_covariate_and_missing_raise():
    t = np.arange(1, 21, dtype=float)
    e = np.r_[np.ones(10), np.zeros(10)]
    with pytest.raises(ModelFitError, match="constant"):
        fit_cox(t, e, pd.DataFrame({"c": np.ones(20)}))
    with pytest.raises(SurvivalDataError, match="missing"):
        fit_cox(t, e, pd.DataFrame({"x": np.r_[np.nan, np.arange(19.0)]}))
    with pytest.raises(SurvivalDataError, match="only 1 event"):
        fit_cox(t, np.r_[1, np.zeros(19)], pd.DataFrame({"x": np.arange(20.0)}))


def test_univariate_reports_failed_terms(rossi):
    d, X = rossi
    X = X.assign(bad=0.0)
    out = univariate_cox(d["week"], d["arrest"], X, {"fin": ["fin"], "bad": ["bad"]})
    assert out.loc[out.term == "bad", "error"].str.contains("constant").all()
    assert out.loc[out.term == "fin", "hr"].iloc[0] == pytest.approx(
        np.exp(CoxPHFitter().fit(d[["week", "arrest", "fin"]], "week", "arrest").params_["fin"])
    )


def test_ph_test_matches_lifelines_identity_transform(rossi, lifelines_fit):
    d, X = rossi
    fit = fit_cox(d["week"], d["arrest"], X)
    ours = proportional_hazards_test(
        fit, d["week"], d["arrest"], X, transform="identity", method="approximate"
    )
    ref = proportional_hazard_test(lifelines_fit, d, time_transform="identity").summary
    ours = ours.set_index("covariate")
    np.testing.assert_allclose(ours.loc[ref.index, "chi2"], ref["test_statistic"], rtol=1e-5)
    assert ours.loc["GLOBAL", "df"] == X.shape[1]
    assert 0 <= ours.loc["GLOBAL", "p_value"] <= 1
