"""The `nomogram` pipeline on an in-memory catalog (SequentialRunner): full run, clinical-only
run, and input errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from hcc_nomogram.errors import InputDataError, SurvivalDataError
from hcc_nomogram.pipelines.nomogram import create_pipeline
from hcc_nomogram.pipelines.nomogram import nodes as nn
from tests.stats.synthetic_cohort import make_analysis_table

DATA_CONTRACT = {
    "id_column": "patient_id",
    "phases": {"arterial": "arterial_ct", "portal": "portal_ct"},
    "delineations": {"r1a": {"arterial": "arterial_mask_r1a", "portal": "portal_mask_r1a"}},
    "cohort_column": "cohort",
    "training_value": "training",
    "validation_value": "validation",
    "outcomes": {
        "os": {"time": "os_months", "event": "os_event"},
        "pfs": {"time": "pfs_months", "event": "pfs_event"},
    },
}

PARAMS = {
    "primary_outcome": "os",
    "secondary_outcome": "pfs",
    "candidate_factors": [
        {"name": "sex", "column": "sex", "reference": "female"},
        {"name": "age", "column": "age_years", "kind": "continuous", "cutoff": 55},
        {"name": "ecog", "column": "ecog", "reference": 0},
        {"name": "child_pugh", "column": "child_pugh", "reference": "A"},
        {"name": "pvi", "column": "portal_vein_invasion", "reference": "none"},
        {"name": "bclc", "column": "bclc", "reference": "B"},
        {"name": "alt", "column": "alt_u_l", "kind": "continuous", "cutoff": 50},
        {"name": "tumor_size", "column": "tumor_size_cm", "kind": "continuous", "cutoff": 5},
        {"name": "afp", "column": "afp_ng_ml", "kind": "continuous", "cutoff": 400},
    ],
    "signature": {"column": "signature_score", "step": 0.2},
    "bootstrap": {"n_resamples": 3, "seed": 1},
    "calibration": {"band_resamples": 5},
    "table1": {"numeric": ["age_years", "alt_u_l"]},
    "models": {
        "clinical": {"name": "clinical", "use_signature": False},
        "integrated": {"name": "integrated", "use_signature": True},
    },
}


class _KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so the test can inspect every output."""

    def _release(self) -> None:
        pass


def _run(table, params):
    catalog = DataCatalog(
        {
            "analysis_table": MemoryDataset(table),
            "params:nomogram": MemoryDataset(params),
            "params:data_contract": MemoryDataset(DATA_CONTRACT),
            "params:compute": MemoryDataset({"mode": "synchronous"}),
        }
    )
    for name in ("clinical", "integrated"):
        catalog[f"params:nomogram.models.{name}"] = params["models"][name]
    pipe = create_pipeline()
    for out in pipe.all_outputs():
        catalog[out] = _KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipe, catalog)
    return catalog


@pytest.fixture(scope="module")
def full_run():
    return _run(make_analysis_table(), PARAMS)


@pytest.mark.slow
def test_full_run_outputs(full_run):
    cat = full_run
    table2 = cat.load("multivariate_cox_table")
    assert set(table2["model"]) == {"clinical", "integrated"}
    integ = table2[table2["model"] == "integrated"]
    # planted model: bclc, alt, size, signature (per 0.2 -> log HR 0.5)
    assert {"bclc", "alt", "tumor_size", "signature"} <= set(integ["term"])
    sig = integ[integ["term"] == "signature"].iloc[0]
    assert sig["covariate"] == "signature[per 0.2]"
    assert 1.3 < sig["hr"] < 2.2
    comp = cat.load("c_index_comparison")
    assert list(comp["cohort"]) == ["training", "validation"]
    assert (comp["c_integrated"] > comp["c_clinical"]).all()
    assert comp["p_value"].between(0, 1).all()
    disc = cat.load("integrated.discrimination")
    assert {"c_index", "c_ci_lower", "auc_12", "auc_24", "ibs"} <= set(disc.columns)
    boot = cat.load("integrated.bootstrap_validation").iloc[0]
    assert boot["n_bootstrap"] == 3 and boot["c_corrected"] <= boot["c_apparent"] + 0.05
    cal = cat.load("integrated.calibration_summary")
    assert len(cal) == 4 and cal["rmse"].between(0, 0.5).all()
    smooth = cat.load("integrated.calibration_metrics")
    assert len(smooth) == 4 and smooth["ici"].between(0, 0.5).all()
    assert smooth["slope"].between(0.3, 3).all()  # planted model refitted: slope near 1
    assert not cat.load("integrated.calibration_curve").empty
    rg = cat.load("risk_group_summary")
    assert (rg["hr_high_vs_low"] > 1).all() and (rg["logrank_p"] < 0.05).all()
    km = cat.load("risk_group_km")
    assert set(km["risk_group"]) == {"low", "high"}
    pts = cat.load("integrated.nomogram_points")
    assert pts.groupby("term")["points"].max().max() == pytest.approx(100)
    ph = cat.load("integrated.ph_test")
    assert ph["covariate"].iloc[-1] == "GLOBAL"
    t1 = cat.load("table1_characteristics")
    assert "Fisher's exact" in set(t1["test"]) and "Mann-Whitney U" in set(t1["test"])
    surv = cat.load("cohort_survival")
    assert set(surv["outcome"]) == {"os", "pfs"}


