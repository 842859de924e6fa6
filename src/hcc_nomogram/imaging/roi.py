"""The representative slice of a tumour: the axial slice with the largest tumour area.

Areas are in mm^2 (voxel count x in-plane pixel area), so the choice and the reported area do
not depend on the slice thickness or on an anisotropic in-plane spacing. Ties go to the lowest
slice index. The centroid is the mean position of all tumour pixels of that slice (with two
tumours in one slice it lies between them: the crop then shows both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk


@dataclass(frozen=True)
class SliceChoice:
    """The chosen slice: index ``k`` (z), tumour area and pixel centroid ``(x, y)``."""

    index: int
    area_mm2: float
    centroid_xy: tuple[float, float]  # continuous pixel index (x = column, y = row)
    n_slices_with_tumor: int

    def centroid_mm(self, image: sitk.Image) -> tuple[float, float, float]:
        """Physical position (mm) of the centroid in ``image``'s grid."""
        return tuple(
            image.TransformContinuousIndexToPhysicalPoint(
                (float(self.centroid_xy[0]), float(self.centroid_xy[1]), float(self.index))
            )
        )


def slice_areas_mm2(mask: np.ndarray, spacing_xyz) -> np.ndarray:
    """Tumour area (mm^2) of every axial slice of a binary z-y-x ``mask``."""
    pixel_area = float(spacing_xyz[0]) * float(spacing_xyz[1])
    return (mask != 0).reshape(mask.shape[0], -1).sum(axis=1) * pixel_area


def representative_slice(
    mask: np.ndarray, spacing_xyz, offset_xyz: tuple[int, int, int] = (0, 0, 0)
) -> SliceChoice:
    """Largest-area axial slice of a binary z-y-x ``mask`` (ties: lowest index).

    ``offset_xyz`` (the start index of a sub-volume) is added to the slice index and the
    centroid when ``mask`` is a region of a larger image. Raises ``ValueError`` for an empty
    mask (validate first).
    """
    areas = slice_areas_mm2(mask, spacing_xyz)
    if not np.any(areas > 0):
        raise ValueError("empty mask: no slice contains tumour.")
    k = int(np.argmax(areas))  # first maximum = lowest index
    rows, cols = np.nonzero(mask[k])
    return SliceChoice(
        index=k + int(offset_xyz[2]),
        area_mm2=float(areas[k]),
        centroid_xy=(float(cols.mean()) + offset_xyz[0], float(rows.mean()) + offset_xyz[1]),
        n_slices_with_tumor=int(np.count_nonzero(areas)),
    )
