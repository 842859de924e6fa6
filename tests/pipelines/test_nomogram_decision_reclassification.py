"""Nodes `analyse_decision_curves` and `assess_reclassification` of the nomogram pipeline on
small predictions tables shaped like `<model>.nomogram_predictions`, and their parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dcurves import dca
from pydantic import ValidationError

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.pipelines.nomogram import nodes as nn
from hcc_nomogram.pipelines.nomogram.config import DecisionCurveSpec
from hcc_nomogram.stats.reclassification import CATEGORICAL, CONTINUOUS

PARAMS = {
    "candidate_factors": [{"name": "sex", "column": "sex", "reference": "female"}],
    "horizons_months": [12, 24],
    "decision_curve": {"threshold_min": 0.0, "threshold_max": 0.9, "threshold_step": 0.1},
    "reclassification": {"risk_categories": [0.3, 0.6], "n_bootstrap": 20, "seed": 5},
}


def _predictions(n: int = 120, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clinical, integrated) predictions: LP x vs x + z; survival S(t) = exp(-t/24 e^lp)."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    t, c = rng.exponential(24 * np.exp(-(x + z))), rng.uniform(6, 40, size=n)
    base = pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "cohort": np.where(np.arange(n) < 70, "training", "validation"),
            "time": np.round(np.minimum(t, c), 1),
            "event": (t <= c).astype(int),
        }
    )
    out = []
    for name, lp in (("clinical", x), ("integrated", x + z)):
        d = base.assign(model=name, linear_predictor=lp)
        for h in (12, 24, 48):  # follow-up ends by 40 months: none followed beyond 48
            d[f"surv_{h}"] = np.exp(-h / 24 * np.exp(lp))
        out.append(d)
    return out[0], out[1]


def test_decision_curves_per_cohort_and_horizon_match_dcurves():
    clinical, integrated = _predictions()
    # the integrated table in another patient order: rows are matched by patient_id
    out = nn.analyse_decision_curves(clinical, integrated.sample(frac=1, random_state=0), PARAMS)
    assert list(out.columns[:4]) == ["cohort", "horizon", "strategy", "threshold"]
    assert len(out) == 2 * 2 * 4 * 10  # cohorts x horizons x strategies x thresholds
    val = clinical[clinical["cohort"] == "validation"]
    ival = integrated.set_index("patient_id").loc[val["patient_id"]]
    ref = dca(
        data=pd.DataFrame(
            {
                "tt": val["time"].to_numpy(),
                "ev": val["event"].to_numpy(),
                "clinical": 1 - val["surv_24"].to_numpy(),
                "integrated": 1 - ival["surv_24"].to_numpy(),
            }
        ),
        outcome="ev",
        modelnames=["clinical", "integrated"],
        thresholds=np.round(np.arange(0, 0.91, 0.1), 1),
        time=24,
        time_to_outcome_col="tt",
    )
    mine = out[(out["cohort"] == "validation") & (out["horizon"] == 24)]
    for theirs, strategy in (
        ("clinical", "clinical"),
        ("integrated", "integrated"),
        ("all", "treat_all"),
    ):
        np.testing.assert_allclose(
            mine.loc[mine["strategy"] == strategy, "net_benefit"],
            ref.loc[ref["model"] == theirs, "net_benefit"].to_numpy(float),
            atol=1e-12,
        )


def test_decision_curves_without_integrated_model():
    clinical, integrated = _predictions()
    out = nn.analyse_decision_curves(clinical, integrated.iloc[:0], PARAMS)
    assert set(out["strategy"]) == {"clinical", "treat_all", "treat_none"}


def test_missing_horizon_column_names_it():
    clinical, integrated = _predictions()
    with pytest.raises(InputDataError, match="surv_24"):
        nn.analyse_decision_curves(clinical.drop(columns="surv_24"), integrated, PARAMS)


def test_reclassification_rows_and_patient_matching():
    clinical, integrated = _predictions()
    out = nn.assess_reclassification(clinical, integrated, PARAMS)
    measures = list(CONTINUOUS) + list(CATEGORICAL)
    assert len(out) == 2 * 2 * len(measures) and out["available"].all()
    assert list(out["measure"].iloc[: len(measures)]) == measures
    shuffled = nn.assess_reclassification(
        clinical, integrated.sample(frac=1, random_state=1), PARAMS
    )
    pd.testing.assert_frame_equal(out, shuffled)
    # the integrated LP adds the planted predictor z: it reclassifies for the better
    nri = out[out["measure"] == "nri"]
    assert (nri["estimate"] > 0).all() and (nri["n_bootstrap"] == 20).all()


def test_reclassification_not_available_and_horizon_beyond_follow_up():
    clinical, integrated = _predictions()
    na = nn.assess_reclassification(clinical, integrated.iloc[:0], PARAMS)
    assert not na["available"].any() and "not available" in na["note"].iloc[0]
    late = nn.assess_reclassification(clinical, integrated, {**PARAMS, "horizons_months": [48]})
    assert not late["available"].any()
    assert late["note"].str.contains("followed beyond it").all()


def test_threshold_grid_parameters():
    assert np.allclose(DecisionCurveSpec().thresholds(), np.arange(96) / 100)
    grid = DecisionCurveSpec(threshold_min=0.05, threshold_max=0.5, threshold_step=0.05)
    assert np.allclose(grid.thresholds(), np.arange(1, 11) * 0.05)
    with pytest.raises(ValidationError, match="threshold_max must exceed"):
        DecisionCurveSpec(threshold_min=0.5, threshold_max=0.2)


def test_risk_categories_are_validated_with_the_parameters():
    with pytest.raises(ValidationError, match="increasing cut points"):
        nn.NomogramParams.model_validate(
            {**PARAMS, "reclassification": {"risk_categories": [0.5, 0.2]}}
        )


def test_no_model_at_all_gives_a_not_available_table():
    clinical, integrated = _predictions()
    out = nn.analyse_decision_curves(clinical.iloc[:0], integrated.iloc[:0], PARAMS)
    assert not out["available"].any()
