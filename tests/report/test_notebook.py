"""Execute notebooks/explore_results.ipynb headless (nbclient) in a project where the default
pipeline has just run on the tiny demo cohort (``demo_project``)."""

import nbformat
import pytest
from nbclient import NotebookClient

from hcc_nomogram.pipelines.reporting.pipeline import WIRED_SECTIONS

pytestmark = pytest.mark.slow


def test_notebook_runs_against_a_demo_run(demo_project, monkeypatch):
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    path = demo_project / "notebooks" / "explore_results.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    # A print's pieces can reach the notebook as several stream outputs (ipykernel flushes
    # stdout on a timer, more often under load): stream texts are joined as they were written.
    outputs = "".join(
        str(o.get("text", ""))
        if o.get("output_type") == "stream"
        else "\n"
        + str(o.get("data", {}).get("text/plain", ""))
        + str(o.get("data", {}).get("text/html", ""))
        + "\n"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert not any(
        o.get("output_type") == "error"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    ), outputs[-3000:]
    assert "not there yet" not in outputs  # every dataset it reads was written by the run
    assert "clinical_table" in outputs and "signature_score" in outputs
    assert "c_integrated" in outputs and "hr_text" in outputs
    assert "report sections: " + str(list(WIRED_SECTIONS)) in outputs
