"""Header-only index of a DICOM export: one row per file, then one row per series.

:func:`index_files` reads every file under a folder with ``pydicom.dcmread(stop_before_pixels=
True)`` -- pixel data is never read -- and keeps only the tags the ingest needs (no names,
birth dates or accession numbers). Files that are not DICOM (README, spreadsheets, ``DICOMDIR``)
are skipped and counted; files with a DICOM preamble that cannot be parsed are kept with their
error. A previous per-file table passed as ``cache`` is reused for every file whose size and
modification time have not changed, so a second run over 10,000 files only lists the folder.
:func:`series_table` groups the files into series with their slice count, geometry, slice-gap
check and, for SEG/RTSTRUCT objects, the referenced series and the segment / ROI names.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydicom

logger = logging.getLogger(__name__)

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
ENHANCED_CT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.2.1"
IMAGE_FILE = "FILE"  # modality given to NIfTI/NRRD/MHA files found in the export
IMAGE_FILE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")

FILE_COLUMNS = [
    "path", "size", "mtime_ns", "error", "patient_id", "study_uid", "study_date", "study_time",
    "series_uid", "sop_uid", "sop_class", "modality", "series_description", "series_number",
    "acquisition_time", "content_time", "contrast_agent", "image_type", "instance_number",
    "position", "orientation", "pixel_spacing", "rows", "columns", "frames", "transfer_syntax",
    "frame_of_reference", "referenced_series", "segments", "creator",
]  # fmt: skip


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _floats(ds, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return json.dumps([round(float(v), 6) for v in value])


def _is_dicom(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def _seg_fields(ds) -> tuple[str, str]:
    refs = [item.SeriesInstanceUID for item in ds.get("ReferencedSeriesSequence", [])]
    segments = [
        {
            "number": int(item.SegmentNumber),
            "label": str(item.get("SegmentLabel", "")),
            "description": str(item.get("SegmentDescription", "")),
        }
        for item in ds.get("SegmentSequence", [])
    ]
    return ";".join(refs), json.dumps(segments)


def _rtstruct_fields(ds) -> tuple[str, str]:
    refs = []
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            for series in study.get("RTReferencedSeriesSequence", []):
                refs.append(series.SeriesInstanceUID)
    names = {
        int(r.ROINumber): str(r.get("ROIName", "")) for r in ds.get("StructureSetROISequence", [])
    }
    rois = []
    for roi in ds.get("ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        contours = list(roi.get("ContourSequence", []))
        open_ = sum(
            1
            for c in contours
            if str(c.get("ContourGeometricType", "CLOSED_PLANAR")) != "CLOSED_PLANAR"
        )
        degenerate = sum(1 for c in contours if int(c.get("NumberOfContourPoints", 0)) < 3)
        rois.append(
            {"number": number, "label": names.get(number, ""), "contours": len(contours),
             "open_contours": open_, "degenerate_contours": degenerate}
        )  # fmt: skip
    return ";".join(dict.fromkeys(refs)), json.dumps(rois)


def read_file_header(path: Path, rel: str) -> dict[str, Any] | None:
    """The indexed tags of one file (``None`` when it is not DICOM); never reads pixel data."""
    stat = path.stat()
    row: dict[str, Any] = {
        **dict.fromkeys(FILE_COLUMNS, ""),
        **{"rows": 0, "columns": 0, "frames": 1},
        **{"path": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
    }
    if not _is_dicom(path):
        if path.name.lower().endswith(IMAGE_FILE_SUFFIXES):  # NIfTI/NRRD masks, by pattern
            return {**row, "modality": IMAGE_FILE}
        return None
    try:
        with warnings.catch_warnings():  # non-conforming values are common and harmless here
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        missing = [k for k in ("SOPClassUID", "SeriesInstanceUID", "PatientID") if k not in ds]
        if missing:  # pydicom returns what it could parse of a truncated file
            raise ValueError(f"incomplete header (no {', '.join(missing)}); truncated file?")
        sop_class = _text(ds, "SOPClassUID")
        refs, segments = "", ""
        if sop_class == SEG_SOP_CLASS:
            refs, segments = _seg_fields(ds)
        elif sop_class == RTSTRUCT_SOP_CLASS:
            refs, segments = _rtstruct_fields(ds)
        row.update(
            error="",
            patient_id=_text(ds, "PatientID"),
            study_uid=_text(ds, "StudyInstanceUID"),
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            series_uid=_text(ds, "SeriesInstanceUID"),
            sop_uid=_text(ds, "SOPInstanceUID"),
            sop_class=sop_class,
            modality=_text(ds, "Modality"),
            series_description=_text(ds, "SeriesDescription"),
            series_number=_text(ds, "SeriesNumber"),
            acquisition_time=_text(ds, "AcquisitionTime"),
            content_time=_text(ds, "ContentTime"),
            contrast_agent=_text(ds, "ContrastBolusAgent"),
            image_type=_text(ds, "ImageType").upper(),
            instance_number=_text(ds, "InstanceNumber"),
            position=_floats(ds, "ImagePositionPatient"),
            orientation=_floats(ds, "ImageOrientationPatient"),
            pixel_spacing=_floats(ds, "PixelSpacing"),
            rows=int(ds.get("Rows", 0) or 0),
            columns=int(ds.get("Columns", 0) or 0),
            frames=int(ds.get("NumberOfFrames", 1) or 1),
            transfer_syntax=str(ds.file_meta.get("TransferSyntaxUID", "")),
            frame_of_reference=_text(ds, "FrameOfReferenceUID"),
            referenced_series=refs,
            segments=segments,
            creator=_text(ds, "ContentCreatorName") or _text(ds, "OperatorsName"),
        )
    except Exception as exc:  # a truncated or malformed file: keep it, with the reason
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return row


def index_files(
    root: str | Path, cache: pd.DataFrame | None = None, progress_every: int = 1000
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per-file header table of every DICOM file under ``root`` (and counts).

    Rows of ``cache`` whose path, size and modification time are unchanged are reused
    without opening the file. Returns ``(table, counts)`` with counts of ``files``,
    ``dicom``, ``not_dicom``, ``unreadable`` and ``from_cache``.
    """
    root = Path(root)
    cached = {}
    if cache is not None and len(cache):
        cached = {r["path"]: r for r in cache.to_dict("records")}
    rows, counts = (
        [],
        {
            "files": 0,
            "dicom": 0,
            "not_dicom": 0,
            "unreadable": 0,
            "from_cache": 0,
            "image_files": 0,
        },
    )
    start = time.perf_counter()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            counts["files"] += 1
            stat = path.stat()
            hit = cached.get(rel)
            if (
                hit is not None
                and hit["size"] == stat.st_size
                and hit["mtime_ns"] == stat.st_mtime_ns
            ):
                row = hit
                counts["from_cache"] += 1
            else:
                row = read_file_header(path, rel)
            if row is None:
                counts["not_dicom"] += 1
            elif row["modality"] == IMAGE_FILE:
                counts["image_files"] += 1
                rows.append(row)
            else:
                counts["unreadable" if row["error"] else "dicom"] += 1
                rows.append(row)
            if counts["files"] % progress_every == 0:
                rate = counts["files"] / max(time.perf_counter() - start, 1e-9)
                logger.info(
                    "ingest: indexed %d files (%d DICOM, %d from cache), %.0f files/s",
                    counts["files"], counts["dicom"], counts["from_cache"], rate,
                )  # fmt: skip
    table = pd.DataFrame(rows, columns=FILE_COLUMNS)
    logger.info(
        "ingest: indexed %d files under %s: %d DICOM, %d not DICOM (skipped), %d unreadable, "
        "%d reused from the cache, in %.1f s.",
        counts["files"], root, counts["dicom"], counts["not_dicom"], counts["unreadable"],
        counts["from_cache"], time.perf_counter() - start,
    )  # fmt: skip
    return table, counts


