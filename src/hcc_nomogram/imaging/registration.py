"""Registration of one CT phase onto the other (SimpleITK), restricted to the tumour region.

Stages, each multi-resolution and driven by Mattes mutual information on a random sample of
voxels (fixed seed):

1. rigid (``Euler3DTransform``, centred initializer on the region),
2. optional affine, started from the rigid result,
3. optional B-spline, on top of the linear result.

The metric is evaluated only inside the *region*: the bounding box of the tumour masks of both
phases, dilated by ``region_margin_mm`` -- fast, and focused on the anatomy the crops show.
Transforms follow the ITK convention: they map points of the fixed image onto the moving image
(``moving_resampled(x) = moving(T(x))``). Results are deterministic for a given seed and
thread count (``threads``, default 1).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import SimpleITK as sitk
from pydantic import Field, model_validator

from hcc_nomogram.imaging.crop import HuWindow
from hcc_nomogram.parameters import StrictModel


class StageSettings(StrictModel):
    """One registration stage (``preprocessing.registration.<rigid|affine|bspline>``); the
    defaults are the rigid stage's (:class:`AffineStage`, :class:`BSplineStage`: theirs)."""

    enabled: bool = True
    iterations: int = 40
    shrink_factors: tuple[int, ...] = (4, 2, 1)
    smoothing_sigmas_mm: tuple[float, ...] = (2.0, 1.0, 0.0)
    learning_rate: float = 2.0  # maximum step (mm, with scales from physical shift)
    min_step: float = 0.05
    mesh_spacing_mm: float = 40.0  # B-spline control-point spacing (bspline stage only)

    @model_validator(mode="after")
    def _one_sigma_per_level(self) -> StageSettings:
        if len(self.shrink_factors) != len(self.smoothing_sigmas_mm):
            raise ValueError(
                f"shrink_factors {list(self.shrink_factors)} and smoothing_sigmas_mm "
                f"{list(self.smoothing_sigmas_mm)} have different lengths; give one smoothing "
                "sigma per resolution level"
            )
        return self


class AffineStage(StageSettings):
    """``preprocessing.registration.affine``: off unless enabled."""

    enabled: bool = False


class BSplineStage(StageSettings):
    """``preprocessing.registration.bspline``: off unless enabled; two levels."""

    enabled: bool = False
    iterations: int = 30
    shrink_factors: tuple[int, ...] = (2, 1)
    smoothing_sigmas_mm: tuple[float, ...] = (1.0, 0.0)


class RegistrationSettings(StrictModel):
    """``preprocessing.registration`` in the parameters."""

    enabled: bool = True
    fixed_phase: str = "arterial"
    region_margin_mm: float = 40.0
    initializer: Literal["geometry", "moments", "none"] = "geometry"
    intensity_window_hu: HuWindow | None = (-200.0, 300.0)
    working_spacing_mm: float | None = 3.0
    histogram_bins: int = 32
    sampling_percentage: float = Field(0.2, gt=0, le=1)  # of the region's voxels
    seed: int = 20201101
    threads: int = 1
    rigid: StageSettings = StageSettings()
    affine: AffineStage = AffineStage()
    bspline: BSplineStage = BSplineStage()


#: the defaults (a shared, read-only instance)
DEFAULT_REGISTRATION = RegistrationSettings()


@dataclass
class RegistrationResult:
    """The fixed -> moving transform and what the QC table records about it."""

    transform: sitk.Transform
    metric_before: float
    metric_after: float
    region_index: tuple[int, int, int]
    region_size: tuple[int, int, int]
    parameters: dict[str, Any]
    stop_conditions: list[str]
    seconds: float

    def qc_record(self) -> dict[str, Any]:
        rigid = self.parameters.get("rigid", {})
        rec = {
            "registration_metric_before": self.metric_before,
            "registration_metric_after": self.metric_after,
            "registration_seconds": round(self.seconds, 3),
            "registration_region_index": json.dumps(list(self.region_index)),
            "registration_region_size": json.dumps(list(self.region_size)),
            "transform_parameters": json.dumps(self.parameters),
            "registration_stop": " | ".join(self.stop_conditions),
        }
        for axis, value in zip("xyz", rigid.get("rotation_deg", [np.nan] * 3)):
            rec[f"rigid_rotation_{axis}_deg"] = value
        for axis, value in zip("xyz", rigid.get("translation_mm", [np.nan] * 3)):
            rec[f"rigid_translation_{axis}_mm"] = value
        return rec


