"""One patient, end to end: validate -> register -> representative slice -> crop -> z-score.

:func:`validate_patient` runs the input checks only (cheap; used to decide exclusions before
any work). :func:`preprocess_patient` does everything and returns the crops
(``{"<phase>__<delineation>__image": float32 (size, size), "..__mask": uint8}``) and one flat
QC record. Images are fetched through a :class:`PatientSource`, so only one patient's images
are ever in memory.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.crop import (
    PARAMS_FILE,
    CropSettings,
    IntensitySettings,
    air_fraction,
    crop_centered,
    normalize_intensity,
    outside_fraction_centered,
    sample_window,
    window_grid,
)
from hcc_nomogram.imaging.registration import (
    RegistrationSettings,
    register_phases,
    resample_mask,
)
from hcc_nomogram.imaging.roi import representative_slice
from hcc_nomogram.imaging.validation import (
    ValidationSettings,
    check_image_geometry,
    check_same_geometry,
    read_header,
    tumour_mask,
)

ON_BAD_PATIENT = ("raise", "exclude")


@dataclass(frozen=True)
class Contract:
    """The parts of ``data_contract`` preprocessing needs."""

    phases: dict[str, str]  # phase -> manifest column of the CT
    delineations: dict[str, dict[str, str]]  # delineation -> phase -> mask column
    mask_label: int = 1
    primary_delineation: str = "r1a"

    @classmethod
    def from_params(cls, data_contract: dict[str, Any]) -> Contract:
        phases = dict(data_contract["phases"])
        delineations = {d: dict(cols) for d, cols in data_contract["delineations"].items()}
        for d, cols in delineations.items():
            missing = set(phases) - set(cols)
            if missing:
                raise InputDataError(
                    f"data_contract.delineations.{d} has no mask column for phase(s) "
                    f"{sorted(missing)}.",
                    file="conf/base/parameters.yml",
                    fix="name one mask column per phase for every delineation.",
                )
        primary = data_contract.get("primary_delineation", next(iter(delineations)))
        return cls(phases, delineations, int(data_contract.get("mask_label", 1)), primary)

    @property
    def columns(self) -> list[str]:
        return list(self.phases.values()) + [
            c for cols in self.delineations.values() for c in cols.values()
        ]


@dataclass(frozen=True)
class PreprocessingSettings:
    """All of ``preprocessing`` in ``conf/base/parameters_preprocessing.yml``."""

    on_bad_patient: str = "raise"
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    registration: RegistrationSettings = field(default_factory=RegistrationSettings)
    crop: CropSettings = field(default_factory=CropSettings)
    intensity: IntensitySettings = field(default_factory=IntensitySettings)
    log_every: int = 10

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> PreprocessingSettings:
        params = dict(params or {})
        known = {"on_bad_patient", "validation", "registration", "crop", "intensity", "log_every"}
        unknown = set(params) - known
        if unknown:
            raise InputDataError(
                f"unknown key(s) {sorted(unknown)} under preprocessing.",
                file=PARAMS_FILE,
                fix=f"use only {sorted(known)} (see docs/preprocessing.md).",
            )
        out = cls(
            on_bad_patient=params.get("on_bad_patient", "raise"),
            validation=ValidationSettings.from_params(params.get("validation")),
            registration=RegistrationSettings.from_params(params.get("registration")),
            crop=CropSettings.from_params(params.get("crop")),
            intensity=IntensitySettings.from_params(params.get("intensity")),
            log_every=int(params.get("log_every", 10)),
        )
        if out.on_bad_patient not in ON_BAD_PATIENT:
            raise InputDataError(
                f"preprocessing.on_bad_patient={out.on_bad_patient!r} is unknown.",
                file=PARAMS_FILE,
                fix=f"use one of {ON_BAD_PATIENT}.",
            )
        return out


@dataclass(frozen=True)
class PatientSource:
    """Where one patient's images come from: ``load(column)`` and ``file(column)``."""

    patient_id: str
    load: Callable[[str], sitk.Image]
    file: Callable[[str], str]
    #: whether a mask column is filled in (an empty cell = that mask is not provided)
    present: Callable[[str], bool] = lambda column: True

    @classmethod
    def from_manifest(cls, manifest, patient_id: str) -> PatientSource:
        """The images of ``patient_id`` in a :class:`~hcc_nomogram.datasets.CohortManifest`."""
        return cls(
            patient_id,
            load=lambda column: manifest.image(patient_id, column),
            file=lambda column: str(manifest.path(patient_id, column)),
            present=lambda column: manifest.has_path(patient_id, column),
        )


