"""Decision curves and IPCW NRI / IDI against reference values computed in R (survival 3.5-3,
``survfit`` Kaplan-Meier) by make_reference.R on the ``lung`` data of R's survival package.
R is not needed to run this test: the data (with the two Cox models' predicted risks of death
by 365 days) and the reference values are committed."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.stats.decision_curve import TREAT_ALL, decision_curve
from hcc_nomogram.stats.reclassification import ipcw_weights, reclassification

from .r_reference import csv

HORIZON = 365.0


@pytest.fixture(scope="module")
def lung():
    return csv("data_lung_risks.csv")


@pytest.fixture(scope="module")
def ref():
    return csv("ref_decision_reclassification.csv")


def test_net_benefit_matches_r(lung, ref):
    nb = ref[ref["kind"] == "net_benefit"]
    thresholds = np.round(np.arange(0, 0.91, 0.05), 2)
    res = decision_curve(
        lung["time"],
        lung["event"],
        {"risk_old": lung["risk_old"], "risk_new": lung["risk_new"]},
        HORIZON,
        thresholds,
    )
    for r_name, ours in (("risk_old", "risk_old"), ("risk_new", "risk_new"), ("all", TREAT_ALL)):
        expected = nb[nb["name"] == r_name]["value"].to_numpy(float)
        # tolerance: R's CSV keeps 15 significant digits
        np.testing.assert_allclose(
            res.net_benefit(ours).to_numpy(), expected, rtol=0, atol=1e-12, err_msg=r_name
        )


def test_nri_idi_match_r(lung, ref):
    values = ref[ref["kind"] == "reclassification"].set_index("name")["value"]
    res = reclassification(
        lung["time"],
        lung["event"],
        lung["risk_old"],
        lung["risk_new"],
        HORIZON,
        categories=[0.4, 0.6],
        n_bootstrap=0,
    )
    for measure, estimate in res.estimates.items():
        assert estimate == pytest.approx(values[measure], abs=1e-12), measure
    w = ipcw_weights(lung["time"], lung["event"], HORIZON)
    assert w.sum() == pytest.approx(values["weight_sum"], abs=1e-9)
    case = (lung["event"] == 1) & (lung["time"] <= HORIZON)
    assert w[case.to_numpy()].sum() / len(w) == pytest.approx(values["km_event_rate"], abs=1e-12)
