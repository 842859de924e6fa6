"""Registration undoes the known misalignment of the demo generator's tiny cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.demo.phantom import true_transform
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.imaging.registration import (
    euler_from_parameters,
    mask_points,
    target_registration_error,
)
from hcc_nomogram.parameters import DataContract, typed

pytestmark = pytest.mark.slow
N_PATIENTS = 6


def test_tre_on_tiny_demo_cohort(tiny_demo_cohort, request):
    root = request.config.rootpath
    contract = typed(
        DataContract,
        yaml.safe_load((root / "conf/base/parameters.yml").read_text())["data_contract"],
    )
    params = yaml.safe_load((root / "conf/base/parameters_preprocessing.yml").read_text())
    settings = typed(PreprocessingSettings, params["preprocessing"])
    manifest = CohortManifestDataset(str(tiny_demo_cohort / "manifest.csv")).load()
    truth = pd.read_csv(
        next((tiny_demo_cohort / "ground_truth").glob("*.csv")), dtype={"patient_id": str}
    ).set_index("patient_id")
    tre, before = [], []
    for pid in manifest.patient_ids[:N_PATIENTS]:
        crops, qc = preprocess_patient(
            PatientSource.from_manifest(manifest, pid), contract, settings
        )
        assert crops["portal__r1a__image"].shape == (224, 224)
        fixed = manifest.image(pid, "arterial_ct")
        points = mask_points(
            sitk.GetArrayFromImage(manifest.image(pid, "arterial_mask_r1a")), fixed
        )
        true = true_transform(truth.loc[pid])
        estimate = euler_from_parameters(qc["transform_parameters"])
        tre.append(target_registration_error(estimate, true, points).mean())
        before.append(target_registration_error(sitk.Euler3DTransform(), true, points).mean())
    assert np.median(before) > 3.0
    assert np.median(tre) < 1.5, tre
    assert np.max(tre) < 3.0, tre
