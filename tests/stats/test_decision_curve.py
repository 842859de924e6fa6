"""Survival decision curves: hand-computed Kaplan-Meier cases, the independent `dcurves`
package (survival DCA with lifelines' Kaplan-Meier), and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dcurves import dca

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.decision_curve import (
    TREAT_ALL,
    TREAT_NONE,
    DecisionCurveResult,
    decision_curve,
)

# 8 patients, horizon 7 months. Risk = predicted probability of death by 7 months.
TIME = np.array([2, 3, 4, 5, 6, 8, 10, 12.0])
EVENT = np.array([1, 0, 1, 1, 0, 1, 0, 0])
RISK = np.array([0.9, 0.3, 0.7, 0.6, 0.2, 0.5, 0.1, 0.4])


def _row(res: DecisionCurveResult, strategy: str, threshold: float) -> pd.Series:
    t = res.table
    return t[(t["strategy"] == strategy) & np.isclose(t["threshold"], threshold)].iloc[0]


def test_hand_computed_net_benefit():
    res = decision_curve(TIME, EVENT, {"model": RISK}, 7, [0.25, 0.45, 0.95])
    # p_t = 0.45: treated = risk >= 0.45 = patients at 2 (death), 4 (death), 5 (death), 8 (death)
    # KM among them at 7: 3/4 * 2/3 * 1/2 = 1/4 -> event rate 3/4; P(+) = 4/8
    # TP = 3/4 * 1/2 = 3/8, FP = 1/4 * 1/2 = 1/8, odds = 0.45/0.55 = 9/11
    # NB = 3/8 - 1/8 * 9/11 = 3/11
    r = _row(res, "model", 0.45)
    assert (r["n_treated"], r["fraction_treated"]) == (4, 0.5)
    assert r["event_rate_treated"] == pytest.approx(3 / 4)
    assert (r["true_positive"], r["false_positive"]) == (pytest.approx(3 / 8), pytest.approx(1 / 8))
    assert r["net_benefit"] == pytest.approx(3 / 11)
    # p_t = 0.25: treated adds the censored patients at 3 and 12 (6 patients)
    # KM: t=2 5/6; t=4 (4 at risk) 5/6 * 3/4 = 5/8; t=5 (3 at risk) 5/8 * 2/3 = 5/12
    # TP = 7/12 * 3/4 = 7/16, FP = 5/12 * 3/4 = 5/16, odds 1/3 -> NB = 7/16 - 5/48 = 1/3
    assert _row(res, "model", 0.25)["net_benefit"] == pytest.approx(1 / 3)
    # p_t = 0.95: nobody treated
    r = _row(res, "model", 0.95)
    assert (r["n_treated"], r["net_benefit"], r["estimable"]) == (0, 0.0, True)


def test_hand_computed_references_and_interventions_avoided():
    res = decision_curve(TIME, EVENT, {"model": RISK}, 7, [0.45])
    # whole cohort KM at 7: t=2 7/8; t=4 (6 at risk) 7/8 * 5/6 = 35/48; t=5 (5 at risk)
    # 35/48 * 4/5 = 7/12 -> event rate 5/12; treat all NB = 5/12 - 7/12 * 9/11 = -2/33
    assert res.event_rate == pytest.approx(5 / 12)
    assert _row(res, TREAT_ALL, 0.45)["net_benefit"] == pytest.approx(-2 / 33)
    assert _row(res, TREAT_NONE, 0.45)["net_benefit"] == 0.0
    # interventions avoided = (3/11 + 2/33) / (9/11) = 11/27
    assert _row(res, "model", 0.45)["net_interventions_avoided"] == pytest.approx(11 / 27)
    assert res.net_benefit("model").loc[0.45] == pytest.approx(3 / 11)


def test_threshold_zero_treat_all_is_the_event_rate():
    res = decision_curve(TIME, EVENT, {"model": RISK}, 7, [0.0])
    assert _row(res, TREAT_ALL, 0.0)["net_benefit"] == pytest.approx(5 / 12)
    assert np.isnan(_row(res, TREAT_ALL, 0.0)["net_interventions_avoided"])


def test_treated_group_without_death_and_follow_up_too_short():
    # treated patient censored at 5 > horizon 4: event rate 0 -> NB = -P(+) * odds = -1/2
    res = decision_curve([5, 9], [0, 1], {"m": [0.8, 0.2]}, 4, [0.5])
    assert _row(res, "m", 0.5)["net_benefit"] == pytest.approx(-0.5)
    # horizon 11: the treated patients' follow-up ends at 8 -> not estimable (dcurves' rule)
    res = decision_curve(TIME, EVENT, {"model": RISK}, 11, [0.45])
    r = _row(res, "model", 0.45)
    assert not r["estimable"] and np.isnan(r["net_benefit"])
    assert _row(res, TREAT_ALL, 0.45)["estimable"]


def _simulated(n=200, seed=4):
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    t = rng.exponential(24 * np.exp(-(x + 0.6 * z)))
    c = rng.uniform(3, 48, size=n)
    time = np.ceil(np.minimum(t, c))  # monthly: tied times
    event = (t <= c).astype(int)
    a = np.round(1 - np.exp(-0.5 * np.exp(x)), 2)
    b = np.round(1 - np.exp(-0.5 * np.exp(x + 0.6 * z)), 2)
    return time, event, a, b


@pytest.mark.parametrize("horizon", [6.0, 12.0, 24.0])
def test_matches_dcurves_survival_dca(horizon):
    time, event, a, b = _simulated()
    thresholds = np.round(np.arange(0.0, 0.96, 0.03), 2)  # dcurves refits KM per threshold
    ours = decision_curve(time, event, {"a": a, "b": b}, horizon, thresholds)
    df = pd.DataFrame({"tt": time, "ev": event, "a": a, "b": b})
    ref = dca(
        data=df,
        outcome="ev",
        modelnames=["a", "b"],
        thresholds=thresholds,
        time=horizon,
        time_to_outcome_col="tt",
    )
    for theirs, mine in (("a", "a"), ("b", "b"), ("all", TREAT_ALL), ("none", TREAT_NONE)):
        expected = ref[ref["model"] == theirs]["net_benefit"].to_numpy(float)
        got = ours.net_benefit(mine).to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=theirs)
    np.testing.assert_allclose(
        ours.table.loc[ours.table["strategy"] == "a", "fraction_treated"],
        ref.loc[ref["model"] == "a", "test_pos_rate"].to_numpy(float),
        atol=1e-12,
    )


def test_result_table_is_long_with_every_strategy():
    res = decision_curve(TIME, EVENT, {"m1": RISK, "m2": RISK[::-1]}, 7, [0.1, 0.2])
    assert list(pd.unique(res.table["strategy"])) == ["m1", "m2", TREAT_ALL, TREAT_NONE]
    assert len(res.table) == 8 and res.n == 8 and res.horizon == 7.0
    with pytest.raises(KeyError, match="no strategy"):
        res.net_benefit("m3")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(thresholds=[0.1, 1.0]), "in \\[0, 1\\)"),
        (dict(thresholds=[]), "empty"),
        (dict(risks={"lp": RISK * 5 - 2}), "not a linear predictor"),
        (dict(risks={"m": RISK[:3]}), "one predicted probability per patient"),
        (dict(risks={TREAT_ALL: RISK}), "reserved"),
        (dict(horizon=0), "positive time"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    args = dict(risks={"m": RISK}, horizon=7, thresholds=[0.1])
    args.update(kwargs)
    with pytest.raises(SurvivalDataError, match=match):
        decision_curve(TIME, EVENT, args["risks"], args["horizon"], args["thresholds"])
