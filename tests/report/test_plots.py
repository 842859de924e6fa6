import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import synthetic as S

from hcc_nomogram.report import images, plots
from hcc_nomogram.report.errors import ReportInputError, require_columns, require_input
from hcc_nomogram.report.survival import format_p, km_steps, logrank_p, numbers_at_risk


def test_km_steps_hand_computed():
    # times 1,2,3,4 with events 1,0,1,1: S = 3/4 at 1, 3/4*1/2 at 3, 0 at 4
    steps = km_steps([1, 2, 3, 4], [1, 0, 1, 1])
    assert steps["time"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(steps["survival"], [1, 0.75, 0.75, 0.375, 0.0])
    flat = km_steps([3, 1, 3], [0, 0, 0])  # no event: flat at 1
    assert flat["time"].tolist() == [0, 1, 3] and (flat[["survival", "lower", "upper"]] == 1).all(
        None
    )


def test_numbers_at_risk_and_logrank():
    assert numbers_at_risk([1, 5, 13, 30], [0, 12, 24]) == [4, 2, 1]
    c = S.clinical(200)
    p = logrank_p(c.os_months, c.os_event, c.signature_lp > 0)
    assert p < 0.05  # the synthetic signature is prognostic
    assert np.isnan(logrank_p([1, 2], [1, 1], ["a", "a"]))
    assert format_p(0.0001) == "P < 0.001" and format_p(0.0123) == "P = 0.012"


def test_km_figure_has_curves_censor_marks_and_at_risk_table():
    c = S.clinical()
    fig = plots.km_figure(
        c.os_months,
        c.os_event,
        c.cohort,
        plots.KMAxes(at_risk_every=12, max_time=48, group_order=["training", "validation"]),
        show_logrank=True,
    )
    names = [t.name for t in fig.data if t.name]
    assert any(n.startswith("training (n=48)") for n in names)
    at_risk = [t for t in fig.data if t.mode == "text"]
    assert len(at_risk) == 2
    assert at_risk[0].text[0] == "48" and list(at_risk[0].x) == [0, 12, 24, 36, 48]
    assert any("Log-rank P" in a.text for a in fig.layout.annotations)


def test_km_figure_rejects_empty():
    with pytest.raises(ValueError, match="no patients"):
        plots.km_figure([1.0], [1], ["a"], plots.KMAxes(group_order=["b"]))


def test_icc_histogram_counts_passing_features():
    icc = pd.concat(
        [
            S.icc_table("arterial").assign(phase="arterial"),
            S.icc_table("portal", seed=2).assign(phase="portal"),
        ]
    )
    fig = plots.icc_histogram(icc, threshold=0.75, icc_columns=["icc_intra", "icc_inter"])
    n_pass = int(
        (icc[icc.phase == "arterial"][["icc_intra", "icc_inter"]] >= 0.75).all(axis=1).sum()
    )
    assert fig.layout.annotations[0].text.startswith(f"arterial: {n_pass} of 60")


def test_signature_cv_cindex_calibration_auc_figures():
    assert len(plots.signature_weights_figure(S.weights()).data[0].y) == 3  # zero weight dropped
    cv = plots.cv_curve_figure(
        S.cv_results(),
        plots.CVColumns(x="alpha", mean="mean_c_index", sd="sd_c_index"),
        selected_x=0.03,
    )
    assert cv.layout.xaxis.type == "log"
    ci = plots.cindex_figure(S.cindex())
    assert {t.name for t in ci.data} == {"training", "validation"}
    cal = plots.calibration_figure(S.calibration())
    assert all("RMSE" in t.name for t in cal.data if t.showlegend is not False)
    auc = plots.time_auc_figure(S.time_auc())
    assert len(auc.data) == 4


def test_calibration_rmse_value():
    cal = pd.DataFrame(
        {
            "cohort": "training",
            "model": "m",
            "time": 12,
            "predicted": [0.2, 0.5, 0.8],
            "observed": [0.3, 0.5, 0.7],
        }
    )
    fig = plots.calibration_figure(cal, plots.CalibrationColumns(lower=None, upper=None))
    assert f"RMSE {np.sqrt(0.02 / 3):.3f}" in fig.data[0].name


def test_image_grid_draws_contour_and_overlay():
    img, mask = S.crop()
    fig = images.image_grid_figure(
        [[{"image": img, "mask": mask, "overlay": mask * 0.5}]], stride=2
    )
    types = [t.type for t in fig.data]
    assert types == ["heatmap", "heatmap", "contour"]
    assert np.asarray(fig.data[0].z).shape == (112, 112)


def test_missing_inputs_name_the_pipeline_to_run():
    with pytest.raises(ReportInputError, match=r"kedro run --pipelines=signature` first"):
        require_input(None, "signature_weights", "Signature")
    with pytest.raises(ReportInputError, match=r"columns \['os_event'\].*--pipelines=demo_cohort"):
        require_columns(
            pd.DataFrame({"os_months": [1]}), ["os_months", "os_event"], "clinical_table", "Cohort"
        )


def test_figures_are_json_serialisable():
    fig = plots.km_figure(*S.clinical()[["os_months", "os_event", "cohort"]].T.values)
    assert isinstance(go.Figure(fig.to_dict()), go.Figure)
    assert fig.to_json()


def test_smooth_calibration_figure_has_band_curve_points_per_panel():
    curve = S.nomogram_smooth_calibration("integrated")[1]
    points = S.nomogram_calibration("integrated")[0].assign(
        predicted_risk=lambda d: 1 - d["mean_predicted"], observed_risk=lambda d: 1 - d["observed"]
    )
    fig = plots.smooth_calibration_figure(
        curve, points, ici={("integrated", 12.0, "validation"): 0.043}
    )
    assert len(fig.layout.annotations) == 4  # 2 horizons x 2 cohorts
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == 4
    band = bands[0]
    n = len(curve) // 4
    assert len(band.x) == 2 * n  # upper edge forward, lower edge back: a closed polygon
    assert any("ICI 0.043" in (t.name or "") for t in fig.data)
    # a non-estimable grouped point (validation, group 1) is not drawn
    drawn = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in drawn) == len(points.dropna(subset=["observed"]))
