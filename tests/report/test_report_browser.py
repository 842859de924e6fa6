"""Open the generated report in real headless Chromium: every section and figure renders,
no JavaScript error. Skips when no Chromium is installed (`apt-get install chromium`)."""

import re

import pytest
from browser import console_errors, dump_dom, find_chromium

from hcc_nomogram.pipelines.reporting.pipeline import SECTION_FIGURES, WIRED_SECTIONS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None,
                       reason="no Chromium/Chrome installed: `apt-get install -y chromium` to "
                              "render the report in a real browser"),
]


def test_report_renders_every_section_without_js_errors(report_html_path):
    dom, stderr = dump_dom(report_html_path.as_uri())
    assert "<h1>" in dom, stderr[-2000:]
    for section in WIRED_SECTIONS:
        assert f'<section id="{section}"' in dom
    expected = [f for s in WIRED_SECTIONS for f in SECTION_FIGURES[s]]
    for fig in expected:
        block = re.search(rf'<div class="report-figure" data-figure="{fig}"[^>]*>', dom)
        assert block and 'data-rendered="yes"' in block.group(0), f"figure {fig} not drawn"
    assert f'data-figures-rendered="{len(expected)}/{len(expected)}"' in dom
    assert re.search(r'id="report-js-errors" data-count="0"', dom), dom[-3000:]
    assert console_errors(stderr) == []
