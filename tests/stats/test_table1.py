"""Table 1: Fisher's exact (hand 2x2), layout and errors. The R x C Fisher and Mann-Whitney P
values are checked against R in ``tests/reference/test_r_table1.py``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.stats.table1 import fisher_exact_rxc, table1


def test_fisher_2x2_hand_computed():
    # [[3, 1], [1, 3]]: hypergeometric P(a) = C(4,a) C(4,4-a) / C(8,4); tables as or more
    # extreme: a in {0, 1, 3, 4} -> (1 + 16 + 16 + 1) / 70
    hand = sum(math.comb(4, a) * math.comb(4, 4 - a) for a in (0, 1, 3, 4)) / math.comb(8, 4)
    assert hand == pytest.approx(34 / 70)
    assert fisher_exact_rxc([[3, 1], [1, 3]]) == pytest.approx(hand)


def test_fisher_rxc_and_degenerate():
    assert fisher_exact_rxc([[3, 0], [4, 0]]) == 1.0  # empty column dropped: one table
    # R x C beyond R x 2: seeded Monte Carlo, so the same P on every call
    t = [[5, 1, 2], [2, 6, 1], [3, 3, 4]]
    assert fisher_exact_rxc(t) == fisher_exact_rxc(t)


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
    # BCLC B: 3 of 6 training, 1 of 4 validation. a = training patients among the 4 with B:
    # P(a) = C(6, a) C(4, 4 - a) / C(10, 4) = (1, 24, 90, 80, 15) / 210 for a = 0..4; tables
    # no more likely than the observed a = 3: a in {0, 1, 3, 4} -> 120 / 210 (R: 0.5714286)
    hand = sum(math.comb(6, a) * math.comb(4, 4 - a) for a in (0, 1, 3, 4)) / math.comb(10, 4)
    assert bclc["p_value"].iloc[0] == pytest.approx(hand)
    assert "missing" in out[out.variable == "pvi"]["level"].tolist()
    num = out[out.variable == "afp"].iloc[0]
    assert num["test"] == "Mann-Whitney U"
    assert 0 < num["p_value"] <= 1  # value checked against R wilcox.test in tests/reference
    cut = out[out.variable == "afp (cut-off 400)"]
    assert cut["level"].tolist() == ["<=400", ">400"]
    with pytest.raises(InputDataError, match="'ecog'"):
        table1(df, "cohort", categorical=["ecog"])
