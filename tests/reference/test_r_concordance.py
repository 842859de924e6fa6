"""Harrell's C, its infinitesimal-jackknife variance and the paired comparison of two Cox
models against R ``survival::concordance(fit1, fit2)`` on ``lung`` (tied times and tied risks:
ECOG and sex take few values). Reference file: ``ref_concordance.json`` (R's linear predictors,
C of each fit, the 2x2 IJ covariance, and R's counts concordant/discordant/tied.x/tied.y/tied.xy
for fit1)."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.stats.concordance import compare_c_indices, harrell_c_index

from .r_reference import csv, reference_json


@pytest.fixture(scope="module")
def case():
    lung = csv("data_lung.csv")
    ref = reference_json("ref_concordance.json")
    ref["var"] = np.reshape(ref["var"], (2, 2), order="F")  # R matrix, column-major
    return lung["time"].to_numpy(), lung["event"].to_numpy(), ref


def test_single_c_and_ij_variance_match_r(case):
    time, event, ref = case
    for k, lp in enumerate((ref["lp1"], ref["lp2"])):
        res = harrell_c_index(time, event, lp)
        # same pair counts -> identical C up to float summation: 1e-12
        assert res.c_index == pytest.approx(ref["c"][k], abs=1e-12)
        assert res.se**2 == pytest.approx(ref["var"][k, k], rel=1e-8)
    res = harrell_c_index(time, event, ref["lp1"])
    concordant, discordant, tied_risk = ref["count1"][:3]
    assert (res.n_concordant, res.n_discordant, res.n_tied_risk) == (
        concordant,
        discordant,
        tied_risk,
    )


def test_paired_difference_and_variance_match_r(case):
    time, event, ref = case
    r = compare_c_indices(time, event, ref["lp1"], ref["lp2"])
    delta, se, z = r.delta, r.se, r.z
    assert delta == pytest.approx(ref["delta"], abs=1e-12)
    assert se**2 == pytest.approx(ref["delta_var"], rel=1e-8)
    cov = ref["var"]
    assert se**2 == pytest.approx(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], rel=1e-8)
    assert z == pytest.approx(ref["delta"] / np.sqrt(ref["delta_var"]), rel=1e-8)
