"""Registration undoes the known misalignment of the demo generator's tiny cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.imaging.patient import (
    Contract,
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.imaging.registration import (
    euler_from_parameters,
    mask_points,
    target_registration_error,
)

pytestmark = pytest.mark.slow
N_PATIENTS = 6


def _true_transform(row: pd.Series) -> sitk.Euler3DTransform:
    t = sitk.Euler3DTransform()
    t.SetCenter([float(row[f"transform_center_{a}_mm"]) for a in "xyz"])
    t.SetRotation(*(float(row[f"transform_angle_{a}_rad"]) for a in "xyz"))
    t.SetTranslation([float(row[f"transform_translation_{a}_mm"]) for a in "xyz"])
    return t


def test_tre_on_tiny_demo_cohort(tiny_demo_cohort, request):
    root = request.config.rootpath
    contract = Contract.from_params(
        yaml.safe_load((root / "conf/base/parameters.yml").read_text())["data_contract"]
    )
    params = yaml.safe_load((root / "conf/base/parameters_preprocessing.yml").read_text())
    settings = PreprocessingSettings.from_params(params["preprocessing"])
    manifest = CohortManifestDataset(str(tiny_demo_cohort / "manifest.csv")).load()
    truth = pd.read_csv(
        next((tiny_demo_cohort / "ground_truth").glob("*.csv")), dtype={"patient_id": str}
    ).set_index("patient_id")
    tre, before = [], []
    for pid in manifest.patient_ids[:N_PATIENTS]:
        source = PatientSource(pid, lambda c, p=pid: manifest.image(p, c),
                               lambda c, p=pid: str(manifest.path(p, c)))
        crops, qc = preprocess_patient(source, contract, settings)
        assert crops["portal__r1a__image"].shape == (224, 224)
        fixed = manifest.image(pid, "arterial_ct")
        points = mask_points(sitk.GetArrayFromImage(manifest.image(pid, "arterial_mask_r1a")), fixed)
        true = _true_transform(truth.loc[pid])
        estimate = euler_from_parameters(qc["transform_parameters"])
        tre.append(target_registration_error(estimate, true, points).mean())
        before.append(target_registration_error(sitk.Euler3DTransform(), true, points).mean())
    assert np.median(before) > 3.0
    assert np.median(tre) < 1.5, tre
    assert np.max(tre) < 3.0, tre
