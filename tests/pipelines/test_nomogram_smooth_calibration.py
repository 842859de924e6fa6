"""The `assess_smooth_calibration` node: one metrics row per cohort x horizon, the curve table,
NaN-with-a-note when a statistic cannot be estimated, and the not-available model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.pipelines.nomogram import nodes as nn

PARAMS = {
    "candidate_factors": [{"name": "sex", "column": "sex"}],
    "calibration": {"horizons_months": [12, 60], "band_resamples": 10, "band_seed": 1},
}


def _predictions(n=80, seed=0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(size=n)
    t = rng.exponential(20 / np.exp(lp))
    c = rng.uniform(10, 40, n)  # nobody followed to 60 months
    out = pd.DataFrame(
        {
            "model": "integrated",
            "cohort": np.where(np.arange(n) < n // 2, "training", "validation"),
            "time": np.minimum(t, c),
            "event": (t <= c).astype(int),
            "linear_predictor": lp,
        }
    )
    for h in (12, 60):
        out[f"surv_{h}"] = np.exp(-h / 20 * np.exp(lp))  # the true model's survival
    return out


def test_metrics_and_curve_per_cohort_and_horizon():
    metrics, curve = nn.assess_smooth_calibration(_predictions(), PARAMS)
    assert list(metrics[["cohort", "horizon"]].itertuples(index=False, name=None)) == [
        ("training", 12),
        ("training", 60),
        ("validation", 12),
        ("validation", 60),
    ]
    at12 = metrics[metrics["horizon"] == 12]
    assert at12[["slope", "oe_ratio", "ici", "e50", "e90"]].notna().all().all()
    assert (at12["e50"] <= at12["e90"]).all() and (at12["e90"] <= at12["emax"]).all()
    # true-model predictions: the slope's CI and the O/E CI contain 1
    assert ((at12["slope_ci_lower"] < 1) & (1 < at12["slope_ci_upper"])).all()
    assert ((at12["oe_ci_lower"] < 1) & (1 < at12["oe_ci_upper"])).all()
    # 60 months: no follow-up there -> O/E is NaN and the note says why
    at60 = metrics[metrics["horizon"] == 60]
    assert at60["oe_ratio"].isna().all()
    assert at60["note"].str.contains("follow-up ends before the horizon").all()
    assert set(curve.columns) == {
        "model",
        "cohort",
        "horizon",
        "predicted_risk",
        "observed_risk",
        "ci_lower",
        "ci_upper",
    }
    assert len(curve) == 4 * 50 and (curve["ci_lower"] <= curve["ci_upper"]).all()


def test_unavailable_model_and_missing_horizon():
    metrics, curve = nn.assess_smooth_calibration(pd.DataFrame(), PARAMS)
    assert not metrics["available"].iloc[0] and not curve["available"].iloc[0]
    with pytest.raises(InputDataError, match="surv_60"):
        nn.assess_smooth_calibration(_predictions().drop(columns="surv_60"), PARAMS)
