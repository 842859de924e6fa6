"""Kaplan-Meier (median and its CI, pointwise log-log CI) and the log-rank test against R
``survival::survfit(conf.type = "log-log")`` and ``survival::survdiff`` on ``lung`` / ``veteran``.
Reference files: ``ref_km_median.csv``, ``ref_km_at.csv``, ``ref_survdiff.csv``."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.stats.survival import kaplan_meier, logrank_test

from .r_reference import csv


@pytest.fixture(scope="module")
def lung():
    return csv("data_lung.csv")


def test_km_median_and_ci_match_r(lung):
    ref = csv("ref_km_median.csv").set_index("group")
    for sex, sub in lung.groupby("sex"):
        km = kaplan_meier(sub["time"], sub["event"])
        r = ref.loc[sex]
        assert (km.n, km.n_events) == (r["n"], r["events"])
        # days on a discrete grid: the medians and limits are event times, equal exactly
        assert (km.median, km.median_ci_lower, km.median_ci_upper) == (
            r["median"],
            r["lower"],
            r["upper"],
        )


def test_km_survival_and_log_log_ci_match_r(lung):
    ref = csv("ref_km_at.csv")
    for sex, r in ref.groupby("group"):
        sub = lung[lung["sex"] == sex]
        km = kaplan_meier(sub["time"], sub["event"])
        t = r["time"].to_numpy()
        np.testing.assert_allclose(km.survival_at(t), r["surv"], rtol=1e-12)  # same arithmetic
        np.testing.assert_allclose(km.std_err_at(t), r["std_err"], rtol=1e-10)  # Greenwood
        lo, hi = km.ci_at(t)
        np.testing.assert_allclose(lo, r["lower"], rtol=1e-9)  # exponential Greenwood
        np.testing.assert_allclose(hi, r["upper"], rtol=1e-9)


def test_logrank_matches_survdiff():
    ref = csv("ref_survdiff.csv").set_index("test")
    lung, vet = csv("data_lung.csv"), csv("data_veteran.csv")
    cases = {
        "lung_sex": logrank_test(lung["time"], lung["event"], lung["sex"]),
        "veteran_celltype": logrank_test(vet["time"], vet["status"], vet["celltype"]),
    }
    for name, ours in cases.items():
        r = ref.loc[name]
        assert ours.statistic == pytest.approx(r["chisq"], rel=1e-9)
        assert ours.df == r["df"]
        assert ours.p_value == pytest.approx(r["p"], rel=1e-7)