def _slice_check(positions: list[list[float]], orientation: list[float], tolerance: float) -> str:
    """'' when the slices are evenly spaced along the normal, else the problem in words."""
    if len(positions) < 2:
        return ""
    normal = np.cross(orientation[:3], orientation[3:])
    z = np.sort(np.asarray(positions) @ normal)
    steps = np.diff(z)
    if np.any(steps < 1e-6):
        return f"{int(np.sum(steps < 1e-6))} duplicate slice position(s)"
    median = float(np.median(steps))
    bad = np.abs(steps - median) > tolerance * median
    if bad.any():
        where = ", ".join(f"{z[i]:.2f}->{z[i + 1]:.2f} mm" for i in np.flatnonzero(bad)[:5])
        return (
            f"uneven slice spacing: median step {median:.3f} mm, {int(bad.sum())} step(s) differ "
            f"(gaps at {where}); missing slices?"
        )
    return ""


def series_table(files: pd.DataFrame, slice_gap_tolerance: float = 0.05) -> pd.DataFrame:
    """One row per series (files in slice order), plus one row per unreadable file."""
    good = files[(files["error"] == "") & (files["modality"] != IMAGE_FILE)]
    rows = []
    for uid, group in good.groupby("series_uid", sort=True):
        first = group.iloc[0]
        orientations = sorted(set(group["orientation"]))
        problem = ""
        ordered = group
        if len(orientations) > 1:
            problem = f"mixed slice orientations in one series ({len(orientations)} different)"
        elif first["sop_class"] not in (SEG_SOP_CLASS, RTSTRUCT_SOP_CLASS) and all(
            group["position"] != ""
        ):
            orientation = json.loads(orientations[0]) if orientations[0] else [1, 0, 0, 0, 1, 0]
            positions = [json.loads(p) for p in group["position"]]
            normal = np.cross(orientation[:3], orientation[3:])
            order = np.argsort(np.asarray(positions) @ normal, kind="stable")
            ordered = group.iloc[order]
            if len(group) > 1:
                problem = _slice_check(positions, orientation, slice_gap_tolerance)
        acq = sorted(t for t in group["acquisition_time"] if t)
        rows.append(
            {
                "patient_id": first["patient_id"],
                "study_uid": first["study_uid"],
                "study_date": first["study_date"],
                "study_time": first["study_time"],
                "series_uid": uid,
                "modality": first["modality"],
                "sop_class": first["sop_class"],
                "series_description": first["series_description"],
                "series_number": first["series_number"],
                "acquisition_time": acq[0] if acq else "",
                "content_time": first["content_time"],
                "contrast_agent": first["contrast_agent"],
                "image_type": first["image_type"],
                "n_files": len(group),
                "n_slices": int(group["frames"].sum()) if len(group) == 1 else len(group),
                "multiframe": bool((group["frames"] > 1).any()),
                "rows": int(first["rows"]),
                "columns": int(first["columns"]),
                "pixel_spacing": first["pixel_spacing"],
                "orientation": orientations[0] if len(orientations) == 1 else "mixed",
                "transfer_syntax": ";".join(sorted(set(group["transfer_syntax"]))),
                "frame_of_reference": first["frame_of_reference"],
                "referenced_series": first["referenced_series"],
                "segments": first["segments"],
                "creator": first["creator"],
                "folder": os.path.commonpath(list(group["path"]))
                if len(group) > 1
                else str(Path(first["path"]).parent.as_posix()),
                "geometry_problem": problem,
                "files": json.dumps(list(ordered["path"])),
                "error": "",
            }
        )
    for record in files[files["modality"] == IMAGE_FILE].to_dict("records"):
        rows.append(
            {
                "modality": IMAGE_FILE,
                "files": json.dumps([record["path"]]),
                "error": "",
                "n_files": 1,
            }
        )
    for record in files[files["error"] != ""].to_dict("records"):
        rows.append({"files": json.dumps([record["path"]]), "error": record["error"], "n_files": 1})
    return pd.DataFrame(rows, columns=SERIES_COLUMNS)


SERIES_COLUMNS = [
    "patient_id", "study_uid", "study_date", "study_time", "series_uid", "modality", "sop_class",
    "series_description", "series_number", "acquisition_time", "content_time", "contrast_agent",
    "image_type", "n_files", "n_slices", "multiframe", "rows", "columns", "pixel_spacing",
    "orientation", "transfer_syntax", "frame_of_reference", "referenced_series", "segments",
    "creator", "folder", "geometry_problem", "files", "error",
]  # fmt: skip
