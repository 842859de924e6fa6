"""Static PNG copies: kaleido + the machine's Chrome/Chromium, and what happens without one.

"No browser" is made the way choreographer (kaleido's browser finder) is told where the browser
is: ``BROWSER_PATH`` naming a file that does not exist, so the machine's Chromium is not found.
"""

import logging
import os
import subprocess
import sys

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


BROKEN_BROWSER_RUN = """
import logging, sys, time
import plotly.graph_objects as go
from hcc_nomogram.datasets import Skipped
from hcc_nomogram.pipelines.reporting.nodes import render_static_images
from hcc_nomogram.report import static

static.RENDER_TIMEOUT_S = 5.0
logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
figures = {"a": go.Figure(go.Scatter(y=[1, 2])), "b": go.Figure(go.Bar(y=[3]))}
t0 = time.monotonic()
out = render_static_images({"static_images": "auto"}, **figures)
assert all(isinstance(v, Skipped) for v in out.values()), out
try:
    render_static_images({"static_images": "always"}, **figures)
except static.BrowserFailedError as error:
    print("ALWAYS:", error)
print(f"SECONDS {time.monotonic() - t0:.1f}")
"""


def test_a_browser_that_cannot_start_fails_instead_of_hanging(tmp_path):
    # kaleido's server thread dies when the browser cannot start, and its callers would wait
    # forever; the renderer gives up after RENDER_TIMEOUT_S and names the browser and the fix.
    # In a child process: the dead server is a per-process singleton.
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'this browser cannot start' >&2\nexit 1\n")
    fake.chmod(0o755)
    run = subprocess.run(  # noqa: S603  our interpreter, our script
        [sys.executable, "-c", BROKEN_BROWSER_RUN],
        env={**os.environ, "BROWSER_PATH": str(fake)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"the browser {fake} did not render a figure within 5 s" in run.stdout
    assert "are not written" in run.stdout  # auto: skipped with a warning
    assert "ALWAYS: the browser" in run.stdout  # always: the error, at once (no second wait)
    seconds = float(run.stdout.rsplit("SECONDS", 1)[1])
    assert seconds < 60
