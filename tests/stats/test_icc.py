"""ICC(2,1): textbook example (Shrout & Fleiss 1979) and agreement with pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from hcc_nomogram.stats.icc import icc_2_1

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    dtype=float,
)


def _pingouin_icc2(ratings: np.ndarray) -> pd.Series:
    n, k = ratings.shape
    long = pd.DataFrame(
        {
            "target": np.repeat(np.arange(n), k),
            "rater": np.tile(np.arange(k), n),
            "score": ratings.ravel(),
        }
    )
    table = pg.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    return table.set_index("Type").loc["ICC(A,1)"]  # = ICC2 in pingouin < 0.7


def test_shrout_fleiss_textbook_value():
    res = icc_2_1(SHROUT_FLEISS)
    assert res.icc[0] == pytest.approx(0.29, abs=0.005)  # published: ICC(2,1) = 0.29
    # ANOVA by hand: MSR = 11.24, MSC = 32.49, MSE = 1.02 (Shrout & Fleiss Table 3)
    assert res.f_value[0] == pytest.approx(11.24 / 1.02, rel=0.01)
    assert (res.df1, res.df2, res.n_targets, res.n_raters) == (5, 15, 6, 4)
    assert res.ci_lower[0] < 0.29 < res.ci_upper[0]


def test_shrout_fleiss_matches_pingouin_including_ci():
    ref = _pingouin_icc2(SHROUT_FLEISS)
    res = icc_2_1(SHROUT_FLEISS)
    assert res.icc[0] == pytest.approx(ref["ICC"], abs=1e-10)
    assert res.f_value[0] == pytest.approx(ref["F"], rel=1e-10)
    assert res.p_value[0] == pytest.approx(ref["pval"], rel=1e-8)
    # pingouin rounds its CI to 2 decimals
    assert res.ci_lower[0] == pytest.approx(ref["CI95"][0], abs=0.006)
    assert res.ci_upper[0] == pytest.approx(ref["CI95"][1], abs=0.006)


def test_vectorised_matches_pingouin_feature_by_feature():
    rng = np.random.default_rng(7)
    n, k, p = 20, 2, 6
    truth = rng.normal(size=(n, 1, p))
    noise = rng.normal(scale=np.linspace(0.1, 2.0, p), size=(n, k, p))
    bias = np.array([0.0, 0.5])[None, :, None]
    ratings = truth + noise + bias
    res = icc_2_1(ratings)
    assert res.icc.shape == (p,)
    for j in range(p):
        ref = _pingouin_icc2(ratings[:, :, j])
        assert res.icc[j] == pytest.approx(ref["ICC"], abs=1e-10)
        assert res.ci_lower[j] == pytest.approx(ref["CI95"][0], abs=0.006)
        assert res.ci_upper[j] == pytest.approx(ref["CI95"][1], abs=0.006)
    # reproducibility decreases with the noise level
    assert res.icc[0] > res.icc[-1] + 0.3


def test_perfect_agreement_and_constant_feature():
    x = np.arange(10, dtype=float)
    ratings = np.stack([np.stack([x, x], axis=1), np.ones((10, 2))], axis=2)
    res = icc_2_1(ratings)
    assert res.icc[0] == pytest.approx(1.0)
    assert np.isnan(res.icc[1])  # no variance at all: ICC undefined


def test_absolute_agreement_penalises_rater_bias():
    x = np.linspace(0, 1, 12)
    consistent = icc_2_1(np.stack([x, x + 1.0], axis=1))
    assert consistent.icc[0] < 0.5  # ICC(2,1) is absolute agreement, not consistency


@pytest.mark.parametrize(
    ("ratings", "match"),
    [
        (np.ones((1, 2)), "at least 2 targets"),
        (np.ones((5,)), "targets, raters"),
        (np.array([[1.0, np.nan], [2.0, 2.0], [3.0, 3.0]]), "NaN"),
    ],
)
def test_invalid_input_raises(ratings, match):
    with pytest.raises(ValueError, match=match):
        icc_2_1(ratings)
