"""The reporting pipeline on an in-memory catalog of synthetic upstream outputs."""

import logging

import pytest
import synthetic as S
from conftest import synthetic_catalog
from kedro.runner import SequentialRunner

from hcc_nomogram.pipelines.reporting.nodes import build_signature_section, compute_cam_panels
from hcc_nomogram.pipelines.reporting.pipeline import (
    CLINICAL_SECTIONS,
    SECTION_FIGURES,
    WIRED_SECTIONS,
    create_pipeline,
)
from hcc_nomogram.report.errors import ReportInputError
from hcc_nomogram.report.static import browser_path


def test_report_has_every_wired_section_and_a_banner(report_run):
    html = report_run.load("hcc_nomogram_report")
    for section in WIRED_SECTIONS:
        assert f'<section id="{section}"' in html
    assert "RANDOM DenseNet-121 weights" in html.split("<h1>")[0]


def test_every_figure_has_json_and_png(report_run):
    for section in WIRED_SECTIONS:
        for fig in SECTION_FIGURES[section]:
            assert report_run.load(f"report_{fig}_figure").data
            if browser_path():  # without one: test_no_browser_run_writes_the_report_not_the_pngs
                assert report_run.load(f"report_{fig}_png").size[0] == 500


def test_no_browser_run_writes_the_report_not_the_pngs(tmp_path, monkeypatch, caplog):
    """No Chrome/Chromium (choreographer's BROWSER_PATH names a missing file) and the default
    ``static_images: auto``: the run completes, the HTML is whole, no PNG is written."""
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium-here"))
    catalog = synthetic_catalog(tmp_path / "data", integrated=False, images=False)
    with caplog.at_level(logging.WARNING):
        SequentialRunner().run(create_pipeline().only_nodes_with_tags("clinical_report"), catalog)
    html = catalog.load("hcc_nomogram_clinical_report")
    for section in CLINICAL_SECTIONS:
        assert f'<section id="{section}"' in html
    assert catalog.load("report_km_os_figure").data
    assert not catalog.exists("report_km_os_png")
    assert not list((tmp_path / "data").rglob("*.png"))
    assert "apt-get install chromium" in caplog.text


def test_missing_upstream_output_names_the_pipeline():
    with pytest.raises(ReportInputError, match="--pipelines=signature"):
        build_signature_section(None, None, None, S.REPORTING)


class _FakeExtractor:
    def feature_maps(self, crops):
        import numpy as np

        return np.ones((len(crops), 7, 7, 1024)) * np.arange(7)[None, :, None, None]


def test_cam_panels_use_the_features_cam_function():
    import pandas as pd

    weights = pd.DataFrame({"feature": ["arterial_f0001"], "weight": [0.5], "train_sd": [2.0]})
    panels = compute_cam_panels(
        S.crops_partitions(2), weights, _FakeExtractor(), S.CONTRACT, S.REPORTING
    )
    assert len(panels) == 2 and panels[0][0]["overlay"].max() == 1.0
    assert "no selected feature" in panels[0][1]["title"]


def test_every_section_is_wired_in_paper_order():
    assert WIRED_SECTIONS[0] == "cohort" and WIRED_SECTIONS[-1] == "provenance"
    assert {
        "signature",
        "cam",
        "nomogram",
        "calibration",
        "risk_groups",
        "discrimination",
        "characteristics",
    } <= set(WIRED_SECTIONS)


def test_sections_show_the_real_tables(report_run):
    html = report_run.load("hcc_nomogram_report")
    for text in (
        "Table 1.",
        "Table 2.",
        "2.01 (1.30-3.11)",
        "RMSE",
        "Log-rank",
        "ICI",
        "Calibration slope",
        "16.2 (12.0-21.5)",
        "arterial_f0042",
        "selected configuration",
        "IBS",
    ):
        assert text in html, text


def test_clinical_only_report_degrades_to_not_available(clinical_only_run):
    html = clinical_only_run.load("hcc_nomogram_clinical_report")
    for section in CLINICAL_SECTIONS:
        assert f'<section id="{section}"' in html
    assert "Integrated nomogram: not available (no signature column configured" in html
    assert "Integrated nomogram calibration: not available" in html
    assert "Integrated nomogram smoothed calibration: not available" in html
    assert "not available in the clinical-only report" in html
    if browser_path():
        assert clinical_only_run.load("report_nomogram_clinical_png").size[0] == 500
    assert (
        "not available"
        in clinical_only_run.load("report_nomogram_integrated_figure").layout.title.text
    )


def test_cam_weights_are_in_linear_predictor_units():
    """weight / train_sd: doubling the SD halves the map (before min-max scaling)."""
    import numpy as np

    from hcc_nomogram.features.cam import compute_cam, signature_feature_weights

    ex = _FakeExtractor()
    crop = np.zeros((224, 224), np.float32)
    a = compute_cam(
        ex,
        crop,
        signature_feature_weights({"arterial_f0001": 0.5}, "arterial", {"arterial_f0001": 1.0}),
    )
    b = compute_cam(
        ex,
        crop,
        signature_feature_weights({"arterial_f0001": 0.5}, "arterial", {"arterial_f0001": 2.0}),
    )
    assert np.allclose(a, 2 * b)
