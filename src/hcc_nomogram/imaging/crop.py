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

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import SimpleITK as sitk

from hcc_nomogram.errors import InputDataError, parameter_error

AIR_HU = -1000.0
#: below this (HU, before z-scoring) a crop pixel counts as air (QC ``__crop_air_fraction``)
AIR_THRESHOLD_HU = -500.0
NORMALIZATIONS = ("crop", "roi", "none")


PARAMS_FILE = "conf/base/parameters_preprocessing.yml"


def _params_error(section: str, problem: str, fix: str) -> InputDataError:
    return parameter_error(f"preprocessing.{section}", problem, fix, PARAMS_FILE)


def check_keys(section: str, params: dict, cls) -> None:
    """Raise naming ``preprocessing.<section>``, the unknown keys and the allowed ones."""
    allowed = sorted(f.name for f in fields(cls))
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _params_error(
            section,
            f"unknown key(s) {unknown}; allowed keys: {allowed}.",
            "correct the spelling or remove the key (docs/preprocessing.md).",
        )


@dataclass(frozen=True)
class CropSettings:
    """``preprocessing.crop``: crop size (pixels), optional fixed in-plane spacing, fill value."""

    size: int = 224
    in_plane_spacing_mm: tuple[float, float] | None = None
    fill_hu: float = AIR_HU

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> CropSettings:
        params = dict(params or {})
        check_keys("crop", params, cls)
        spacing = params.get("in_plane_spacing_mm")
        if spacing is not None:
            spacing = (
                (float(spacing), float(spacing))
                if np.isscalar(spacing)
                else tuple(float(s) for s in spacing)
            )
            if len(spacing) != 2 or min(spacing) <= 0:
                raise _params_error(
                    "crop",
                    f"in_plane_spacing_mm={spacing} is invalid.",
                    "give null (native spacing), one positive number or [x, y] in mm.",
                )
            params["in_plane_spacing_mm"] = spacing
        out = cls(**params)
        if out.size < 8:
            raise _params_error("crop", f"size={out.size} is too small.", "use e.g. 224.")
        return out


@dataclass(frozen=True)
class IntensitySettings:
    """``preprocessing.intensity``: optional HU window, then z-score over the crop or the ROI."""

    window_hu: tuple[float, float] | None = None
    normalization: str = "crop"
    epsilon: float = 1e-6

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> IntensitySettings:
        params = dict(params or {})
        check_keys("intensity", params, cls)
        window = params.get("window_hu")
        if window is not None:
            if len(window) != 2 or float(window[0]) >= float(window[1]):
                raise _params_error(
                    "intensity",
                    f"window_hu={window} is invalid.",
                    "give null (no windowing) or [lower, upper] HU with lower < upper.",
                )
            params["window_hu"] = (float(window[0]), float(window[1]))
        if params.get("normalization", "crop") not in NORMALIZATIONS:
            raise _params_error(
                "intensity",
                f"normalization={params.get('normalization')!r} is unknown.",
                f"use one of {NORMALIZATIONS}.",
            )
        return cls(**params)


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
    crop: np.ndarray, mask: np.ndarray, settings: IntensitySettings = IntensitySettings()
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
