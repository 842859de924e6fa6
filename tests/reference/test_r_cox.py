"""Cox fits (Efron ties) and the proportional-hazards test against R ``survival::coxph`` and
``survival::cox.zph`` (survival >= 3, ``terms = FALSE``) on ``lung`` (tied death times) and
``veteran`` (a 4-level factor). Reference files: ``ref_coxph.csv``, ``ref_cox_zph.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.stats.cox import fit_cox, proportional_hazards_test

from .r_reference import csv, dummies

CELLTYPES = ["squamous", "smallcell", "adeno", "large"]  # R factor order, squamous = reference


def _lung():
    d = csv("data_lung.csv")
    return d["time"], d["event"], d[["age", "sex", "ph.ecog"]]


def _veteran():
    d = csv("data_veteran.csv")
    X = pd.concat(
        [d[["trt"]], dummies(d["celltype"], CELLTYPES, "celltype"), d[["karno", "age"]]], axis=1
    )
    return d["time"], d["status"], X


CASES = {"lung_age_sex_ecog": _lung, "veteran_trt_celltype_karno_age": _veteran}


@pytest.mark.parametrize("engine", ["statsmodels", "numpy"])
@pytest.mark.parametrize("model", list(CASES))
def test_coxph_efron_matches_r(model, engine):
    time, event, X = CASES[model]()
    ref = csv("ref_coxph.csv").query("model == @model").set_index("covariate")
    fit = fit_cox(time, event, X, engine=engine)
    # both maximise the same Efron likelihood; R stops at |dloglik| < 1e-9 -> 1e-6 relative
    np.testing.assert_allclose(fit.coef, ref.loc[list(X.columns), "coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.se, ref.loc[list(X.columns), "se"], rtol=1e-6)
    assert fit.loglik == pytest.approx(ref["loglik"].iloc[0], abs=1e-8)
    assert fit.loglik_null == pytest.approx(ref["loglik_null"].iloc[0], abs=1e-8)
    assert (fit.n, fit.n_events) == (ref["n"].iloc[0], ref["n_events"].iloc[0])


@pytest.mark.parametrize("transform", ["km", "identity"])
@pytest.mark.parametrize("model", list(CASES))
def test_ph_score_test_matches_cox_zph(model, transform):
    time, event, X = CASES[model]()
    zr = csv("ref_cox_zph.csv")
    ref = zr[(zr["model"] == model) & (zr["transform"] == transform)].set_index("covariate")
    fit = fit_cox(time, event, X)
    ours = proportional_hazards_test(fit, time, event, X, transform=transform).set_index(
        "covariate"
    )
    names = [*X.columns, "GLOBAL"]
    # the fit's beta agrees with R's to ~1e-8, the test statistic inherits that: 1e-5 relative
    np.testing.assert_allclose(ours.loc[names, "chi2"], ref.loc[names, "chisq"], rtol=1e-5)
    np.testing.assert_allclose(ours.loc[names, "p_value"], ref.loc[names, "p"], rtol=1e-4)
    assert ours.loc["GLOBAL", "df"] == ref.loc["GLOBAL", "df"]
