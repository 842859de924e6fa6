"""``python -m hcc_nomogram.viz`` (``make viz``): SIGTERM to the launcher stops kedro-viz's
whole process group -- the port closes and no child of the launcher is left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_kedro_viz import _free_port  # noqa: E402

PROJECT = Path(__file__).parents[1]

pytestmark = pytest.mark.slow


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> set[int]:
    """PIDs of every live descendant of ``pid`` (from /proc)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        children = {c for c, pp in parent.items() if pp == p}
        todo += list(children - out)
        out |= children
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_to_the_launcher_stops_the_server_and_its_children():
    port = _free_port()
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "PYTHONPATH": os.pathsep.join([str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "hcc_nomogram.viz", "--port", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 150
        while not _listening(port):
            assert launcher.poll() is None, f"the launcher exited with {launcher.returncode}"
            assert time.monotonic() < deadline, "kedro viz did not listen within 150 s"
            time.sleep(1)
        children = _descendants(launcher.pid)
        assert children, "kedro viz runs as a child of the launcher"
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 128 + signal.SIGTERM
        assert not _listening(port)
        assert not [p for p in children if _running(p)]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        for pid in children:  # never leave a server behind, even when the test fails
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
