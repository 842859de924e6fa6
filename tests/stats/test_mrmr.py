"""mRMR wrapper: discretisation, outcome class, the pymrmr call (checked against a plain
Python implementation of Peng's MID/MIQ), stdout capture and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sksurv.nonparametric import kaplan_meier_estimator

from hcc_nomogram.errors import InputDataError, SurvivalDataError
from hcc_nomogram.stats.mrmr import (
    discretise,
    fit_discretiser,
    km_median,
    mrmr_rank,
    mutual_information,
    survival_class,
)


def _reference_mrmr(states: pd.DataFrame, y, k, method="MID"):
    """Peng's greedy mRMR, written out plainly (no pool)."""
    x = states.to_numpy()
    relevance = mutual_information(x, y)
    selected = [int(np.argmax(relevance))]
    while len(selected) < k:
        best, best_score = None, -np.inf
        for j in range(x.shape[1]):
            if j in selected:
                continue
            red = np.mean([mutual_information(x[:, [s]], x[:, j])[0] for s in selected])
            score = relevance[j] - red if method == "MID" else relevance[j] / (red + 1e-4)
            if score > best_score + 1e-12:
                best, best_score = j, score
        selected.append(best)
    return [states.columns[j] for j in selected]


def test_discretiser_uses_fit_statistics_only():
    train = pd.DataFrame({"a_f0001": [0.0, 1, 2, 3, 4], "a_f0002": [10.0, 10, 10, 10, 11]})
    d = fit_discretiser(train, k_sd=0.5)
    # a_f0001: mean 2, sd 1.581 -> cuts 1.209 / 2.791
    assert discretise(train, d)["a_f0001"].tolist() == [-1, -1, 0, 1, 1]
    new = pd.DataFrame({"a_f0001": [100.0, -100, 2], "a_f0002": [10.2, 10.2, 10.2]})
    out = discretise(new, d)
    assert out["a_f0001"].tolist() == [1, -1, 0]
    assert out.dtypes.iloc[0] == np.int8
    assert d.mean[0] == pytest.approx(2.0)


def test_discretiser_rejects_constant_and_missing():
    with pytest.raises(InputDataError, match="constant"):
        fit_discretiser(pd.DataFrame({"a_f0001": [1.0, 1.0, 1.0]}))
    with pytest.raises(InputDataError, match="missing or infinite"):
        fit_discretiser(pd.DataFrame({"a_f0001": [1.0, np.nan, 2.0]}))
    with pytest.raises(InputDataError, match="no feature"):
        fit_discretiser(pd.DataFrame(index=range(3)))


def test_survival_class_horizon_rules():
    time = [2, 5, 5, 8, 12]
    event = [1, 0, 1, 1, 0]
    cls = survival_class(time, event, horizon=6)
    # death at 2 -> 1; censored at 5 <= H -> unknown; death at 5 -> 1; followed past 6 -> 0
    np.testing.assert_array_equal(cls, [1, np.nan, 1, 0, 0])


def test_km_median_matches_scikit_survival():
    rng = np.random.default_rng(0)
    time = np.round(rng.exponential(10, 80), 1)
    event = rng.uniform(size=80) < 0.7
    t, s = kaplan_meier_estimator(event, time)
    assert km_median(time, event) == pytest.approx(t[np.argmax(s <= 0.5)])
    with pytest.raises(SurvivalDataError, match="median is not reached"):
        km_median([1, 2, 3, 4], [1, 0, 0, 0])


def _planted_states(n=150, p=25, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"arterial_f{i:04d}" for i in range(p)])
    y = (x["arterial_f0003"] - 0.8 * x["arterial_f0004"] + 0.5 * rng.normal(size=n)) > 0
    return discretise(x, fit_discretiser(x)), y.astype(int).to_numpy()


@pytest.mark.parametrize("method", ["MID", "MIQ"])
def test_mrmr_rank_matches_reference_and_finds_planted(method, capfd):
    states, y = _planted_states()
    ranking = mrmr_rank(states, y, method=method, n_features=6, pool_size=None)
    assert set(ranking["feature"][:2]) == {"arterial_f0003", "arterial_f0004"}
    assert ranking["feature"].tolist() == _reference_mrmr(states, y, 6, method)
    assert ranking["rank"].tolist() == list(range(1, 7))
    assert ranking["relevance_mi"].iloc[0] == pytest.approx(ranking["mrmr_score"].iloc[0], abs=1e-3)
    assert ranking["mrmr_score"].notna().all()
    out, _ = capfd.readouterr()
    assert "mRMR" not in out and "Peng" not in out  # the C++ printf output is captured


def test_mrmr_rank_clamps_and_pools():
    states, y = _planted_states(p=8)
    ranking = mrmr_rank(states, y, n_features=50, pool_size=None)
    assert sorted(ranking["feature"]) == sorted(states.columns)  # no class column sneaks in
    pooled = mrmr_rank(states, y, n_features=50, pool_size=3)
    assert len(pooled) == 3 and pooled["feature"].iloc[0] == "arterial_f0003"


def test_mrmr_rank_bad_inputs():
    states, y = _planted_states(p=5)
    with pytest.raises(SurvivalDataError, match="single value"):
        mrmr_rank(states, np.zeros_like(y))
    with pytest.raises(InputDataError, match="missing classes"):
        mrmr_rank(states, np.where(y == 1, np.nan, 0))
    with pytest.raises(InputDataError, match="values for"):
        mrmr_rank(states, y[:-1])
    with pytest.raises(ValueError, match="method"):
        mrmr_rank(states, y, method="JMI")
