"""Image handling: validation, registration, representative slice, crops.

Modules: :mod:`~hcc_nomogram.imaging.validation` (input checks),
:mod:`~hcc_nomogram.imaging.registration` (SimpleITK registration, TRE),
:mod:`~hcc_nomogram.imaging.roi` (representative slice), :mod:`~hcc_nomogram.imaging.crop`
(crops, z-score), :mod:`~hcc_nomogram.imaging.patient` (one patient end to end),
:mod:`~hcc_nomogram.imaging.batch` (lazy per-patient callables),
:mod:`~hcc_nomogram.imaging.testing` (phantoms with a known misalignment).
See docs/preprocessing.md.
"""

from hcc_nomogram.imaging.crop import CropSettings, IntensitySettings, normalize_intensity
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
    validate_patient,
)
from hcc_nomogram.imaging.registration import (
    RegistrationResult,
    RegistrationSettings,
    euler_from_parameters,
    register_phases,
    target_registration_error,
)
from hcc_nomogram.imaging.roi import SliceChoice, representative_slice
from hcc_nomogram.imaging.validation import (
    ValidationSettings,
    check_image_geometry,
    check_same_geometry,
    tumour_mask,
)

__all__ = [
    "CropSettings",
    "IntensitySettings",
    "PatientSource",
    "PreprocessingSettings",
    "RegistrationResult",
    "RegistrationSettings",
    "SliceChoice",
    "ValidationSettings",
    "check_image_geometry",
    "check_same_geometry",
    "euler_from_parameters",
    "normalize_intensity",
    "preprocess_patient",
    "register_phases",
    "representative_slice",
    "target_registration_error",
    "tumour_mask",
    "validate_patient",
]
