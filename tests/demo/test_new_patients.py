"""The example "new patients" folder used by `make predict`."""

from __future__ import annotations

import pandas as pd
import pytest

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.demo.new_patients import write_new_patients_example
from hcc_nomogram.errors import InputDataError


def test_new_patients_have_primary_masks_only_and_no_outcomes(tiny_demo_cohort, tmp_path):
    out = write_new_patients_example(tiny_demo_cohort, tmp_path / "new_patients", n_patients=2)
    manifest = CohortManifestDataset(filepath=str(out / "manifest.csv")).load()
    assert len(manifest.patient_ids) == 2
    assert not [c for c in manifest.table if c.endswith(("_r1b", "_r2")) or c == "cohort"]
    assert all(
        manifest.path(p, c).exists()
        for p in manifest.patient_ids
        for c in ("arterial_ct", "portal_ct", "arterial_mask_r1a")
    )
    clinical = pd.read_csv(out / "clinical.csv", dtype={"patient_id": str})
    assert not {"os_months", "os_event", "pfs_months", "pfs_event", "cohort"} & set(clinical)
    demo = pd.read_csv(tiny_demo_cohort / "manifest.csv", dtype={"patient_id": str})
    cohorts = demo.set_index("patient_id").loc[manifest.patient_ids, "cohort"]
    assert set(cohorts) == {"validation"}  # never patients the models were fitted on


def test_missing_demo_cohort_says_what_to_run(tmp_path):
    with pytest.raises(InputDataError, match="demo_cohort"):
        write_new_patients_example(tmp_path / "absent", tmp_path / "out")
