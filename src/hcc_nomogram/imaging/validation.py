"""Input checks for one patient's CT phases and tumour masks, before any work is done.

Every check raises an :mod:`hcc_nomogram.errors` exception naming the patient, the file, the
problem and a potential fix (PyRadiomics style):

* :func:`check_image_geometry` -- spacing positive, finite and plausible; direction cosines
  orthonormal (:class:`~hcc_nomogram.errors.ImageGeometryError`).
* :func:`check_same_geometry` -- a mask has the size, spacing, origin and direction of its CT
  within tolerance (:class:`~hcc_nomogram.errors.ImageGeometryError`).
* :func:`tumour_mask` -- the mask is a label image holding the configured tumour label; returns
  the binary ``uint8`` tumour mask (:class:`~hcc_nomogram.errors.EmptyMaskError`,
  :class:`~hcc_nomogram.errors.InputDataError`). A file that is not a mask -- non-integer or
  negative values, more than ``max_mask_labels`` labels, or a "tumour" covering more than
  ``max_tumour_fraction`` of the volume (a CT given as mask) -- is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import SimpleITK as sitk

from hcc_nomogram.datasets.image import preserve_locale
from hcc_nomogram.errors import EmptyMaskError, ImageGeometryError, InputDataError
from hcc_nomogram.parameters import StrictModel

RESAMPLE_FIX = (
    "re-export the mask from the segmentation tool with this CT as reference image, or "
    "resample it onto the CT grid with nearest-neighbour interpolation "
    "(SimpleITK: sitk.Resample(mask, ct, sitk.Transform(), sitk.sitkNearestNeighbor, 0)); "
    "also check that the manifest pairs the right mask with the right phase."
)


class ValidationSettings(StrictModel):
    """Tolerances of the input checks (``preprocessing.validation`` in the parameters).

    ``spacing_tolerance`` is relative (fraction of the spacing), ``origin_tolerance_mm``
    absolute in mm, ``direction_tolerance`` absolute on the direction cosines.
    """

    spacing_tolerance: float = 1e-3
    origin_tolerance_mm: float = 1e-2
    direction_tolerance: float = 1e-3
    min_spacing_mm: float = 0.05
    max_spacing_mm: float = 20.0
    min_tumour_voxels: int = 1
    max_mask_labels: int = 8  # distinct non-zero values; a CT given as a mask has hundreds
    max_tumour_fraction: float = 0.5  # of the mask's voxels; a tumour never fills the scan


#: the defaults (a shared, read-only instance)
DEFAULT_VALIDATION = ValidationSettings()


class ImageHeader:
    """The geometry of an image file, read without its voxels (duck-types ``sitk.Image``'s
    geometry getters for the checks in this module)."""

    def __init__(self, reader: sitk.ImageFileReader):
        self._size = reader.GetSize()
        self._spacing = reader.GetSpacing()
        self._origin = reader.GetOrigin()
        self._direction = reader.GetDirection()

    def GetDimension(self) -> int:  # noqa: N802 (SimpleITK naming)
        return len(self._size)

    def GetSize(self):  # noqa: N802
        return self._size

    def GetSpacing(self):  # noqa: N802
        return self._spacing

    def GetOrigin(self):  # noqa: N802
        return self._origin

    def GetDirection(self):  # noqa: N802
        return self._direction


def read_header(path) -> ImageHeader | None:
    """Geometry of an image *file* without reading its voxels; ``None`` when it cannot be read
    that way (DICOM directory, unknown format): load the image instead."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with preserve_locale():  # a single DICOM file goes through GDCM, as in read_image
            reader.ReadImageInformation()
    except RuntimeError:
        return None
    return ImageHeader(reader)


def _fmt(values) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def check_image_geometry(
    image: sitk.Image,
    *,
    patient: str | None = None,
    file: Any = None,
    settings: ValidationSettings = DEFAULT_VALIDATION,
) -> list[str]:
    """Check that ``image`` is 3-D with sane spacing and an orthonormal direction matrix.

    Returns warnings (e.g. an oblique acquisition, whose "axial" slices are index slices);
    raises :class:`ImageGeometryError` for unusable geometry.
    """
    if image.GetDimension() != 3:
        raise ImageGeometryError(
            f"expected a 3-D image, got {image.GetDimension()}-D of size {image.GetSize()}.",
            patient=patient,
            file=file,
            fix="provide the whole volume (all axial slices), not a single slice.",
        )
    spacing = np.asarray(image.GetSpacing(), dtype=float)
    if (
        not np.all(np.isfinite(spacing))
        or np.any(spacing < settings.min_spacing_mm)
        or np.any(spacing > settings.max_spacing_mm)
    ):
        raise ImageGeometryError(
            f"implausible voxel spacing {_fmt(spacing)} mm (allowed "
            f"{settings.min_spacing_mm}-{settings.max_spacing_mm} mm).",
            patient=patient,
            file=file,
            fix="the header is probably wrong (e.g. spacing lost in a format conversion); "
            "re-export the image from the original DICOM, or widen "
            "preprocessing.validation.min_spacing_mm/max_spacing_mm if the spacing is real.",
        )
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    if not np.all(np.isfinite(direction)) or not np.allclose(
        direction.T @ direction, np.eye(3), atol=settings.direction_tolerance
    ):
        raise ImageGeometryError(
            f"direction cosines {_fmt(direction.ravel())} are not an orthonormal matrix.",
            patient=patient,
            file=file,
            fix="the header is corrupt; re-export the image from the original DICOM.",
        )
    warnings = []
    if not np.allclose(np.abs(direction), np.eye(3), atol=settings.direction_tolerance):
        warnings.append(
            f"{file}: oblique or permuted axes (direction {_fmt(direction.ravel())}); "
            "'axial slice' means the image's third index axis."
        )
    return warnings


