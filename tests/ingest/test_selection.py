"""Phase selection and mask matching: every ambiguity or bad input is a QC problem with the
candidates named and a fix, never a silent pick."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from hcc_nomogram.datasets.dicom import DicomExport
from hcc_nomogram.demo.dicom_export import ct_datasets, rtstruct_file, seg_dataset, write_series
from hcc_nomogram.ingest.params import IngestParams
from hcc_nomogram.pipelines.ingest.nodes import index_dicom_export, plan_ingest
from ingest.dicom_export import cube_mask, data_contract, ingest_params, tiny_ct

R1A = {"r1a": [{"source": "seg", "description": "r1a", "segment": "tumou?r"}]}
R2 = {"r2": [{"source": "rtstruct", "description": "r2", "segment": "tumou?r"}]}


class Study:
    """Series of one patient's study, written under ``root/<patient>/<n>/``."""

    def __init__(self, root: Path, patient: str = "X", date: str = "20200101"):
        self.root, self.patient, self.date = root, patient, date
        self.uid, self.frame = generate_uid(), generate_uid()
        self.n = 0

    def series(self, description: str, time: str = "100000", write: bool = True, **kw):
        self.n += 1
        image = kw.pop("image", None) or tiny_ct(seed=self.n)
        datasets = ct_datasets(
            image, patient_id=self.patient, study_uid=self.uid, frame_uid=self.frame,
            description=description, series_number=self.n, acquisition_time=time,
            study_date=self.date, **kw,
        )  # fmt: skip
        if write:
            write_series(datasets, self.root / self.patient / f"{self.date}_{self.n}")
        return datasets


def _plan(root: Path, **overrides) -> dict[str, dict]:
    overrides.setdefault("delineations", {})
    params = IngestParams.model_validate(ingest_params(**overrides))
    export = DicomExport(root)
    table = plan_ingest(index_dicom_export(export, params), export, data_contract(), params)
    out = {}
    for row in table.to_dict("records"):
        for key in ("problems", "fixes", "notes", "series", "masks"):
            row[key] = json.loads(row[key])
        out[row["dicom_patient_id"]] = row
    return out


def _problems(plan: dict) -> str:
    return " | ".join(plan["problems"])


def test_distractors_are_never_chosen(tmp_path):
    study = Study(tmp_path)
    study.series("Topogram", image_type="ORIGINAL\\PRIMARY\\LOCALIZER", slices=[0])
    study.series("Arterial 1.0", "100000")
    study.series("Arterial MIP", "100001", image_type="DERIVED\\SECONDARY\\MIP")
    study.series("Portal venous 1.0", "100100")
    study.series("Arterial partial", "100002", slices=[0, 1, 2])
    plan = _plan(tmp_path)["X"]
    assert plan["problems"] == []
    assert plan["series"]["arterial"]["series_description"] == "Arterial 1.0"
    assert plan["series"]["portal"]["series_description"] == "Portal venous 1.0"


