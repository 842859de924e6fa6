"""Typed parameters of the `ingest` pipeline (``conf/base/parameters_ingest.yml``, key ``ingest``).

Kedro validates ``params:ingest`` against :class:`IngestParams` before a run starts; every block
forbids unknown keys, so a typo stops the run instead of silently falling back to a default.
See ``docs/ingest.md``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from hcc_nomogram.parameters import StrictModel

PARAMS_FILE = "conf/base/parameters_ingest.yml"


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from exc
    return value


class IndexParams(StrictModel):
    """Header-only indexing of the export folder."""

    progress_every: int = Field(1000, ge=1, description="log progress every N files")


class SeriesRules(StrictModel):
    """Which series can be a contrast phase at all."""

    modality: str = "CT"
    min_slices: int = Field(20, ge=1, description="fewer slices: a scout or a partial series")
    exclude_image_types: list[str] = Field(
        default_factory=lambda: ["LOCALIZER", "DERIVED", "SECONDARY"],
        description="a series whose ImageType contains any of these values is never a phase",
    )
    slice_gap_tolerance: float = Field(
        0.05, gt=0, lt=1, description="relative deviation of a slice step from the median step"
    )
    study: Literal["only", "earliest", "latest"] = Field(
        "only",
        description="a patient with several CT studies: only = a QC problem; earliest/latest "
        "= use that study (by StudyDate/StudyTime) and state it in the QC table",
    )


class PhaseRule(StrictModel):
    description: str = Field(description="case-insensitive regex on SeriesDescription")
    exclude: str | None = Field(None, description="regex: descriptions that never match")

    _regex = field_validator("description", "exclude")(_check_regex)


class DelineationRule(StrictModel):
    """How the mask objects of one delineation (``r1a``, ``r1b``, ``r2``) are recognised."""

    source: Literal["seg", "rtstruct", "nifti"]
    description: str | None = Field(
        None, description="regex on the SEG/RTSTRUCT SeriesDescription (None: any)"
    )
    creator: str | None = Field(
        None, description="regex on ContentCreatorName / OperatorsName (None: any)"
    )
    folder: str | None = Field(None, description="regex on the file's path inside the export")
    segment: str | None = Field(
        None, description="regex on the SEG segment label/description or the RTSTRUCT ROI name"
    )
    segment_number: int | None = Field(None, ge=1, description="SEG segment number instead")
    pattern: str | None = Field(
        None,
        description="nifti only: regex on the path inside the export with named groups "
        "'patient' (the DICOM PatientID) and 'phase'",
    )
    fractional_threshold: float = Field(
        0.5, gt=0, le=1, description="fractional SEG: voxels >= threshold are tumour"
    )

    _regex = field_validator("description", "creator", "folder", "segment", "pattern")(_check_regex)

    @model_validator(mode="after")
    def _complete(self) -> DelineationRule:
        if self.source == "nifti":
            if not self.pattern:
                raise ValueError("a nifti delineation needs `pattern`")
            groups = re.compile(self.pattern).groupindex
            if not {"patient", "phase"} <= set(groups):
                raise ValueError(
                    "`pattern` needs the named groups (?P<patient>...) and (?P<phase>...)"
                )
        elif self.segment is None and self.segment_number is None:
            raise ValueError(f"a {self.source} delineation needs `segment` or `segment_number`")
        return self


class PatientIdParams(StrictModel):
    """Where the manifest's patient IDs come from (never the DICOM PatientID by accident)."""

    source: Literal["patient_id", "mapping", "salted_hash"] = "mapping"
    salt_env: str = Field(
        "HCC_INGEST_SALT", description="salted_hash: environment variable holding the salt"
    )
    prefix: str = Field("P", description="salted_hash: prefix of the pseudonym")
    hash_length: int = Field(10, ge=6, le=64)
    default_center: str = "A"
    default_cohort: str = "training"


class IngestParams(StrictModel):
    """All of ``ingest``."""

    index: IndexParams = Field(default_factory=IndexParams)
    series: SeriesRules = Field(default_factory=SeriesRules)
    phases: dict[str, PhaseRule] = Field(
        default_factory=lambda: {
            "arterial": PhaseRule(description=r"art|\bhap\b"),
            "portal": PhaseRule(description=r"port|\bpv\b|ven"),
        },
        min_length=1,
    )
    phase_order: list[str] = Field(
        default_factory=list,
        description="phases in expected acquisition order within a study (empty: not checked)",
    )
    overrides: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="DICOM PatientID -> {phase: SeriesInstanceUID}"
    )
    delineations: dict[str, list[DelineationRule]] = Field(default_factory=dict)
    mask_label: int = Field(1, ge=1, le=255, description="value of the tumour in written masks")
    patient_ids: PatientIdParams = Field(default_factory=PatientIdParams)

    @model_validator(mode="after")
    def _consistent(self) -> IngestParams:
        unknown = set(self.phase_order) - set(self.phases)
        if unknown:
            raise ValueError(f"phase_order names unknown phase(s) {sorted(unknown)}")
        for pid, phases in self.overrides.items():
            bad = set(phases) - set(self.phases)
            if bad:
                raise ValueError(f"overrides.{pid} names unknown phase(s) {sorted(bad)}")
        return self