def check_same_geometry(  # noqa: PLR0913  keyword-only: the files and patient the error names
    mask: sitk.Image,
    image: sitk.Image,
    *,
    patient: str | None = None,
    mask_file: Any = None,
    image_file: Any = None,
    settings: ValidationSettings = DEFAULT_VALIDATION,
) -> None:
    """Raise :class:`ImageGeometryError` unless ``mask`` lies on the voxel grid of ``image``."""
    problems = []
    if mask.GetDimension() != image.GetDimension():
        problems.append(f"dimension {mask.GetDimension()} vs {image.GetDimension()}")
    elif mask.GetSize() != image.GetSize():
        problems.append(f"size {mask.GetSize()} vs {image.GetSize()}")
    else:
        ms, cs = np.asarray(mask.GetSpacing()), np.asarray(image.GetSpacing())
        if np.any(np.abs(ms - cs) > settings.spacing_tolerance * np.abs(cs)):
            problems.append(f"spacing {_fmt(ms)} vs {_fmt(cs)} mm")
        mo, co = np.asarray(mask.GetOrigin()), np.asarray(image.GetOrigin())
        if np.any(np.abs(mo - co) > settings.origin_tolerance_mm):
            problems.append(f"origin {_fmt(mo)} vs {_fmt(co)} mm")
        md, cd = np.asarray(mask.GetDirection()), np.asarray(image.GetDirection())
        if np.any(np.abs(md - cd) > settings.direction_tolerance):
            problems.append(f"direction {_fmt(md)} vs {_fmt(cd)}")
    if problems:
        raise ImageGeometryError(
            f"the mask does not lie on the grid of its CT {image_file}: mask vs CT "
            + "; ".join(problems)
            + ".",
            patient=patient,
            file=mask_file,
            fix=RESAMPLE_FIX,
        )


def tumour_mask(
    mask: sitk.Image,
    label: int = 1,
    *,
    patient: str | None = None,
    file: Any = None,
    settings: ValidationSettings = DEFAULT_VALIDATION,
) -> tuple[np.ndarray, list[str]]:
    """The binary tumour mask (``uint8`` array, z-y-x) of voxels equal to ``label``.

    A binary mask stored as 0/255 or 0/1 with another ``label`` is accepted only when it
    holds exactly one non-zero value and ``label`` is 1 (the common export convention);
    otherwise the label must be present. Extra labels are reported as warnings.
    """
    array = sitk.GetArrayViewFromImage(mask)
    not_a_mask_fix = (
        "check the manifest column: it must name the tumour mask, not the CT; re-export the "
        "segmentation as a label image (background 0, tumour data_contract.mask_label)."
    )
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise InputDataError(
                "the mask holds non-integer values; it looks like a CT or a probability "
                "map rather than a label mask.",
                patient=patient,
                file=file,
                fix="check the manifest column (mask vs CT), or threshold the probability map "
                "and save it as an integer label image.",
            )
    if (
        np.issubdtype(array.dtype, np.integer)
        and array.size
        and array.min() >= 0
        and array.max() < 2**16
    ):
        present = np.flatnonzero(np.bincount(array.ravel()))  # much faster than np.unique
    else:
        present = np.unique(array)
    if present.size and present[0] < 0:
        raise InputDataError(
            f"the mask holds negative values (minimum {present[0].item()}); it looks like a CT "
            "(Hounsfield units) rather than a label mask.",
            patient=patient,
            file=file,
            fix=not_a_mask_fix,
        )
    nonzero = [v.item() for v in present if v != 0]
    if len(nonzero) > settings.max_mask_labels:
        raise InputDataError(
            f"the mask holds {len(nonzero)} distinct non-zero values (e.g. {nonzero[:5]}), more "
            f"than preprocessing.validation.max_mask_labels={settings.max_mask_labels}; it looks "
            "like an image rather than a label mask.",
            patient=patient,
            file=file,
            fix=not_a_mask_fix + " A multi-label segmentation with more labels: raise "
            "max_mask_labels.",
        )
    warnings: list[str] = []
    if label in nonzero:
        out = (array == label).astype(np.uint8)
        others = [v for v in nonzero if v != label]
        if others:
            warnings.append(f"{file}: labels {others} besides tumour label {label} ignored.")
    elif label == 1 and len(nonzero) == 1:
        out = (array != 0).astype(np.uint8)
        warnings.append(f"{file}: binary mask stored with value {nonzero[0]}, used as tumour.")
    else:
        raise EmptyMaskError(
            f"no voxel has the tumour label {label}; labels present: "
            f"{[v.item() for v in present]}.",
            patient=patient,
            file=file,
            fix="check that the delineation was saved (not an empty template), or set "
            "data_contract.mask_label to the label your segmentation tool uses.",
        )
    n = int(out.sum())
    if n > settings.max_tumour_fraction * out.size:
        raise InputDataError(
            f"the tumour label covers {100 * n / out.size:.0f}% of the volume (more than "
            f"preprocessing.validation.max_tumour_fraction={settings.max_tumour_fraction}); the "
            "file is not a tumour mask (a CT, an inverted mask, or a whole-organ label?).",
            patient=patient,
            file=file,
            fix=not_a_mask_fix,
        )
    if n < settings.min_tumour_voxels:
        raise EmptyMaskError(
            f"the tumour has {n} voxel(s), fewer than "
            f"preprocessing.validation.min_tumour_voxels={settings.min_tumour_voxels}.",
            patient=patient,
            file=file,
            fix="check the delineation, or lower min_tumour_voxels.",
        )
    return out, warnings
