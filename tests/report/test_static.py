import shutil

import pytest
import synthetic as S

from hcc_nomogram.report import plots
from hcc_nomogram.report.nomogram import nomogram_figure
from hcc_nomogram.report.static import figures_to_images


def _figs():
    c = S.clinical()
    return {
        "km": plots.km_figure(c.os_months, c.os_event, c.cohort),
        "nomogram": nomogram_figure(*S.nomogram_tables()),
        "icc": plots.icc_histogram(
            S.icc_table("a").assign(phase="a"), threshold=0.75, icc_columns=["icc_intra"]
        ),
    }


def test_matplotlib_fallback_draws_every_figure():
    imgs = figures_to_images(_figs(), width=600, engine="matplotlib")
    assert set(imgs) == {"km", "nomogram", "icc"}
    for im in imgs.values():
        assert im.size[0] == 600 and im.getextrema() != ((255, 255), (255, 255), (255, 255))


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")),
    reason="no Chrome/Chromium installed: kaleido cannot render (matplotlib "
    "fallback tested above); `apt-get install chromium` to run this",
)
def test_kaleido_renders_with_local_chromium():
    imgs = figures_to_images({"km": _figs()["km"]}, width=500, engine="kaleido")
    assert imgs["km"].size == (500, 520)


def test_unknown_engine_rejected():
    with pytest.raises(ValueError, match="engine"):
        figures_to_images({}, engine="svg")
