"""Defect 8: a user mistake prints one short block (what, where, fix), not ~150 lines of
framework traceback; the traceback is kept in logs/last_error.log or printed on request."""

from __future__ import annotations

import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.failure import LOG_NAME, project_error, short_failure_block
from reliability.cohorts import image_path, kedro_cli, truncate


def test_project_error_is_found_in_the_exception_chain():
    cause = InputDataError("bad mask.", patient="P1", fix="re-export it.")
    try:
        try:
            raise cause
        except InputDataError as exc:
            raise RuntimeError("Failed while saving data") from exc
    except RuntimeError as wrapper:
        assert project_error(wrapper) is cause
    assert project_error(ValueError("a bug")) is None
    block = short_failure_block(cause, None)
    assert block.splitlines()[0] == "hcc-nomogram stopped: InputDataError"
    assert "[patient P1] bad mask. Potential fix: re-export it." in block


def _run(project, **env):
    proc = kedro_cli(project, "run", "--pipelines=preprocessing", env=env)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


@pytest.mark.slow
def test_kedro_run_prints_one_block_and_keeps_the_traceback(project, cohort):
    truncate(image_path(cohort, "HCC0003", "portal_mask_r1a"))
    code, out = _run(project)
    assert code == 1
    assert "Traceback" not in out and "│" not in out  # neither Python's nor Rich's
    tail = out[out.index("hcc-nomogram stopped: InputDataError") :]
    assert "[patient HCC0003; file" in tail and "truncated" in tail and "Potential fix" in tail
    assert len(tail.splitlines()) <= 6, tail
    log = project / "logs" / LOG_NAME
    assert str(log) in tail and "Traceback" in log.read_text(encoding="utf-8")

    code, out = _run(project, HCC_NOMOGRAM_TRACEBACK="1")
    assert code == 1 and "Traceback" in out and "hcc-nomogram stopped" not in out
