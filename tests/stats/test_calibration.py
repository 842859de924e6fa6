"""Grouped calibration, RMSE, time-dependent AUC and IBS on hand cases."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.calibration import (
    calibration_at_horizon,
    quantile_groups,
    time_dependent_auc,
)


def test_quantile_groups_equal_sizes_with_ties():
    g = quantile_groups([0.1, 0.1, 0.1, 0.2, 0.2, 0.9], 3)
    assert list(np.bincount(g)[1:]) == [2, 2, 2]


def test_hand_case_observed_and_rmse():
    # group 1 (pred 0.2): 5 patients, 3 die before 12, 2 censored after -> KM(12) = 0.4
    # group 2 (pred 0.8): 5 patients, 1 dies before 12 -> KM(12) = 0.8
    time = np.array([2, 4, 6, 20, 30, 5, 15, 25, 35, 40], float)
    event = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    pred = np.r_[np.full(5, 0.2), np.full(5, 0.8)]
    res = calibration_at_horizon(time, event, pred, 12, n_groups=2, min_group=5)
    table, rmse = res.table, res.rmse
    assert table["observed"].tolist() == pytest.approx([0.4, 0.8])
    assert table["mean_predicted"].tolist() == pytest.approx([0.2, 0.8])
    assert rmse == pytest.approx(np.sqrt((0.2**2 + 0.0) / 2))


def test_group_without_follow_up_is_not_estimable():
    time = np.array([1, 2, 3, 4, 5, 20, 21, 22, 23, 24], float)
    event = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    pred = np.r_[np.full(5, 0.3), np.full(5, 0.7)]
    res = calibration_at_horizon(time, event, pred, 12, n_groups=2)
    table, rmse = res.table, res.rmse
    assert table["estimable"].tolist() == [False, True]
    assert rmse == pytest.approx(abs(table["observed"].iloc[1] - 0.7))


def test_bad_predictions_raise():
    with pytest.raises(SurvivalDataError, match="finite"):
        calibration_at_horizon([1, 2, 3], [1, 0, 1], [0.5, np.nan, 0.2], 2, n_groups=1)


def test_td_auc_perfect_ranking_and_horizon_guard():
    rng = np.random.default_rng(0)
    t = rng.uniform(1, 40, 200)
    e = np.ones(200, int)
    auc = time_dependent_auc(t, e, t, e, -t, horizons=[12, 24, 100])
    assert auc["auc"].iloc[:2].tolist() == pytest.approx([1.0, 1.0])
    assert np.isnan(auc["auc"].iloc[2]) and "outside follow-up" in auc["note"].iloc[2]