# --------------------------------------------------------------------------- regions


def physical_box(mask: np.ndarray, image: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned physical bounding box (min, max; mm) of a binary z-y-x ``mask`` on
    ``image``'s grid (voxel extents included)."""
    nz = [np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != ax)))[0] for ax in range(3)]
    lo = [nz[2][0] - 0.5, nz[1][0] - 0.5, nz[0][0] - 0.5]  # x, y, z
    hi = [nz[2][-1] + 0.5, nz[1][-1] + 0.5, nz[0][-1] + 0.5]
    corners = np.array(
        [
            image.TransformContinuousIndexToPhysicalPoint((x, y, z))
            for x in (lo[0], hi[0])
            for y in (lo[1], hi[1])
            for z in (lo[2], hi[2])
        ]
    )
    return corners.min(axis=0), corners.max(axis=0)


def index_region(
    image: sitk.Image, box_min, box_max, margin_mm: float = 0.0
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(start index, size) of the voxels of ``image`` covering a physical box + margin."""
    lo, hi = np.asarray(box_min) - margin_mm, np.asarray(box_max) + margin_mm
    corners = np.array(
        [
            image.TransformPhysicalPointToContinuousIndex((float(x), float(y), float(z)))
            for x in (lo[0], hi[0])
            for y in (lo[1], hi[1])
            for z in (lo[2], hi[2])
        ]
    )
    size = np.asarray(image.GetSize())
    start = np.clip(np.floor(corners.min(axis=0) + 0.5).astype(int), 0, size - 1)
    stop = np.clip(np.floor(corners.max(axis=0) + 0.5).astype(int), 0, size - 1)
    return tuple(int(v) for v in start), tuple(int(v) for v in stop - start + 1)


def _roi(
    image: sitk.Image, region, window: tuple[float, float] | None, working_spacing: float | None
) -> sitk.Image:
    roi = sitk.Cast(sitk.RegionOfInterest(image, region[1], region[0]), sitk.sitkFloat32)
    if working_spacing:  # block-average fine axes to about the working spacing (anti-aliased)
        factors = [max(1, int(round(working_spacing / s))) for s in roi.GetSpacing()]
        if max(factors) > 1:
            roi = sitk.BinShrink(roi, factors)
    if window is not None:  # histogram bins then resolve soft tissue, not air-to-bone
        roi = sitk.Clamp(roi, sitk.sitkFloat32, window[0], window[1])
    return roi


# --------------------------------------------------------------------------- registration


def _method(
    settings: RegistrationSettings, stage: StageSettings | None
) -> sitk.ImageRegistrationMethod:
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=settings.histogram_bins)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(settings.sampling_percentage, settings.seed)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetNumberOfThreads(settings.threads)
    shrink, sigmas = (stage.shrink_factors, stage.smoothing_sigmas_mm) if stage else ((1,), (0.0,))
    reg.SetShrinkFactorsPerLevel(list(shrink))
    reg.SetSmoothingSigmasPerLevel(list(sigmas))
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return reg


def evaluate_metric(
    fixed: sitk.Image, moving: sitk.Image, transform: sitk.Transform, settings: RegistrationSettings
) -> float:
    """Mattes mutual information (negative: lower is better) of ``transform`` on the images."""
    reg = _method(settings, None)
    reg.SetInitialTransform(sitk.Transform(transform), inPlace=False)
    return float(reg.MetricEvaluate(fixed, moving))


def _linear_stage(fixed, moving, transform, stage, settings) -> str:
    reg = _method(settings, stage)
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=stage.learning_rate,
        minStep=stage.min_step,
        numberOfIterations=stage.iterations,
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetInitialTransform(transform, inPlace=True)
    reg.Execute(fixed, moving)
    return reg.GetOptimizerStopConditionDescription()


def _bspline_stage(fixed, moving, linear, stage, settings) -> tuple[sitk.Transform, str]:
    extent = np.asarray(fixed.GetSize()) * np.asarray(fixed.GetSpacing())
    mesh = [max(1, int(round(e / stage.mesh_spacing_mm))) for e in extent]
    bspline = sitk.BSplineTransformInitializer(fixed, mesh, order=3)
    reg = _method(settings, stage)
    reg.SetOptimizerAsLBFGSB(
        gradientConvergenceTolerance=1e-5,
        numberOfIterations=stage.iterations,
        maximumNumberOfCorrections=5,
        maximumNumberOfFunctionEvaluations=4 * stage.iterations,
        costFunctionConvergenceFactor=1e7,
    )
    reg.SetMovingInitialTransform(linear)
    reg.SetInitialTransform(bspline, inPlace=True)
    reg.Execute(fixed, moving)
    return sitk.CompositeTransform([linear, bspline]), reg.GetOptimizerStopConditionDescription()


def register_phases(
    fixed: sitk.Image,
    moving: sitk.Image,
    region_masks: list[tuple[np.ndarray, sitk.Image]],
    settings: RegistrationSettings = DEFAULT_REGISTRATION,
) -> RegistrationResult:
    """Register ``moving`` onto ``fixed`` inside the region around the given tumour masks.

    ``region_masks`` are ``(binary z-y-x array, image whose grid it lies on)`` pairs, from
    either phase; the region is the union of their physical bounding boxes plus
    ``settings.region_margin_mm``, cut out of both images.
    """
    previous_threads = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    # pyramid filters and the initializer use the global thread count: fix it too
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(settings.threads)
    try:
        return _register(fixed, moving, region_masks, settings)
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(previous_threads)


def _register(fixed, moving, region_masks, settings) -> RegistrationResult:
    start_time = time.perf_counter()
    boxes = [physical_box(m, img) for m, img in region_masks]
    box_min = np.min([b[0] for b in boxes], axis=0)
    box_max = np.max([b[1] for b in boxes], axis=0)
    f_region = index_region(fixed, box_min, box_max, settings.region_margin_mm)
    m_region = index_region(moving, box_min, box_max, settings.region_margin_mm)
    window = settings.intensity_window_hu
    working = settings.working_spacing_mm
    fixed_roi = _roi(fixed, f_region, window, working)
    moving_roi = _roi(moving, m_region, window, working)

    if settings.initializer == "none":
        rigid = sitk.Euler3DTransform()
        centre = fixed_roi.TransformContinuousIndexToPhysicalPoint(
            [(s - 1) / 2 for s in fixed_roi.GetSize()]
        )
        rigid.SetCenter(centre)
    else:
        mode = (
            sitk.CenteredTransformInitializerFilter.GEOMETRY
            if settings.initializer == "geometry"
            else sitk.CenteredTransformInitializerFilter.MOMENTS
        )
        rigid = sitk.Euler3DTransform(
            sitk.CenteredTransformInitializer(fixed_roi, moving_roi, sitk.Euler3DTransform(), mode)
        )
    identity = sitk.Euler3DTransform()
    identity.SetCenter(rigid.GetCenter())
    metric_before = evaluate_metric(fixed_roi, moving_roi, identity, settings)

    stops = []
    transform: sitk.Transform = rigid
    parameters: dict[str, Any] = {}
    if settings.rigid.enabled:
        stops.append(
            "rigid: " + _linear_stage(fixed_roi, moving_roi, rigid, settings.rigid, settings)
        )
    parameters["rigid"] = euler_parameters(rigid)
    if settings.affine.enabled:
        affine = sitk.AffineTransform(3)
        affine.SetCenter(rigid.GetCenter())
        affine.SetMatrix(rigid.GetMatrix())
        affine.SetTranslation(rigid.GetTranslation())
        stops.append(
            "affine: " + _linear_stage(fixed_roi, moving_roi, affine, settings.affine, settings)
        )
        transform = affine
        parameters["affine"] = {
            "matrix": [round(v, 6) for v in affine.GetMatrix()],
            "translation_mm": [round(v, 4) for v in affine.GetTranslation()],
            "center_mm": [round(v, 4) for v in affine.GetCenter()],
        }
    if settings.bspline.enabled:
        transform, stop = _bspline_stage(
            fixed_roi, moving_roi, transform, settings.bspline, settings
        )
        stops.append("bspline: " + stop)
        coeffs = np.asarray(transform.GetNthTransform(1).GetParameters())
        parameters["bspline"] = {
            "n_parameters": int(coeffs.size),
            "max_abs_coefficient_mm": round(float(np.abs(coeffs).max(initial=0.0)), 4),
            "mesh_spacing_mm": settings.bspline.mesh_spacing_mm,
        }
    metric_after = evaluate_metric(fixed_roi, moving_roi, transform, settings)
    return RegistrationResult(
        transform=transform,
        metric_before=metric_before,
        metric_after=metric_after,
        region_index=f_region[0],
        region_size=f_region[1],
        parameters=parameters,
        stop_conditions=stops,
        seconds=time.perf_counter() - start_time,
    )


def euler_parameters(transform: sitk.Euler3DTransform) -> dict[str, list[float]]:
    """Rotation (degrees, about x, y, z), translation and centre (mm) of a rigid transform."""
    return {
        "rotation_deg": [
            round(float(np.degrees(a)), 4)
            for a in (transform.GetAngleX(), transform.GetAngleY(), transform.GetAngleZ())
        ],
        "translation_mm": [round(float(v), 4) for v in transform.GetTranslation()],
        "center_mm": [round(float(v), 4) for v in transform.GetCenter()],
    }


def euler_from_parameters(parameters: str | dict) -> sitk.Euler3DTransform:
    """The rigid transform recorded in QC (``transform_parameters`` JSON, or its dict)."""
    rigid = (json.loads(parameters) if isinstance(parameters, str) else parameters)["rigid"]
    transform = sitk.Euler3DTransform()
    transform.SetCenter(rigid["center_mm"])
    transform.SetRotation(*np.radians(rigid["rotation_deg"]))
    transform.SetTranslation(rigid["translation_mm"])
    return transform


def resample_mask(
    mask: sitk.Image, reference: sitk.Image, transform: sitk.Transform | None = None
) -> np.ndarray:
    """Nearest-neighbour resampling of a label image onto ``reference``: uint8 z-y-x array."""
    out = sitk.Resample(
        mask,
        reference,
        transform if transform is not None else sitk.Transform(),
        sitk.sitkNearestNeighbor,
        0,
        sitk.sitkUInt8,
    )
    return sitk.GetArrayFromImage(out)


def mask_points(mask: np.ndarray, image: sitk.Image, max_points: int = 2000) -> np.ndarray:
    """Physical points (mm, n x 3) of the voxels of a binary z-y-x mask, evenly subsampled."""
    zyx = np.argwhere(mask != 0)
    if len(zyx) > max_points:
        zyx = zyx[np.linspace(0, len(zyx) - 1, max_points).astype(int)]
    origin = np.asarray(image.GetOrigin())
    matrix = np.asarray(image.GetDirection()).reshape(3, 3) * np.asarray(image.GetSpacing())
    return origin + zyx[:, ::-1] @ matrix.T


def target_registration_error(
    estimated: sitk.Transform, truth: sitk.Transform, points: np.ndarray
) -> np.ndarray:
    """Distance (mm) between where ``estimated`` and ``truth`` send each fixed-space point."""
    est = np.array([estimated.TransformPoint(tuple(map(float, p))) for p in points])
    ref = np.array([truth.TransformPoint(tuple(map(float, p))) for p in points])
    return np.linalg.norm(est - ref, axis=1)
