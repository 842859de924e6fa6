"""Execute notebooks/explore_results.ipynb headless (nbclient) against this project."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "explore_results.ipynb"
pytestmark = pytest.mark.slow


def test_notebook_runs_and_loads_from_the_catalog(monkeypatch):
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    if not (NOTEBOOK.parents[1] / "data" / "01_raw" / "demo" / "clinical.csv").exists():
        pytest.skip("no demo cohort yet: run `kedro run --pipeline=demo_cohort` first")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "clinical_table" in outputs  # the catalog listing
    assert not any(o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
