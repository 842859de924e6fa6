"""Tumour masks from DICOM SEG, RTSTRUCT or NIfTI/NRRD, on the exact grid of their CT.

Every function returns a binary ``uint8`` array in the CT's ``z, y, x`` order (slices in the
order of the series as read by :func:`hcc_nomogram.ingest.series.read_series`):

- :func:`seg_mask`: DICOM SEG read with highdicom. Frames are matched to the CT slices through
  the SEG's references to its source instances (``get_pixels_by_source_instance``), so a SEG
  covering only some slices or stored sparse (empty frames omitted) lands on the right slices;
  a SEG without per-frame references is placed by its plane positions instead
  (``get_volume``, resampled nearest-neighbour onto the CT grid). Fractional SEGs are
  thresholded.
- :func:`rtstruct_mask`: RTSTRUCT contours rasterised by rt-utils on the referenced series'
  headers (holes and several contours per slice filled even-odd by OpenCV).
- :func:`file_mask`: a NIfTI/NRRD file, checked to have its CT's geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk

from hcc_nomogram.datasets.image import read_image
from hcc_nomogram.errors import EmptyMaskError, InputDataError
from hcc_nomogram.imaging.validation import ValidationSettings, check_same_geometry


def _headers(files: Sequence[Path]) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files]


def seg_mask(  # noqa: PLR0913  SEG file, its CT, segment; keyword options
    seg_file: Path,
    ct_files: Sequence[Path],
    ct: sitk.Image,
    segment_number: int,
    *,
    threshold: float = 0.5,
    patient: str | None = None,
) -> np.ndarray:
    """Segment ``segment_number`` of a DICOM SEG on the CT grid (binary, z-y-x)."""
    seg = hd.seg.segread(str(seg_file))
    sop_uids = [h.SOPInstanceUID for h in _headers(ct_files)]
    try:
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=sop_uids,
            segment_numbers=[segment_number],
            combine_segments=False,
            rescale_fractional=True,
        )[..., 0]
    except (ValueError, KeyError, AttributeError):
        # no per-frame source-instance references: place the frames by their positions
        pixels = _seg_by_position(seg, segment_number, ct)
    mask = (np.asarray(pixels, dtype=np.float32) >= threshold).astype(np.uint8)
    if mask.shape != sitk.GetArrayViewFromImage(ct).shape:
        raise InputDataError(
            f"the SEG gives a mask of shape {mask.shape}, the CT is "
            f"{sitk.GetArrayViewFromImage(ct).shape} (z, y, x).",
            patient=patient,
            file=seg_file,
            fix="export the SEG against the same series as the CT (same rows, columns, slices).",
        )
    return mask


def _seg_by_position(seg, segment_number: int, ct: sitk.Image) -> np.ndarray:
    volume = seg.get_volume(segment_numbers=[segment_number], combine_segments=True)
    array = np.asarray(volume.array, dtype=np.float32)
    image = sitk.GetImageFromArray(array)  # highdicom: (slices, rows, columns)
    affine = np.asarray(volume.affine)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)  # columns: slice, row, column steps
    # highdicom's affine maps (slice, row, column) indices; ITK wants (x=column, y=row, z=slice)
    image.SetSpacing((float(spacing[2]), float(spacing[1]), float(spacing[0])))
    direction = affine[:3, :3] / spacing
    image.SetDirection(tuple(direction[:, [2, 1, 0]].flatten().tolist()))
    image.SetOrigin(tuple(float(v) for v in affine[:3, 3]))
    resampled = sitk.Resample(image, ct, sitk.Transform(), sitk.sitkNearestNeighbor, 0.0)
    return sitk.GetArrayFromImage(resampled)


def rtstruct_mask(
    rtstruct_file: Path,
    ct_files: Sequence[Path],
    roi_name: str,
    *,
    patient: str | None = None,
) -> np.ndarray:
    """ROI ``roi_name`` of an RTSTRUCT rasterised on the CT series (binary, z-y-x)."""
    try:
        from rt_utils import RTStruct
    except ImportError as exc:  # rt-utils needs OpenCV, which needs the system's libGL
        raise InputDataError(
            f"RTSTRUCT masks need rt-utils and OpenCV, which cannot be imported ({exc}).",
            patient=patient,
            file=rtstruct_file,
            fix="install the system library OpenCV needs (Debian/Ubuntu: apt-get install "
            "libgl1), or export the delineation as DICOM SEG or NIfTI.",
        ) from exc

    ds = pydicom.dcmread(rtstruct_file)
    try:
        mask = RTStruct(_headers(ct_files), ds).get_roi_mask_by_name(roi_name)
    except Exception as exc:  # rt-utils raises bare Exceptions
        raise InputDataError(
            f"the RTSTRUCT ROI {roi_name!r} cannot be rasterised ({exc}).",
            patient=patient,
            file=rtstruct_file,
            fix="check that the RTSTRUCT was drawn on the chosen series.",
        ) from exc
    # rt-utils returns (rows, columns, slices)
    return np.ascontiguousarray(np.transpose(mask, (2, 0, 1))).astype(np.uint8)


def file_mask(
    path: Path, ct: sitk.Image, label: int | None, *, patient: str | None = None, ct_file=None
) -> np.ndarray:
    """A NIfTI/NRRD mask checked against the CT's geometry; voxels == ``label`` (or > 0)."""
    image = read_image(path, patient=patient)
    check_same_geometry(
        image,
        ct,
        patient=patient,
        mask_file=path,
        image_file=ct_file,
        settings=ValidationSettings(),
    )
    array = sitk.GetArrayFromImage(image)
    if label is not None and array.any() and not (array == label).any():
        raise EmptyMaskError(
            f"no voxel has label {label}; labels present: "
            f"{sorted(np.unique(array).tolist())[:10]}.",
            patient=patient,
            file=path,
            fix="set the label of this delineation rule, or export the mask with the tumour as 1.",
        )
    return ((array == label) if label is not None else (array > 0)).astype(np.uint8)


def check_mask(mask: np.ndarray, *, patient: str | None, file, what: str) -> None:
    """A written mask must be non-empty (it lies inside the image by construction)."""
    if not mask.any():
        raise EmptyMaskError(
            f"the {what} is empty on the CT grid (no tumour voxel inside the image).",
            patient=patient,
            file=file,
            fix="check that the delineation was drawn on this series, and the segment/ROI chosen.",
        )
