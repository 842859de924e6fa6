"""Table 1 tests against R: ``fisher.test`` on an R x C table and ``wilcox.test`` (normal
approximation with tie and continuity corrections, R's choice with tied values).
Reference file: ``ref_table1_tests.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.stats.table1 import fisher_exact_rxc, table1

from .r_reference import csv

REF = csv("ref_table1_tests.csv").set_index("test")["p"]


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("fisher_3x2", [[5, 1], [2, 6], [3, 3]]),
        ("fisher_4x2", [[12, 5], [7, 9], [3, 8], [10, 10]]),
        ("fisher_2x3", [[8, 2, 3], [1, 5, 4]]),  # transposed to 3 x 2
    ],
)
def test_fisher_rxc_matches_r(name, table):
    # exact enumeration on both sides: equal to float precision
    assert fisher_exact_rxc(table) == pytest.approx(REF[name], rel=1e-9)


def test_table1_p_values_match_r():
    df = pd.DataFrame(
        {
            "cohort": ["training"] * 6 + ["validation"] * 4,
            "bclc": list("BBCCCB") + list("CCCB"),
            "afp": [10, 500, 20, 800, 30, 40, 900, 10, 1000, 20],
        }
    )
    out = table1(
        df, "cohort", categorical=["bclc"], numeric=["afp"], group_order=["training", "validation"]
    )
    bclc = out[out["variable"] == "bclc"]["p_value"].dropna()
    assert bclc.iloc[0] == pytest.approx(REF["fisher_2x2_bclc"], rel=1e-9)
    afp = out[out["variable"] == "afp"].iloc[0]
    assert afp["test"] == "Mann-Whitney U"
    assert np.isclose(afp["p_value"], REF["wilcoxon_afp_ties"], rtol=1e-9)