@dataclass
class _Checked:
    images: dict[str, sitk.Image]
    masks: dict[tuple[str, str], np.ndarray]  # (phase, delineation) -> binary z-y-x
    warnings: list[str]
    # (phase, delineation) without a mask of its own -> the phase whose mask is carried
    carried: dict[tuple[str, str], str] = field(default_factory=dict)


def _check(
    source: PatientSource,
    contract: Contract,
    settings: ValidationSettings,
    headers_only: bool = False,
) -> _Checked:
    pid = source.patient_id
    images, masks, warnings = {}, {}, []
    for phase, column in contract.phases.items():
        header = read_header(source.file(column)) if headers_only else None
        # loading also raises the "does not exist" errors
        images[phase] = header if header is not None else source.load(column)
        warnings += check_image_geometry(
            images[phase], patient=pid, file=source.file(column), settings=settings
        )
    carried: dict[tuple[str, str], str] = {}
    for delineation, columns in contract.delineations.items():
        given = [p for p, column in columns.items() if source.present(column)]
        if not given and delineation != contract.primary_delineation:
            warnings.append(f"{delineation}: no mask on any phase (not used for this patient).")
            continue
        for phase, column in columns.items():
            if given and phase not in given:
                # one delineation, several phases: carried from a delineated phase through
                # the registration (see preprocess_patient)
                carried[(phase, delineation)] = given[0]
                continue
            mask = source.load(column)
            check_same_geometry(
                mask,
                images[phase],
                patient=pid,
                mask_file=source.file(column),
                image_file=source.file(contract.phases[phase]),
                settings=settings,
            )
            masks[(phase, delineation)], w = tumour_mask(
                mask, contract.mask_label, patient=pid, file=source.file(column), settings=settings
            )
            warnings += w
    return _Checked(images, masks, warnings, carried)


def validate_patient(
    source: PatientSource, contract: Contract, settings: ValidationSettings
) -> list[str]:
    """Run every input check on one patient; return warnings, raise on the first problem.

    The CTs' geometry is read from their headers only (voxels are not needed here)."""
    return _check(source, contract, settings, headers_only=True).warnings


