"""Settings of the synthetic demo cohort, validated with pydantic.

``conf/base/parameters_demo_cohort.yml`` (top-level key ``demo_cohort``) is parsed into a
:class:`DemoCohortConfig`; Kedro validates it before a run starts because the node's
``params:demo_cohort`` input is annotated with this type. :func:`tiny_config` is the preset
used by tests: ~20 patients with small volumes, generated in a few seconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from hcc_nomogram.parameters import StrictModel


class CenterConfig(StrictModel):
    """One hospital: how many patients it contributes, to which cohort, with which scanner."""

    name: str = Field(min_length=1)
    cohort: str = Field(min_length=1, description="'training' or 'validation'")
    n_patients: int = Field(ge=1)
    noise_sd_hu: float = Field(ge=0, description="SD of the (correlated) quantum noise, HU")
    hu_offset: float = Field(description="calibration offset added to every voxel, HU")
    slice_thickness_mm: float = Field(gt=0, description="slice spacing (z), mm")


class VolumeConfig(StrictModel):
    """Geometry of every CT: in-plane size and spacing; z size follows from the slice spacing."""

    size_xy: int = Field(default=160, ge=32)
    spacing_xy_mm: float = Field(default=1.5, gt=0)
    z_extent_mm: float = Field(default=144.0, gt=0, description="cranio-caudal coverage, mm")


class MisalignmentConfig(StrictModel):
    """Rigid misalignment of the portal phase relative to the arterial phase."""

    max_rotation_deg: float = Field(default=5.0, ge=0)
    min_translation_mm: float = Field(default=3.0, ge=0)
    max_translation_mm: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> MisalignmentConfig:
        if self.min_translation_mm > self.max_translation_mm:
            raise ValueError("min_translation_mm must not exceed max_translation_mm")
        return self


class SurvivalConfig(StrictModel):
    """Proportional-hazards outcome model (Weibull baseline) and censoring.

    Hazard ratios are per category (clinical, vs. the reference level) or per standard
    deviation (image-only latent variables). The baseline scale is solved so that the
    cohort's true (uncensored) median OS/PFS equal ``median_os_months`` / ``median_pfs_months``.
    """

    median_os_months: float = Field(default=19.0, gt=0)
    median_pfs_months: float = Field(default=8.0, gt=0)
    weibull_shape: float = Field(default=1.3, gt=0)
    hr_bclc_c: float = Field(default=2.0, gt=0)
    hr_alt_gt_50: float = Field(default=1.7, gt=0)
    hr_tumor_size_gt_5cm: float = Field(default=1.6, gt=0)
    hr_afp_gt_400: float = Field(default=1.3, gt=0)
    hr_child_pugh_b: float = Field(default=1.5, gt=0)
    hr_necrosis_per_sd: float = Field(default=1.9, gt=0)
    hr_heterogeneity_per_sd: float = Field(default=1.8, gt=0)
    accrual_months: float = Field(default=48.0, ge=0, description="enrolment period")
    min_follow_up_months: float = Field(default=18.0, gt=0, description="after last enrolment")
    loss_to_follow_up_per_year: float = Field(default=0.05, ge=0)

    @model_validator(mode="after")
    def _pfs_before_os(self) -> SurvivalConfig:
        if self.median_pfs_months >= self.median_os_months:
            raise ValueError("median_pfs_months must be below median_os_months (PFS <= OS)")
        return self


def _default_centers() -> list[CenterConfig]:
    return [
        CenterConfig(name="A", cohort="training", n_patients=66, noise_sd_hu=10.0,
                     hu_offset=0.0, slice_thickness_mm=5.0),
        CenterConfig(name="B", cohort="training", n_patients=54, noise_sd_hu=16.0,
                     hu_offset=6.0, slice_thickness_mm=4.0),
        CenterConfig(name="C", cohort="validation", n_patients=81, noise_sd_hu=13.0,
                     hu_offset=-5.0, slice_thickness_mm=3.0),
    ]  # fmt: skip


class DemoCohortConfig(StrictModel):
    """Everything that decides the demo cohort. Same config + same seed = same files."""

    seed: int = Field(default=20201119, ge=0)
    id_prefix: str = "HCC"
    centers: list[CenterConfig] = Field(default_factory=_default_centers, min_length=1)
    volume: VolumeConfig = Field(default_factory=VolumeConfig)
    misalignment: MisalignmentConfig = Field(default_factory=MisalignmentConfig)
    survival: SurvivalConfig = Field(default_factory=SurvivalConfig)

    @model_validator(mode="after")
    def _unique_centers(self) -> DemoCohortConfig:
        names = [c.name for c in self.centers]
        if len(set(names)) != len(names):
            raise ValueError(f"center names must be unique, got {names}")
        return self

    @property
    def n_patients(self) -> int:
        return sum(c.n_patients for c in self.centers)


def as_config(params: DemoCohortConfig | dict[str, Any] | None) -> DemoCohortConfig:
    """Accept a validated config, a raw ``params:demo_cohort`` dict, or None (defaults)."""
    if isinstance(params, DemoCohortConfig):
        return params
    return DemoCohortConfig.model_validate(params or {})


def default_config(seed: int | None = None) -> DemoCohortConfig:
    """The default 201-patient cohort (A+B training = 120, C validation = 81)."""
    config = DemoCohortConfig()
    return config if seed is None else config.model_copy(update={"seed": seed})


def tiny_config(seed: int = 7, n_training: int = 12, n_validation: int = 8) -> DemoCohortConfig:
    """A small cohort for tests: ~20 patients, 64 x 64 x ~16 voxels, a few seconds to write."""
    half = n_training // 2
    centers = [
        CenterConfig(name="A", cohort="training", n_patients=n_training - half, noise_sd_hu=10.0,
                     hu_offset=0.0, slice_thickness_mm=8.0),
        CenterConfig(name="B", cohort="training", n_patients=half, noise_sd_hu=16.0,
                     hu_offset=6.0, slice_thickness_mm=9.0),
        CenterConfig(name="C", cohort="validation", n_patients=n_validation, noise_sd_hu=13.0,
                     hu_offset=-5.0, slice_thickness_mm=8.0),
    ]  # fmt: skip
    return DemoCohortConfig(
        seed=seed,
        centers=centers,
        volume=VolumeConfig(size_xy=64, spacing_xy_mm=3.75, z_extent_mm=136.0),
    )
