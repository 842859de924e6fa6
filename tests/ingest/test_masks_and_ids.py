"""Masks on the CT grid (SEG by position, NIfTI by pattern, empty masks) and pseudonyms."""

from __future__ import annotations

import json

import highdicom as hd
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from pydicom.uid import generate_uid

from hcc_nomogram.datasets.dicom import DicomExport
from hcc_nomogram.demo.dicom_export import ct_datasets, seg_dataset, write_series
from hcc_nomogram.errors import EmptyMaskError, ImageGeometryError, InputDataError
from hcc_nomogram.ingest.masks import _seg_by_position, seg_mask
from hcc_nomogram.ingest.params import IngestParams, PatientIdParams
from hcc_nomogram.ingest.pseudonym import assign_ids
from hcc_nomogram.pipelines.ingest.nodes import (
    build_ingest_outputs,
    convert_ingested_patients,
    index_dicom_export,
    plan_ingest,
)
from ingest.dicom_export import cube_mask, data_contract, ingest_params, tiny_ct


def _export(tmp_path, mask=None):
    image = tiny_ct()
    common = {"patient_id": "X", "study_uid": generate_uid(), "frame_uid": generate_uid()}
    art = ct_datasets(
        image, description="Arterial", series_number=1, acquisition_time="1", **common
    )
    pv = ct_datasets(image, description="Portal", series_number=2, acquisition_time="2", **common)
    paths = write_series(art, tmp_path / "X" / "a"), write_series(pv, tmp_path / "X" / "p")
    mask = cube_mask(image) if mask is None else mask
    return image, art, paths, mask


def _convert(tmp_path, delineations):
    params = IngestParams.model_validate(ingest_params(delineations=delineations))
    export = DicomExport(tmp_path)
    plan = plan_ingest(index_dicom_export(export, params), export, data_contract(), params)
    assert json.loads(plan.iloc[0]["problems"]) == []
    return {
        k: f() for k, f in convert_ingested_patients(plan, export, data_contract(), params).items()
    }


def test_seg_placed_by_plane_positions_equals_the_reference_path(tmp_path):
    image, art, paths, mask = _export(tmp_path)
    seg = seg_dataset(art, mask, description="r1a")
    seg.save_as(tmp_path / "seg.dcm")
    seg = hd.seg.segread(str(tmp_path / "seg.dcm"))
    by_reference = seg_mask(tmp_path / "seg.dcm", paths[0], image, 1)
    np.testing.assert_array_equal(by_reference, mask)
    np.testing.assert_array_equal(_seg_by_position(seg, 1, image) > 0, mask > 0)


def test_nifti_masks_matched_by_pattern(tmp_path):
    image, _art, _paths, mask = _export(tmp_path)
    for phase in ("arterial", "portal"):
        m = sitk.GetImageFromArray(mask * 3)  # any non-zero label is tumour
        m.CopyInformation(image)
        (tmp_path / "masks" / "X").mkdir(parents=True, exist_ok=True)
        sitk.WriteImage(m, str(tmp_path / "masks" / "X" / f"{phase}_r2.nii.gz"))
    rule = {"source": "nifti", "pattern": r"masks/(?P<patient>[^/]+)/(?P<phase>\w+)_r2\.nii\.gz"}
    images = _convert(tmp_path, {"r2": [rule]})
    np.testing.assert_array_equal(sitk.GetArrayFromImage(images["X/portal_mask_r2"]), mask)
    assert images["X/portal_mask_r2"].GetOrigin() == images["X/portal_ct"].GetOrigin()


def test_nifti_mask_off_the_ct_grid_is_an_error(tmp_path):
    image, _art, _paths, mask = _export(tmp_path)
    m = sitk.GetImageFromArray(mask)
    m.CopyInformation(image)
    m.SetOrigin((0.0, 0.0, 0.0))
    (tmp_path / "masks").mkdir()
    for phase in ("arterial", "portal"):
        sitk.WriteImage(m, str(tmp_path / "masks" / f"X_{phase}.nii.gz"))
    rule = {"source": "nifti", "pattern": r"masks/(?P<patient>[^_/]+)_(?P<phase>\w+)\.nii\.gz"}
    with pytest.raises(ImageGeometryError, match="origin"):
        _convert(tmp_path, {"r1a": [rule]})


def test_two_objects_for_one_phase_are_a_problem(tmp_path):
    _image, art, _paths, mask = _export(tmp_path)
    for name in ("seg.dcm", "seg2.dcm"):  # two SEGs of r1a on the arterial series
        seg_dataset(art, mask, description="r1a").save_as(tmp_path / "X" / name)
    rule = {"source": "seg", "description": "r1a", "segment": "tumou?r"}
    params = IngestParams.model_validate(ingest_params(delineations={"r1a": [rule]}))
    export = DicomExport(tmp_path)
    plan = plan_ingest(index_dicom_export(export, params), export, data_contract(), params)
    assert "two objects give the arterial mask" in plan.iloc[0]["problems"]


def test_salted_hash_pseudonyms(monkeypatch):
    monkeypatch.setenv("TEST_SALT", "salt")
    params = PatientIdParams(source="salted_hash", salt_env="TEST_SALT", prefix="P", hash_length=10)
    ids = assign_ids(["DCM-1"], params, None)
    # printf 'saltDCM-1' | sha256sum
    assert ids["patient_id"].tolist() == ["P" + "d1ace1c049"]
    monkeypatch.delenv("TEST_SALT")
    with pytest.raises(InputDataError, match="TEST_SALT"):
        assign_ids(["DCM-1"], params, None)


