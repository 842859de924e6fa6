"""NRI / IDI with IPCW: hand-computed cases (weights, ties, NRI, IDI, categorical NRI),
Kaplan-Meier identities checked with lifelines, the uncensored case against plain counting,
the seeded bootstrap, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.reclassification import (
    CATEGORICAL,
    CONTINUOUS,
    ReclassificationResult,
    ipcw_weights,
    reclassification,
)

# horizon 5. Patients: 0 and 2 die by 5 (cases); 1 and 3 censored before 5 (weight 0);
# 4 and 5 followed beyond 5 (controls).
TIME = np.array([1, 2, 3, 4, 6, 7.0])
EVENT = np.array([1, 0, 1, 0, 1, 0])
OLD = np.array([0.30, 0.20, 0.40, 0.10, 0.25, 0.15])
NEW = np.array([0.50, 0.10, 0.35, 0.30, 0.20, 0.05])


def test_hand_computed_weights():
    # censoring KM G: t=2 (5 at risk, no death) 4/5; t=4 (3 at risk) 4/5 * 2/3 = 8/15
    # case at 1: 1/G(1-) = 1; case at 3: 1/G(3-) = 5/4; controls 1/G(5) = 15/8
    w = ipcw_weights(TIME, EVENT, 5)
    np.testing.assert_allclose(w, [1, 0, 5 / 4, 0, 15 / 8, 15 / 8])
    assert w.sum() == pytest.approx(len(TIME))


def test_hand_computed_tie_between_death_and_censoring():
    # at t=2 a death and a censoring: the death comes first, so G(2) = 1 - 1/(4 - 1) = 2/3
    w = ipcw_weights([2, 2, 3, 6], [1, 0, 1, 0], 4)
    np.testing.assert_allclose(w, [1, 0, 3 / 2, 3 / 2])
    # KM: S(4) = 3/4 * 1/2 = 3/8; case weights / n = (1 + 3/2) / 4 = 5/8 = 1 - S(4)
    assert w[[0, 2]].sum() / 4 == pytest.approx(5 / 8)


def test_hand_computed_nri_and_idi():
    res = reclassification(TIME, EVENT, OLD, NEW, 5, categories=[0.2, 0.4], n_bootstrap=0)
    assert isinstance(res, ReclassificationResult)
    e = res.estimates
    # cases: 0 up (w 1), 2 down (w 5/4): P(up|case) = 4/9, P(down|case) = 5/9
    assert e["nri_events"] == pytest.approx(-1 / 9)
    # controls: both down -> NRI_nonevents = 1
    assert e["nri_nonevents"] == pytest.approx(1.0)
    assert e["nri"] == pytest.approx(8 / 9)
    # weighted case means: new (0.5 + 5/4 * 0.35) / (9/4) = 5/12, old (0.3 + 5/4 * 0.4) / (9/4)
    # = 16/45; control means new 0.125, old 0.2 -> slopes 7/24 and 7/45
    assert e["slope_new"] == pytest.approx(7 / 24)
    assert e["slope_old"] == pytest.approx(7 / 45)
    assert e["idi"] == pytest.approx(7 / 24 - 7 / 45)
    # categories < 0.2, 0.2-0.4, >= 0.4: case 0 1 -> 2 (up), case 2 2 -> 1 (down);
    # control 4 1 -> 1, control 5 0 -> 0 (no move)
    assert e["nri_categorical_events"] == pytest.approx(-1 / 9)
    assert e["nri_categorical_nonevents"] == 0.0
    assert e["nri_categorical"] == pytest.approx(-1 / 9)
    assert (res.n_events, res.n_event_free, res.n_censored) == (2, 2, 2)
    assert set(e) == set(CONTINUOUS) | set(CATEGORICAL)
    assert np.isnan(res.ci_lower["nri"])  # no bootstrap


def _simulated(n=150, seed=7, censor=True):
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    t = rng.exponential(20 * np.exp(-(x + 0.8 * z)))
    c = rng.uniform(2, 40, size=n) if censor else np.full(n, 1e9)
    time, event = np.ceil(np.minimum(t, c)), (t <= c).astype(int)
    old = 1 - np.exp(-0.6 * np.exp(x))
    new = 1 - np.exp(-0.6 * np.exp(x + 0.8 * z))
    return time, event, old, new


@pytest.mark.parametrize("horizon", [6.0, 12.0, 20.0])
def test_weights_reproduce_kaplan_meier(horizon):
    time, event, _, _ = _simulated()
    w = ipcw_weights(time, event, horizon)
    s = KaplanMeierFitter().fit(time, event).survival_function_at_times(horizon).iloc[0]
    case = (event == 1) & (time <= horizon)
    assert w[case].sum() / len(time) == pytest.approx(1 - s, abs=1e-12)
    assert w[time > horizon].sum() / len(time) == pytest.approx(s, abs=1e-12)


def test_without_censoring_equals_plain_counting():
    time, event, old, new = _simulated(censor=False)
    h = 12.0
    res = reclassification(time, event, old, new, h, categories=[0.3], n_bootstrap=0)
    case, ctrl = time <= h, time > h
    up, down = new > old, new < old
    nri_ev = up[case].mean() - down[case].mean()
    nri_ne = down[ctrl].mean() - up[ctrl].mean()
    assert res.estimates["nri_events"] == pytest.approx(nri_ev)
    assert res.estimates["nri_nonevents"] == pytest.approx(nri_ne)
    idi = (new[case].mean() - new[ctrl].mean()) - (old[case].mean() - old[ctrl].mean())
    assert res.estimates["idi"] == pytest.approx(idi)
    hi_new, hi_old = new >= 0.3, old >= 0.3
    cat = (
        (hi_new & ~hi_old)[case].mean()
        - (~hi_new & hi_old)[case].mean()
        + (~hi_new & hi_old)[ctrl].mean()
        - (hi_new & ~hi_old)[ctrl].mean()
    )
    assert res.estimates["nri_categorical"] == pytest.approx(cat)


def test_identical_models_give_zero():
    time, event, old, _ = _simulated()
    res = reclassification(time, event, old, old.copy(), 12, categories=[0.2], n_bootstrap=20)
    for m in ("nri", "idi", "nri_categorical"):
        assert res.estimates[m] == 0.0
        assert res.ci_lower[m] == res.ci_upper[m] == 0.0


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    time, event, old, new = _simulated()
    a = reclassification(time, event, old, new, 12, n_bootstrap=100, seed=3)
    b = reclassification(time, event, old, new, 12, n_bootstrap=100, seed=3)
    c = reclassification(time, event, old, new, 12, n_bootstrap=100, seed=4)
    assert a.ci_lower == b.ci_lower and a.ci_upper == b.ci_upper
    assert a.ci_lower["nri"] != c.ci_lower["nri"]
    for m in ("nri", "idi"):
        assert a.ci_lower[m] < a.estimates[m] < a.ci_upper[m]
    # the new model carries the planted extra predictor: both improvements are positive
    assert a.ci_lower["idi"] > 0 and a.ci_lower["nri"] > 0
    frame = a.to_frame()
    assert list(frame["measure"]) == list(CONTINUOUS)
    assert (frame["n_bootstrap"] == 100).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(horizon=100.0), "followed beyond it"),
        (dict(horizon=0.5), "0 death"),
        (dict(categories=[0.5, 0.2]), "increasing cut points"),
        (dict(categories=[0.0, 0.5]), "strictly between 0 and 1"),
        (dict(new=NEW * 4), "not a linear predictor"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    args = dict(new=NEW, horizon=5.0, categories=None)
    args.update(kwargs)
    with pytest.raises(SurvivalDataError, match=match):
        reclassification(
            TIME,
            EVENT,
            OLD,
            args["new"],
            args["horizon"],
            categories=args["categories"],
            n_bootstrap=0,
        )
