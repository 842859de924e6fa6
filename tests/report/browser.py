"""Headless Chromium helpers for tests: find the browser, dump a page's DOM after its scripts
ran."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def run_chromium(url: str, *extra: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    """Run headless Chromium once on ``url`` with a throw-away profile; always terminates."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )


def dump_dom(url: str, *, budget_ms: int = 15000, timeout: float = 90.0) -> tuple[str, str]:
    """(DOM after scripts ran, browser stderr with console messages)."""
    proc = run_chromium(
        url,
        "--enable-logging=stderr",
        "--v=0",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        timeout=timeout,
    )
    return proc.stdout, proc.stderr


def console_errors(stderr: str) -> list[str]:
    """Console lines of uncaught JS errors (Chromium logs them as 'Uncaught ...')."""
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln and "Uncaught" in ln]
