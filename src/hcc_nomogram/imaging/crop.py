"""Square crops centred on the tumour centroid of the representative slice, and z-scoring.

Geometry of a crop (``size`` x ``size`` pixels, default 224 as in the paper):

* native spacing (default, as in the paper): the centroid pixel -- the centroid rounded half up
  -- sits at pixel ``(size // 2, size // 2)``; the crop is a pure index window of the slice, no
  interpolation, and padded with air (-1000 HU) where it leaves the image;
* ``in_plane_spacing_mm`` set: the slice is resampled (linear for CT, nearest neighbour for the
  mask) onto a grid of that spacing whose pixel ``(size // 2, size // 2)`` is the centroid.

A phase registered onto another is always sampled through its transform onto the grid of the
fixed phase (:func:`sample_window`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import SimpleITK as sitk
from pydantic import AfterValidator, BeforeValidator, Field, PositiveFloat

from hcc_nomogram.parameters import StrictModel

AIR_HU = -1000.0
#: below this (HU, before z-scoring) a crop pixel counts as air (QC ``__crop_air_fraction``)
AIR_THRESHOLD_HU = -500.0


def _ordered(window: tuple[float, float]) -> tuple[float, float]:
    if window[0] >= window[1]:
        raise ValueError(f"{list(window)}: give null or [lower, upper] HU with lower < upper")
    return window


def _both_axes(value: Any) -> Any:
    return (value, value) if isinstance(value, int | float) else value


#: ``[lower, upper]`` HU, lower < upper
HuWindow = Annotated[tuple[float, float], AfterValidator(_ordered)]
#: ``[x, y]`` mm, both positive; one number stands for both axes
InPlaneSpacing = Annotated[tuple[PositiveFloat, PositiveFloat], BeforeValidator(_both_axes)]


class CropSettings(StrictModel):
    """``preprocessing.crop``: crop size (pixels), optional fixed in-plane spacing (one number
    for both axes, or ``[x, y]`` mm), fill value."""

    size: int = Field(224, ge=8)
    in_plane_spacing_mm: InPlaneSpacing | None = None
    fill_hu: float = AIR_HU


class IntensitySettings(StrictModel):
    """``preprocessing.intensity``: optional HU window, then z-score over the crop or the ROI."""

    window_hu: HuWindow | None = None
    normalization: Literal["crop", "roi", "none"] = "crop"
    epsilon: float = 1e-6


#: the defaults (a shared, read-only instance)
DEFAULT_INTENSITY = IntensitySettings()


def crop_centered(array: np.ndarray, centroid_xy, size: int, fill: float) -> np.ndarray:
    """``size`` x ``size`` window of a 2-D (row = y, column = x) ``array``; centroid pixel
    (rounded half up) at ``(size // 2, size // 2)``; ``fill`` outside the array."""
    cx, cy = (int(np.floor(c + 0.5)) for c in centroid_xy)
    x0, y0 = cx - size // 2, cy - size // 2
    out = np.full((size, size), fill, dtype=array.dtype)
    ys, ye = max(y0, 0), min(y0 + size, array.shape[0])
    xs, xe = max(x0, 0), min(x0 + size, array.shape[1])
    if ys < ye and xs < xe:
        out[ys - y0 : ye - y0, xs - x0 : xe - x0] = array[ys:ye, xs:xe]
    return out


def outside_fraction_centered(shape: tuple[int, int], centroid_xy, size: int) -> float:
    """Fraction of the :func:`crop_centered` window of a ``shape`` (rows, columns) array that
    lies outside the array (padded there)."""
    inside = crop_centered(np.ones(shape, dtype=np.uint8), centroid_xy, size, 0)
    return 1.0 - float(inside.mean())


def air_fraction(crop: np.ndarray) -> float:
    """Fraction of the pixels of a crop (HU, before z-scoring) below :data:`AIR_THRESHOLD_HU`."""
    return float((np.asarray(crop) < AIR_THRESHOLD_HU).mean())


def window_grid(
    reference: sitk.Image,
    slice_index: int,
    centroid_xy,
    size: int,
    in_plane_spacing_mm: tuple[float, float] | None = None,
) -> sitk.Image:
    """An empty ``size x size x 1`` image on ``reference``'s slice ``slice_index`` whose pixel
    ``(size // 2, size // 2)`` is the centroid (native spacing: the rounded centroid)."""
    direction = np.asarray(reference.GetDirection(), dtype=float).reshape(3, 3)
    if in_plane_spacing_mm is None:
        cx, cy = (float(np.floor(c + 0.5)) for c in centroid_xy)
        spacing = reference.GetSpacing()[:2]
    else:
        cx, cy = (float(c) for c in centroid_xy)
        spacing = in_plane_spacing_mm
    centre = np.asarray(
        reference.TransformContinuousIndexToPhysicalPoint((cx, cy, float(slice_index)))
    )
    half = size // 2
    origin = centre - direction @ np.array([spacing[0] * half, spacing[1] * half, 0.0])
    grid = sitk.Image([size, size, 1], sitk.sitkUInt8)
    grid.SetSpacing((float(spacing[0]), float(spacing[1]), reference.GetSpacing()[2]))
    grid.SetOrigin(tuple(float(v) for v in origin))
    grid.SetDirection(reference.GetDirection())
    return grid


def sample_window(
    image: sitk.Image,
    grid: sitk.Image,
    transform: sitk.Transform | None = None,
    *,
    is_mask: bool = False,
    fill: float = AIR_HU,
) -> np.ndarray:
    """Sample ``image`` through ``transform`` (fixed -> moving points) on ``grid``: 2-D array."""
    out = sitk.Resample(
        image,
        grid,
        transform if transform is not None else sitk.Transform(),
        sitk.sitkNearestNeighbor if is_mask else sitk.sitkLinear,
        0.0 if is_mask else float(fill),
        sitk.sitkUInt8 if is_mask else sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(out)[0]


def normalize_intensity(
    crop: np.ndarray, mask: np.ndarray, settings: IntensitySettings = DEFAULT_INTENSITY
) -> tuple[np.ndarray, list[str]]:
    """Optional HU window, then z-score (statistics of the whole crop or of the ROI pixels)."""
    values = crop.astype(np.float64)
    warnings: list[str] = []
    if settings.window_hu is not None:
        values = np.clip(values, *settings.window_hu)
    if settings.normalization == "none":
        return values.astype(np.float32), warnings
    ref = values[mask != 0] if settings.normalization == "roi" else values
    if ref.size == 0:
        ref = values
        warnings.append("ROI absent from the crop; z-scored over the whole crop.")
    mean, std = float(ref.mean()), float(ref.std())
    if std < settings.epsilon:
        warnings.append(f"constant intensities ({mean:.1f}) in the crop; only centred.")
        std = 1.0
    return ((values - mean) / std).astype(np.float32), warnings
