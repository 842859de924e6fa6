"""One patient, end to end: validate -> register -> representative slice -> crop -> z-score.

:func:`validate_patient` runs the input checks only (cheap; used to decide exclusions before
any work). :func:`preprocess_patient` does everything and returns the crops
(``{"<phase>__<delineation>__image": float32 (size, size), "..__mask": uint8}``) and one flat
QC record. Images are fetched through a :class:`PatientSource`, so only one patient's images
are ever in memory. The contract is the ``data_contract`` block
(:class:`~hcc_nomogram.parameters.DataContract`); that every delineation names a mask column
for every phase, and that the fixed phase is one of its phases, is checked once per run
(:func:`~hcc_nomogram.parameters.cross_block_problems`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import SimpleITK as sitk

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.crop import (
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
from hcc_nomogram.imaging.roi import SliceChoice, representative_slice
from hcc_nomogram.imaging.validation import (
    ValidationSettings,
    check_image_geometry,
    check_same_geometry,
    read_header,
    tumour_mask,
)
from hcc_nomogram.parameters import DataContract, StrictModel


class PreprocessingSettings(StrictModel):
    """All of ``preprocessing`` in ``conf/base/parameters_preprocessing.yml``."""

    on_bad_patient: Literal["raise", "exclude"] = "raise"
    validation: ValidationSettings = ValidationSettings()
    registration: RegistrationSettings = RegistrationSettings()
    crop: CropSettings = CropSettings()
    intensity: IntensitySettings = IntensitySettings()
    log_every: int = 10


def image_columns(contract: DataContract) -> list[str]:
    """The manifest columns preprocessing reads: the CTs, then every mask."""
    return list(contract.phases.values()) + [
        c for cols in contract.delineations.values() for c in cols.values()
    ]


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
    contract: DataContract,
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
    source: PatientSource, contract: DataContract, settings: ValidationSettings
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


@dataclass
class _PatientWork:
    """One patient being preprocessed: its checked inputs, the crop grid of every phase, and
    the QC record and warnings filled step by step (:func:`preprocess_patient`)."""

    source: PatientSource
    contract: DataContract
    settings: PreprocessingSettings
    checked: _Checked
    qc: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # phase -> (grid the crops are taken on, transform grid -> phase image or None)
    grids: dict[str, tuple[sitk.Image, sitk.Transform | None]] = field(default_factory=dict)
    _on_grid: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.qc.update(
            {"patient_id": self.source.patient_id, "excluded": False, "exclusion_reason": ""}
        )
        self.warnings.extend(self.checked.warnings)
        self.grids[self.fixed_phase] = (self.checked.images[self.fixed_phase], None)

    @property
    def fixed_phase(self) -> str:
        return self.settings.registration.fixed_phase

    def on_grid(self, phase: str, delineation: str) -> np.ndarray:
        """A phase's mask carried through its transform onto its crop grid (computed once)."""
        if (phase, delineation) not in self._on_grid:
            grid, transform = self.grids[phase]
            image = self.checked.images[phase]
            mask = _with_geometry(self.checked.masks[(phase, delineation)], image)
            self._on_grid[(phase, delineation)] = resample_mask(mask, grid, transform)
        return self._on_grid[(phase, delineation)]

    # ----- step 1: register every moving phase onto the fixed phase
    def register_moving_phases(self) -> None:
        enabled = self.settings.registration.enabled
        moving_phases = [p for p in self.contract.phases if p != self.fixed_phase]
        self.qc["fixed_phase"] = self.fixed_phase if enabled else ""
        self.qc["moving_phase"] = ",".join(moving_phases) if enabled else ""
        for phase in moving_phases:
            if enabled:
                self._register(phase)
            else:
                self.grids[phase] = (self.checked.images[phase], None)

    def _register(self, phase: str) -> None:
        fixed = self.checked.images[self.fixed_phase]
        # The registration region comes from the PRIMARY delineation only, so a patient's
        # crops never depend on the secondary readers' masks: a new patient with one reader's
        # masks (predict) gets exactly the crops it would have got in training.
        region_masks = [
            (m, self.checked.images[p])
            for (p, d), m in self.checked.masks.items()
            if p in (self.fixed_phase, phase) and d == self.contract.primary_delineation
        ]
        try:
            result = register_phases(
                fixed, self.checked.images[phase], region_masks, self.settings.registration
            )
        except RuntimeError as exc:  # ITK: e.g. too few samples inside the moving image
            self._registration_failed(phase, exc)
            return
        self.qc.update(result.qc_record())
        self.grids[phase] = (fixed, result.transform)
        self._compare_primary_masks(phase)

    def _registration_failed(self, phase: str, exc: RuntimeError) -> None:
        reason = str(exc).strip().splitlines()[-1]
        if self.settings.on_bad_patient == "raise":
            raise InputDataError(
                f"registration of {phase} onto {self.fixed_phase} failed ({reason}).",
                patient=self.source.patient_id,
                file=self.source.file(self.contract.phases[phase]),
                fix="check that both phases show the same anatomy; enlarge "
                "preprocessing.registration.region_margin_mm; or set on_bad_patient: exclude.",
            ) from exc
        self.warnings.append(
            f"registration of {phase} failed ({reason}); "
            "its crops are taken on its own grid, unregistered."
        )
        self.grids[phase] = (self.checked.images[phase], None)

    def _compare_primary_masks(self, phase: str) -> None:
        """QC of a registration: centroid distance and overlap of the primary delineation."""
        primary, fixed_phase = self.contract.primary_delineation, self.fixed_phase
        if {(fixed_phase, primary), (phase, primary)} - set(self.checked.masks):
            return  # delineated on one phase only: nothing to compare
        fixed = self.checked.images[fixed_phase]
        f_mask = self.checked.masks[(fixed_phase, primary)]
        m_mask = self.checked.masks[(phase, primary)]
        m_on_fixed = self.on_grid(phase, primary)
        f_centroid = _centroid_mm(f_mask, fixed)
        self.qc["tumor_centroid_distance_before_mm"] = float(
            np.linalg.norm(f_centroid - _centroid_mm(m_mask, self.checked.images[phase]))
        )
        if m_on_fixed.any():
            self.qc["tumor_centroid_distance_after_mm"] = float(
                np.linalg.norm(f_centroid - _centroid_mm(m_on_fixed, fixed))
            )
        self.qc["tumor_dice_after"] = float(
            2 * np.logical_and(f_mask, m_on_fixed).sum() / (f_mask.sum() + m_on_fixed.sum())
        )

    # ----- step 2: the tumour mask of each (phase, delineation) on its phase's crop grid
    def mask_on_crop_grid(self, phase: str, delineation: str) -> np.ndarray:
        key = f"{phase}__{delineation}"
        if (phase, delineation) in self.checked.carried:
            return self._carried_mask(phase, delineation)
        mask = self.checked.masks[(phase, delineation)]
        grid, transform = self.grids[phase]
        if transform is None:
            return mask
        carried = self.on_grid(phase, delineation)
        vol_ratio = (carried.sum() * np.prod(grid.GetSpacing())) / (
            mask.sum() * np.prod(self.checked.images[phase].GetSpacing())
        )
        self.qc[f"{key}__volume_ratio_after_registration"] = float(vol_ratio)
        if not carried.any():
            raise InputDataError(
                f"after registration the {phase} {delineation} tumour lies outside the "
                f"{self.fixed_phase} image.",
                patient=self.source.patient_id,
                file=self.source.file(self.contract.delineations[delineation][phase]),
                fix="check the registration QC (transform parameters); disable or "
                "re-tune preprocessing.registration.",
            )
        if not 0.8 <= vol_ratio <= 1.25:
            self.warnings.append(
                f"{key}: tumour volume changed by factor {vol_ratio:.2f} when carried onto "
                f"the {self.fixed_phase} grid."
            )
        return carried

    def _carried_mask(self, phase: str, delineation: str) -> np.ndarray:
        """The mask of the delineated phase on ``phase``'s crop grid (the fixed phase's grid),
        for a delineation drawn on another phase only."""
        source_phase, fixed_phase = self.checked.carried[(phase, delineation)], self.fixed_phase
        mask_file = self.source.file(self.contract.delineations[delineation][source_phase])
        if (phase != fixed_phase and self.grids[phase][1] is None) or (
            source_phase != fixed_phase and self.grids[source_phase][1] is None
        ):
            raise InputDataError(
                f"the {delineation} tumour is delineated on {source_phase} only; carrying it "
                f"onto {phase} needs the registration, which is disabled or failed.",
                patient=self.source.patient_id,
                file=mask_file,
                fix=f"enable preprocessing.registration, or provide the {phase} mask.",
            )
        if source_phase == fixed_phase:
            mask = self.checked.masks[(fixed_phase, delineation)]
        else:
            mask = self.on_grid(source_phase, delineation)
        self.qc[f"{phase}__{delineation}__mask_carried_from"] = source_phase
        if not mask.any():
            raise InputDataError(
                f"the {delineation} tumour carried from {source_phase} lies outside the "
                f"{phase} crop grid.",
                patient=self.source.patient_id,
                file=mask_file,
                fix="check the registration QC; or provide the mask on this phase.",
            )
        return mask

    # ----- step 3: crop the representative slice, z-score, record
    def crop(self, phase: str, delineation: str) -> dict[str, np.ndarray]:
        """The image and mask crops of one (phase, delineation); fills their QC columns."""
        key = f"{phase}__{delineation}"
        mask = self.mask_on_crop_grid(phase, delineation)
        grid = self.grids[phase][0]
        choice = representative_slice(mask, grid.GetSpacing())
        img, msk, outside = self._crop_arrays(phase, mask, choice)
        air = air_fraction(img)
        img, w = normalize_intensity(img, msk, self.settings.intensity)
        self.warnings.extend(f"{key}: {x}" for x in w)
        size, spacing = self.settings.crop.size, self.settings.crop.in_plane_spacing_mm
        if msk.sum() * np.prod(grid.GetSpacing()[:2]) < choice.area_mm2 - 1e-6 and spacing is None:
            self.warnings.append(
                f"{key}: tumour larger than the {size}x{size} crop; cut at its edge."
            )
        self.qc.update(_crop_qc(key, choice, grid, outside, air))
        return {f"{key}__image": img.astype(np.float32), f"{key}__mask": msk.astype(np.uint8)}

    def _crop_arrays(
        self, phase: str, mask: np.ndarray, choice: SliceChoice
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(image crop in HU, mask crop, fraction of the crop outside the image): a pure index
        window at native spacing without a transform, else resampled on a window grid."""
        grid, transform = self.grids[phase]
        image = self.checked.images[phase]
        crop = self.settings.crop
        if transform is None and crop.in_plane_spacing_mm is None:
            array = sitk.GetArrayViewFromImage(image)[choice.index]
            img = crop_centered(
                array.astype(np.float32), choice.centroid_xy, crop.size, crop.fill_hu
            )
            msk = crop_centered(mask[choice.index], choice.centroid_xy, crop.size, 0)
            return img, msk, outside_fraction_centered(array.shape, choice.centroid_xy, crop.size)
        window = window_grid(
            grid, choice.index, choice.centroid_xy, crop.size, crop.in_plane_spacing_mm
        )
        img = sample_window(image, window, transform, fill=np.nan)  # NaN: outside the image
        outside_pixels = np.isnan(img)
        img[outside_pixels] = crop.fill_hu
        msk = sample_window(_with_geometry(mask, grid), window, None, is_mask=True)
        return img, msk, float(outside_pixels.mean())


def _crop_qc(
    key: str, choice: SliceChoice, grid: sitk.Image, outside: float, air: float
) -> dict[str, Any]:
    cx_mm, cy_mm, cz_mm = choice.centroid_mm(grid)
    return {
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


def preprocess_patient(
    source: PatientSource, contract: DataContract, settings: PreprocessingSettings
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Crops and QC record of one patient (raises the input errors of :func:`validate_patient`):
    check the inputs, register the moving phases onto the fixed one, then crop every
    (phase, delineation) -- delineated ones first, then those carried from another phase."""
    t0 = time.perf_counter()
    work = _PatientWork(source, contract, settings, _check(source, contract, settings.validation))
    work.register_moving_phases()
    crops: dict[str, np.ndarray] = {}
    for phase, delineation in [*work.checked.masks, *work.checked.carried]:
        crops.update(work.crop(phase, delineation))
    work.qc["warnings"] = json.dumps(work.warnings)
    work.qc["seconds"] = round(time.perf_counter() - t0, 3)
    return crops, work.qc


def excluded_record(patient_id: str, error: Exception) -> dict[str, Any]:
    """QC record of a patient excluded because of ``error``."""
    return {
        "patient_id": patient_id,
        "excluded": True,
        "exclusion_reason": f"{type(error).__name__}: {error}",
        "warnings": json.dumps([]),
    }
