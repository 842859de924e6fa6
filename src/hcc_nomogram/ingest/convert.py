"""Turn one patient's plan into images on disk-ready form: CT per phase + masks on its grid.

:func:`convert_patient` reads each chosen CT series (files from the index, in slice order) and
builds every planned mask on that CT's exact grid (size, spacing, origin, direction copied from
the CT), checking that it is non-empty. Only pixels and geometry leave this function.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from hcc_nomogram.datasets.dicom import DicomExport
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.ingest.masks import check_mask, file_mask, rtstruct_mask, seg_mask
from hcc_nomogram.ingest.selection import MaskSource
from hcc_nomogram.ingest.series import read_series


def _mask_array(
    export: DicomExport, source: MaskSource, ct: sitk.Image, ct_files: list[Path], patient: str
) -> np.ndarray:
    path = export.file(source.file)
    if source.kind == "seg":
        return seg_mask(
            path, ct_files, ct, source.segment_number, threshold=source.threshold, patient=patient
        )
    if source.kind == "rtstruct":
        return rtstruct_mask(path, ct_files, source.roi_name, patient=patient)
    return file_mask(path, ct, None, patient=patient, ct_file=ct_files[0].parent)


def convert_patient(
    export: DicomExport,
    patient: str,
    series_files: dict[str, list[str]],
    masks: dict[tuple[str, str], MaskSource],
    mask_label: int = 1,
) -> dict[tuple[str, str | None], sitk.Image]:
    """``{(phase, None): CT, (phase, delineation): mask}`` for one patient."""
    out: dict[tuple[str, str | None], sitk.Image] = {}
    for phase, files in series_files.items():
        paths = [export.file(f) for f in files]
        ct = read_series(paths, patient=patient)
        out[(phase, None)] = ct
        for (delineation, mask_phase), source in masks.items():
            if mask_phase != phase:
                continue
            try:
                array = _mask_array(export, source, ct, paths, patient)
            except InputDataError:
                raise
            except Exception as exc:  # a library error on a malformed object
                raise InputDataError(
                    f"the {delineation} {phase} mask cannot be read ({type(exc).__name__}: {exc}).",
                    patient=patient,
                    file=export.file(source.file),
                    fix="re-export the segmentation against the chosen series.",
                ) from exc
            check_mask(
                array,
                patient=patient,
                file=export.file(source.file),
                what=f"{delineation} {phase} mask ({source.label})",
            )
            mask = sitk.GetImageFromArray((array > 0).astype(np.uint8) * np.uint8(mask_label))
            mask.CopyInformation(ct)
            out[(phase, delineation)] = mask
    return out
