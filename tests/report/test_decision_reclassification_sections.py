"""Report sections `decision_curves` and `reclassification`: figures, tables, degraded
inputs, and their place in the synthetic reporting runs."""

import numpy as np
import pandas as pd
import pytest
import synthetic as S

from hcc_nomogram.report.errors import ReportInputError
from hcc_nomogram.report.sections import decision_curves_section, reclassification_section


def _html(sec) -> str:
    return "\n".join(sec.blocks)


def test_decision_curve_figure_has_one_panel_per_cohort_and_horizon():
    figs, sec = decision_curves_section(S.decision_curves())
    fig = figs["decision_curves"]
    assert sec.id == "decision_curves"
    # 2 cohorts x 2 horizons panels, 4 strategies each; legend once per strategy
    assert len(fig.data) == 16
    assert sorted(t.name for t in fig.data if t.showlegend) == [
        "clinical",
        "integrated",
        "treat_all",
        "treat_none",
    ]
    assert "validation, 24 months" in [a.text for a in fig.layout.annotations]
    html = _html(sec)
    assert "NB at 0.1" in html and "beats both references at thresholds" in html


def test_useful_threshold_range_is_where_the_model_beats_both_references():
    thr = [0.1, 0.2, 0.3, 0.4]
    rows = []
    for s, nb in (
        ("m", [0.30, 0.25, 0.12, -0.01]),
        ("treat_all", [0.31, 0.20, 0.05, -0.1]),
        ("treat_none", [0, 0, 0, 0]),
    ):
        rows += [
            dict(cohort="training", horizon=12.0, strategy=s, threshold=t, net_benefit=v)
            for t, v in zip(thr, nb)
        ]
    _, sec = decision_curves_section(pd.DataFrame(rows))
    # m beats treat-all and treat-none at 0.2 and 0.3 only
    assert "0.20-0.30" in _html(sec)


def test_decision_curves_missing_column_names_the_pipeline():
    with pytest.raises(ReportInputError, match="nomogram"):
        decision_curves_section(S.decision_curves().drop(columns="net_benefit"))


def test_decision_curves_degrade_to_not_available():
    na = pd.DataFrame([{"available": False, "note": "no nomogram available"}])
    figs, sec = decision_curves_section(na)
    assert "not available" in figs["decision_curves"].layout.title.text
    assert "Decision curves: not available (no nomogram available)." in _html(sec)


def test_reclassification_forest_plot_and_table():
    figs, sec = reclassification_section(S.reclassification())
    fig = figs["reclassification"]
    assert [a.text for a in fig.layout.annotations][:3] == [
        "Continuous NRI",
        "Categorical NRI",
        "IDI",
    ]
    assert len(fig.data) == 3 and list(fig.data[0].y) == [
        "training, 12 mo",
        "training, 24 mo",
        "validation, 12 mo",
        "validation, 24 mo",
    ]
    rec = S.reclassification()
    row = rec[(rec["cohort"] == "training") & (rec["horizon"] == 12) & (rec["measure"] == "idi")]
    e = row.iloc[0]
    assert f"{e['estimate']:.3f} ({e['ci_lower']:.3f} to {e['ci_upper']:.3f})" in _html(sec)
    np.testing.assert_allclose(fig.data[2].x, rec.loc[rec["measure"] == "idi", "estimate"])


def test_reclassification_degrades_to_not_available():
    figs, sec = reclassification_section(S.reclassification(integrated=False))
    assert "not available" in figs["reclassification"].layout.title.text
    assert "integrated model not available" in _html(sec)
    skipped = pd.concat(
        [
            S.reclassification(),
            pd.DataFrame(
                [
                    {
                        "cohort": "validation",
                        "horizon": 48.0,
                        "available": False,
                        "note": "0 patient(s) followed beyond it",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    _, sec = reclassification_section(skipped)
    assert "validation, 48 months: not estimable (0 patient(s) followed beyond it)" in _html(sec)


def test_sections_are_in_both_reports(report_run, clinical_only_run):
    html = report_run.load("hcc_nomogram_report")
    assert '<section id="decision_curves"' in html and '<section id="reclassification"' in html
    clinical = clinical_only_run.load("hcc_nomogram_clinical_report")
    assert '<section id="decision_curves"' in clinical
    assert "Reclassification (integrated vs clinical): not available" in clinical