def test_mapping_table_pseudonyms_and_unmapped_patients():
    mapping = pd.DataFrame(
        {"dicom_patient_id": ["DCM-1"], "patient_id": ["P01"], "cohort": ["validation"]}
    )
    ids = assign_ids(["DCM-1", "DCM-2"], PatientIdParams(source="mapping"), mapping)
    assert ids["patient_id"].tolist() == ["P01", ""]
    assert ids["cohort"].tolist() == ["validation", "training"]
    with pytest.raises(InputDataError, match="no mapping table"):
        assign_ids(["DCM-1"], PatientIdParams(source="mapping"), None)
    dup = pd.DataFrame({"dicom_patient_id": ["A", "B"], "patient_id": ["P1", "P1"]})
    with pytest.raises(InputDataError, match="given to several patients"):
        assign_ids(["A", "B"], PatientIdParams(source="mapping"), dup)


def test_empty_mask_on_the_ct_grid_is_an_error(tmp_path):
    image, _art, _paths, mask = _export(tmp_path)
    (tmp_path / "masks").mkdir()
    for phase in ("arterial", "portal"):
        m = sitk.GetImageFromArray(np.zeros_like(mask))
        m.CopyInformation(image)
        sitk.WriteImage(m, str(tmp_path / "masks" / f"X_{phase}.nii.gz"))
    rule = {"source": "nifti", "pattern": r"masks/(?P<patient>[^_/]+)_(?P<phase>\w+)\.nii\.gz"}
    with pytest.raises(EmptyMaskError, match=r"patient X.*r1a arterial mask .* is empty"):
        _convert(tmp_path, {"r1a": [rule]})


def test_manifest_has_every_contract_column_and_leaves_carried_masks_empty(tmp_path):
    _image, art, _paths, mask = _export(tmp_path)
    seg_dataset(art, mask, description="r1a").save_as(tmp_path / "X" / "seg.dcm")
    rule = {"source": "seg", "description": "r1a", "segment": "tumou?r"}
    params = IngestParams.model_validate(ingest_params(delineations={"r1a": [rule]}))
    export = DicomExport(tmp_path)
    plan = plan_ingest(index_dicom_export(export, params), export, data_contract(), params)
    lazy = convert_ingested_patients(plan, export, data_contract(), params)
    written = {k: f() for k, f in lazy.items()}  # what the PartitionedDataset would write
    images = {k: (lambda im=im: im) for k, im in written.items()}
    manifest, qc = build_ingest_outputs(plan, images, data_contract())
    assert list(manifest.columns) == [
        "patient_id", "center", "cohort", "arterial_ct", "portal_ct",
        "arterial_mask_r1a", "portal_mask_r1a", "arterial_mask_r1b", "portal_mask_r1b",
        "arterial_mask_r2", "portal_mask_r2",
    ]  # fmt: skip
    row = manifest.iloc[0]
    assert row["arterial_mask_r1a"] == "images/X/arterial_mask_r1a.nii.gz"
    assert pd.isna(row["portal_mask_r1a"]) and pd.isna(row["arterial_mask_r2"])
    assert "the ['portal'] crop uses the mask carried" in qc.loc[0, "notes"]
    assert qc.loc[0, "arterial_r1a_volume_ml"] == pytest.approx(5**3 * 1.0 * 1.0 * 2.0 / 1000)


def test_ingest_rules_must_use_the_contract_names(tmp_path):
    _export(tmp_path)
    rule = {"source": "seg", "description": "r1a", "segment": "tumou?r"}
    params = IngestParams.model_validate(ingest_params(delineations={"reader9": [rule]}))
    export = DicomExport(tmp_path)
    with pytest.raises(InputDataError, match=r"ingest.delineations names \['reader9'\]"):
        plan_ingest(index_dicom_export(export, params), export, data_contract(), params)


def test_patient_missing_from_the_mapping_is_excluded_without_its_dicom_id(tmp_path):
    _export(tmp_path / "export")
    pd.DataFrame({"dicom_patient_id": ["OTHER"], "patient_id": ["P9"]}).to_csv(
        tmp_path / "map.csv", index=False
    )
    params = ingest_params(delineations={})
    params["patient_ids"]["source"] = "mapping"
    params = IngestParams.model_validate(params)
    export = DicomExport(tmp_path / "export", patient_map_path=tmp_path / "map.csv")
    plan = plan_ingest(index_dicom_export(export, params), export, data_contract(), params)
    manifest, qc = build_ingest_outputs(plan, {}, data_contract())
    assert manifest.empty
    assert qc.loc[0, "patient_id"] == "(not mapped 1)" and not qc.loc[0, "included"]
    assert "not in the mapping table" in qc.loc[0, "problems"]
    assert not qc.astype(str).apply(lambda c: c.str.contains("X", regex=False)).any().any()


def test_jpeg_ls_ct_series_and_seg_are_decoded(tmp_path):
    from pydicom.uid import JPEGLSLossless

    from hcc_nomogram.ingest.series import read_series

    image, mask = tiny_ct(), cube_mask(tiny_ct())
    common = {"patient_id": "X", "study_uid": generate_uid(), "frame_uid": generate_uid()}
    datasets = ct_datasets(
        image, description="Arterial", series_number=1, acquisition_time="1", **common
    )
    paths = write_series(datasets, tmp_path / "ct", compress=JPEGLSLossless)
    ct = read_series(paths)  # GDCM (CharLS) inside SimpleITK
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ct), sitk.GetArrayFromImage(image))
    seg = seg_dataset(
        datasets, mask, description="r1a", fractional=True, transfer_syntax_uid=JPEGLSLossless
    )
    seg.save_as(tmp_path / "seg.dcm")
    assert str(seg.file_meta.TransferSyntaxUID) == JPEGLSLossless
    np.testing.assert_array_equal(seg_mask(tmp_path / "seg.dcm", paths, ct, 1), mask)  # pyjpegls
