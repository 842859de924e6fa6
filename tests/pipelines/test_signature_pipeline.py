"""The `signature` pipeline on an in-memory catalog: outputs, the leakage guard (validation
outcomes never change a fitted artefact), bad inputs, and versioned outputs on disk."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from hcc_nomogram.errors import InputDataError, SurvivalDataError
from hcc_nomogram.pipelines.signature import create_pipeline
from hcc_nomogram.pipelines.signature.params import SignatureParams
from hcc_nomogram.stats.concordance import harrell_c_index
from tests.stats.signature_synthetic import DATA_CONTRACT, PLANTED, make_tables

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {
    "random_seed": 1,
    "mrmr": {"n_ranked": 8, "pool_size": 20},
    "cv": {"k_grid": [2, 4], "l1_ratio_grid": [0.5, 1.0], "n_alphas": 15},
}
FITTED = ["mrmr_ranking", "signature_cv_results", "signature_weights", "signature_scores"]
OUTPUTS = [*FITTED, "signature_model", "signature_metrics", "analysis_table"]


class _KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so that intermediate outputs stay readable."""

    def _release(self) -> None:
        pass


def _catalog(features, clinical, params=None) -> DataCatalog:
    return DataCatalog(
        {
            "model_input_features": MemoryDataset(features),
            "clinical_table": MemoryDataset(clinical),
            "params:data_contract": MemoryDataset(DATA_CONTRACT),
            "params:signature": MemoryDataset(params or PARAMS),
            **{name: _KeptDataset() for name in OUTPUTS},
        }
    )


def _run(features, clinical, params=None) -> dict:
    catalog = _catalog(features, clinical, params)
    SequentialRunner().run(create_pipeline(), catalog)
    return {name: catalog.load(name) for name in OUTPUTS}


@pytest.fixture(scope="module")
def tables():
    features, clinical, true_lp = make_tables(n=180, n_features=30, seed=11)
    return features, clinical, true_lp


@pytest.fixture(scope="module")
def result(tables):
    return _run(*tables[:2])


def test_outputs_follow_the_contract(tables, result):
    features, clinical, true_lp = tables
    scores = result["signature_scores"]
    assert list(scores.columns) == [
        "patient_id",
        "center",
        "cohort",
        "signature_lp",
        "signature_score",
    ]
    assert len(scores) == len(features)  # both cohorts scored
    train = scores[scores["cohort"] == "training"]["signature_score"]
    assert train.min() == pytest.approx(0) and train.max() == pytest.approx(1)
    ranking = result["mrmr_ranking"]
    assert set(ranking["feature"][:2]) == set(PLANTED)
    weights = result["signature_weights"]
    assert set(PLANTED) <= set(weights["feature"])
    assert result["signature_cv_results"]["selected"].sum() == 1
    metrics = result["signature_metrics"].set_index("cohort")
    val = (clinical["cohort"] == "validation").to_numpy()
    oracle = harrell_c_index(clinical["os_months"][val], clinical["os_event"][val], true_lp[val])
    ratio = (metrics.loc["validation", "c_index"] - 0.5) / (oracle.c_index - 0.5)
    assert ratio > 0.8  # the fitted signature recovers most of the true linear predictor
    assert metrics.loc["training", "ci_lower"] < metrics.loc["training", "c_index"]
    analysis = result["analysis_table"]
    assert len(analysis) == len(clinical)
    assert {"age_years", "os_months", "signature_score"} <= set(analysis.columns)


def test_validation_outcomes_never_touch_fitted_artefacts(tables, result):
    features, clinical, _ = tables
    changed = clinical.copy()
    val = changed["cohort"] == "validation"
    rng = np.random.default_rng(0)
    changed.loc[val, "os_months"] = rng.permutation(changed.loc[val, "os_months"].to_numpy()) * 3
    changed.loc[val, "os_event"] = 1 - changed.loc[val, "os_event"]
    # validation features changed too: they may change their own scores, nothing fitted
    features2 = features.copy()
    fcols = [c for c in features2.columns if "_f" in c]
    features2.loc[features2["cohort"] == "validation", fcols] *= 5
    other = _run(features2, changed)
    for name in ["mrmr_ranking", "signature_cv_results", "signature_weights"]:
        pd.testing.assert_frame_equal(result[name], other[name])
    assert pickle.dumps(result["signature_model"]) == pickle.dumps(other["signature_model"])
    train = result["signature_scores"]["cohort"] == "training"
    pd.testing.assert_frame_equal(
        result["signature_scores"][train], other["signature_scores"][train]
    )
    m1, m2 = (r["signature_metrics"].set_index("cohort") for r in (result, other))
    assert m1.loc["training", "c_index"] == m2.loc["training", "c_index"]
    assert m1.loc["validation", "c_index"] != m2.loc["validation", "c_index"]