def test_two_candidates_are_a_problem_listing_both(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial 1.0 B30f", "100000")
    study.series("Late arterial 1.0", "100030")
    study.series("Portal venous", "100100")
    plan = _plan(tmp_path)["X"]
    assert "arterial" not in plan["series"]
    assert "2 series match the arterial rule" in _problems(plan)
    assert "'Arterial 1.0 B30f'" in _problems(plan) and "'Late arterial 1.0'" in _problems(plan)
    assert any("ingest.overrides" in fix for fix in plan["fixes"])


def test_override_decides_what_the_rules_cannot(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial 1.0 B30f", "100000")
    late = study.series("Late arterial 1.0", "100030")
    study.series("Portal venous", "100100")
    plan = _plan(tmp_path, overrides={"X": {"arterial": late[0].SeriesInstanceUID}})["X"]
    assert plan["problems"] == []
    assert plan["series"]["arterial"]["series_description"] == "Late arterial 1.0"
    assert "override" in " ".join(plan["notes"])
    wrong = _plan(tmp_path, overrides={"X": {"arterial": "1.2.3"}})["X"]
    assert "series 1.2.3 is not in the export" in _problems(wrong)


def test_no_candidate_lists_the_ct_series(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial", "100000")
    study.series("Delayed 3 min", "100300")
    plan = _plan(tmp_path)["X"]
    assert "no series matches the portal rule" in _problems(plan)
    assert "'Delayed 3 min'" in _problems(plan)


def test_two_studies_rule(tmp_path):
    for date, label in (("20200601", "follow-up"), ("20200101", "baseline")):
        study = Study(tmp_path, date=date)
        study.series(f"Arterial {label}", "100000")
        study.series(f"Portal venous {label}", "100100")
    problem = _problems(_plan(tmp_path)["X"])
    assert "CT series in 2 studies (study 1: 2 CT series, study 2: 2 CT series" in problem
    assert "2020" not in problem  # no dates in the QC table
    series = ingest_params()["series"]
    plan = _plan(tmp_path, series=series | {"study": "latest"})["X"]
    assert plan["problems"] == []
    assert plan["series"]["arterial"]["series_description"] == "Arterial follow-up"
    assert "the latest one is used" in " ".join(plan["notes"])
    plan = _plan(tmp_path, series=series | {"study": "earliest"})["X"]
    assert plan["series"]["portal"]["series_description"] == "Portal venous baseline"


def test_missing_slices_are_detected_not_stacked(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial", "100000", slices=[k for k in range(24) if k != 11])
    study.series("Portal venous", "100100")
    assert "uneven slice spacing" in _problems(_plan(tmp_path)["X"])


def test_mixed_orientations_are_a_problem(tmp_path):
    study = Study(tmp_path)
    datasets = study.series("Arterial", "100000", write=False)
    datasets[5].ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
    write_series(datasets, tmp_path / "X" / "arterial")
    study.series("Portal venous", "100100")
    assert "mixes slice orientations" in _problems(_plan(tmp_path)["X"])


def test_multiframe_ct_is_a_problem(tmp_path):
    study = Study(tmp_path)
    datasets = study.series("Arterial", "100000", write=False)
    frames = datasets[0]
    frames.SOPClassUID = frames.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    frames.NumberOfFrames = 24
    frames.PixelData = b"".join(d.PixelData for d in datasets)
    write_series([frames], tmp_path / "X" / "enhanced")
    study.series("Portal venous", "100100")
    assert "multi-frame (enhanced) CT" in _problems(_plan(tmp_path)["X"])


def test_phase_order_is_checked(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial", "101000")
    study.series("Portal venous", "100000")
    assert "contradict the expected phase order" in _problems(_plan(tmp_path)["X"])


def test_seg_referencing_a_series_not_in_the_export(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial", "100000")
    study.series("Portal venous", "100100")
    missing = study.series("Arterial recon 2", "100001", write=False)  # never written
    seg = seg_dataset(missing, cube_mask(tiny_ct()), description="Tumour r1a")
    seg.save_as(tmp_path / "X" / "seg.dcm")
    assert "references a series that is not in the export" in _problems(
        _plan(tmp_path, delineations=R1A)["X"]
    )


def test_segment_name_not_found_lists_the_segments(tmp_path):
    study = Study(tmp_path)
    art = study.series("Arterial", "100000")
    study.series("Portal venous", "100100")
    seg_dataset(art, cube_mask(tiny_ct()), description="Tumour r1a", label="Liver").save_as(
        tmp_path / "X" / "seg.dcm"
    )
    plan = _plan(tmp_path, delineations=R1A)["X"]
    assert "0 segment(s) match 'tumou?r'" in _problems(plan)
    assert "the segments are 1: 'Liver'" in _problems(plan)


def test_rtstruct_with_an_open_contour(tmp_path):
    study = Study(tmp_path)
    study.series("Arterial", "100000")
    study.series("Portal venous", "100100")
    folder = tmp_path / "X" / "20200101_1"
    path = rtstruct_file(
        sorted(folder.iterdir()), cube_mask(tiny_ct()), tmp_path / "rt" / "r2.dcm", description="r2"
    )
    ds = pydicom.dcmread(path)
    ds.ROIContourSequence[0].ContourSequence[0].ContourGeometricType = "OPEN_PLANAR"
    ds.save_as(path)
    plan = _plan(tmp_path, delineations=R2)["X"]
    assert "1 open contour(s)" in _problems(plan)
    assert "close the contours" in " ".join(plan["fixes"])


def test_delineation_on_one_phase_only_is_carried(tmp_path):
    study = Study(tmp_path)
    art = study.series("Arterial", "100000")
    study.series("Portal venous", "100100")
    seg_dataset(art, cube_mask(tiny_ct()), description="Tumour r1a").save_as(
        tmp_path / "X" / "s.dcm"
    )
    plan = _plan(tmp_path, delineations={**R1A, **R2})["X"]
    assert plan["problems"] == []
    assert list(plan["masks"]) == ["r1a|arterial"]
    notes = " ".join(plan["notes"])
    assert (
        "r1a: delineated on ['arterial'] only; the ['portal'] crop uses the mask carried" in notes
    )
    assert "r2: no mask found; the ICC comparisons using it are not computed" in notes
    # the primary delineation must exist on some phase
    (tmp_path / "X" / "s.dcm").unlink()
    plan = _plan(tmp_path, delineations=R1A)["X"]
    assert "r1a (the primary delineation): no mask found on any phase" in _problems(plan)


def test_unknown_parameter_keys_are_errors():
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        IngestParams.model_validate(ingest_params(serie={}))
    with pytest.raises(ValueError, match="named groups"):
        IngestParams.model_validate(
            ingest_params(delineations={"r2": [{"source": "nifti", "pattern": r"r2\.nii"}]})
        )
    with pytest.raises(ValueError, match="not a valid regular expression"):
        IngestParams.model_validate(ingest_params(phases={"arterial": {"description": "art("}}))
    # the run-level check (hcc_nomogram.parameters) names the dotted key and the allowed keys
    from hcc_nomogram.parameters import block_problems

    problems = block_problems("ingest", ingest_params(series={"min_slice": 5}))
    assert problems and problems[0].startswith("ingest.series.min_slice: unknown key")
    assert "min_slices" in problems[0]
    bad = {"r2": [{"source": "nifti", "pattern": "x"}]}
    assert "named groups" in block_problems("ingest", ingest_params(delineations=bad))[0]