def _with_geometry(array: np.ndarray, image: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(array)
    out.CopyInformation(image)
    return out


def _centroid_mm(mask: np.ndarray, image: sitk.Image) -> np.ndarray:
    zyx = np.argwhere(mask != 0).mean(axis=0)
    return np.asarray(image.TransformContinuousIndexToPhysicalPoint(tuple(zyx[::-1].tolist())))


def preprocess_patient(
    source: PatientSource, contract: Contract, settings: PreprocessingSettings
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Crops and QC record of one patient (raises the input errors of :func:`validate_patient`)."""
    t0 = time.perf_counter()
    pid = source.patient_id
    checked = _check(source, contract, settings.validation)
    warnings = list(checked.warnings)
    qc: dict[str, Any] = {"patient_id": pid, "excluded": False, "exclusion_reason": ""}

    reg = settings.registration
    fixed_phase = reg.fixed_phase
    if fixed_phase not in contract.phases:
        raise InputDataError(
            f"preprocessing.registration.fixed_phase={fixed_phase!r} is not a phase of the "
            f"data contract {sorted(contract.phases)}.",
            file=PARAMS_FILE,
            fix="set it to one of the phases in data_contract.phases.",
        )
    fixed = checked.images[fixed_phase]
    # phase -> (grid the crops are taken on, transform grid -> phase image or None)
    grids: dict[str, tuple[sitk.Image, sitk.Transform | None]] = {fixed_phase: (fixed, None)}
    moving_phases = [p for p in contract.phases if p != fixed_phase]

    @functools.cache
    def on_grid(phase: str, delineation: str) -> np.ndarray:
        """A phase's mask carried through its transform onto its crop grid (computed once)."""
        grid, transform = grids[phase]
        mask = _with_geometry(checked.masks[(phase, delineation)], checked.images[phase])
        return resample_mask(mask, grid, transform)

    qc["fixed_phase"] = fixed_phase if reg.enabled else ""
    qc["moving_phase"] = ",".join(moving_phases) if reg.enabled else ""
    for phase in moving_phases:
        moving = checked.images[phase]
        if not reg.enabled:
            grids[phase] = (moving, None)
            continue
        # The registration region comes from the PRIMARY delineation only, so a patient's
        # crops never depend on the secondary readers' masks: a new patient with one reader's
        # masks (predict) gets exactly the crops it would have got in training.
        region_masks = [
            (m, checked.images[p])
            for (p, d), m in checked.masks.items()
            if p in (fixed_phase, phase) and d == contract.primary_delineation
        ]
        try:
            result = register_phases(fixed, moving, region_masks, reg)
        except RuntimeError as exc:  # ITK: e.g. too few samples inside the moving image
            if settings.on_bad_patient == "raise":
                raise InputDataError(
                    f"registration of {phase} onto {fixed_phase} failed "
                    f"({str(exc).strip().splitlines()[-1]}).",
                    patient=pid,
                    file=source.file(contract.phases[phase]),
                    fix="check that both phases show the same anatomy; enlarge "
                    "preprocessing.registration.region_margin_mm; or set on_bad_patient: exclude.",
                ) from exc
            warnings.append(
                f"registration of {phase} failed ({str(exc).strip().splitlines()[-1]}); "
                "its crops are taken on its own grid, unregistered."
            )
            grids[phase] = (moving, None)
            continue
        qc.update(result.qc_record())
        grids[phase] = (fixed, result.transform)
        # mask-based checks of the primary delineation: centroid distance and overlap
        primary = contract.primary_delineation
        if {(fixed_phase, primary), (phase, primary)} - set(checked.masks):
            continue  # delineated on one phase only: nothing to compare
        f_mask = checked.masks[(fixed_phase, primary)]
        m_mask = checked.masks[(phase, primary)]
        m_on_fixed = on_grid(phase, primary)
        f_centroid = _centroid_mm(f_mask, fixed)
        qc["tumor_centroid_distance_before_mm"] = float(
            np.linalg.norm(f_centroid - _centroid_mm(m_mask, moving))
        )
        if m_on_fixed.any():
            qc["tumor_centroid_distance_after_mm"] = float(
                np.linalg.norm(f_centroid - _centroid_mm(m_on_fixed, fixed))
            )
        qc["tumor_dice_after"] = float(
            2 * np.logical_and(f_mask, m_on_fixed).sum() / (f_mask.sum() + m_on_fixed.sum())
        )

    def carried_mask(phase: str, delineation: str, source_phase: str) -> np.ndarray:
        """The mask of ``source_phase`` on ``phase``'s crop grid (the fixed phase's grid)."""
        if (phase != fixed_phase and grids[phase][1] is None) or (
            source_phase != fixed_phase and grids[source_phase][1] is None
        ):
            raise InputDataError(
                f"the {delineation} tumour is delineated on {source_phase} only; carrying it "
                f"onto {phase} needs the registration, which is disabled or failed.",
                patient=pid,
                file=source.file(contract.delineations[delineation][source_phase]),
                fix=f"enable preprocessing.registration, or provide the {phase} mask.",
            )
        if source_phase == fixed_phase:
            return checked.masks[(fixed_phase, delineation)]
        return on_grid(source_phase, delineation)

    crops: dict[str, np.ndarray] = {}
    size, spacing = settings.crop.size, settings.crop.in_plane_spacing_mm
    keys = [*checked.masks, *checked.carried]
    for phase, delineation in keys:
        grid, transform = grids[phase]
        image = checked.images[phase]
        key = f"{phase}__{delineation}"
        if (phase, delineation) in checked.carried:
            source_phase = checked.carried[(phase, delineation)]
            mask = carried_mask(phase, delineation, source_phase)
            qc[f"{key}__mask_carried_from"] = source_phase
            if not mask.any():
                raise InputDataError(
                    f"the {delineation} tumour carried from {source_phase} lies outside the "
                    f"{phase} crop grid.",
                    patient=pid,
                    file=source.file(contract.delineations[delineation][source_phase]),
                    fix="check the registration QC; or provide the mask on this phase.",
                )
        else:
            mask = checked.masks[(phase, delineation)]
        if transform is not None and (phase, delineation) in checked.masks:
            carried = on_grid(phase, delineation)
            vol_ratio = (carried.sum() * np.prod(grid.GetSpacing())) / (
                mask.sum() * np.prod(image.GetSpacing())
            )
            qc[f"{key}__volume_ratio_after_registration"] = float(vol_ratio)
            if not carried.any():
                raise InputDataError(
                    f"after registration the {phase} {delineation} tumour lies outside the "
                    f"{fixed_phase} image.",
                    patient=pid,
                    file=source.file(contract.delineations[delineation][phase]),
                    fix="check the registration QC (transform parameters); disable or "
                    "re-tune preprocessing.registration.",
                )
            if not 0.8 <= vol_ratio <= 1.25:
                warnings.append(
                    f"{key}: tumour volume changed by factor {vol_ratio:.2f} when carried onto "
                    f"the {fixed_phase} grid."
                )
            mask = carried
        choice = representative_slice(mask, grid.GetSpacing())
        if transform is None and spacing is None:
            array = sitk.GetArrayViewFromImage(image)[choice.index]
            img = crop_centered(
                array.astype(np.float32), choice.centroid_xy, size, settings.crop.fill_hu
            )
            msk = crop_centered(mask[choice.index], choice.centroid_xy, size, 0)
            outside = outside_fraction_centered(array.shape, choice.centroid_xy, size)
        else:
            window = window_grid(grid, choice.index, choice.centroid_xy, size, spacing)
            img = sample_window(image, window, transform, fill=np.nan)  # NaN: outside the image
            outside_pixels = np.isnan(img)
            outside = float(outside_pixels.mean())
            img[outside_pixels] = settings.crop.fill_hu
            mask_image = _with_geometry(mask, grid)
            msk = sample_window(mask_image, window, None, is_mask=True)
        air = air_fraction(img)
        img, w = normalize_intensity(img, msk, settings.intensity)
        warnings += [f"{key}: {x}" for x in w]
        if msk.sum() * np.prod(grid.GetSpacing()[:2]) < choice.area_mm2 - 1e-6 and spacing is None:
            warnings.append(f"{key}: tumour larger than the {size}x{size} crop; cut at its edge.")
        crops[f"{key}__image"] = img.astype(np.float32)
        crops[f"{key}__mask"] = msk.astype(np.uint8)
        cx_mm, cy_mm, cz_mm = choice.centroid_mm(grid)
        qc.update(
            {
                f"{key}__slice_index": choice.index,
                f"{key}__area_mm2": round(choice.area_mm2, 4),
                f"{key}__centroid_x_index": round(choice.centroid_xy[0], 4),
                f"{key}__centroid_y_index": round(choice.centroid_xy[1], 4),
                f"{key}__centroid_x_mm": round(cx_mm, 4),
                f"{key}__centroid_y_mm": round(cy_mm, 4),
                f"{key}__centroid_z_mm": round(cz_mm, 4),
                f"{key}__slices_with_tumor": choice.n_slices_with_tumor,
                f"{key}__crop_outside_fraction": round(outside, 6),
                f"{key}__crop_air_fraction": round(air, 6),
            }
        )
    qc["warnings"] = json.dumps(warnings)
    qc["seconds"] = round(time.perf_counter() - t0, 3)
    return crops, qc


def excluded_record(patient_id: str, error: Exception) -> dict[str, Any]:
    """QC record of a patient excluded because of ``error``."""
    return {
        "patient_id": patient_id,
        "excluded": True,
        "exclusion_reason": f"{type(error).__name__}: {error}",
        "warnings": json.dumps([]),
    }
