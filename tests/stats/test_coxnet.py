"""Elastic-net Cox CV: folds, selection on a problem with a known answer, the frozen model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.errors import InputDataError, ModelFitError, SurvivalDataError
from hcc_nomogram.stats.concordance import harrell_c_index
from hcc_nomogram.stats.coxnet import (
    cross_validate_coxnet,
    feature_phase,
    fit_signature_model,
    make_folds,
    select_configuration,
)
from tests.stats.signature_synthetic import PLANTED, make_tables


@pytest.fixture(scope="module")
def planted():
    features, clinical, _ = make_tables(n=160, n_features=12, seed=3)
    x = features.filter(like="_f")
    # ranking with the planted features first, as mRMR would give
    ranked = list(PLANTED) + [c for c in x.columns if c not in PLANTED]
    return x, clinical["os_months"].to_numpy(), clinical["os_event"].to_numpy(), ranked


def test_make_folds_stratified_seeded_and_guarded():
    event = np.array([1] * 30 + [0] * 20)
    folds = make_folds(event, 5, seed=1)
    assert [int(event[va].sum()) for _, va in folds] == [6] * 5
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, make_folds(event, 5, seed=1)))
    with pytest.raises(SurvivalDataError, match="too few events"):
        make_folds(np.array([1, 1, 1, 0, 0, 0, 0, 0]), 5, seed=0)


def test_cv_selects_the_planted_signature(planted):
    x, time, event, ranked = planted
    cv = cross_validate_coxnet(
        x, time, event, ranked, k_grid=[1, 2, 6], l1_ratio_grid=[0.5, 1.0], n_alphas=20, seed=0
    )
    assert set(cv.columns) >= {"k", "l1_ratio", "alpha", "mean_c", "sd_c", "n_nonzero", "c_fold5"}
    assert 3 * 2 * 10 < len(cv) <= 3 * 2 * 20  # a path may stop early (saturated fit)
    best_by_k = cv.groupby("k")["mean_c"].max()
    assert best_by_k[2] > best_by_k[1] + 0.02  # the second planted feature adds signal
    chosen = select_configuration(cv, "max")
    assert chosen["k"] >= 2 and chosen["mean_c"] > 0.7
    sparse = select_configuration(cv, "one_se")
    assert sparse["n_nonzero"] <= chosen["n_nonzero"]
    assert sparse["mean_c"] >= chosen["mean_c"] - chosen["se_c"]
    model = fit_signature_model(
        x,
        time,
        event,
        ranked,
        k=int(chosen["k"]),
        l1_ratio=chosen["l1_ratio"],
        alpha_index=int(chosen["alpha_index"]),
        n_alphas=20,
    )
    assert set(PLANTED) <= set(model.features)
    signs = dict(zip(model.features, np.sign(model.coefficients)))
    assert all(signs[f] == np.sign(b) for f, b in PLANTED.items())


def test_select_never_picks_an_empty_signature():
    cv = pd.DataFrame(
        {
            "k": [2, 2],
            "l1_ratio": [1.0, 1.0],
            "alpha": [1.0, 0.1],
            "alpha_index": [0, 1],
            "mean_c": [0.5, 0.45],
            "sd_c": [0.0, 0.1],
            "se_c": [0.0, 0.05],
            "n_nonzero": [0, 1],
        }
    )
    assert select_configuration(cv)["alpha_index"] == 1
    with pytest.raises(ModelFitError, match="empty signature"):
        select_configuration(cv.assign(n_nonzero=0))
    with pytest.raises(ValueError, match="rule"):
        select_configuration(cv, "aic")


def test_signature_model_scores_and_rescales(planted):
    x, time, event, ranked = planted
    with pytest.raises(ModelFitError, match="empty signature"):
        fit_signature_model(x, time, event, ranked, k=3, l1_ratio=1.0, alpha_index=0)
    model = fit_signature_model(x, time, event, ranked, k=3, l1_ratio=1.0, alpha_index=15)
    lp = model.linear_predictor(x)
    score = model.rescale(lp)
    assert score.min() == pytest.approx(0.0) and score.max() == pytest.approx(1.0)
    assert harrell_c_index(time, event, lp).c_index > 0.7  # higher = worse
    w = model.weights()
    assert list(w.columns[:3]) == ["feature", "phase", "weight"]
    assert set(w["phase"]) <= {"arterial", "portal"}
    with pytest.raises(InputDataError, match="missing from the feature table"):
        model.linear_predictor(x.drop(columns=model.features[0]))


def test_feature_phase():
    assert feature_phase("arterial_f0042") == "arterial"
    assert feature_phase("portal_venous_f0001") == "portal_venous"
    assert feature_phase("age") == ""
