"""Static (PNG) copies of Plotly figures: kaleido 1.x driving the machine's Chrome/Chromium.

kaleido is the only static renderer. It finds the browser as choreographer does (the
``BROWSER_PATH`` environment variable, else ``chromium``/``google-chrome``/... on ``PATH`` or in
the usual install folders); it never downloads one here. One kaleido server (one browser
process) serves every figure of the Python process and closes when the process exits.

Without a browser, :func:`figures_to_images` raises :class:`NoBrowserError` naming the fix; the
callers decide what that means (``reporting.static_images``, docs/reporting.md).
"""

from __future__ import annotations

import base64
import io
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from PIL import Image

#: What a user without a browser can do (in every message about it).
BROWSER_FIX = (
    "install Chromium (`apt-get install chromium`, or any Chrome) or set BROWSER_PATH to a "
    "Chrome/Chromium executable"
)


class NoBrowserError(RuntimeError):
    """No Chrome/Chromium for kaleido on this machine."""


def browser_path() -> str | None:
    """The browser kaleido will drive (choreographer's own search), or ``None``."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return path if path and Path(path).is_file() else None


class BrowserFailedError(NoBrowserError):
    """A Chrome/Chromium was found but did not render a figure (it could not start, or hung)."""


#: Seconds one figure may take (the first includes the browser's start, a few seconds).
RENDER_TIMEOUT_S = 120.0
_FAILED: list[str] = []  # the message of a browser that failed once: later figures fail fast


def _start_server() -> str:
    """One kaleido server per process (kaleido stops it at exit); returns the browser."""
    import kaleido

    path = browser_path()
    if path is None:
        raise NoBrowserError(f"No Chrome/Chromium found for static images: {BROWSER_FIX}.")
    kaleido.start_sync_server(path=path, silence_warnings=True)
    return path


def figure_png(fig: go.Figure, *, width: int, height: int | None = None) -> bytes:
    """PNG bytes of ``fig`` at ``width`` x ``height`` px (``height``: the figure's own, else
    500). Raises :class:`NoBrowserError` without a browser, and :class:`BrowserFailedError`
    when the browser does not render it within :data:`RENDER_TIMEOUT_S` (kaleido would wait
    forever for a browser that cannot start; every later figure of this process then fails at
    once)."""
    if _FAILED:
        raise BrowserFailedError(_FAILED[0])
    path = _start_server()
    outcome: dict[str, Any] = {}

    def render() -> None:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The kopts argument is ignored")
                outcome["png"] = fig.to_image(
                    format="png", width=width, height=height or int(fig.layout.height or 500)
                )
        except Exception as error:  # noqa: BLE001  re-raised in the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=render, name="hcc-nomogram-static-image", daemon=True)
    worker.start()
    worker.join(RENDER_TIMEOUT_S)
    if worker.is_alive():
        _FAILED.append(
            f"the browser {path} did not render a figure within {RENDER_TIMEOUT_S:g} s: it "
            f"probably cannot start on this machine (try `{path} --headless --no-sandbox "
            f"--disable-gpu --dump-dom about:blank` to see why). Fix: {BROWSER_FIX} that starts "
            "here, or set `reporting.static_images: never`"
        )
        raise BrowserFailedError(_FAILED[0])
    if "error" in outcome:
        raise outcome["error"]
    return outcome["png"]


def figures_to_images(figures: Mapping[str, go.Figure], *, width: int) -> dict[str, Image.Image]:
    """Pillow images of ``figures`` (what the catalog's ``pillow.ImageDataset`` writes)."""
    return {
        name: Image.open(io.BytesIO(figure_png(fig, width=width))).convert("RGB")
        for name, fig in figures.items()
    }


def png_data_uri(fig: go.Figure, *, width: int, height: int | None = None) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (for self-contained pages)."""
    png = figure_png(fig, width=width, height=height)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
