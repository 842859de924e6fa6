import re

import pandas as pd
import synthetic as S
from plotly.offline import get_plotlyjs

from hcc_nomogram.report import plots
from hcc_nomogram.report.html import Section, render_report
from hcc_nomogram.report.provenance import provenance_section, weights_banner


def test_report_inlines_plotly_once_and_uses_no_cdn():
    c = S.clinical()
    secs = [
        Section("a", "A").figure(plots.km_figure(c.os_months, c.os_event, c.cohort), name="km1"),
        Section("b", "B")
        .figure(plots.cindex_figure(S.cindex()), name="c")
        .table(pd.DataFrame({"x": [1.23456]}), caption="T <1>"),
    ]
    html = render_report(secs, title="R", banners=["LOUD"])
    assert html.count(get_plotlyjs()[:200]) == 1
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing loaded from a CDN
    assert html.index('class="banner"') < html.index("<h1>")
    assert 'id="a"' in html and 'data-figure="km1"' in html and "1.235" in html
    assert "T &lt;1&gt;" in html


def test_section_round_trips_through_dict():
    sec = Section("x", "X").text("hello <b>")
    assert Section.from_dict(sec.to_dict()) == sec
    assert "hello &lt;b&gt;" in sec.blocks[0]


def test_random_weights_give_a_loud_banner():
    assert "RANDOM DenseNet-121 weights" in weights_banner(S.provenance("random"))
    assert weights_banner({"weights_source": "imagenet", "is_imagenet": True}) is None
    sec, banners = provenance_section(
        S.provenance("random"), {"reporting": {"a": 1}}, {"numpy": "2.0"}
    )
    assert len(banners) == 1 and sec.id == "provenance"
