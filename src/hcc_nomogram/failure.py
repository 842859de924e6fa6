"""Short failure output: the project's own errors print one block, not a framework traceback.

A user mistake (a missing file, a bad mask, a misspelled parameter) raises an
:class:`~hcc_nomogram.errors.HccNomogramError` whose message already says what is wrong, where
and how to fix it. Printed by Python's (or Rich's) default exception hook it would come after
~150 lines of Kedro and pluggy frames. :func:`install_short_failure_hook` wraps
``sys.excepthook`` so that such an error prints only::

    hcc-nomogram stopped: InputDataError
    [patient HCC0003; file .../arterial_ct.nii.gz] the compressed file is truncated ...
    Potential fix: ...
    (full traceback: logs/last_error.log; set HCC_NOMOGRAM_TRACEBACK=1 to print it here)

The full traceback is written to ``logs/last_error.log`` under the project folder; with the
environment variable ``HCC_NOMOGRAM_TRACEBACK=1`` the original hook prints it as before. Any
other exception (a bug) is printed in full, unchanged.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from hcc_nomogram.errors import HccNomogramError

TRACEBACK_ENV = "HCC_NOMOGRAM_TRACEBACK"
LOG_NAME = "last_error.log"


def project_error(exc: BaseException | None) -> HccNomogramError | None:
    """The first :class:`HccNomogramError` in ``exc``'s cause/context chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, HccNomogramError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def short_failure_block(error: HccNomogramError, log_file: Path | None) -> str:
    """What the user sees: the error type and its message (what, where, fix)."""
    lines = [f"hcc-nomogram stopped: {type(error).__name__}", str(error).strip()]
    where = f"full traceback: {log_file}; " if log_file is not None else ""
    lines.append(f"({where}set {TRACEBACK_ENV}=1 to print it here)")
    return "\n".join(lines) + "\n"


def _write_log(log_dir: Path, exc_type, exc, tb) -> Path | None:
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_NAME
        path.write_text("".join(traceback.format_exception(exc_type, exc, tb)), encoding="utf-8")
        return path
    except OSError:
        return None


def install_short_failure_hook(log_dir: str | Path) -> None:
    """Wrap the current ``sys.excepthook`` (idempotent); see the module docstring."""
    previous = sys.excepthook
    if getattr(previous, "_hcc_short_failure", False):
        return

    def hook(exc_type, exc, tb):
        error = project_error(exc)
        if error is None or os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
            previous(exc_type, exc, tb)
            return
        log_file = _write_log(Path(log_dir), exc_type, exc, tb)
        sys.stderr.write(short_failure_block(error, log_file))

    hook._hcc_short_failure = True  # type: ignore[attr-defined]
    sys.excepthook = hook
