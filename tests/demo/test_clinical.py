"""Patient-level simulation: determinism, Table-1 frequencies, consistency, outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from hcc_nomogram.demo import (
    CLINICAL_COLUMNS,
    DemoCohortConfig,
    clinical_table,
    default_config,
    ground_truth_table,
    simulate_patients,
    tiny_config,
)


@pytest.fixture(scope="module")
def default_patients() -> pd.DataFrame:
    return simulate_patients(default_config())


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median (smallest time with S(t) <= 0.5)."""
    surv = 1.0
    for t in np.unique(time[event == 1]):
        at_risk = (time >= t).sum()
        surv *= 1 - ((time == t) & (event == 1)).sum() / at_risk
        if surv <= 0.5:
            return float(t)
    return float("inf")


def test_same_seed_same_table_and_other_seed_differs():
    a = simulate_patients(tiny_config(seed=3))
    b = simulate_patients(tiny_config(seed=3))
    pd.testing.assert_frame_equal(a, b)
    assert not a["os_months"].equals(simulate_patients(tiny_config(seed=4))["os_months"])


def test_default_sizes_and_cohorts(default_patients):
    assert len(default_patients) == 201
    assert default_patients.groupby("center").size().to_dict() == {"A": 66, "B": 54, "C": 81}
    assert default_patients.cohort.value_counts().to_dict() == {"training": 120, "validation": 81}
    assert default_patients.patient_id.iloc[0] == "HCC0001"
    assert default_patients.patient_id.is_unique


@pytest.mark.parametrize(
    ("column", "value", "expected", "tol"),
    [
        ("sex", "male", 0.87, 0.07),
        ("age_gt_55", 1, 0.45, 0.10),
        ("etiology", "HBV", 0.80, 0.08),
        ("etiology", "HCV", 0.03, 0.04),
        ("etiology", "other", 0.17, 0.07),
        ("cirrhosis", 1, 0.60, 0.10),
        ("bilobar", 1, 0.45, 0.10),
        ("nodules_gt_3", 1, 0.40, 0.10),
        ("tumor_size_gt_5cm", 1, 0.60, 0.10),
        ("portal_vein_invasion", "none", 0.55, 0.10),
        ("portal_vein_invasion", "Vp1-2", 0.20, 0.08),
        ("portal_vein_invasion", "Vp3-4", 0.25, 0.08),
        ("hepatic_vein_invasion", 1, 0.10, 0.06),
        ("ecog", 0, 0.70, 0.10),
        ("child_pugh", "A", 0.90, 0.07),
        ("bclc", "C", 0.55, 0.10),
        ("ast_gt_40", 1, 0.65, 0.10),
        ("alt_gt_50", 1, 0.35, 0.10),
        ("afp_gt_400", 1, 0.45, 0.10),
    ],
)
def test_table1_frequencies(default_patients, column, value, expected, tol):
    for _, group in default_patients.groupby("cohort"):
        assert (group[column] == value).mean() == pytest.approx(expected, abs=tol + 0.03)
    assert (default_patients[column] == value).mean() == pytest.approx(expected, abs=tol)


def test_clinical_variables_are_consistent(default_patients):
    t = default_patients
    vascular = (t.portal_vein_invasion != "none") | (t.hepatic_vein_invasion == 1)
    assert ((t.bclc == "C") == (vascular | (t.ecog == 1))).all()
    assert (t.bilobar[t.nodule_count == 1] == 0).all()
    assert ((t.tumor_size_cm > 5) == (t.tumor_size_gt_5cm == 1)).all()
    assert ((t.ast_u_l > 40) == (t.ast_gt_40 == 1)).all()
    assert ((t.alt_u_l > 50) == (t.alt_gt_50 == 1)).all()
    assert ((t.afp_ng_ml > 400) == (t.afp_gt_400 == 1)).all()
    assert t.tace_sessions.between(1, 6).all()
    assert t.nodule_count.between(1, 6).all()


def test_survival_medians_and_censoring(default_patients):
    t = default_patients
    assert (t.pfs_months <= t.os_months).all()
    assert (t.os_months > 0).all()
    assert km_median(t.os_months.to_numpy(), t.os_event.to_numpy()) == pytest.approx(19, abs=4)
    assert km_median(t.pfs_months.to_numpy(), t.pfs_event.to_numpy()) == pytest.approx(8, abs=3)
    assert 0.20 <= 1 - t.os_event.mean() <= 0.38
    # A death is also a PFS event.
    assert (t.pfs_event[t.os_event == 1] == 1).all()


def test_hazard_depends_on_image_only_traits(default_patients):
    """The true linear predictor has a sizeable image-only part no clinical column states."""
    t = default_patients
    assert t.true_lp_image.std() > 0.6
    assert np.allclose(t.true_lp, t.true_lp_clinical + t.true_lp_image, atol=1e-5)
    clinical_numeric = (
        clinical_table(t)
        .select_dtypes("number")
        .drop(columns=["os_months", "os_event", "pfs_months", "pfs_event", "tace_sessions"])
    )
    for column in clinical_numeric:
        assert abs(np.corrcoef(clinical_numeric[column], t.necrotic_fraction)[0, 1]) < 0.3


def test_tables_split_clinical_from_ground_truth(default_patients):
    clinical = clinical_table(default_patients)
    truth = ground_truth_table(default_patients)
    assert list(clinical.columns) == CLINICAL_COLUMNS
    assert not {"true_lp", "necrotic_fraction", "heterogeneity"} & set(clinical.columns)
    assert {"true_lp", "necrotic_fraction", "transform_angle_x_rad"} <= set(truth.columns)


def test_tiny_preset_has_both_cohorts_and_enough_deaths():
    t = simulate_patients(tiny_config())
    assert 16 <= len(t) <= 24
    assert set(t.cohort) == {"training", "validation"}
    assert t.os_event.sum() >= 10


def test_invalid_config_is_rejected_with_a_clear_message():
    with pytest.raises(ValidationError, match="median_pfs_months"):
        DemoCohortConfig.model_validate(
            {"survival": {"median_os_months": 6, "median_pfs_months": 8}}
        )
    with pytest.raises(ValidationError, match="n_patients"):
        DemoCohortConfig.model_validate(
            {
                "centers": [
                    {
                        "name": "A",
                        "cohort": "training",
                        "n_patients": 0,
                        "noise_sd_hu": 1,
                        "hu_offset": 0,
                        "slice_thickness_mm": 5,
                    }
                ]
            }  # fmt: skip
        )
