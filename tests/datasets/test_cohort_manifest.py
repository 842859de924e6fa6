"""CohortManifestDataset: lazy per-patient loading and clear errors for bad manifests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from kedro.io import DatasetError

from hcc_nomogram.datasets import CohortManifestDataset, NpzDataset, write_image
from hcc_nomogram.errors import InputDataError

# Kedro wraps errors raised in load() into DatasetError, keeping our message.
LOAD_ERRORS = (InputDataError, DatasetError)


def _write_cohort(tmp_path, rows):
    for pid in rows:
        img = sitk.Image(6, 6, 4, sitk.sitkInt16)
        img.SetSpacing((0.8, 0.8, 3.0))
        write_image(img, tmp_path / "images" / pid / "arterial_ct.nii.gz")
    table = pd.DataFrame(
        {
            "patient_id": rows,
            "cohort": ["training"] * len(rows),
            "arterial_ct": [f"images/{p}/arterial_ct.nii.gz" for p in rows],
        }
    )
    path = tmp_path / "manifest.csv"
    table.to_csv(path, index=False)
    return path


def test_loads_lazily_and_resolves_relative_paths(tmp_path):
    path = _write_cohort(tmp_path, ["001", "002"])
    manifest = CohortManifestDataset(filepath=str(path)).load()
    assert manifest.patient_ids == ["001", "002"]  # IDs stay strings (leading zeros kept)
    img = manifest.image("002", "arterial_ct")
    assert img.GetSize() == (6, 6, 4)
    assert img.GetSpacing() == pytest.approx((0.8, 0.8, 3.0))


def test_excel_manifest(tmp_path):
    path = _write_cohort(tmp_path, ["A1"])
    xlsx = tmp_path / "manifest.xlsx"
    pd.read_csv(path).to_excel(xlsx, index=False)
    manifest = CohortManifestDataset(filepath=str(xlsx)).load()
    assert manifest.image("A1", "arterial_ct").GetDimension() == 3


def test_duplicate_patient_id_is_an_error(tmp_path):
    path = _write_cohort(tmp_path, ["001", "001"])
    with pytest.raises(LOAD_ERRORS, match=r"duplicate patient ID.*'001'.*Potential fix"):
        CohortManifestDataset(filepath=str(path)).load()


def test_missing_column_names_column_and_fix(tmp_path):
    path = _write_cohort(tmp_path, ["001"])
    manifest = CohortManifestDataset(filepath=str(path)).load()
    with pytest.raises(InputDataError) as err:
        manifest.require_columns(["arterial_ct", "portal_ct"])
    assert "portal_ct" in str(err.value) and "data_contract" in str(err.value)


def test_missing_manifest_points_to_demo_pipeline(tmp_path):
    with pytest.raises(LOAD_ERRORS, match="demo_cohort"):
        CohortManifestDataset(filepath=str(tmp_path / "absent.csv")).load()


def test_missing_image_names_patient_and_file(tmp_path):
    path = _write_cohort(tmp_path, ["001", "002"])
    (tmp_path / "images" / "002" / "arterial_ct.nii.gz").unlink()
    manifest = CohortManifestDataset(filepath=str(path)).load()
    missing = [p for p in manifest.patient_ids if not manifest.path(p, "arterial_ct").exists()]
    assert missing == ["002"]
    with pytest.raises(InputDataError) as err:
        manifest.image("002", "arterial_ct")
    assert "002" in str(err.value) and "arterial_ct.nii.gz" in str(err.value)


def test_saving_manifest_does_not_touch_images(tmp_path):
    path = _write_cohort(tmp_path, ["001"])
    ds = CohortManifestDataset(filepath=str(path))
    before = (tmp_path / "images" / "001" / "arterial_ct.nii.gz").read_bytes()
    ds.save(ds.load())
    assert (tmp_path / "images" / "001" / "arterial_ct.nii.gz").read_bytes() == before


def test_npz_dataset_round_trip_is_atomic(tmp_path):
    ds = NpzDataset(filepath=str(tmp_path / "crops" / "p1.npz"))
    data = {"arterial__r1a__image": np.ones((4, 4), np.float32), "m": np.zeros(3, np.uint8)}
    ds.save(data)
    back = ds.load()
    assert set(back) == set(data)
    np.testing.assert_array_equal(back["m"], data["m"])
    assert not list((tmp_path / "crops").glob("*.tmp*"))


def test_manifest_can_point_at_a_dicom_series_directory(tmp_path):
    """Real cohorts often come as DICOM: a manifest path may be a series directory."""
    from pathlib import Path

    hcc048 = (
        Path(__file__).resolve().parents[2].parent
        / "shared"
        / "data"
        / "hcc048_portal_venous_dicom"
    )
    if not hcc048.is_dir():
        pytest.skip(f"real DICOM series not present at {hcc048}")
    pd.DataFrame({"patient_id": ["HCC_048"], "portal_ct": [str(hcc048)]}).to_csv(
        tmp_path / "manifest.csv", index=False
    )
    manifest = CohortManifestDataset(filepath=str(tmp_path / "manifest.csv")).load()
    image = manifest.image("HCC_048", "portal_ct")
    assert image.GetSize() == (512, 512, 89)
    assert image.GetMetaDataKeys() == ()
