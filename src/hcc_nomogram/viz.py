"""``python -m hcc_nomogram.viz [kedro viz run options]`` (``make viz``): kedro-viz on
127.0.0.1 that stops completely.

``kedro viz run`` serves from a child process, so killing only its PID leaves that child
listening. This launcher starts ``kedro viz run --host 127.0.0.1 --no-browser [options]`` in a
process group of its own and, on SIGTERM, SIGINT (Ctrl-C), SIGHUP or when kedro-viz exits,
terminates the whole group (SIGKILL after :data:`GRACE_S` seconds). Options given are appended
(e.g. ``--port 4242``). A SIGKILL of the launcher cannot be caught: stop it with SIGTERM, or
kill the server's group (``kill -- -<pgid>``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

#: seconds the server's process group gets between SIGTERM and SIGKILL
GRACE_S = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def viz_command(args: list[str]) -> list[str]:
    """``kedro viz run`` bound to 127.0.0.1, no browser, then ``args``."""
    kedro = Path(sys.executable).with_name("kedro")
    return [
        str(kedro) if kedro.exists() else "kedro",
        "viz",
        "run",
        "--host",
        "127.0.0.1",
        "--no-browser",
        *args,
    ]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(proc: subprocess.Popen, grace_s: float = GRACE_S) -> None:
    """SIGTERM to the process group led by ``proc``; SIGKILL what is left after ``grace_s``."""
    pgid = proc.pid
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.1)
    if _group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Run kedro-viz until it exits or a stop signal arrives; always stop its whole group."""
    args = sys.argv[1:] if argv is None else argv

    def _on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)
    proc = None
    try:
        proc = subprocess.Popen(viz_command(args), start_new_session=True)  # noqa: S603
        return proc.wait()
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None:
            stop_group(proc)


if __name__ == "__main__":
    sys.exit(main())