@pytest.mark.slow
def test_model_object_predicts_and_pickles(full_run):
    model = pickle.loads(pickle.dumps(full_run.load("integrated.nomogram_model")))
    table = make_analysis_table().head(5)
    lp = model.predict_lp(table)
    surv = model.predict_survival(table, [12, 24])
    # higher LP = worse: survival decreases with LP
    order = np.argsort(lp)
    assert np.all(np.diff(surv["surv_12"].to_numpy()[order]) <= 1e-12)
    pts = model.predict_points(table)
    scale = model.survival_scale([12], step=1.0)
    # total points -> survival mapping agrees with direct prediction
    approx = np.interp(pts, scale["total_points"], scale["surv_12"])
    assert np.allclose(approx, surv["surv_12"], atol=0.02)
    preds = full_run.load("integrated.nomogram_predictions")
    cut = preds["lp_cutoff"].iloc[0]
    train = preds[preds["cohort"] == "training"]
    assert cut == pytest.approx(np.median(train["linear_predictor"]))


@pytest.mark.slow
def test_clinical_only_run():
    table = make_analysis_table(n_train=200, n_valid=80, seed=3).drop(
        columns=["signature_score", "signature_lp"]
    )
    params = copy.deepcopy(PARAMS) | {"signature": None}
    cat = _run(table, params)
    integ = cat.load("integrated.multivariate_cox")
    assert not integ["available"].iloc[0] and "signature" in integ["note"].iloc[0]
    comp = cat.load("c_index_comparison")
    assert comp["c_clinical"].notna().all() and comp["p_value"].isna().all()
    assert cat.load("risk_group_summary")["model"].eq("clinical").all()
    assert cat.load("clinical.nomogram_points")["points"].max() == pytest.approx(100)


def test_missing_column_is_named():
    table = make_analysis_table(60, 20).drop(columns=["alt_u_l"])
    with pytest.raises(InputDataError, match="alt_u_l"):
        nn.prepare_nomogram_cohort(table, PARAMS, DATA_CONTRACT)


def test_too_few_events():
    table = make_analysis_table(60, 20)
    table["os_event"] = 0
    table.loc[:3, "os_event"] = 1
    with pytest.raises(SurvivalDataError, match="only 4 event"):
        nn.prepare_nomogram_cohort(table, PARAMS, DATA_CONTRACT)


def test_unknown_training_value():
    table = make_analysis_table(60, 20)
    dc = DATA_CONTRACT | {"training_value": "derivation"}
    with pytest.raises(InputDataError, match="derivation"):
        nn.prepare_nomogram_cohort(table, PARAMS, dc)


@pytest.mark.slow
def test_decision_curves_and_reclassification_outputs(full_run):
    dca = full_run.load("decision_curves")
    assert set(dca["strategy"]) == {"clinical", "integrated", "treat_all", "treat_none"}
    assert set(dca["cohort"]) == {"training", "validation"}
    assert set(dca["horizon"]) == set(nn.NomogramParams.model_validate(PARAMS).horizons_months)
    at0 = dca[(dca["threshold"] == 0) & (dca["strategy"] == "treat_all")]
    np.testing.assert_allclose(at0["net_benefit"], at0["event_rate_cohort"])
    rec = full_run.load("reclassification")
    idi = rec[(rec["measure"] == "idi") & rec["available"]]
    # the planted signature adds information: IDI of integrated over clinical is positive
    assert len(idi) >= 2 and (idi["estimate"] > 0).all()
    assert (idi["ci_lower"] <= idi["estimate"]).all()
