"""Static PNG copies: kaleido + the machine's Chrome/Chromium, and what happens without one.

"No browser" is made the way choreographer (kaleido's browser finder) is told where the browser
is: ``BROWSER_PATH`` naming a file that does not exist, so the machine's Chromium is not found.
"""

import logging

import pytest
import synthetic as S

from hcc_nomogram.datasets import Skipped
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.pipelines.reporting.nodes import render_static_images
from hcc_nomogram.report import plots
from hcc_nomogram.report.nomogram import nomogram_figure
from hcc_nomogram.report.static import NoBrowserError, browser_path, figures_to_images

needs_browser = pytest.mark.skipif(
    browser_path() is None,
    reason="no Chrome/Chromium installed: kaleido cannot render (the no-browser behaviour is "
    "tested below); `apt-get install chromium` to run this",
)


@pytest.fixture
def no_browser(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium-here"))
    assert browser_path() is None


def _figs():
    c = S.clinical()
    return {
        "km": plots.km_figure(c.os_months, c.os_event, c.cohort),
        "nomogram": nomogram_figure(*S.nomogram_tables()),
        "icc": plots.icc_histogram(
            S.icc_table("a").assign(phase="a"), threshold=0.75, icc_columns=["icc_intra"]
        ),
    }


@needs_browser
def test_kaleido_renders_every_figure_at_its_height():
    figs = _figs()
    imgs = figures_to_images(figs, width=500)
    assert set(imgs) == set(figs)
    assert imgs["km"].size == (500, 520)
    for im in imgs.values():
        assert im.mode == "RGB" and len(im.getcolors(1 << 20)) > 10  # drawn, not blank


@needs_browser
def test_node_renders_when_a_browser_exists():
    out = render_static_images({**S.REPORTING, "static_images": "always"}, km=_figs()["km"])
    assert out["km"].size == (500, 520)


def test_without_a_browser_the_renderer_names_the_fix(no_browser):
    with pytest.raises(NoBrowserError, match="apt-get install chromium"):
        figures_to_images(_figs(), width=500)


def test_auto_skips_the_pngs_with_a_warning_without_a_browser(no_browser, caplog):
    with caplog.at_level(logging.WARNING):
        out = render_static_images(dict(S.REPORTING), **_figs())
    assert set(out) == {"km", "nomogram", "icc"}
    assert all(isinstance(v, Skipped) for v in out.values())
    assert "apt-get install chromium" in caplog.text
    assert "static_images: never" in caplog.text


def test_always_raises_without_a_browser(no_browser):
    with pytest.raises(NoBrowserError, match="static_images: always"):
        render_static_images({**S.REPORTING, "static_images": "always"}, **_figs())


def test_never_skips_without_looking_for_a_browser(caplog):
    with caplog.at_level(logging.WARNING):
        out = render_static_images({**S.REPORTING, "static_images": "never"}, km=_figs()["km"])
    assert out == {"km": Skipped("reporting.static_images: never")} and not caplog.text


def test_unknown_mode_rejected():
    with pytest.raises(InputDataError, match=r"reporting\.static_images"):
        render_static_images({**S.REPORTING, "static_images": "svg"})
