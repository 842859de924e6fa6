"""A clinical-only user: no images, a spreadsheet as `analysis_table`, `nomogram.signature: null`.

Runs through a real Kedro session (catalog and parameter overrides in conf/local, as
docs/nomogram.md tells users to do), then the clinical-only report.
"""

from __future__ import annotations

import pandas as pd
import pytest
from project_helpers import load_dataset, make_project, run_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clinical_project(small_demo_cohort, tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("clinical_only"), small_demo_cohort)
    sheet = root / "data" / "01_raw" / "my_cohort.xlsx"
    clinical = pd.read_csv(small_demo_cohort / "clinical.csv", dtype={"patient_id": str})
    clinical.to_excel(sheet, index=False)
    catalog = root / "conf" / "local" / "catalog.yml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8")
        + f"""
analysis_table:
  type: pandas.ExcelDataset
  filepath: {sheet}
  load_args: {{sheet_name: 0, dtype: {{patient_id: str}}}}
""",
        encoding="utf-8",
    )
    params = root / "conf" / "local" / "parameters.yml"
    text = params.read_text(encoding="utf-8").replace(
        "nomogram:\n", "nomogram:\n  signature: null\n", 1
    )
    params.write_text(text, encoding="utf-8")
    run_project(root, ["nomogram"])
    run_project(root, ["reporting"], tags=["clinical_report"])
    return root


def test_clinical_nomogram_is_fitted_and_integrated_is_not_available(clinical_project):
    comparison = load_dataset(clinical_project, "c_index_comparison")
    assert comparison["c_clinical"].between(0, 1).all()
    assert comparison["note"].str.contains("not available").all()
    integrated = load_dataset(clinical_project, "integrated.discrimination")
    assert not integrated["available"].any()
    table2 = load_dataset(clinical_project, "multivariate_cox_table")
    fitted = table2[table2["model"] == "clinical"]
    assert len(fitted) >= 1 and fitted["hr"].gt(0).all()
    assert not table2["available"].where(table2["model"] == "integrated", False).any()
    assert not table2["term"].fillna("").str.contains("signature").any()


def test_clinical_report_is_written_without_any_image_dataset(clinical_project):
    report = load_dataset(clinical_project, "hcc_nomogram_clinical_report")
    assert "nomogram" in report.lower() and "not available" in report.lower()
    assert not (clinical_project / "data" / "03_primary" / "crops").exists()
