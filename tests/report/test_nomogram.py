import numpy as np
import pandas as pd
import pytest
import synthetic as S

from hcc_nomogram.report.errors import ReportInputError
from hcc_nomogram.report.nomogram import (
    nice_step,
    nomogram_figure,
    survival_tick_positions,
)
from hcc_nomogram.report.sections import nomogram_figures


def test_survival_ticks_invert_the_survival_curve():
    _, surv = S.nomogram_tables(n_grid=2001)
    ticks = survival_tick_positions(surv, 12.0, ticks=[0.8, 0.5])
    # S = 0.85 ** exp(lp), lp = tp * 1.2 / 100 -> tp = ln(ln S / ln 0.85) * 100 / 1.2
    expected = [np.log(np.log(p) / np.log(0.85)) * 100 / 1.2 for p in (0.8, 0.5)]
    np.testing.assert_allclose(ticks["total_points"], expected, atol=0.05)


def test_nomogram_figure_has_every_axis():
    fig = nomogram_figure(*S.nomogram_tables(), times=(12, 24, 36))
    labels = [a.text for a in fig.layout.annotations]
    assert labels == [
        "<b>Points</b>",
        "<b>BCLC stage</b>",
        "<b>AFP (ng/mL)</b>",
        "<b>DL signature</b>",
        "<b>Total points</b>",
        "<b>12-month OS probability</b>",
        "<b>24-month OS probability</b>",
        "<b>36-month OS probability</b>",
    ]
    text = [t for t in fig.data if t.mode == "text"]
    assert list(text[0].text) == [str(v) for v in range(0, 101, 10)]
    assert list(text[1].text) == ["B", "C"]


def test_nomogram_figure_from_stats_points_table_layout():
    points = pd.DataFrame(
        {
            "model": "clinical",
            "term": ["bclc", "bclc"],
            "label": "BCLC",
            "level": ["B", "C"],
            "value": [0, 1],
            "coef_contribution": [0, 0.7],
            "points": [0.0, 100.0],
        }
    )
    scale = pd.DataFrame(
        {
            "model": "clinical",
            "total_points": [0, 50, 100],
            "linear_predictor": [0, 0.35, 0.7],
            "surv_12": [0.9, 0.8, 0.7],
            "surv_24": [0.8, 0.6, 0.45],
        }
    )
    fig = nomogram_figures(points, scale, model="clinical", times=(12, 24))
    assert "<b>24-month OS probability</b>" in [a.text for a in fig.layout.annotations]


def test_nomogram_figure_rejects_bad_tables():
    with pytest.raises(ReportInputError, match="'points'"):
        nomogram_figure(
            pd.DataFrame({"factor": [], "level": []}),
            pd.DataFrame({"total_points": [], "time": [], "survival": []}),
        )
    assert nice_step(183) == 20
