"""One delineation on one phase: the other phase's crop uses the mask carried through the
registration; a delineation missing on every phase is left out (the ICC step says so)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.imaging.testing import euler, misaligned_pair
from hcc_nomogram.parameters import DataContract, typed

ROOT = Path(__file__).resolve().parents[2]
SIZE, SPACING = (64, 64, 24), (1.5, 1.5, 2.5)


def _settings(**registration):
    pre = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text("utf-8"))
    pre = pre["preprocessing"]
    pre["registration"].update(registration)
    return typed(PreprocessingSettings, pre)


def _contract():
    base = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text("utf-8"))
    return typed(DataContract, base["data_contract"])


def _source(tmp_path: Path, drop: tuple[str, ...]) -> PatientSource:
    (a_ct, a_mask), (p_ct, p_mask) = misaligned_pair(
        euler((2.0, -1.0, 3.0), (3.0, -2.0, 1.5)), size=SIZE, spacing=SPACING
    )
    images = {"arterial_ct": a_ct, "portal_ct": p_ct}
    for d in ("r1a", "r1b", "r2"):
        images[f"arterial_mask_{d}"], images[f"portal_mask_{d}"] = a_mask, p_mask
    row = {"patient_id": "P1", "center": "A", "cohort": "training"}
    tmp_path.mkdir(parents=True, exist_ok=True)
    for column, image in images.items():
        path = tmp_path / f"{column}.nii.gz"
        sitk.WriteImage(image, str(path))
        row[column] = "" if column in drop else path.name
    pd.DataFrame([row]).to_csv(tmp_path / "manifest.csv", index=False)
    manifest = CohortManifestDataset(str(tmp_path / "manifest.csv")).load()
    return PatientSource.from_manifest(manifest, "P1")


def _dice(a, b):
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


@pytest.mark.parametrize("missing", ["portal", "arterial"])
def test_mask_on_one_phase_is_carried_to_the_other(tmp_path, missing):
    full, _ = preprocess_patient(_source(tmp_path / "full", ()), _contract(), _settings())
    crops, qc = preprocess_patient(
        _source(tmp_path / "one", (f"{missing}_mask_r1a",)), _contract(), _settings()
    )
    other = "arterial" if missing == "portal" else "portal"
    assert qc[f"{missing}__r1a__mask_carried_from"] == other
    assert sorted(crops) == sorted(full)
    # the phantom's portal tumour is the arterial one moved by the true transform, so the
    # carried mask must cover (nearly) the tumour the phase's own mask covers
    assert _dice(crops[f"{missing}__r1a__mask"], full[f"{missing}__r1a__mask"]) > 0.95
    # the carried crop is taken on the same slice, through the same registration: the image
    # crops agree with the own-mask ones
    assert (
        np.corrcoef(
            crops[f"{missing}__r1a__image"].ravel(), full[f"{missing}__r1a__image"].ravel()
        )[0, 1]
        > 0.99
    )


def test_carrying_needs_the_registration(tmp_path):
    source = _source(tmp_path, ("portal_mask_r1a",))
    with pytest.raises(InputDataError, match="delineated on arterial only.*registration"):
        preprocess_patient(source, _contract(), _settings(enabled=False))


def test_delineation_missing_on_every_phase_is_left_out(tmp_path):
    source = _source(tmp_path, ("arterial_mask_r2", "portal_mask_r2"))
    crops, qc = preprocess_patient(source, _contract(), _settings())
    assert not [k for k in crops if "__r2__" in k]
    assert "r2: no mask on any phase" in qc["warnings"]
    primary = _source(tmp_path / "p", ("arterial_mask_r1a", "portal_mask_r1a"))
    with pytest.raises(InputDataError, match="no path given"):
        preprocess_patient(primary, _contract(), _settings())
