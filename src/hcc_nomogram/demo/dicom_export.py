"""The demo cohort as a DICOM export, to try (and test) the `ingest` pipeline.

Writes demo patients the way a PACS or TCIA export looks: per patient one study with the
arterial and portal-venous CT series (pydicom), a delayed phase, a scout and a dose report
(distractors), reader 1's two delineations as DICOM SEG (highdicom; r1a binary, r1b
fractional), reader 2's as RTSTRUCT (rt-utils), a README that is not DICOM; the arterial series
and the scout share one folder without ``.dcm`` suffixes. The CT headers carry fake identifying
values (:data:`IDENTIFYING`) so that privacy checks have something to look for.

Run::

    kedro run --pipelines=demo_cohort                          # once
    python -m hcc_nomogram.demo.dicom_export --patients 3     # -> data/01_raw/dicom/ + map
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pandas as pd
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless, generate_uid

IDENTIFYING = {
    "PatientName": "Doe^Jane",
    "PatientBirthDate": "19500101",
    "AccessionNumber": "ACC12345",
}


def ct_datasets(  # noqa: PLR0913  keyword-only DICOM header values
    image: sitk.Image,
    *,
    patient_id: str,
    study_uid: str,
    frame_uid: str,
    description: str,
    series_number: int,
    acquisition_time: str,
    image_type: str = "ORIGINAL\\PRIMARY\\AXIAL",
    study_date: str = "20200101",
    slices: list[int] | None = None,
) -> list[Dataset]:
    """One CT Image Storage dataset per slice of ``image`` (int16 HU, identity direction)."""
    array = sitk.GetArrayFromImage(image).astype(np.int16)
    sx, sy, sz = image.GetSpacing()
    series_uid = generate_uid()
    out = []
    for k in slices if slices is not None else range(array.shape[0]):
        origin = image.TransformIndexToPhysicalPoint((0, 0, k))
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientSex = patient_id, "F"
        for key, value in IDENTIFYING.items():
            setattr(ds, key, value)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = (
            study_uid,
            series_uid,
            frame_uid,
        )
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.ReferringPhysicianName = (
            study_date,
            "090000",
            "1",
            "",
        )
        ds.Modality, ds.Manufacturer = "CT", "test"
        ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = description, series_number, k + 1
        ds.AcquisitionTime = acquisition_time
        ds.ContrastBolusAgent = "IOPAMIDOL" if "native" not in description.lower() else ""
        ds.ImageType = image_type
        ds.ImagePositionPatient = [float(v) for v in origin]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [float(sy), float(sx)]
        ds.SliceThickness = float(sz)
        ds.Rows, ds.Columns = array.shape[1], array.shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = array[k].tobytes()
        out.append(ds)
    return out


def write_series(
    datasets: list[Dataset],
    folder: Path,
    *,
    suffix: str = ".dcm",
    compress: bool | str = False,
) -> list[Path]:
    """Write ``datasets`` as ``<SOPInstanceUID><suffix>``; ``compress``: True = RLE Lossless,
    or a transfer syntax UID (e.g. JPEG-LS Lossless, encoded with pyjpegls)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in datasets:
        if compress:
            ds.compress(RLELossless if compress is True else compress)
        path = folder / f"{ds.SOPInstanceUID}{suffix}"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def seg_dataset(  # noqa: PLR0913  keyword-only DICOM SEG header values
    source: list[Dataset],
    mask: np.ndarray,
    *,
    description: str,
    label: str = "Tumour",
    fractional: bool = False,
    creator: str = "Reader^One",
    transfer_syntax_uid: str = ExplicitVRLittleEndian,
) -> hd.seg.Segmentation:
    """A highdicom SEG of ``mask`` (z-y-x, binary) on ``source`` (sparse: empty frames omitted)."""
    from pydicom.sr.codedict import codes

    segment = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    pixels = mask.astype(np.float32) * 0.9 if fractional else mask.astype(bool)
    seg = hd.seg.Segmentation(
        source_images=source,
        pixel_array=pixels,
        segmentation_type="FRACTIONAL" if fractional else "BINARY",
        segment_descriptions=[segment],
        series_instance_uid=generate_uid(),
        series_number=100,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
        content_creator_name=creator,
        omit_empty_frames=True,
        transfer_syntax_uid=transfer_syntax_uid,
    )
    seg.SeriesDescription = description
    return seg


def rtstruct_file(
    series_paths: list[Path], mask: np.ndarray, out: Path, *, description: str, roi: str = "Tumour"
) -> Path:
    """An RTSTRUCT drawn by rt-utils from ``mask`` (z-y-x) on a series (copied to a temp folder)."""
    from rt_utils import RTStructBuilder

    staging = out.parent / f".staging_{out.stem}"
    staging.mkdir(parents=True)
    for p in series_paths:
        shutil.copy(p, staging / p.name)
    rt = RTStructBuilder.create_new(str(staging))
    rt.add_roi(mask=np.transpose(mask.astype(bool), (1, 2, 0)), name=roi)
    rt.ds.SeriesDescription = description
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):  # rt-utils prints "Writing file to ..."
        rt.save(str(out))
    shutil.rmtree(staging)
    return out if out.exists() else out.with_suffix(out.suffix + ".dcm")


