"""Open the generated reports in real headless Chromium: every section and figure renders,
no JavaScript error. Skips when no Chromium is installed (`apt-get install chromium`)."""

import re

import pytest
from browser import console_errors, dump_dom, find_chromium
from demo_run import latest

from hcc_nomogram.pipelines.reporting.pipeline import (
    CLINICAL_SECTIONS,
    SECTION_FIGURES,
    WIRED_SECTIONS,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="no Chromium/Chrome installed: `apt-get install -y chromium` to "
        "render the report in a real browser",
    ),
]


def _check(path, sections):
    dom, stderr = dump_dom(path.as_uri())
    assert "<h1>" in dom, stderr[-2000:]
    for section in sections:
        assert f'<section id="{section}"' in dom, section
    expected = [f for s in sections for f in SECTION_FIGURES[s]]
    for fig in expected:
        block = re.search(rf'<div class="report-figure" data-figure="{fig}"[^>]*>', dom)
        assert block and 'data-rendered="yes"' in block.group(0), f"figure {fig} not drawn"
    assert f'data-figures-rendered="{len(expected)}/{len(expected)}"' in dom
    assert re.search(r'id="report-js-errors" data-count="0"', dom), dom[-3000:]
    assert console_errors(stderr) == []


def test_synthetic_report_renders_every_section(report_html_path):
    _check(report_html_path, WIRED_SECTIONS)


def test_demo_run_report_renders_every_section(demo_project):
    _check(latest(demo_project, "data/08_reporting/hcc_nomogram_report.html"), WIRED_SECTIONS)


def test_clinical_only_report_renders(clinical_only_run, tmp_path):
    path = tmp_path / "clinical.html"
    path.write_text(clinical_only_run.load("hcc_nomogram_clinical_report"), encoding="utf-8")
    _check(path, CLINICAL_SECTIONS)
