"""QC of how much of each crop lies outside the CT image (padded with air) and how much is air:
``<phase>__<delineation>__crop_outside_fraction`` / ``__crop_air_fraction`` (the predict guard
compares them with the training cohort's). Expected values are counted by hand on the volumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.imaging.testing import euler, misaligned_pair
from hcc_nomogram.parameters import DataContract, typed

ROOT = Path(__file__).resolve().parents[2]
SIZE, SPACING, CROP = (64, 64, 24), (1.5, 1.5, 2.5), 224


def _settings(registration: bool) -> PreprocessingSettings:
    pre = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text("utf-8"))
    pre = pre["preprocessing"]
    pre["registration"]["enabled"] = registration
    pre["crop"]["size"] = CROP
    return typed(PreprocessingSettings, pre)


def _patient(tmp_path: Path):
    (a_ct, a_mask), (p_ct, p_mask) = misaligned_pair(
        euler((2.0, -1.0, 3.0), (3.0, -2.0, 1.5)), size=SIZE, spacing=SPACING
    )
    images = {"arterial_ct": a_ct, "portal_ct": p_ct}
    for d in ("r1a", "r1b", "r2"):
        images[f"arterial_mask_{d}"], images[f"portal_mask_{d}"] = a_mask, p_mask
    row = {"patient_id": "P1", "center": "A", "cohort": "training"}
    for column, image in images.items():
        sitk.WriteImage(image, str(tmp_path / f"{column}.nii.gz"))
        row[column] = f"{column}.nii.gz"
    pd.DataFrame([row]).to_csv(tmp_path / "manifest.csv", index=False)
    manifest = CohortManifestDataset(str(tmp_path / "manifest.csv")).load()
    base = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text("utf-8"))
    return (
        PatientSource.from_manifest(manifest, "P1"),
        typed(DataContract, base["data_contract"]),
        a_ct,
    )


def test_native_crop_fractions_equal_hand_counts(tmp_path):
    source, contract, a_ct = _patient(tmp_path)
    _, qc = preprocess_patient(source, contract, _settings(registration=False))
    # a 64 x 64 slice inside a 224 x 224 window (any centroid of the slice): 64^2 pixels inside
    outside = 1 - 64 * 64 / CROP**2
    slice_ = sitk.GetArrayFromImage(a_ct)[qc["arterial__r1a__slice_index"]]
    air = (np.count_nonzero(slice_ < -500) + (CROP**2 - 64 * 64)) / CROP**2
    assert abs(qc["arterial__r1a__crop_outside_fraction"] - outside) < 1e-6
    assert abs(qc["arterial__r1a__crop_air_fraction"] - air) < 1e-6
    assert 0 < air < 1


def test_registered_crop_fraction_counts_the_moving_images_edge(tmp_path):
    """Portal sampled through the registration on the arterial grid: the same 64 x 64 field of
    view, rotated by a few degrees, so nearly the same share of the window lies outside."""
    source, contract, _ = _patient(tmp_path)
    _, qc = preprocess_patient(source, contract, _settings(registration=True))
    outside = 1 - 64 * 64 / CROP**2
    assert abs(qc["arterial__r1a__crop_outside_fraction"] - outside) < 1e-6
    assert abs(qc["portal__r1a__crop_outside_fraction"] - outside) < 0.01
    assert qc["portal__r1a__crop_air_fraction"] >= qc["portal__r1a__crop_outside_fraction"]
