"""The reporting pipeline on an in-memory catalog of synthetic upstream outputs."""


import pytest
import synthetic as S

from hcc_nomogram.pipelines.reporting.nodes import build_signature_section, compute_cam_panels
from hcc_nomogram.pipelines.reporting.pipeline import (
    SECTION_FIGURES,
    WIRED_SECTIONS,
)
from hcc_nomogram.report.errors import ReportInputError


def test_report_has_every_wired_section_and_a_banner(report_run):
    html = report_run.load("hcc_nomogram_report")
    for section in WIRED_SECTIONS:
        assert f'<section id="{section}"' in html
    assert "RANDOM DenseNet-121 weights" in html.split("<h1>")[0]


def test_every_figure_has_json_and_png(report_run):
    for section in WIRED_SECTIONS:
        for fig in SECTION_FIGURES[section]:
            assert report_run.load(f"report_{fig}_figure").data
            assert report_run.load(f"report_{fig}_png").size[0] == 500


def test_missing_upstream_output_names_the_pipeline():
    with pytest.raises(ReportInputError, match="--pipeline=signature"):
        build_signature_section(None, None, None, S.REPORTING)


class _FakeExtractor:
    def feature_maps(self, crops):
        import numpy as np
        return np.ones((len(crops), 7, 7, 1024)) * np.arange(7)[None, :, None, None]


def test_cam_panels_use_the_features_cam_function():
    import pandas as pd
    weights = pd.DataFrame({"feature": ["arterial_f0001"], "coefficient": [0.5]})
    panels = compute_cam_panels(S.crops_partitions(2), weights, _FakeExtractor(), S.CONTRACT,
                                S.REPORTING)
    assert len(panels) == 2 and panels[0][0]["overlay"].max() == 1.0
    assert "no selected feature" in panels[0][1]["title"]