def _node_error(features, clinical, params=None):
    from hcc_nomogram.pipelines.signature.nodes import prepare_training_set

    return prepare_training_set(
        features, clinical, DATA_CONTRACT, SignatureParams.model_validate(params or PARAMS)
    )


def test_too_few_events(tables):
    features, clinical, _ = tables
    few = clinical.copy()
    train_idx = few.index[few["cohort"] == "training"]
    few.loc[train_idx, "os_event"] = 0
    few.loc[train_idx[:3], "os_event"] = 1
    with pytest.raises(SurvivalDataError, match="too few events for 5-fold"):
        _node_error(features, few)


def test_constant_and_empty_features(tables):
    features, clinical, _ = tables
    const = features.assign(arterial_f0000=1.0)
    train = _node_error(const, clinical)
    assert "arterial_f0000" not in train.columns  # dropped with a warning by default
    with pytest.raises(InputDataError, match="constant in the training cohort"):
        _node_error(const, clinical, {**PARAMS, "constant_features": "error"})
    all_const = features.copy()
    all_const.loc[:, [c for c in features.columns if "_f" in c]] = 0.0
    with pytest.raises(InputDataError, match="constant"):
        _node_error(all_const, clinical)
    with pytest.raises(InputDataError, match="feature table is empty"):
        _node_error(features[["patient_id", "center", "cohort"]], clinical)


def test_different_patients_and_bad_columns(tables):
    features, clinical, _ = tables
    with pytest.raises(InputDataError, match="different patients") as exc:
        _node_error(features.iloc[5:], clinical)
    assert "P0000" in str(exc.value)
    with pytest.raises(InputDataError, match="no column 'os_months'"):
        _node_error(features, clinical.drop(columns="os_months"))
    moved = features.copy()
    moved.loc[0, "cohort"] = "validation" if moved.loc[0, "cohort"] == "training" else "training"
    with pytest.raises(InputDataError, match="different cohorts"):
        _node_error(moved, clinical)


def test_params_are_validated():
    with pytest.raises(ValueError, match="method"):
        SignatureParams.model_validate({"mrmr": {"method": "JMI"}})
    with pytest.raises(ValueError, match="extra"):
        SignatureParams.model_validate({"cv": {"n_fold": 5}})
    cfg = yaml.safe_load((ROOT / "conf/base/parameters_signature.yml").read_text(encoding="utf-8"))
    assert SignatureParams.model_validate(cfg["signature"]).cv.n_folds == 5


def test_second_run_writes_new_versions_on_disk(tables, tmp_path):
    features, clinical, _ = tables
    conf = yaml.safe_load((ROOT / "conf/base/catalog_signature.yml").read_text(encoding="utf-8"))
    conf = {k: v for k, v in conf.items() if v["type"] != "MemoryDataset"}  # in-memory steps
    for entry in conf.values():
        assert entry["versioned"] is True and "layer" in entry["metadata"]["kedro-viz"]
        entry["filepath"] = str(tmp_path / Path(entry["filepath"]).name)
    saved = []
    for version in ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]:
        catalog = DataCatalog.from_config(conf, save_version=version)
        for name, ds in _catalog(features, clinical)._datasets.items():
            if name not in conf:
                catalog[name] = ds
        SequentialRunner().run(create_pipeline(), catalog)
        saved.append(version)
    for name, entry in conf.items():
        versions = sorted(p.name for p in Path(entry["filepath"]).iterdir())
        assert versions == saved, name
    old = DataCatalog.from_config(conf, load_versions={"signature_model": saved[0]})
    model = old.load("signature_model")
    assert set(model.features) == set(old.load("signature_weights")["feature"])
