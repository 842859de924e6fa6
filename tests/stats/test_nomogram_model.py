"""Nomogram points on a hand case; model development and bootstrap on the synthetic cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.errors import InputDataError, ModelFitError
from hcc_nomogram.stats.cox import CoxFit
from hcc_nomogram.stats.design import Term, encode, fit_terms
from hcc_nomogram.stats.nomogram import NomogramModel, develop_model
from hcc_nomogram.stats.validation import bootstrap_optimism
from tests.stats.synthetic_cohort import make_analysis_table


def _hand_model():
    # bclc C: beta 0.8; afp > 400: beta 0.4; signature per 0.2: beta 0.5, training range 0-1
    terms = (
        Term("bclc", "bclc", reference="B", levels=("B", "C")),
        Term("afp", "afp", kind="continuous", cutoff=400),
        Term("sig", "sig", kind="continuous", step=0.2),
    )
    fit = CoxFit(
        covariates=("bclc[C]", "afp[>400]", "sig[per 0.2]"),
        coef=np.array([0.8, 0.4, 0.5]),
        se=np.ones(3),
        cov=np.eye(3),
        loglik=0,
        loglik_null=0,
        n=10,
        n_events=5,
        baseline_time=np.array([6.0, 12.0, 24.0]),
        baseline_cumhaz=np.array([0.05, 0.1, 0.3]),
    )
    return NomogramModel("hand", terms, fit, term_ranges={"sig": (0.0, 1.0)})


def test_points_hand_case():
    m = _hand_model()
    pts = m.points_table().set_index(["term", "level"])["points"]
    # widest LP range: signature 0.5 * (1 - 0) / 0.2 = 2.5 -> 100 points; 40 points per LP unit
    assert m.points_per_lp == pytest.approx(40.0)
    assert pts[("sig", "1")] == pytest.approx(100)
    assert pts[("bclc", "C")] == pytest.approx(32.0)
    assert pts[("afp", ">400")] == pytest.approx(16.0)
    assert pts[("bclc", "B")] == 0
    patient = pd.DataFrame({"bclc": ["C"], "afp": [500.0], "sig": [0.6]})
    lp = 0.8 + 0.4 + 0.5 * 3
    assert m.predict_lp(patient)[0] == pytest.approx(lp)
    assert m.predict_points(patient)[0] == pytest.approx(32 + 16 + 60)
    assert m.predict_survival(patient, [12])["surv_12"].iloc[0] == pytest.approx(
        np.exp(-0.1 * np.exp(lp))
    )
    scale = m.survival_scale([12], step=1.0).set_index("total_points")
    assert scale.loc[108.0, "surv_12"] == pytest.approx(np.exp(-0.1 * np.exp(lp)))


def test_risk_group_is_high_only_above_the_training_cutoff():
    m = _hand_model()
    m.lp_cutoff = 1.0
    # strictly above the cut-off is high; equal (the median patient) and missing LP are low
    assert m.risk_group([0.5, 1.0, 1.0 + 1e-9, np.nan]).tolist() == ["low", "low", "high", "low"]


def test_unseen_level_and_unavailable_model():
    m = _hand_model()
    with pytest.raises(InputDataError, match="not seen in the training"):
        m.predict_lp(pd.DataFrame({"bclc": ["D"], "afp": [1.0], "sig": [0.1]}))
    with pytest.raises(ModelFitError, match="not available"):
        NomogramModel.unavailable("integrated", "no signature").predict_lp(pd.DataFrame())


def test_design_encoding_reference_and_cutoff():
    df = pd.DataFrame({"pvi": ["none", "Vp1-2", "Vp3-4", "none"], "alt": [10, 51, 50, 80.0]})
    terms = fit_terms(
        df, [Term("pvi", "pvi", reference="none"), Term("alt", "alt", kind="continuous", cutoff=50)]
    )
    X = encode(df, terms)
    assert list(X.columns) == ["pvi[Vp1-2]", "pvi[Vp3-4]", "alt[>50]"]
    assert X["alt[>50]"].tolist() == [0, 1, 0, 1]
    with pytest.raises(InputDataError, match="reference level"):
        fit_terms(df, [Term("pvi", "pvi", reference="absent")])


@pytest.fixture(scope="module")
def synthetic():
    df = make_analysis_table(n_train=250, n_valid=10, seed=5)
    train = df[df.cohort == "training"].reset_index(drop=True)
    terms = [
        Term("bclc", "bclc", reference="B"),
        Term("sex", "sex", reference="female"),
        Term("alt", "alt_u_l", kind="continuous", cutoff=50),
        Term("size", "tumor_size_cm", kind="continuous", cutoff=5),
        Term("afp", "afp_ng_ml", kind="continuous", cutoff=400),
        Term("signature", "signature_score", kind="continuous", step=0.2),
    ]
    return train, terms


def test_develop_model_recovers_planted_factors(synthetic):
    train, terms = synthetic
    dev = develop_model(
        train, terms, name="integrated", time_col="os_months", event_col="os_event", engine="numpy"
    )
    assert {"bclc", "alt", "signature"} <= set(
        dev.model.fit.covariates[i].split("[")[0] for i in range(dev.model.fit.df)
    )
    assert "sex" not in dev.candidates
    assert dev.model.lp_cutoff == pytest.approx(np.median(dev.model.predict_lp(train)))


def test_bootstrap_optimism_is_positive_and_seeded(synthetic):
    train, terms = synthetic

    def develop(df):
        return develop_model(
            df, terms, name="m", time_col="os_months", event_col="os_event", engine="numpy"
        ).model.predict_lp

    a = bootstrap_optimism(
        train, develop, time_col="os_months", event_col="os_event", n_bootstrap=4, seed=3
    )
    b = bootstrap_optimism(
        train, develop, time_col="os_months", event_col="os_event", n_bootstrap=4, seed=3
    )
    assert a == b
    assert a.c_corrected == pytest.approx(a.c_apparent - a.optimism)
    assert -0.05 < a.optimism < 0.1
