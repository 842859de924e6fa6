"""Kaplan-Meier, median (CI) and log-rank vs lifelines."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.survival import format_median, kaplan_meier, logrank_test


@pytest.fixture(scope="module")
def waltons():
    return load_waltons()


def test_km_curve_median_and_ci_match_lifelines(waltons):
    for _, sub in waltons.groupby("group"):
        ours = kaplan_meier(sub["T"], sub["E"])
        ref = KaplanMeierFitter().fit(sub["T"], sub["E"])
        t = ref.survival_function_.index.to_numpy()
        np.testing.assert_allclose(
            ours.survival_at(t), ref.survival_function_.iloc[:, 0], atol=1e-12
        )
        lo, hi = ours.ci_at(t[1:])
        np.testing.assert_allclose(lo, ref.confidence_interval_.iloc[1:, 0], atol=1e-8)
        np.testing.assert_allclose(hi, ref.confidence_interval_.iloc[1:, 1], atol=1e-8)
        assert ours.median == ref.median_survival_time_
        ci = median_survival_times(ref.confidence_interval_).to_numpy().ravel()
        assert (ours.median_ci_lower, ours.median_ci_upper) == tuple(ci)


def test_median_not_reached_prints_nr():
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 0, 0])
    assert np.isnan(km.median)
    assert format_median(km).startswith("NR")


def test_logrank_matches_lifelines(waltons):
    ours = logrank_test(waltons["T"], waltons["E"], waltons["group"])
    ref = multivariate_logrank_test(waltons["T"], waltons["group"], waltons["E"])
    assert ours.statistic == pytest.approx(ref.test_statistic, rel=1e-8)
    assert ours.p_value == pytest.approx(ref.p_value, rel=1e-6)  # tiny P, no underflow to 0
    assert ours.p_value > 0


def test_logrank_three_groups_and_errors(waltons):
    g = np.where(waltons["T"] % 3 == 0, "a", np.where(waltons["T"] % 3 == 1, "b", "c"))
    ours = logrank_test(waltons["T"], waltons["E"], g)
    ref = multivariate_logrank_test(waltons["T"], g, waltons["E"])
    assert ours.df == 2 and ours.p_value == pytest.approx(ref.p_value, rel=1e-6)
    with pytest.raises(SurvivalDataError, match="at least 2 groups"):
        logrank_test(waltons["T"], waltons["E"], np.zeros(len(waltons)))


def test_single_patient_kaplan_meier_is_a_valid_curve():
    """A risk group of one patient (small validation cohorts) gets a curve, not an error."""
    km = kaplan_meier([7.5], [1])
    assert list(km.table["time"]) == [7.5]
    assert list(km.table["survival"]) == [0.0]
