"""Helpers of the ingest tests; the DICOM writers live in :mod:`hcc_nomogram.demo.dicom_export`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk
import yaml

from hcc_nomogram.demo.dicom_export import (  # noqa: F401  (re-exported for the tests)
    IDENTIFYING,
    ct_datasets,
    rtstruct_file,
    seg_dataset,
    write_patient_export,
    write_series,
)

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = ("HCC0001", "HCC0002")
HCC048 = ROOT.parent / "shared" / "data" / "hcc048_portal_venous_dicom"


def ingest_params(**overrides) -> dict:
    """``ingest`` of conf/base with small-volume settings (the demo CTs have ~17 slices)."""
    params = yaml.safe_load((ROOT / "conf/base/parameters_ingest.yml").read_text(encoding="utf-8"))
    params = params["ingest"]
    params["series"]["min_slices"] = 5
    params["patient_ids"]["source"] = "patient_id"
    for key, value in overrides.items():
        params[key] = value
    return params


def data_contract() -> dict:
    text = (ROOT / "conf/base/parameters.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["data_contract"]


def tiny_ct(
    n_slices: int = 24, size: int = 12, spacing=(1.0, 1.0, 2.0), seed: int = 0
) -> sitk.Image:
    """A small int16 CT volume for header/bad-input tests."""
    rng = np.random.default_rng(seed)
    image = sitk.GetImageFromArray(rng.integers(-100, 200, (n_slices, size, size)).astype(np.int16))
    image.SetSpacing(spacing)
    image.SetOrigin((-6.0, -6.0, 10.0))
    return image


def cube_mask(image: sitk.Image, lo: int = 3, hi: int = 8) -> np.ndarray:
    """A binary z-y-x cube inside ``image``."""
    mask = np.zeros(sitk.GetArrayViewFromImage(image).shape, np.uint8)
    mask[lo:hi, lo:hi, lo:hi] = 1
    return mask