def write_patient_export(
    root: Path, cohort: Path, patient: str, *, dicom_id: str | None = None, compress: bool = False
) -> dict[str, Path]:
    """One demo patient as a mixed DICOM study under ``root/<dicom_id>/``.

    arterial + portal CT series, a delayed phase, a scout and a dose report (distractors);
    r1a = binary SEG, r1b = fractional SEG (both on both phases), r2 = RTSTRUCT per phase; a
    README that is not DICOM. The arterial series and the scout share one folder, without
    ``.dcm`` suffixes (as PACS exports often are). Returns the written objects' paths.
    """
    dicom_id = dicom_id or f"DCM-{patient}"
    images = {
        c: sitk.ReadImage(str(cohort / "images" / patient / f"{c}.nii.gz"))
        for c in (
            "arterial_ct",
            "portal_ct",
            "arterial_mask_r1a",
            "portal_mask_r1a",
            "arterial_mask_r1b",
            "portal_mask_r1b",
            "arterial_mask_r2",
            "portal_mask_r2",
        )
    }
    study_uid, frame_uid = generate_uid(), generate_uid()
    base = root / dicom_id
    common = {"patient_id": dicom_id, "study_uid": study_uid, "frame_uid": frame_uid}
    art = ct_datasets(
        images["arterial_ct"],
        description="Arterial phase 1.0 B30f",
        series_number=3,
        acquisition_time="101500",
        **common,
    )
    pv = ct_datasets(
        images["portal_ct"],
        description="Portal venous 1.0 B30f",
        series_number=4,
        acquisition_time="101600",
        **common,
    )
    delayed = ct_datasets(
        images["portal_ct"],
        description="Delayed 180s",
        series_number=5,
        acquisition_time="101900",
        **common,
    )
    scout = ct_datasets(
        images["arterial_ct"],
        description="Topogram 0.6 T20f",
        series_number=1,
        acquisition_time="101000",
        image_type="ORIGINAL\\PRIMARY\\LOCALIZER",
        slices=[0],
        **common,
    )
    dose = ct_datasets(
        images["arterial_ct"],
        description="Dose Report",
        series_number=99,
        acquisition_time="102000",
        image_type="DERIVED\\SECONDARY\\OTHER",
        slices=[0],
        **common,
    )
    out = {
        "arterial": write_series(art, base / "mixed", suffix="", compress=compress),
        "portal": write_series(pv, base / "series_pv", compress=compress),
    }
    write_series(scout, base / "mixed", suffix="")
    write_series(delayed, base / "series_delayed")
    write_series(dose, base / "dose")
    for phase, source in (("arterial", art), ("portal", pv)):
        for read, fractional in (("r1a", False), ("r1b", True)):
            mask = sitk.GetArrayFromImage(images[f"{phase}_mask_{read}"])
            seg = seg_dataset(source, mask, description=f"Tumour {read}", fractional=fractional)
            path = base / "seg" / f"{phase}_{read}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            seg.save_as(path)
            out[f"{phase}_seg_{read}"] = path
        out[f"{phase}_rtstruct"] = rtstruct_file(
            out[phase],
            sitk.GetArrayFromImage(images[f"{phase}_mask_r2"]),
            base / "rt" / f"{phase}_r2.dcm",
            description="Contours r2",
        )
    (base / "README.txt").write_text("export notes\n", encoding="utf-8")
    return out


def write_demo_export(
    cohort: str | Path,
    export: str | Path,
    patient_map: str | Path,
    patients: int | list[str] = 3,
    compress: bool = False,
) -> Path:
    """The first ``patients`` demo patients (or the named ones) as a DICOM export in ``export``
    (RLE-compressed every second patient with ``compress``), and the ``patient_map`` CSV
    (DICOM PatientID -> demo ID, center, cohort). Returns ``export``."""
    cohort, export, patient_map = Path(cohort), Path(export), Path(patient_map)
    manifest = pd.read_csv(cohort / "manifest.csv", dtype=str)
    ids = manifest["patient_id"].tolist()[:patients] if isinstance(patients, int) else patients
    for i, patient in enumerate(ids):
        write_patient_export(export, cohort, patient, compress=compress and i % 2 == 1)
    table = manifest.set_index("patient_id").loc[ids, ["center", "cohort"]].reset_index()
    table.insert(0, "dicom_patient_id", [f"DCM-{p}" for p in ids])
    patient_map.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(patient_map, index=False)
    return export


def main() -> None:
    parser = argparse.ArgumentParser(description="Write demo patients as a DICOM export.")
    parser.add_argument("--cohort", default="data/01_raw/demo", type=Path)
    parser.add_argument("--out", default="data/01_raw/dicom", type=Path)
    parser.add_argument("--patient-map", default="data/01_raw/dicom_patient_map.csv", type=Path)
    parser.add_argument("--patients", default=3, type=int)
    parser.add_argument("--compress", action="store_true", help="RLE-compress every 2nd patient")
    args = parser.parse_args()
    write_demo_export(args.cohort, args.out, args.patient_map, args.patients, args.compress)
    print(f"wrote {args.out} and {args.patient_map}")


if __name__ == "__main__":
    main()
