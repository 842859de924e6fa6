"""Harrell's C: hand-computed cases, two independent references (scikit-survival, lifelines),
the IJ standard error against a numerical derivative and the jackknife, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines.utils import concordance_index as lifelines_ci
from sksurv.metrics import concordance_index_censored

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.concordance import (
    CIndexComparison,
    ConcordanceResult,
    compare_c_indices,
    harrell_c_index,
)

# time [1, 1, 2, 3], event [1, 0, 1, 0], risk [2, 2, 1, 3]
# comparable pairs (earlier death first): (0,1) tied time, 0 died -> tied risk; (0,2) conc;
# (0,3) disc; (2,3) disc. C = (1 + 0.5) / 4 = 0.375.
# IJ: m = [3, 1, 2, 2], s = [1.5, 0.5, 1, 0], U = (s - C m) / 4 = [3/32, 1/32, 1/16, -3/16]
TIE_CASE = (np.array([1, 1, 2, 3.0]), np.array([1, 0, 1, 0]), np.array([2, 2, 1, 3.0]))
TIE_CASE_VAR = (3 / 32) ** 2 + (1 / 32) ** 2 + (1 / 16) ** 2 + (3 / 16) ** 2


def _synthetic(n=150, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = rng.exponential(np.exp(-0.8 * x)) * 12
    c = rng.exponential(15, size=n)
    time = np.minimum(t, c)
    event = (t <= c).astype(int)
    risk = x + rng.normal(scale=0.7, size=n)
    if ties:
        time = np.ceil(time)  # monthly follow-up: many tied times
        risk = np.round(risk, 1)  # many tied risks
    return time, event, risk


def _weighted_c(time, event, risk, w):
    """C with case weights: sum w_i w_j S_ij / sum w_i w_j M_ij, by brute force."""
    num = den = 0.0
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                s = 1.0 if risk[i] > risk[j] else (0.5 if risk[i] == risk[j] else 0.0)
                num += w[i] * w[j] * s
                den += w[i] * w[j]
    return num / den


def test_perfect_and_reversed_ranking():
    time, event = np.array([1, 2, 3, 4.0]), np.ones(4)
    res = harrell_c_index(time, event, [4, 3, 2, 1])
    assert isinstance(res, ConcordanceResult)
    assert (res.c_index, res.n_concordant, res.n_comparable) == (1.0, 6, 6)
    assert res.se == pytest.approx(0.0, abs=1e-12)
    assert harrell_c_index(time, event, [1, 2, 3, 4]).c_index == 0.0


def test_censored_earlier_time_is_not_comparable():
    # (0,1) and (0,2) comparable and discordant; (1,2): earlier time censored -> not comparable
    res = harrell_c_index([1, 2, 3], [1, 0, 1], [1, 2, 3])
    assert (res.c_index, res.n_discordant, res.n_comparable) == (0.0, 2, 2)


def test_hand_computed_ties_and_ij_variance():
    res = harrell_c_index(*TIE_CASE)
    assert res.c_index == pytest.approx(0.375)
    assert (res.n_concordant, res.n_discordant, res.n_tied_risk, res.n_comparable) == (1, 2, 1, 4)
    assert res.se == pytest.approx(np.sqrt(TIE_CASE_VAR))
    z = 1.959963984540054
    assert res.ci_lower == pytest.approx(max(0, 0.375 - z * res.se))
    assert res.ci_upper == pytest.approx(min(1, 0.375 + z * res.se))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_survival_and_lifelines(seed):
    time, event, risk = _synthetic(seed=seed)
    res = harrell_c_index(time, event, risk)
    c_sk, conc, disc, tied_risk, _ = concordance_index_censored(event.astype(bool), time, risk)
    assert res.c_index == pytest.approx(c_sk, abs=1e-12)
    assert (res.n_concordant, res.n_discordant, res.n_tied_risk) == (conc, disc, tied_risk)
    # lifelines: higher score = LONGER survival, so pass -risk
    assert res.c_index == pytest.approx(lifelines_ci(time, -risk, event), abs=1e-12)


def test_ij_se_is_the_derivative_of_weighted_c():
    time, event, risk = _synthetic(n=25, seed=3)
    res = harrell_c_index(time, event, risk)
    w0 = np.ones(len(time))
    eps = 1e-6
    grads = []
    for k in range(len(time)):
        wp, wm = w0.copy(), w0.copy()
        wp[k] += eps
        wm[k] -= eps
        grads.append(
            (_weighted_c(time, event, risk, wp) - _weighted_c(time, event, risk, wm)) / (2 * eps)
        )
    assert res.se == pytest.approx(np.sqrt(np.sum(np.square(grads))), rel=1e-5)


def test_jackknife_matches_brute_force_and_ij():
    time, event, risk = _synthetic(n=60, seed=4)
    n = len(time)
    loo = np.array(
        [
            harrell_c_index(np.delete(time, k), np.delete(event, k), np.delete(risk, k)).c_index
            for k in range(n)
        ]
    )
    se_brute = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    res_jk = harrell_c_index(time, event, risk, method="jackknife")
    assert res_jk.se == pytest.approx(se_brute, rel=1e-9)
    assert res_jk.se == pytest.approx(harrell_c_index(time, event, risk).se, rel=0.15)


def test_blockwise_enumeration_matches_small_blocks(monkeypatch):
    import hcc_nomogram.stats.concordance as mod

    time, event, risk = _synthetic(n=80, seed=5)
    full = harrell_c_index(time, event, risk)
    monkeypatch.setattr(mod, "_BLOCK", 7)
    assert harrell_c_index(time, event, risk) == full


def test_se_covers_truth_in_simulation():
    """Coverage check: the IJ SE matches the spread of C over replicate cohorts."""
    cs, ses = [], []
    for seed in range(60):
        time, event, risk = _synthetic(n=120, seed=100 + seed, ties=False)
        res = harrell_c_index(time, event, risk)
        cs.append(res.c_index)
        ses.append(res.se)
    assert np.mean(ses) == pytest.approx(np.std(cs, ddof=1), rel=0.3)


def test_compare_identical_scores_and_monotone_transform():
    time, event, risk = _synthetic(seed=6, ties=False)
    assert compare_c_indices(time, event, risk, risk) == CIndexComparison(0.0, 0.0, 0.0, 1.0)
    r = compare_c_indices(time, event, risk, np.exp(risk))
    assert (r.delta, r.se, r.p_value) == (pytest.approx(0.0, abs=1e-12), 0.0, 1.0)


def test_compare_against_brute_force_jackknife_and_ij():
    time, event, risk_a = _synthetic(n=70, seed=7)
    rng = np.random.default_rng(7)
    risk_b = risk_a + rng.normal(scale=1.5, size=len(time))
    r = compare_c_indices(time, event, risk_a, risk_b)
    delta, se, z, p = r.delta, r.se, r.z, r.p_value
    ca, cb = harrell_c_index(time, event, risk_a), harrell_c_index(time, event, risk_b)
    assert delta == pytest.approx(ca.c_index - cb.c_index)
    assert z == pytest.approx(delta / se)
    # the paired SE is smaller than the unpaired one (positive covariance)
    assert se < np.hypot(ca.se, cb.se)
    n = len(time)
    d = np.array(
        [
            harrell_c_index(np.delete(time, k), np.delete(event, k), np.delete(risk_a, k)).c_index
            - harrell_c_index(np.delete(time, k), np.delete(event, k), np.delete(risk_b, k)).c_index
            for k in range(n)
        ]
    )
    se_brute = np.sqrt((n - 1) / n * np.sum((d - d.mean()) ** 2))
    se_jk = compare_c_indices(time, event, risk_a, risk_b, method="jackknife").se
    assert se_jk == pytest.approx(se_brute, rel=1e-9)
    assert se == pytest.approx(se_jk, rel=0.2)
    assert 0 < p < 1


def test_compare_detects_a_better_score():
    time, event, risk = _synthetic(n=400, seed=8, ties=False)
    noise = np.random.default_rng(999).normal(size=len(time))  # not the seed of x
    r = compare_c_indices(time, event, risk, noise)
    assert r.z > 0 and r.p_value < 1e-3


@pytest.mark.parametrize(
    ("time", "event", "risk", "match"),
    [
        ([1, -2, 3], [1, 1, 0], [1, 2, 3], "negative"),
        ([1, 2, 3], [0, 0, 0], [1, 2, 3], "all samples are censored"),
        ([1, 2, 3], [1, 0], [1, 2, 3], "different lengths"),
        ([1, 2, 3], [1, 0, 1], [1, 2], "one value per patient"),
        ([1, np.nan, 3], [1, 0, 1], [1, 2, 3], "missing or infinite"),
        ([1, 2, 3], [1, 2, 0], [1, 2, 3], "coded 1 = event"),
        ([1, 2, 3], [1, 0, 1], [1, np.inf, 3], "non-finite"),
        ([2, 2], [1, 1], [1, 2], "no comparable pair"),
        ([1], [1], [1], "at least 2"),
    ],
)
def test_bad_inputs_raise_survival_data_error(time, event, risk, match):
    with pytest.raises(SurvivalDataError, match=match):
        harrell_c_index(time, event, risk)


def test_bad_method_and_alpha():
    with pytest.raises(ValueError, match="method"):
        harrell_c_index(*TIE_CASE, method="bootstrap")
    with pytest.raises(ValueError, match="alpha"):
        harrell_c_index(*TIE_CASE, alpha=1.5)
