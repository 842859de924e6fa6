"""Fixtures of the ingest tests: a mixed DICOM export written from two demo patients."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.dicom_export import PATIENTS, write_patient_export


@pytest.fixture(scope="session")
def dicom_tree(tiny_demo_cohort, tmp_path_factory) -> Path:
    """``export/`` (patient 2 RLE-compressed) and ``patient_map.csv`` for two demo patients."""
    root = tmp_path_factory.mktemp("dicom_tree")
    for i, patient in enumerate(PATIENTS):
        write_patient_export(root / "export", tiny_demo_cohort, patient, compress=i == 1)
    cohort = pd.read_csv(tiny_demo_cohort / "manifest.csv", dtype=str).set_index("patient_id")
    pd.DataFrame(
        {
            "dicom_patient_id": [f"DCM-{p}" for p in PATIENTS],
            "patient_id": list(PATIENTS),
            "center": [cohort.loc[p, "center"] for p in PATIENTS],
            "cohort": [cohort.loc[p, "cohort"] for p in PATIENTS],
        }
    ).to_csv(root / "patient_map.csv", index=False)
    return root
