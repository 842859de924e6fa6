"""ICC(2,1) against R ``psych::ICC`` (type ICC2, full-precision CI) on the Shrout & Fleiss (1979)
Table 2 ratings. Reference file: ``ref_icc_psych.csv``."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.stats.icc import icc_2_1

from .r_reference import csv

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_icc2_matches_psych():
    ref = csv("ref_icc_psych.csv").iloc[0]
    res = icc_2_1(SHROUT_FLEISS)
    assert res.icc[0] == pytest.approx(ref["icc"], rel=1e-10)
    assert res.f_value[0] == pytest.approx(ref["f"], rel=1e-10)
    assert (res.df1, res.df2) == (ref["df1"], ref["df2"])
    assert res.p_value[0] == pytest.approx(ref["p"], rel=1e-8)
    # McGraw & Wong CI with Satterthwaite df, same formula as psych: 1e-8
    assert res.ci_lower[0] == pytest.approx(ref["lower"], rel=1e-8)
    assert res.ci_upper[0] == pytest.approx(ref["upper"], rel=1e-8)
