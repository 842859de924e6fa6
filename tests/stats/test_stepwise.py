"""Stepwise AIC selection recovers a planted model (both / forward / backward). The AIC values,
the path and both fitting engines are checked against R ``MASS::stepAIC`` in
``tests/reference/test_r_stepwise.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.stats.cox import fit_cox
from hcc_nomogram.stats.stepwise import stepwise_aic


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(7)
    n = 400
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    grp = rng.choice(3, n)
    X["g[1]"], X["g[2]"] = (grp == 1).astype(float), (grp == 2).astype(float)
    lp = 0.8 * X["x0"] - 0.6 * X["x1"] + 0.7 * X["g[2]"]
    t = rng.exponential(1 / np.exp(lp))
    c = rng.exponential(2.0, n)
    terms = {f"x{i}": [f"x{i}"] for i in range(6)} | {"g": ["g[1]", "g[2]"]}
    return np.minimum(t, c), (t <= c).astype(int), X, terms


@pytest.mark.parametrize("direction", ["both", "forward", "backward"])
def test_recovers_planted_terms(planted, direction):
    t, e, X, terms = planted
    res = stepwise_aic(t, e, X, terms, direction=direction, engine="numpy")
    assert {"x0", "x1", "g"} <= set(res.selected)
    assert len(res.selected) <= 4  # at most one noise term may sneak in under AIC


def test_no_move_lowers_aic_at_the_end(planted):
    t, e, X, terms = planted
    res = stepwise_aic(t, e, X, terms, direction="both", engine="numpy")
    for name in terms:
        chosen = [n for n in terms if (n in res.selected) != (n == name)]
        cols = [c for n in chosen for c in terms[n]]
        assert fit_cox(t, e, X[cols], engine="numpy").aic() >= res.aic - 1e-9


def test_keep_and_bic_penalty(planted):
    t, e, X, terms = planted
    res = stepwise_aic(t, e, X, terms, keep=["x5"], k=np.log(e.sum()), engine="numpy")
    assert "x5" in res.selected
    assert set(res.selected) == {"x0", "x1", "g", "x5"}
    with pytest.raises(ValueError, match="direction"):
        stepwise_aic(t, e, X, terms, direction="sideways")
