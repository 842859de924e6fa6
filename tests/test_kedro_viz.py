"""kedro-viz shows every registered pipeline: start `kedro viz run` on 127.0.0.1 (free port),
poll its REST API, render the page in real headless Chromium; always stop the server."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "report"))
from browser import dump_dom, find_chromium  # noqa: E402

PROJECT = Path(__file__).parents[1]
EXPECTED = {
    "demo_cohort",
    "preprocessing",
    "deep_features",
    "signature",
    "nomogram",
    "reporting",
    "predict",
    "__default__",
}

pytestmark = pytest.mark.slow


def _free_port() -> int:
    """A free port below 49152 (kedro-viz refuses the ephemeral range)."""
    for port in random.Random().sample(range(20000, 49000), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port on 127.0.0.1 in 20000-49000")


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - 127.0.0.1 only
        return json.load(r)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (kedro viz runs uvicorn in a child)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def viz_server():
    port = _free_port()
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    proc = subprocess.Popen(
        [str(kedro), "viz", "run", "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read()
                pytest.fail(
                    f"kedro viz exited with {proc.returncode}:\n{out[:1500]}\n...\n{out[-1500:]}"
                )
            try:
                main = _get_json(f"{base}/api/main")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("kedro viz did not answer /api/main within 150 s")
                time.sleep(1)
        yield base, main
    finally:
        _stop(proc)
        proc.stdout.close()


def test_api_lists_every_registered_pipeline(viz_server):
    base, main = viz_server
    assert {p["id"] for p in main["pipelines"]} >= EXPECTED
    reporting = _get_json(f"{base}/api/pipelines/reporting")
    names = {n["name"] for n in reporting["nodes"]}
    assert "assemble_report" in names and "hcc_nomogram_report" in names
    data = [n for n in reporting["nodes"] if n["type"] == "data"]
    assert all(n.get("layer") for n in data), [n["name"] for n in data if not n.get("layer")]


@pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium/Chrome installed: `apt-get install -y chromium` to "
    "render kedro-viz in a real browser",
)
def test_page_renders_in_headless_chromium(viz_server):
    base, _ = viz_server
    dom, stderr = dump_dom(f"{base}/?pipeline_id=reporting", budget_ms=20000)
    assert 'id="root"' in dom, stderr[-2000:]
    text = dom.lower()
    assert "assemble report" in text or "assemble_report" in text, dom[-2000:]
