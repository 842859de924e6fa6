"""`ingest` + `preprocessing` in a Kedro session on a mixed DICOM export give exactly the crops
the NIfTI path gives for the same patients; no identifying DICOM tag reaches any output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from project_helpers import load_dataset, make_project, point_at_dicom_export, run_project

from hcc_nomogram.datasets import CohortManifestDataset, NpzDataset
from hcc_nomogram.demo.dicom_export import IDENTIFYING
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.parameters import DataContract, typed
from ingest.dicom_export import PATIENTS

INGEST_PARAMETERS = """
ingest:
  series:
    min_slices: 5
"""


def _nifti_crops(cohort: Path, project: Path) -> dict[str, dict[str, np.ndarray]]:
    """Crops of the demo NIfTI manifest, with the project's settings (the reference path)."""
    import yaml

    base = yaml.safe_load((project / "conf/base/parameters.yml").read_text(encoding="utf-8"))
    pre = yaml.safe_load(
        (project / "conf/base/parameters_preprocessing.yml").read_text(encoding="utf-8")
    )
    contract = typed(DataContract, base["data_contract"])
    settings = typed(PreprocessingSettings, pre["preprocessing"])
    manifest = CohortManifestDataset(str(cohort / "manifest.csv")).load()
    return {
        pid: preprocess_patient(PatientSource.from_manifest(manifest, pid), contract, settings)[0]
        for pid in PATIENTS
    }


@pytest.mark.slow
def test_ingest_then_preprocessing_equals_nifti_path(dicom_tree, tiny_demo_cohort, tmp_path, capfd):
    root = make_project(tmp_path / "project", tiny_demo_cohort, INGEST_PARAMETERS)
    point_at_dicom_export(root, dicom_tree / "export", dicom_tree / "patient_map.csv")
    run_project(root, ["ingest"])
    run_project(root, ["preprocessing"])
    captured = capfd.readouterr()
    assert "HDF5" not in captured.out + captured.err

    manifest = pd.read_csv(root / "data/02_intermediate/ingest/manifest.csv", dtype=str)
    assert manifest["patient_id"].tolist() == list(PATIENTS)
    reference = _nifti_crops(tiny_demo_cohort, root)
    for pid in PATIENTS:
        crops = NpzDataset(str(root / "data/03_primary/crops" / f"{pid}.npz")).load()
        assert sorted(crops) == sorted(reference[pid])
        for key, expected in reference[pid].items():
            np.testing.assert_array_equal(crops[key], expected, err_msg=f"{pid} {key}")

    qc = load_dataset(root, "ingest_qc")
    assert qc["included"].all()
    assert set(qc["arterial_series_description"]) == {"Arterial phase 1.0 B30f"}
    assert set(qc["portal_series_description"]) == {"Portal venous 1.0 B30f"}
    assert (qc["portal_r1a_volume_ml"] > 0).all()

    # no identifying value, DICOM PatientID or UID in any output (the index and the header
    # cache, which hold PatientIDs and UIDs by design, are the export's working files)
    private = {*IDENTIFYING.values(), "DCM-HCC0001", "DCM-HCC0002", "1.2.826.0.1.3680043"}
    working = {"ingest_index.parquet", "ingest_plan.parquet", "file_index.parquet"}
    for path in (root / "data").rglob("*"):
        if path.is_file() and not (set(path.parts) & working):
            data = path.read_bytes()
            if path.suffix == ".gz":
                import gzip

                data = gzip.decompress(data)
            for value in private:
                assert value.encode() not in data, f"{value} found in {path}"
