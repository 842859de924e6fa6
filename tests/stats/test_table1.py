"""Table 1: Fisher's exact (hand 2x2, R x C), Mann-Whitney U."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.stats.table1 import fisher_exact_rxc, table1


def test_fisher_2x2_hand_computed():
    # [[3, 1], [1, 3]]: hypergeometric P(a) = C(4,a) C(4,4-a) / C(8,4); tables as or more
    # extreme: a in {0, 1, 3, 4} -> (1 + 16 + 16 + 1) / 70
    hand = sum(math.comb(4, a) * math.comb(4, 4 - a) for a in (0, 1, 3, 4)) / math.comb(8, 4)
    assert hand == pytest.approx(34 / 70)
    assert fisher_exact_rxc([[3, 1], [1, 3]]) == pytest.approx(hand)


def test_fisher_rxc_and_degenerate():
    t = np.array([[5, 1], [2, 6], [3, 3]])
    assert 0 < fisher_exact_rxc(t) < 1
    assert fisher_exact_rxc([[3, 0], [4, 0]]) == 1.0


def test_table1_rows_and_tests():
    df = pd.DataFrame(
        {
            "cohort": ["training"] * 6 + ["validation"] * 4,
            "bclc": list("BBCCCB") + list("CCCB"),
            "afp": [10, 500, 20, 800, 30, 40, 900, 10, 1000, 20],
            "pvi": ["none", "Vp1", "Vp3", "none", "none", "Vp1", "Vp3", "Vp3", "none", np.nan],
        }
    )
    out = table1(
        df,
        "cohort",
        categorical=["bclc", "pvi"],
        numeric=["afp"],
        cutoffs={"afp": 400},
        group_order=["training", "validation"],
    )
    bclc = out[out.variable == "bclc"]
    assert bclc["training"].tolist() == ["3 (50.0%)", "3 (50.0%)"]
    assert bclc["p_value"].iloc[0] == pytest.approx(fisher_exact_rxc([[3, 1], [3, 3]]))
    assert "missing" in out[out.variable == "pvi"]["level"].tolist()
    num = out[out.variable == "afp"].iloc[0]
    assert num["test"] == "Mann-Whitney U"
    ref = stats.mannwhitneyu(df.afp[:6], df.afp[6:], alternative="two-sided").pvalue
    assert num["p_value"] == pytest.approx(ref)
    cut = out[out.variable == "afp (cut-off 400)"]
    assert cut["level"].tolist() == ["<=400", ">400"]
    with pytest.raises(InputDataError, match="'ecog'"):
        table1(df, "cohort", categorical=["ecog"])
